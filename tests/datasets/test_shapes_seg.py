"""The procedural shapes segmentation set, and the image/mask folder reader."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.datasets import segmentation_folder, shapes_seg


def test_shapes_are_seeded_split_and_well_formed():
    train, again = shapes_seg(n=20), shapes_seg(n=20)
    np.testing.assert_array_equal(train.data.numpy(), again.data.numpy())
    test = shapes_seg(train=False, n=20)
    assert not np.array_equal(train.data.numpy(), test.data.numpy())
    assert not np.array_equal(train.data.numpy(), shapes_seg(n=20, seed=1).data.numpy())
    images, masks = train.data.numpy(), train.targets.numpy()
    assert images.shape == (20, 3, 64, 64) and images.dtype == np.float32
    assert masks.shape == (20, 64, 64) and masks.dtype == np.int64
    assert images.min() >= 0 and images.max() <= 1
    assert set(np.unique(masks)) <= {0, 1, 2, 3}
    assert all((m > 0).any() for m in masks)  # every image holds a shape
    assert train.classes == ["background", "circle", "square", "triangle"]
    image, mask = train[3]
    assert image.shape == (3, 64, 64) and mask.shape == (64, 64)
    assert len(shapes_seg()) == 1000 and len(shapes_seg(train=False, size=16)) == 200


def test_every_class_and_overlaps_occur():
    masks = shapes_seg(n=100, size=32).targets.numpy()
    counts = np.bincount(masks.ravel(), minlength=4)
    assert (counts > 0).all() and counts[0] > counts[1:].max()


def test_shapes_have_their_geometry():
    """Masks away from the border have the area of their shape: pi r^2 for a circle,
    2 r^2 for the inscribed square, (3 sqrt(3) / 4) r^2 for the inscribed triangle
    (r is the first number each shape draws)."""
    from ember.datasets.shapes_seg import _shape

    centres = (np.arange(256) + 0.5) / 256
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    factors = {1: np.pi, 2: 2.0, 3: 3 * np.sqrt(3) / 4}
    for label, factor in factors.items():
        for seed in range(20):
            mask = _shape(label, xs, ys, np.random.default_rng(seed))
            if not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()):
                break
        r = np.random.default_rng(seed).uniform(0.12, 0.28)
        np.testing.assert_allclose(mask.mean(), factor * r * r, rtol=0.02)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least 16"):
        shapes_seg(n=1, size=8)
    with pytest.raises(ValueError, match="n must be"):
        shapes_seg(n=0)


def _write_folder(root, images, masks, mask_suffix=".png"):
    from PIL import Image

    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
        Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(
            root / "images" / f"{i:03d}.png")
        if mask_suffix == ".npy":
            np.save(root / "masks" / f"{i:03d}.npy", mask)
        else:
            picture = Image.fromarray(mask.astype(np.uint8))
            picture.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
            picture.save(root / "masks" / f"{i:03d}.png")


@pytest.mark.parametrize("mask_suffix", [".png", ".npy"])
def test_folder_reader_round_trips_the_shapes(tmp_path, mask_suffix):
    pytest.importorskip("PIL")
    source = shapes_seg(n=4, size=24)
    images, masks = source.data.numpy(), source.targets.numpy()
    _write_folder(tmp_path, images, masks, mask_suffix)
    (tmp_path / "classes.txt").write_text("\n".join(source.classes) + "\n")
    dataset = segmentation_folder(tmp_path)
    assert dataset.classes == source.classes and len(dataset) == 4
    np.testing.assert_array_equal(dataset.targets.numpy(), masks)
    np.testing.assert_allclose(dataset.data.numpy(), np.round(images * 255) / 255, atol=1e-6)
    grey = segmentation_folder(tmp_path, mode="L")
    assert grey.data.shape == (4, 1, 24, 24)
    (tmp_path / "classes.txt").unlink()
    assert segmentation_folder(tmp_path).classes == ["0", "1", "2", "3"]


def test_folder_reader_errors(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    with pytest.raises(ValueError, match="no folder"):
        segmentation_folder(tmp_path)
    source = shapes_seg(n=2, size=16)
    _write_folder(tmp_path, source.data.numpy(), source.targets.numpy())
    (tmp_path / "masks" / "001.png").unlink()
    with pytest.raises(ValueError, match="no mask for 001.png"):
        segmentation_folder(tmp_path)
    Image.new("RGB", (16, 16)).save(tmp_path / "masks" / "001.png")
    with pytest.raises(ValueError, match="mode 'RGB'"):
        segmentation_folder(tmp_path)
    Image.new("L", (8, 8)).save(tmp_path / "masks" / "001.png")
    with pytest.raises(ValueError, match="but its mask is 8x8"):
        segmentation_folder(tmp_path)
    (tmp_path / "images" / "001.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="001.png: not a readable image"):
        segmentation_folder(tmp_path)
    assert isinstance(em.datasets.segmentation_folder, type(segmentation_folder))
