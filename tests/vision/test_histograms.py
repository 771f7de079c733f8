"""Histograms and equalisation against cv2.calcHist and cv2.equalizeHist."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V


def test_histogram_equals_calc_hist(cv2, photos, rng):
    for image in (photos["camera"], photos["coins_full"]):
        for bins in (256, 16, 7):
            expected = cv2.calcHist([image], [0], None, [bins], [0, 256]).ravel()
            np.testing.assert_array_equal(V.histogram(image, bins), expected)
    values = rng.random((30, 40)).astype(np.float32)
    expected = cv2.calcHist([values], [0], None, [10], [0.2, 0.8]).ravel()
    np.testing.assert_array_equal(V.histogram(values, 10, (0.2, 0.8)), expected)
    colour = photos["astronaut"]
    counts = V.histogram(colour)
    assert counts.shape == (3, 256)
    np.testing.assert_array_equal(counts[2], cv2.calcHist([colour], [2], None, [256], [0, 256])
                                  .ravel())
    assert V.histogram(em.tensor(colour.transpose(2, 0, 1))).shape == (3, 256)
    full = V.histogram(values, 5)  # default range (min, max), the maximum counted
    assert full.sum() == values.size


def test_equalize_hist_equals_opencv(cv2, photos, rng):
    images = [photos["camera_full"], photos["moon"], photos["coins"],
              np.full((5, 6), 77, np.uint8), rng.integers(100, 103, (30, 40), dtype=np.uint8)]
    for image in images:
        np.testing.assert_array_equal(V.equalize_hist(image), cv2.equalizeHist(image))
    colour = photos["astronaut"]
    for c in range(3):
        np.testing.assert_array_equal(V.equalize_hist(colour)[:, :, c],
                                      cv2.equalizeHist(np.ascontiguousarray(colour[:, :, c])))
    with pytest.raises(TypeError, match="equalize_hist: expects an 8-bit"):
        V.equalize_hist(np.zeros((4, 4)))
