"""The command line as a new user meets it: wrong arguments, hostile settings, other
people's pictures, files of the wrong data set. One line per error, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import ember as em
from ember.cli import main
from tests.datasets.conftest import data_dir

pytest.importorskip("sklearn")


def _run(*argv):
    return subprocess.run([sys.executable, "-m", "ember", *argv], capture_output=True,
                          text=True, timeout=600)


def _only_ember_lines(stderr: str) -> None:
    """Every line of stderr is ember's own one-liner: no source paths, no code, no blocks."""
    for line in stderr.strip().splitlines():
        assert line.startswith(("ember: ", "ember train: ")), stderr
        assert ".py:" not in line and "Traceback" not in line, stderr


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    assert main(["train", "--model", "mlp", "--dataset", "digits", "--epochs", "6",
                 "--no-progress", "--out", str(out)]) == 0
    return out / "best.safetensors"


def test_version():
    done = _run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"ember {em.__version__}"


@pytest.mark.parametrize("argv, match", [
    (["--lr", "inf"], "--lr: must be a positive finite number, got inf"),
    (["--lr", "nan"], "--lr: must be a positive finite number"),
    (["--lr", "-1"], "--lr: must be a positive finite number"),
    (["--patience", "-1"], "--patience: must be 0 or more, got -1"),
    (["--augment", "-2"], "--augment: must be 0 or more"),
    (["--weight-decay", "-0.1"], "--weight-decay: must be a finite number, 0 or more"),
    (["--seed", "-5"], "--seed: must be 0 or more"),
])
def test_bad_numbers_are_refused_in_one_line(argv, match, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--model", "mlp", "--dataset", "digits", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and match in err, err


def test_out_of_range_augment_and_an_out_that_is_a_file(tmp_path, capsys):
    assert main(["train", "--model", "lenet5", "--dataset", "digits", "--augment", "99",
                 "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("ember: error: --augment 99: shifts must be smaller than half the 28x28 "
                   "input (at most 13 pixels)")
    assert not (tmp_path / "run").exists()
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    assert main(["train", "--model", "mlp", "--dataset", "digits", "--out",
                 str(existing)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "that is a file, not a folder" in err
    assert existing.read_text() == "mine"


def test_divergence_writes_the_last_good_checkpoint_and_says_where(tmp_path):
    out = tmp_path / "run"
    done = _run("train", "--model", "lenet5", "--dataset", "digits", "--lr", "1e6",
                "--epochs", "2", "--no-progress", "--out", str(out))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no NumPy warnings
    _only_ember_lines(done.stderr)
    assert "the loss became" in done.stderr and f"saved in {out / 'last.safetensors'}" in \
        done.stderr
    checkpoint = em.load(out / "last.safetensors")
    assert all(np.isfinite(v.numpy()).all() for v in checkpoint["model"].values())
    assert checkpoint["meta"]["model"] == "lenet5"


@pytest.mark.parametrize("argv", [["--lr", "30"], ["--val-fraction", "0.999"]])
def test_warnings_never_print_source_paths(argv, tmp_path):
    done = _run("train", "--model", "mlp", "--dataset", "digits", "--epochs", "1",
                "--no-progress", "--out", str(tmp_path / "run"), *argv)
    assert done.returncode in (0, 1)
    _only_ember_lines(done.stderr)


def test_resume_refuses_a_different_dataset_or_optimizer(digits_model, tmp_path, capsys):
    last = digits_model.parent / "last.safetensors"
    for argv, match in ((["--dataset", "mnist", "--data-dir", str(tmp_path)],
                         "--dataset digits (not mnist)"),
                        (["--dataset", "digits", "--optimizer", "sgd"],
                         "--optimizer adam (not sgd), --lr 0.002 (not 0.1)"),
                        (["--dataset", "digits", "--lr", "0.01"], "--lr 0.002 (not 0.01)"),
                        (["--dataset", "digits", "--model", "lenet5"],
                         "--model mlp (not lenet5)")):
        assert main(["train", "--model", "mlp", *argv, "--resume", str(last), "--out",
                     str(tmp_path / "new"), "--no-progress"][:] if "--model" not in argv
                    else ["train", *argv, "--resume", str(last), "--out",
                          str(tmp_path / "new"), "--no-progress"]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and match in err and "--resume" in err, err
    # the same settings resume, and continue the epochs
    assert main(["train", "--model", "mlp", "--dataset", "digits", "--epochs", "7",
                 "--resume", str(last), "--out", str(tmp_path / "more"),
                 "--no-progress"]) == 0
    assert em.load(tmp_path / "more" / "last.safetensors")["epoch"] == 7


def test_missing_data_advice_is_true(tmp_path, capsys):
    assert main(["train", "--model", "mlp", "--dataset", "mnist", "--data-dir",
                 str(tmp_path / "nowhere"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pass --download" in err and "download=True" not in err
    with pytest.raises(SystemExit) as exit_:  # the advised flag exists
        main(["train", "--download", "--help"])
    assert exit_.value.code == 0


def test_fashion_mnist_files_given_as_mnist_are_named(capsys):
    folder = data_dir() / "fashion-mnist"
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"Fashion-MNIST files not found in {folder}")
    assert main(["train", "--model", "mlp", "--dataset", "mnist", "--data-dir", str(folder),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert "this is Fashion-MNIST's train-images-idx3-ubyte, not MNIST's" in err
    assert "corrupt" not in err


def _picture(image8: np.ndarray, path, mode="RGB", dark_on_light=True, scale=12, margin=30):
    """An 8x8 digit drawn large, with a margin, as a photo of ink on paper would be."""
    from PIL import Image

    big = np.kron(image8, np.ones((scale, scale)))
    big = np.pad(big, margin)
    if dark_on_light:
        big = 1.0 - big
    pixels = (big * 255).round().astype(np.uint8)
    picture = Image.fromarray(pixels, "L").convert(mode)
    if mode == "RGBA":  # ink on a transparent background
        alpha = Image.fromarray(((1 - big) * 255).astype(np.uint8) if dark_on_light else
                                (big * 255).astype(np.uint8), "L")
        picture.putalpha(alpha)
    picture.save(path)
    return path


def test_predict_reads_any_picture_and_prints_the_top_three(digits_model, tmp_path, capsys):
    pytest.importorskip("PIL")
    test = em.datasets.digits(train=False)
    threes = [i for i, label in enumerate(test.targets.tolist()) if label == 3][:12]
    paths = [str(_picture(test.data[i, 0].numpy(), tmp_path / f"three{i}.png"))
             for i in threes]
    assert main(["predict", str(digits_model), *paths, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    three = test.classes[3]
    hits = sum(r["class"] == three for r in results)
    assert hits >= 10, [r["top"] for r in results]  # dark on light, 112x112, RGB: a 3
    for r in results:
        assert len(r["top"]) == 3 and r["top"][0]["class"] == r["class"]
        probabilities = [t["probability"] for t in r["top"]]
        assert probabilities == sorted(probabilities, reverse=True)
    # without the polarity handling, the same pictures are not read as 3s
    assert main(["predict", str(digits_model), *paths, "--json", "--no-invert"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert sum(r["class"] == three for r in forced) < hits
    # light on dark needs no inverting; --invert forces it
    light = _picture(test.data[threes[0], 0].numpy(), tmp_path / "light.png",
                     dark_on_light=False, scale=5, margin=4)
    assert main(["predict", str(digits_model), str(light)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{light}: {three} (") and line.count("(") == 3
    rgba = _picture(test.data[threes[0], 0].numpy(), tmp_path / "ink.png", mode="RGBA")
    assert main(["predict", str(digits_model), str(rgba), "--top", "1"]) == 0
    assert capsys.readouterr().out.strip().startswith(f"{rgba}: {three} (")


def test_the_progress_bar_shows_validation_loss_and_metrics(capsys):
    pytest.importorskip("tqdm")
    em.manual_seed(0)
    x, y = em.randn(64, 4), (em.rand(64) > 0.5).long()
    loader = em.data.DataLoader(em.data.TensorDataset(x, y), batch_size=16)
    model = em.nn.Linear(4, 2)
    trainer = em.train.Trainer(model, em.nn.CrossEntropyLoss(),
                               em.optim.SGD(model.parameters(), lr=0.1), metrics=["accuracy"])
    trainer.fit(loader, loader, epochs=2)
    err = capsys.readouterr().err
    last_bar = [line for line in err.replace("\r", "\n").splitlines() if "epoch 2/2" in line][-1]
    for name in ("loss=", "accuracy=", "val_loss=", "val_accuracy="):
        assert name in last_bar, last_bar
