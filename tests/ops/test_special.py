"""erf and erfc: accuracy against Python's math module, special values, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember.ops.special import erf, erfc
from ember.testing import assert_close, gradcheck

# a dense grid over every interval of Cody's approximation, the switch points, and the tails
GRID = np.unique(np.concatenate([
    np.linspace(-30.0, 30.0, 60001),
    np.linspace(-0.6, 0.6, 12001),
    np.geomspace(1e-300, 1e-3, 500),
    -np.geomspace(1e-300, 1e-3, 500),
    [0.46875, -0.46875, np.nextafter(0.46875, 1), 4.0, -4.0, np.nextafter(4.0, 5), 26.543,
     27.0, 5e-324],
]))


def _relative_error(actual, expected):
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return np.abs(actual - expected) / scale


def test_erf_matches_math_erf_to_double_precision():
    ours = erf(em.tensor(GRID, dtype=em.float64)).numpy()
    reference = np.array([math.erf(v) for v in GRID])
    worst = _relative_error(ours, reference).max()
    assert worst < 2e-15, f"erf: largest relative error {worst:.3g}"


def test_erfc_matches_math_erfc_in_the_tails():
    ours = erfc(em.tensor(GRID, dtype=em.float64)).numpy()
    reference = np.array([math.erfc(v) for v in GRID])
    representable = reference > 1e-300  # below that erfc is subnormal in float64
    worst = _relative_error(ours[representable], reference[representable]).max()
    assert worst < 2e-15, f"erfc: largest relative error {worst:.3g}"
    assert np.all(ours[GRID > 27.3] == 0.0)  # underflows to 0, never negative


def test_special_values():
    x = em.tensor([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=em.float64)
    assert_close(erf(x), [0.0, -0.0, 1.0, -1.0, np.nan], rtol=0, atol=0)
    assert_close(erfc(x), [1.0, 1.0, 0.0, 2.0, np.nan], rtol=0, atol=0)
    assert np.signbit(erf(x).numpy()[1])  # erf is odd: erf(-0) = -0


@pytest.mark.parametrize("op,reference", [(erf, math.erf), (erfc, math.erfc)])
def test_float32_stays_float32_and_accurate(op, reference):
    x = np.linspace(-6, 6, 1001).astype(np.float32)
    y = op(em.tensor(x))
    assert y.dtype == em.float32
    expected = np.array([reference(float(v)) for v in x])
    assert_close(y, expected, rtol=1e-6, atol=1e-7)


def test_integer_input_gives_the_default_float():
    y = erf(em.tensor([0, 1, -2]))
    assert y.dtype == em.float32
    assert_close(y, [0.0, math.erf(1), math.erf(-2)])


def test_large_and_non_contiguous_inputs_are_evaluated_block_by_block(rng):
    x = rng.standard_normal((300, 700)) * 3  # more than one block of 65536 elements
    ours = erfc(em.tensor(x, dtype=em.float64).T).numpy()
    expected = np.array([math.erfc(v) for v in x.T.ravel()]).reshape(700, 300)
    assert ours.shape == (700, 300)
    assert _relative_error(ours, expected).max() < 2e-15


def test_zero_dimensional_input():
    assert erf(em.tensor(0.3, dtype=em.float64)).shape == ()
    assert erf(em.tensor(0.3, dtype=em.float64)).item() == pytest.approx(math.erf(0.3),
                                                                      rel=1e-15)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_forward_and_gradient_match_pytorch(torch, rng, name):
    x = np.concatenate([rng.standard_normal(20) * 3, [0.0, 0.46875, -4.0, 4.5, -6.0]])
    ours = em.tensor(x, dtype=em.float64, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y, ty = {"erf": erf, "erfc": erfc}[name](ours), getattr(torch, name)(theirs)
    assert_close(y, ty, rtol=1e-14, atol=1e-15, name=f"{name} forward")
    g = rng.standard_normal(x.shape)
    y.backward(em.tensor(g, dtype=em.float64))
    ty.backward(torch.tensor(g))
    assert_close(ours.grad, theirs.grad, rtol=1e-13, atol=1e-15, name=f"{name} gradient")


@pytest.mark.parametrize("op", [erf, erfc])
def test_gradcheck(rng, op):
    x = em.tensor(rng.standard_normal((3, 4)) * 2, dtype=em.float64, requires_grad=True)
    assert gradcheck(op, (x,))


def test_derivative_is_the_gaussian_density():
    x = em.tensor([-2.0, 0.0, 0.7, 5.0], dtype=em.float64, requires_grad=True)
    erf(x).sum().backward()
    expected = 2 / np.sqrt(np.pi) * np.exp(-np.array([-2.0, 0.0, 0.7, 5.0]) ** 2)
    assert_close(x.grad, expected, rtol=1e-15, atol=0)


def test_exported_from_nn_functional():
    assert em.nn.functional.erf is erf and em.nn.functional.erfc is erfc
