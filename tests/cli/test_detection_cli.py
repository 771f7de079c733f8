"""``ember train --model yolov1 --dataset shapes`` (a tiny run), ``ember evaluate`` of its
checkpoint, ``ember detect`` on image files, and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ember.cli import main

pytest.importorskip("PIL")


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    out = tmp_path_factory.mktemp("yolo")
    code = main(["train", "--model", "yolov1", "--dataset", "shapes", "--epochs", "2",
                 "--train-images", "40", "--test-images", "8", "--val-fraction", "0.2",
                 "--no-progress", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_checkpoints_report_and_pictures(detector, capsys):
    for name in ("best.safetensors", "last.safetensors", "history.csv", "report.txt",
                 "history.png", "precision_recall.png", "predictions.png"):
        assert (detector / name).exists(), name
    report = (detector / "report.txt").read_text()
    assert "test mAP@0.5" in report and "map_75" in report and "VOC AP@.5" in report
    for name in ("rectangle", "ellipse", "triangle"):
        assert name in report
    header = (detector / "history.csv").read_text().splitlines()[0]
    assert "val_map50" in header and "val_loss" in header


def test_evaluate_and_detect(detector, tmp_path, capsys):
    checkpoint = str(detector / "best.safetensors")
    assert main(["evaluate", checkpoint]) == 0
    assert "test mAP@0.5" in capsys.readouterr().out
    from PIL import Image

    image = np.full((90, 120, 3), 60, dtype=np.uint8)
    image[20:60, 30:80] = (220, 40, 40)
    Image.fromarray(image).save(tmp_path / "scene.png")
    np.save(tmp_path / "scene.npy", image)
    out = tmp_path / "drawn.png"
    assert main(["detect", checkpoint, str(tmp_path / "scene.png"), "-o", str(out),
                 "--conf-threshold", "0"]) == 0
    printed = capsys.readouterr().out
    assert "detection" in printed and str(out) in printed
    assert Image.open(out).size == (120, 90)  # drawn at the image's own size
    assert main(["detect", checkpoint, str(tmp_path / "scene.png"), str(tmp_path / "scene.npy"),
                 "-o", str(tmp_path / "folder"), "--json", "--conf-threshold", "0"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 2 and all((tmp_path / "folder").glob("*_detections.png"))
    for found in results[0]["detections"]:
        x1, y1, x2, y2 = found["box"]
        assert 0 <= x1 <= x2 <= 120 and 0 <= y1 <= y2 <= 90
        assert found["class"] in ("rectangle", "ellipse", "triangle")


def _one_line_error(capsys, argv, match):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ember: error:") and match in err, err


def test_one_line_errors(detector, tmp_path, capsys):
    checkpoint = str(detector / "best.safetensors")
    _one_line_error(capsys, ["predict", checkpoint, "x.png"], "use 'ember detect")
    _one_line_error(capsys, ["detect", checkpoint, str(tmp_path / "missing.png")],
                    "no such file")
    _one_line_error(capsys, ["train", "--model", "yolov1", "--dataset", "digits",
                             "--no-progress"], "do not go together")
    _one_line_error(capsys, ["train", "--model", "mlp", "--dataset", "shapes",
                             "--no-progress"], "do not go together")
    np.save(tmp_path / "flat.npy", np.zeros((4, 5)))
    (tmp_path / "not_a_checkpoint.safetensors").write_bytes(b"garbage")
    _one_line_error(capsys, ["detect", str(tmp_path / "not_a_checkpoint.safetensors"),
                             str(tmp_path / "flat.npy")], "not_a_checkpoint")
