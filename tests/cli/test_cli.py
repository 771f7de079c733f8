"""The ``ember`` command: the main job end to end, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ember.cli import main

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "--model", "mlp", "--dataset", "digits", "--epochs", "3",
                 "--no-progress", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_checkpoint_history_report_and_plots(trained, capsys):
    for name in ("best.safetensors", "last.safetensors", "history.csv", "report.txt",
                 "history.png", "confusion_matrix.png"):
        assert (trained / name).exists(), name
    report = (trained / "report.txt").read_text()
    assert "test accuracy" in report and "precision" in report and "confusion matrix" in report
    accuracy = float(report.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.85  # 3 epochs; the README's full run reaches >= 97%


def test_evaluate_and_predict(trained, tmp_path, capsys):
    assert main(["evaluate", str(trained / "best.safetensors")]) == 0
    assert "accuracy" in capsys.readouterr().out
    from ember.datasets import digits

    test = digits(train=False)
    image = test.data[0, 0].numpy()
    np.save(tmp_path / "digit.npy", image)
    assert main(["predict", str(trained / "best.safetensors"), str(tmp_path / "digit.npy"),
                 "--json"]) == 0
    out = capsys.readouterr().out
    assert '"class": "' in out


def _one_line_error(capsys, argv, code=1, match=""):
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ember: error:"), err
    assert match in err, err
    assert "Traceback" not in err


def test_bad_input_gives_one_line_errors(trained, tmp_path, capsys):
    _one_line_error(capsys, ["train", "--dataset", "mnist", "--data-dir",
                             str(tmp_path / "nowhere"), "--no-progress"], match="nowhere")
    np.save(tmp_path / "cube.npy", np.zeros((5, 5, 5)))
    _one_line_error(capsys, ["predict", str(trained / "best.safetensors"),
                             str(tmp_path / "cube.npy")], match="expected a 2-d grey image")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes((trained / "best.safetensors").read_bytes()[:300])
    _one_line_error(capsys, ["evaluate", str(corrupt)], match="corrupt.safetensors")
    _one_line_error(capsys, ["predict", str(trained / "best.safetensors"),
                             str(tmp_path / "missing.png")], match="missing.png")


def test_argument_errors_are_one_line_too():
    done = subprocess.run([sys.executable, "-m", "ember", "train", "--model", "resnet9000"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "resnet9000" in done.stderr and "Traceback" not in done.stderr
