"""RandomBrightness and RandomContrast: Keras' formulas, clipping, factor ranges."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.data import transforms as T


def _image(shape=(3, 5, 5), seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def test_brightness_adds_a_scaled_delta_and_clips():
    x = _image()
    em.manual_seed(2)
    out = T.RandomBrightness(0.3)(x)
    em.manual_seed(2)
    delta = em.random.generator().uniform(-0.3, 0.3)
    np.testing.assert_allclose(out, np.clip(x + delta, 0, 1), rtol=1e-6)
    assert out.dtype == np.float32
    assert T.RandomBrightness((-1.0, -1.0))(x).max() == 0.0  # black
    assert T.RandomBrightness((1.0, 1.0))(x).min() == 1.0  # white
    pixels = np.array([[[0, 100, 250]]], dtype=np.uint8)
    shifted = T.RandomBrightness((0.1, 0.1), value_range=(0, 255))(pixels)
    assert shifted.dtype == np.uint8 and shifted.tolist() == [[[26, 126, 255]]]


def test_brightness_draws_stay_in_the_range():
    x = np.full((1, 2, 2), 0.5, np.float32)
    shifts = [T.RandomBrightness((-0.2, 0.1))(x)[0, 0, 0] - 0.5 for _ in range(300)]
    assert -0.2 <= min(shifts) < -0.18 and 0.08 < max(shifts) <= 0.1 + 1e-6


def test_contrast_scales_deviations_from_each_channel_mean():
    x = _image()
    em.manual_seed(3)
    out = T.RandomContrast(0.5)(em.tensor(x))
    em.manual_seed(3)
    factor = em.random.generator().uniform(0.5, 1.5)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.numpy(), np.clip((x - mean) * factor + mean, 0, 1),
                               rtol=1e-5)
    flat = T.RandomContrast((1.0, -1.0))(x)  # factor 0: every channel becomes its mean
    np.testing.assert_allclose(flat, np.broadcast_to(mean, x.shape), rtol=1e-6)
    strong = T.RandomContrast((-1.0, 1.0))(x)  # factor 2, clipped
    assert strong.min() >= 0 and strong.max() <= 1 and strong.std() > x.std()


def test_batches_share_one_draw_and_seeds_repeat():
    batch = _image((4, 1, 5, 5))
    em.manual_seed(0)
    a = T.RandomBrightness(0.5)(batch)
    deltas = (a - batch)[a < 1]
    assert np.allclose(deltas, deltas.flat[0], atol=1e-6)
    em.manual_seed(0)
    assert np.array_equal(T.RandomBrightness(0.5)(batch), a)


def test_factor_and_range_errors():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        T.RandomBrightness(1.5)
    with pytest.raises(ValueError, match="lower <= upper"):
        T.RandomBrightness((0.5, -0.5))
    with pytest.raises(ValueError, match="pair"):
        T.RandomContrast((0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match=r"\[1 - lower, 1 \+ upper\]"):
        T.RandomContrast(-0.5)
    with pytest.raises(ValueError, match="value_range"):
        T.RandomContrast(0.2, value_range=(1, 0))
