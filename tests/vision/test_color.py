"""Colour to grey against cv2.cvtColor (8-bit exact, float within rounding)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V


def test_grey_equals_cvtcolor(cv2, photos, rng):
    images = [photos["astronaut_full"], photos["astronaut"],
              rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)]
    for image in images:
        np.testing.assert_array_equal(V.rgb_to_grayscale(image),
                                      cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        np.testing.assert_array_equal(V.bgr_to_grayscale(image),
                                      cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        rgba = np.dstack([image, np.full(image.shape[:2], 9, np.uint8)])
        np.testing.assert_array_equal(V.rgb_to_grayscale(rgba),
                                      cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY))
        f32 = image.astype(np.float32) / 255
        np.testing.assert_allclose(V.rgb_to_grayscale(f32), cv2.cvtColor(f32, cv2.COLOR_RGB2GRAY),
                                   atol=1e-6)


def test_grey_layouts_and_back(photos):
    image = photos["astronaut"]
    tensor = em.tensor(image.transpose(2, 0, 1))
    grey = V.rgb_to_grayscale(tensor)
    assert grey.shape == (1,) + image.shape[:2]
    np.testing.assert_array_equal(grey.numpy()[0], V.rgb_to_grayscale(image))
    batch = V.rgb_to_grayscale(em.tensor(np.stack([image.transpose(2, 0, 1)] * 2)))
    assert batch.shape == (2, 1) + image.shape[:2]
    rgb = V.grayscale_to_rgb(V.rgb_to_grayscale(image))
    assert rgb.shape == image.shape and np.all(rgb[..., 0] == rgb[..., 2])
    assert V.grayscale_to_rgb(grey).shape == tensor.shape
    with pytest.raises(ValueError, match="rgb_to_grayscale: expected 3 \\(or 4\\) channels"):
        V.rgb_to_grayscale(np.zeros((4, 4)))
