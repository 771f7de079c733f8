"""Every model in em.models exports to ONNX, runs in onnxruntime with ember's outputs
(1e-5 of the outputs' scale) and loads back into ember with the same outputs and the
same state_dict keys.

The zoo is enumerated from ``em.models.__all__``: a new model is covered once it has an
entry in INPUTS (its example input), or it must be listed in NOT_EXPORTABLE with the
reason. Every model is built with a quick random initialisation (uniform, variance
1/fan_in, straight from NumPy). The VGG family shares one classifier of 123M weights (a
515 MB file, 3 GB of memory at the export's peak) made of the same layers as AlexNet's
classifier, which is exported whole: VGG-11 and the four variants with batch norm are
exported with their own ``features`` (every convolution and batch norm they have) and a
small head; VGG-13, -16 and -19 (the same convolutions without batch norm) are checked
structurally: traced, with a translation for every primitive; VGG-11 whole runs with
``EMBER_TEST_WHOLE_VGG=1``. AlexNet and ResNet-101 are checked against onnxruntime without
the round trip, which the models with the same layers cover. This keeps the suite's time
and memory in bounds.
"""

from __future__ import annotations

import inspect
import os

import numpy as np
import pytest
from onnx_checks import check_export, check_round_trip, onnx, randomise_batch_norms

import ember as em
from ember import nn
from ember.nn import init

# example input per model (small images: the models' adaptive pooling takes them)
INPUTS = {
    "lenet5": (2, 1, 28, 28), "lenet5_original": (2, 1, 32, 32), "mlp": (2, 1, 28, 28),
    "small_cnn": (2, 1, 28, 28), "alexnet": (1, 3, 63, 63), "googlenet": (2, 3, 32, 32),
    "resnet18": (2, 3, 32, 32), "resnet34": (2, 3, 32, 32), "resnet50": (2, 3, 32, 32),
    "resnet101": (1, 3, 32, 32), "yolov1": (2, 3, 48, 48),
    "mobilenet_v3_large": (1, 3, 32, 32), "mobilenet_v3_small": (2, 3, 32, 32),
}
# models built in a small configuration (the paper's YOLOv1 takes 448 x 448 images and
# a 4096-wide head; the small backbone has every kind of layer the darknet one has but
# batch norm, which it adds)
OPTIONS = {"yolov1": dict(num_classes=3, grid=6, backbone="small", hidden=64)}
FEATURES_ONLY = {"vgg11", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"}
# the same convolutions as their _bn siblings above, without the batch norms: traced, and
# every primitive they call must have an ONNX translation
STRUCTURAL = {"vgg13", "vgg16", "vgg19"}
BIG = {"alexnet", "resnet101"}  # onnxruntime only (resnet50 has the same blocks)
# VGG-11 whole (3 GB of memory at its peak, a minute on a loaded 2-core machine): the same
# classifier layers as AlexNet's, so run only on request
WHOLE_VGG = os.environ.get("EMBER_TEST_WHOLE_VGG") == "1"
NOT_EXPORTABLE: dict[str, str] = {}
DYNAMIC = {"lenet5", "resnet18", "small_cnn", "googlenet", "yolov1"}


def zoo() -> list[str]:
    """The builder functions of em.models (lower-case callables returning a Module)."""
    return sorted(name for name in em.models.__all__
                  if name[0].islower() and callable(getattr(em.models, name)))


def _build(name: str) -> nn.Module:
    builder = getattr(em.models, name)
    if name in OPTIONS:
        return randomise_batch_norms(builder(**OPTIONS[name]))
    takes_classes = "num_classes" in inspect.signature(builder).parameters or \
        "kwargs" in inspect.signature(builder).parameters
    model = builder(num_classes=10) if takes_classes and name not in (
        "lenet5", "lenet5_original", "mlp", "small_cnn") else builder()
    return randomise_batch_norms(model)


def test_every_zoo_model_is_tested_or_listed():
    known = set(INPUTS) | FEATURES_ONLY | STRUCTURAL | set(NOT_EXPORTABLE)
    assert set(zoo()) <= known, f"models without an ONNX test: {set(zoo()) - known}"


@pytest.fixture(autouse=True)
def quick_init(monkeypatch):
    """Initialisers draw uniform float32 values with variance 1/fan_in straight from
    NumPy (the zoo's own initialisers take seconds for VGG's 133M weights)."""
    rng = np.random.default_rng(0)

    def fill(tensor, *args, **kwargs):
        shape = tensor.shape
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else max(shape[0], 1)
        bound = np.float32((3.0 / fan_in) ** 0.5)
        data = tensor._data
        if data.dtype != np.float32 or not data.flags.c_contiguous:
            data[...] = (rng.random(shape, dtype=np.float32) * 2 - 1) * bound
            return tensor
        rng.random(out=data, dtype=np.float32)  # in place: no temporaries
        data *= 2 * bound
        data -= bound
        return tensor

    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_",
                 "kaiming_normal_", "xavier_uniform_", "xavier_normal_"):
        monkeypatch.setattr(init, name, fill)


@pytest.mark.parametrize("name", sorted(BIG))
def test_big_zoo_model_runs_in_onnxruntime(name):
    model = _build(name).eval()
    check_export(model, em.randn(*INPUTS[name]), full_check=False)


@pytest.mark.parametrize("name", sorted(set(INPUTS) - BIG))
def test_zoo_model_runs_in_onnxruntime_and_loads_back(name):
    model = _build(name).eval()
    x = em.randn(*INPUTS[name])
    options, runs = {}, None
    if name in DYNAMIC:
        options = dict(input_names=["image"], output_names=["logits"],
                       dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
        runs = [em.randn(3, *INPUTS[name][1:])]
    data = check_export(model, x, runs=runs, **options)
    proto = onnx.load_from_string(data)
    names = {t.name for t in proto.graph.initializer}
    assert {k for k in model.state_dict() if "num_batches" not in k} <= names | {
        k for k in model.state_dict() if "num_batches" in k}
    loaded = check_round_trip(model, data, x)
    ours = {k: v for k, v in model.state_dict().items() if "num_batches" not in k}
    theirs = loaded.state_dict()
    for key, value in ours.items():  # the same keys, the same values
        np.testing.assert_array_equal(theirs[key].numpy(), value.numpy())


@pytest.mark.skipif(not WHOLE_VGG, reason="VGG-11 whole takes 3 GB and a minute: set "
                    "EMBER_TEST_WHOLE_VGG=1 (its layers are tested through AlexNet and the "
                    "VGG features)")
def test_whole_vgg11_runs_in_onnxruntime():
    model = _build("vgg11").eval()
    check_export(model, em.randn(1, 3, 32, 32), full_check=False)


@pytest.mark.parametrize("name", sorted(FEATURES_ONLY))
def test_vgg_features_run_in_onnxruntime(name):
    em.models.vgg  # noqa: B018  (the module; make_layers and cfgs live there)
    cfg = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}[name.split("_")[0]]
    features = em.models.vgg.make_layers(em.models.vgg.cfgs[cfg], name.endswith("_bn"))
    model = randomise_batch_norms(nn.Sequential(features, nn.AdaptiveAvgPool2d(1),
                                                nn.Flatten(), nn.Linear(512, 10)))
    x = em.randn(1, 3, 32, 32)
    data = check_export(model, x)
    check_round_trip(model, data, x)


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_vgg_without_batch_norm_traces_to_translated_primitives(name):
    from ember.onnx.symbolic import RULES
    from ember.onnx.trace import trace

    cfg = {"vgg13": "B", "vgg16": "D", "vgg19": "E"}[name]
    features = em.models.vgg.make_layers(em.models.vgg.cfgs[cfg], False).eval()
    recorded = trace(features, (em.randn(1, 3, 32, 32),))
    names = {record.name for record in recorded.records}
    assert names == {"convolution", "relu", "max_pool"} and names <= set(RULES)
