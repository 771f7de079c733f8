"""read_image / write_image round trips (Pillow), atomic writes, errors naming the file."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ember as em
import ember.vision as V

pytest.importorskip("PIL", reason="image files are read and written through Pillow")


@pytest.mark.parametrize("shape,dtype", [((7, 9), np.uint8), ((7, 9, 3), np.uint8),
                                         ((7, 9, 4), np.uint8), ((7, 9), np.uint16)])
def test_png_round_trip(tmp_path, rng, shape, dtype):
    image = rng.integers(0, np.iinfo(dtype).max, shape).astype(dtype)
    path = tmp_path / "image.png"
    V.write_image(path, image)
    back = V.read_image(path)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, image)
    assert os.listdir(tmp_path) == ["image.png"]  # no temporary file left behind


def test_tensors_floats_and_modes(tmp_path, photos):
    colour = photos["astronaut"]
    path = tmp_path / "colour.png"
    V.write_image(path, em.tensor(colour.transpose(2, 0, 1)))
    tensor = V.read_image(path, as_tensor=True)
    assert isinstance(tensor, em.Tensor) and tensor.shape == (3,) + colour.shape[:2]
    np.testing.assert_array_equal(tensor.numpy().transpose(1, 2, 0), colour)
    grey = V.read_image(path, mode="gray")
    assert grey.shape == colour.shape[:2]
    assert np.abs(grey.astype(int) - V.rgb_to_grayscale(colour)).max() <= 1  # Pillow's rounding
    V.write_image(tmp_path / "float.png", np.array([[0.0, 0.5, 1.0, 2.0]]))
    assert V.read_image(tmp_path / "float.png").tolist() == [[0, 128, 255, 255]]
    V.write_image(tmp_path / "mask.png", np.array([[True, False]]))
    assert V.read_image(tmp_path / "mask.png").tolist() == [[255, 0]]
    V.write_image(tmp_path / "photo.jpg", colour)
    assert np.abs(V.read_image(tmp_path / "photo.jpg").astype(int) - colour).mean() < 8


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: .*missing.png"):
        V.read_image(tmp_path / "missing.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(OSError, match="cannot read .*bad.png"):
        V.read_image(bad)
    with pytest.raises(OSError, match="cannot write .*image.xyz"):
        V.write_image(tmp_path / "image.xyz", np.zeros((3, 3), np.uint8))
    assert sorted(os.listdir(tmp_path)) == ["bad.png"]
    with pytest.raises(ValueError, match="expected 1, 3 or 4 channels"):
        V.write_image(tmp_path / "two.png", np.zeros((3, 3, 2), np.uint8))
