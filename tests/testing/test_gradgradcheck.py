"""gradgradcheck: it passes correct second derivatives and reports wrong ones; a
primitive whose VJP is written with ``xp`` is differentiable to any order."""

from __future__ import annotations

import pytest

import ember as em
from ember.autograd import GradcheckError, defvjp, gradgradcheck, primitive


@primitive
def cube(xp, x):
    """x^3;  d/dx = 3x^2 (written with xp: differentiable again)."""
    return x**3


defvjp(cube, lambda xp, g, ans, x: g * 3 * x**2)


def _cut(x):
    return x.detach() if isinstance(x, em.Tensor) else x


@primitive
def cube_cut(xp, x):
    """x^3 whose VJP cuts x from the graph: right first derivative, second one lost."""
    return x**3


defvjp(cube_cut, lambda xp, g, ans, x: g * 3 * _cut(x) ** 2)


def test_a_user_primitive_is_differentiable_to_any_order():
    x = em.tensor([1.0, -2.0], dtype=em.float64, requires_grad=True)
    assert gradgradcheck(cube, (x,))
    (first,) = em.autograd.grad(cube(x).sum(), x, create_graph=True)
    (second,) = em.autograd.grad(first.sum(), x, create_graph=True)
    (third,) = em.autograd.grad(second.sum(), x)
    assert (first.tolist(), second.tolist(), third.tolist()) == ([3.0, 12.0], [6.0, -12.0],
                                                                 [6.0, 6.0])


def test_a_lost_second_derivative_is_reported():
    x = em.tensor([1.0, 2.0], dtype=em.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="gradgradcheck: .*input 0, element"):
        gradgradcheck(cube_cut, (x,))
    assert gradgradcheck(cube_cut, (x,), raise_exception=False) is False


def test_given_output_gradients_and_several_inputs():
    a = em.tensor([0.3, -0.4], dtype=em.float64, requires_grad=True)
    b = em.tensor([1.2, 0.5], dtype=em.float64, requires_grad=True)
    v = em.tensor([1.0, -2.0], dtype=em.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: (a * b).sin() * a, (a, b), v)
    assert gradgradcheck(lambda a, b: ((a * b).exp(), b.tanh()), (a, b), fast_mode=True)


def test_inputs_must_require_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradgradcheck(cube, (em.ones(2, dtype=em.float64),))
