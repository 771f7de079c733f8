"""Max and average pooling worked by hand, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from ember.explain import pooling

X = [[1, 3, 2, 1], [5, 6, 0, 8], [3, 2, 1, 0], [1, 2, 3, 4]]


def test_max_by_hand():
    e = pooling(X, kernel_size=2, stride=2, mode="max")
    assert e.result.tolist() == [[6, 8], [3, 4]]
    assert "y[0,0] = max(1, 3, 5, 6) = 6" in str(e)


def test_average_by_hand():
    e = pooling(X, kernel_size=2, mode="avg")
    assert e.result.tolist() == [[3.75, 2.75], [2.0, 2.0]]
    assert "y[0,0] = (1 + 3 + 5 + 6) / 4 = 15 / 4 = 3.75" in str(e)


def test_overlapping_windows():
    e = pooling(X, kernel_size=3, stride=1)
    assert e.result.tolist() == [[6, 8], [6, 8]]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("shape, k, stride, padding", [
    ((5, 5), 2, 2, 0), ((6, 5), 3, 2, 1), ((4, 4), 2, 1, 1), ((7, 7), 3, 3, 0)])
def test_matches_torch(torch, rng, mode, shape, k, stride, padding):
    x = rng.standard_normal(shape)
    pool = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d
    expected = pool(torch.tensor(x)[None, None], k, stride, padding)[0, 0].numpy()
    np.testing.assert_allclose(pooling(x, k, stride, padding, mode).result, expected,
                               rtol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="max or avg"):
        pooling(X, mode="min")
    with pytest.raises(ValueError, match="at most half"):
        pooling(X, kernel_size=2, padding=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        pooling([[1, 2]], kernel_size=2)
