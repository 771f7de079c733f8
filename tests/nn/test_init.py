"""Initialisers: sample statistics of a 1000x1000 weight match the formulas; gains and fans."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember.nn import init

FAN_IN = FAN_OUT = 1000


def _std(fill, *args, **kwargs):
    w = em.empty(FAN_OUT, FAN_IN)
    fill(w, *args, **kwargs)
    return float(w.numpy().std())


@pytest.mark.parametrize("fill,kwargs,expected", [
    (init.xavier_uniform_, {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.xavier_normal_, {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.xavier_normal_, {"gain": 5 / 3}, 5 / 3 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(2 / FAN_IN)),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2 / FAN_IN)),
    (init.kaiming_normal_, {"a": 0.2, "mode": "fan_out"},
     math.sqrt(2 / (1 + 0.04)) / math.sqrt(FAN_OUT)),
    (init.normal_, {"std": 0.02}, 0.02),
    (init.uniform_, {"a": -1, "b": 1}, 1 / math.sqrt(3)),
])
def test_sample_standard_deviation_matches_the_formula(fill, kwargs, expected):
    assert _std(fill, **kwargs) == pytest.approx(expected, rel=0.01)


def test_gains_match_pytorch(torch):
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish-ish")


def test_fans_of_a_convolution_weight(torch):
    w = em.empty(16, 6, 5, 5)
    assert init._calculate_fan_in_and_fan_out(w) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(16, 6, 5, 5))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(em.empty(3))


def test_orthogonal_gives_orthonormal_rows():
    for shape in ((20, 50), (50, 20), (8, 2, 3, 3)):
        w = init.orthogonal_(em.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        product = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        assert np.allclose(product, 4 * np.eye(product.shape[0]), atol=1e-5)


def test_constant_fills_and_reproducibility():
    assert init.ones_(em.empty(3)).tolist() == [1.0, 1.0, 1.0]
    assert init.zeros_(em.empty(2)).tolist() == [0.0, 0.0]
    assert init.constant_(em.empty(2), 0.5).tolist() == [0.5, 0.5]
    assert init.eye_(em.empty(2, 2)).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    em.manual_seed(3)
    a = init.kaiming_uniform_(em.empty(4, 4)).numpy().copy()
    em.manual_seed(3)
    b = init.kaiming_uniform_(em.empty(4, 4)).numpy()
    assert np.array_equal(a, b)
    w = em.empty(5, 5, requires_grad=True)
    init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert w.requires_grad and np.abs(w.detach().numpy()).max() <= 0.5
