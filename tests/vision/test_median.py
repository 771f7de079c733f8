"""Median filtering against cv2.medianBlur (8-bit up to 11 x 11, float32 3 and 5)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V
from ember.vision.median import median_network


@pytest.mark.parametrize("k", [1, 3, 5, 7, 9])
def test_median_equals_opencv(cv2, grey_photos, k):
    for photo in grey_photos:
        expected = photo if k == 1 else cv2.medianBlur(photo, k)
        np.testing.assert_array_equal(V.median_blur(photo, k), expected)


def test_median_partition_path_colour_and_float(cv2, photos, monkeypatch):
    crop = photos["coins"][:40, :50]
    monkeypatch.setattr("ember.vision.median._NETWORK_BYTES", 0)  # force the sorting path
    np.testing.assert_array_equal(V.median_blur(crop, 11), cv2.medianBlur(crop, 11))
    monkeypatch.undo()
    colour = photos["astronaut"]
    np.testing.assert_array_equal(V.median_blur(colour, 5), cv2.medianBlur(colour, 5))
    f32 = photos["moon"].astype(np.float32) / 255
    for k in (3, 5):
        np.testing.assert_array_equal(V.median_blur(f32, k), cv2.medianBlur(f32, k))


def test_network_selects_the_median(rng):
    for n in (9, 25, 49):
        network = median_network(n)
        values = rng.standard_normal((n, 200))
        wires = list(values)
        for i, j, _, _ in network:
            a, b = wires[i], wires[j]
            wires[i], wires[j] = np.minimum(a, b), np.maximum(a, b)
        np.testing.assert_array_equal(wires[n // 2], np.median(values, axis=0))


def test_median_gradient_goes_to_the_median_pixel(rng):
    x = em.tensor(rng.standard_normal((7, 8)), requires_grad=True)
    y = V.median_blur(x, 3)
    np.testing.assert_array_equal(y.detach().numpy(), V.median_blur(x.detach().numpy(), 3))
    weights = rng.standard_normal((7, 8))
    (y * em.tensor(weights)).sum().backward()
    # each output sends its weight to exactly one pixel: the total is preserved
    assert np.isclose(x.grad.numpy().sum(), weights.sum())
    assert em.autograd.gradcheck(lambda t: V.median_blur(t, 3), (x,))


def test_median_errors():
    with pytest.raises(ValueError, match="median_blur: kernel_size must be an odd"):
        V.median_blur(np.zeros((5, 5)), 4)
