"""The weights ember ships (lenet5 on MNIST, small_cnn on Fashion-MNIST) and ``weights=``
on the zoo functions: files, checksums, records, accuracy on the test split (where the
IDX files are present), names and errors, and ``weights=PATH`` with a torch.save file."""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import tomllib
import types
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest

import ember as em
from ember.models import pretrained
from ember.models.pretrained import LeNet5_Weights, SmallCNN_Weights, WeightsError

SHIPPED = [LeNet5_Weights.MNIST, SmallCNN_Weights.FASHION_MNIST]
ROOT = Path(__file__).resolve().parents[2]


def _data_dir(name: str) -> Path:
    base = Path(os.environ.get("EMBER_DATA_DIR") or ROOT / ".." / "shared" / "data")
    folder = base / name
    if not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"{name} IDX files not found in {folder} (set EMBER_DATA_DIR)")
    return folder


@pytest.mark.parametrize("weights", SHIPPED, ids=str)
def test_shipped_files_are_small_checksummed_and_recorded(weights):
    path = weights.path
    assert path.is_file() and path.stat().st_size < 400_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == weights.sha256
    record = weights.record()
    assert record["command"].startswith(f"ember train --model {weights.model} ")
    assert record["test_accuracy"] == weights.meta["test_accuracy"]
    assert record["test_examples"] == 10_000
    assert record["classes"] == weights.meta["classes"]
    assert record["normalize"] == weights.meta["normalize"]
    assert len(record["data_sha256"]) == 4 and record["recipe"]["seed"] == 0
    state = weights.get_state_dict()
    model = getattr(em.models, weights.model)()
    assert set(state) == set(model.state_dict())
    assert all(v.dtype == np.float32 for v in state.values() if v.dtype.kind == "f")


def test_package_data_includes_every_weights_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["ember.models"]
    for path in (ROOT / "ember" / "models" / "weights").iterdir():
        assert any(fnmatch(f"weights/{path.name}", p) for p in patterns), path.name


@pytest.mark.parametrize("weights,folder,minimum", [
    (LeNet5_Weights.MNIST, "mnist", 0.99),
    (SmallCNN_Weights.FASHION_MNIST, "fashion-mnist", 0.88),
], ids=["lenet5-mnist", "small_cnn-fashion-mnist"])
def test_accuracy_on_the_test_split(weights, folder, minimum):
    directory = _data_dir(folder)
    reader = em.datasets.mnist if folder == "mnist" else em.datasets.fashion_mnist
    test = reader(directory, train=False)
    model = getattr(em.models, weights.model)(weights=weights).eval()
    x = weights.transforms()(test.data)  # images in [0, 1]
    with em.no_grad():
        predicted = np.concatenate([model(x[i:i + 2500]).numpy().argmax(1)
                                    for i in range(0, len(x), 2500)])
    accuracy = float((predicted == test.targets.numpy()).mean())
    assert accuracy >= minimum
    assert abs(accuracy - weights.meta["test_accuracy"]) <= 5e-4  # as recorded


def test_names_that_select_shipped_weights():
    reference = em.models.lenet5(weights=LeNet5_Weights.MNIST).state_dict()
    for name in ("mnist", "MNIST", "DEFAULT", "LeNet5_Weights.MNIST", LeNet5_Weights.DEFAULT):
        state = em.models.lenet5(weights=name).state_dict()
        assert all(np.array_equal(state[k].numpy(), reference[k].numpy()) for k in state)
    assert em.models.small_cnn(weights="fashion-mnist").classifier[-1].out_features == 10


def test_clear_errors_for_weights_ember_does_not_ship():
    with pytest.raises(WeightsError, match="ember ships 'mnist'"):
        em.models.lenet5(weights="imagenet")
    with pytest.raises(WeightsError, match="weights for small_cnn"):
        em.models.lenet5(weights=SmallCNN_Weights.FASHION_MNIST)
    with pytest.raises(WeightsError, match="torchvision's weights fit"):
        em.models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(WeightsError, match="no pretrained weights for vgg"):
        em.models.vgg11(weights="DEFAULT")
    with pytest.raises(WeightsError, match="num_classes=10, got num_classes=3"):
        em.models.small_cnn(3, weights="fashion-mnist")
    with pytest.raises(TypeError, match="weights must be"):
        em.models.lenet5(weights=3)


def test_a_damaged_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / LeNet5_Weights.MNIST.file
    shutil.copy(LeNet5_Weights.MNIST.path, copy)
    data = bytearray(copy.read_bytes())
    data[-100] ^= 1
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    with pytest.raises(WeightsError, match="damaged"):
        em.models.lenet5(weights="mnist")
    copy.unlink()
    with pytest.raises(WeightsError, match="missing"):
        em.models.lenet5(weights="mnist")


def test_preprocessing_scales_and_standardises_any_grey_images():
    transform = LeNet5_Weights.MNIST.transforms()
    digits = em.datasets.digits(train=False).data.numpy()[:5]  # 8x8 in [0, 1]
    x = transform(digits)
    assert x.shape == (5, 1, 28, 28)
    mean, std = LeNet5_Weights.MNIST.meta["normalize"]
    np.testing.assert_allclose(transform(np.zeros((1, 28, 28), np.uint8)).numpy(),
                               np.full((1, 1, 28, 28), -mean / std), rtol=1e-6)
    with pytest.raises(ValueError, match="grey images"):
        transform(np.zeros((2, 3, 28, 28)))


def test_weights_path_loads_a_torch_save_state_dict(tmp_path, torch):
    """A torchvision-style resnet18 state_dict written by torch.save (as downloaded from
    download.pytorch.org) builds em.models.resnet18(weights=PATH) with torch's outputs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "torchvision_reference", Path(__file__).parent / "torchvision_reference.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    torch.manual_seed(0)
    torch_model = reference.resnet(reference.BasicBlock, [2, 2, 2, 2], num_classes=5)
    reference.randomize_batchnorm(torch_model)
    torch.save(torch_model.state_dict(), tmp_path / "resnet18-downloaded.pth")
    model = em.models.resnet18(weights=tmp_path / "resnet18-downloaded.pth", num_classes=5)
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = torch_model.eval()(torch.from_numpy(x)).numpy()
    with em.no_grad():
        got = model.eval()(em.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_weights_path_takes_an_ember_train_checkpoint(tmp_path):
    model = em.models.lenet5(num_classes=10)
    em.save({"model": model.state_dict(), "meta": {"model": "lenet5"}}, tmp_path / "b.st")
    loaded = em.models.lenet5(weights=str(tmp_path / "b.st"))
    assert np.array_equal(loaded.classifier[-1].weight.detach().numpy(),
                          model.classifier[-1].weight.detach().numpy())
    em.save({"epoch": 3}, tmp_path / "nothing.st")
    with pytest.raises(WeightsError, match="no state_dict"):
        em.models.lenet5(weights=tmp_path / "nothing.st")


def test_every_zoo_function_takes_weights():
    builders = [name for name in em.models.__all__
                if name[0].islower() and callable(getattr(em.models, name))
                and isinstance(getattr(em.models, name), types.FunctionType)]
    missing = [name for name in builders
               if "weights" not in inspect.signature(getattr(em.models, name)).parameters]
    assert builders and not missing, f"zoo functions without weights=: {missing}"


def test_yolov1_weights_path_loads_into_the_model_built_as_asked(tmp_path):
    options = dict(num_classes=3, grid=6, backbone="small", hidden=32)
    model = em.models.yolov1(**options)
    em.save(model.state_dict(), tmp_path / "yolo.st")
    loaded = em.models.yolov1(weights=tmp_path / "yolo.st", **options)
    state = loaded.state_dict()
    assert all(np.array_equal(state[k].numpy(), v.numpy())
               for k, v in model.state_dict().items())
    with pytest.raises(WeightsError, match="no pretrained weights for yolov1"):
        em.models.yolov1(weights="voc")
