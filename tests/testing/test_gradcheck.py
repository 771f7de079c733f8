"""gradcheck itself: it passes correct VJPs and pinpoints wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.autograd import GradcheckError, defvjp, gradcheck, primitive


@primitive
def cube_wrong(xp, x):
    """x^3 with a deliberately wrong derivative (2x^2 instead of 3x^2)."""
    return x**3


defvjp(cube_wrong, lambda xp, g, ans, x: g * 2 * x**2)


@primitive
def cube(xp, x):
    """x^3;  d/dx = 3x^2."""
    return x**3


defvjp(cube, lambda xp, g, ans, x: g * 3 * x**2)


def test_a_user_defined_primitive_passes():
    x = em.randn(4, dtype=em.float64, requires_grad=True)
    assert gradcheck(cube, (x,))
    assert gradcheck(lambda a: cube(a).sum() * a, (x,))


def test_a_wrong_vjp_is_reported_with_input_and_element():
    x = em.tensor([1.0, 2.0], dtype=em.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0, element \(0,\).*is 2 by backprop but 3"):
        gradcheck(cube_wrong, (x,))
    assert gradcheck(cube_wrong, (x,), raise_exception=False) is False


def test_second_input_is_named():
    a = em.tensor([1.0], dtype=em.float64, requires_grad=True)
    b = em.tensor([2.0], dtype=em.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a * 2 + cube_wrong(b), (a, b))


def test_fast_mode_for_large_inputs_catches_errors():
    x = em.randn(100, 100, dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda a: (a @ a).tanh(), (x,))  # 10^8 Jacobian entries: fast mode
    with pytest.raises(GradcheckError, match="directional derivative"):
        gradcheck(lambda a: cube_wrong(a), (x,))


def test_float32_inputs_are_checked_in_float64():
    x = em.randn(3, requires_grad=True)
    assert x.dtype == em.float32
    assert gradcheck(lambda a: a.exp(), (x,))


def test_non_tensor_and_constant_inputs_pass_through():
    x = em.randn(3, dtype=em.float64, requires_grad=True)
    c = em.tensor(np.array([1.0, 2.0, 3.0]))
    assert gradcheck(lambda a, c, k: a * c * k, (x, c, 2.0))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda c: c * 2, (c,))
