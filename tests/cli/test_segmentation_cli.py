"""``ember train --model unet --dataset shapes-seg``, ``ember evaluate`` of its checkpoint
and ``ember segment``, on a shrunken recipe (the full one is measured in the README)."""

from __future__ import annotations

import numpy as np
import pytest

from ember.cli import main, recipes

pytest.importorskip("PIL")
pytest.importorskip("matplotlib")

TINY = {"epochs": 2, "batch_size": 8, "lr": 3e-3, "n_train": 24, "n_test": 6,
        "image_size": 16, "base_channels": 4, "depth": 2}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setattr(recipes, "segmentation_defaults", lambda model, dataset: dict(TINY))
    out = tmp_path_factory.mktemp("unet")
    try:
        assert main(["train", "--model", "unet", "--dataset", "shapes-seg", "--no-progress",
                     "--out", str(out)]) == 0
        yield out
    finally:
        patch.undo()


def test_train_writes_report_checkpoints_and_overlays(trained):
    for name in ("best.safetensors", "last.safetensors", "history.csv", "report.txt",
                 "history.png", "overlays.png"):
        assert (trained / name).exists(), name
    report = (trained / "report.txt").read_text()
    assert report.startswith("unet on shapes-seg: test mean IoU ")
    for word in ("background", "circle", "square", "triangle", "IoU", "Dice", "BF@2"):
        assert word in report
    miou = float(report.split("test mean IoU ")[1].split(",")[0])
    assert 0 <= miou <= 1
    assert (trained / "overlays.png").read_bytes()[:4] == b"\x89PNG"
    header = (trained / "history.csv").read_text().splitlines()[0]
    assert "val_mean_iou" in header and "pixel_accuracy" in header


def test_evaluate_prints_the_test_report(trained, capsys, monkeypatch):
    monkeypatch.setattr(recipes, "segmentation_defaults", lambda model, dataset: dict(TINY))
    assert main(["evaluate", str(trained / "best.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "on the shapes-seg test set: mean IoU" in out and "triangle" in out


def test_segment_writes_a_mask_that_reads_back(trained, tmp_path, capsys):
    from PIL import Image

    from ember.cli.segmentation import _predict, _restore, _standardize
    from ember.datasets import shapes_seg
    from ember.datasets.segmentation_folder import read_mask

    image = shapes_seg(train=False, n=1, size=20).data.numpy()[0]  # any size works
    picture = (image.transpose(1, 2, 0) * 255).round().astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "shapes.png")
    out, overlay = tmp_path / "mask.png", tmp_path / "overlay.png"
    assert main(["segment", str(trained / "best.safetensors"), str(tmp_path / "shapes.png"),
                 "-o", str(out), "--overlay", str(overlay)]) == 0
    printed = capsys.readouterr().out
    assert "20x20 class indices" in printed and "background" in printed
    mask = read_mask(out)
    model, meta = _restore(str(trained / "best.safetensors"))
    expected = _predict(model, _standardize(picture.transpose(2, 0, 1)[None] / 255.0,
                                            *meta["normalize"]))[0]
    np.testing.assert_array_equal(mask, expected)
    with Image.open(out) as handle:
        assert handle.mode == "P"
    with Image.open(overlay) as handle:
        assert handle.size == (20, 20) and handle.mode == "RGB"


def _one_line_error(capsys, argv, match):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ember: error:") and "\n" not in err and match in err, err


def test_bad_input_gives_one_line_errors(trained, tmp_path, capsys):
    _one_line_error(capsys, ["train", "--model", "lenet5", "--dataset", "shapes-seg"],
                    "cannot segment")
    _one_line_error(capsys, ["train", "--model", "unet", "--dataset", "digits"],
                    "needs a segmentation dataset")
    _one_line_error(capsys, ["train", "--model", "unet", "--dataset", "shapes-seg",
                             "--augment", "2"], "--augment")
    np.save(tmp_path / "digit.npy", np.zeros((8, 8)))
    _one_line_error(capsys, ["predict", str(trained / "best.safetensors"),
                             str(tmp_path / "digit.npy")], "ember segment")
    _one_line_error(capsys, ["segment", str(trained / "best.safetensors"),
                             str(tmp_path / "missing.png"), "-o", str(tmp_path / "m.png")],
                    "missing.png")
    np.save(tmp_path / "tiny.npy", np.zeros((3, 2, 2)))
    _one_line_error(capsys, ["segment", str(trained / "best.safetensors"),
                             str(tmp_path / "tiny.npy"), "-o", str(tmp_path / "m.png")],
                    "too small")


def test_unet_plus_plus_trains_with_deep_supervision(tmp_path, monkeypatch, capsys):
    tiny = dict(TINY, epochs=1, n_train=12, n_test=3)
    monkeypatch.setattr(recipes, "segmentation_defaults", lambda model, dataset: tiny)
    out = tmp_path / "unetpp"
    assert main(["train", "--model", "unet++", "--dataset", "shapes-seg", "--no-progress",
                 "--val-fraction", "0", "--out", str(out)]) == 0
    assert (out / "report.txt").read_text().startswith("unet++ on shapes-seg: test mean IoU")
    from ember.cli.segmentation import _restore

    model, meta = _restore(str(out / "best.safetensors"))
    assert type(model).__name__ == "UNetPlusPlus" and meta["recipe"]["n_train"] == 12
