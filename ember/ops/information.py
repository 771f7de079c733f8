"""``x log y`` and ``-x log x`` with the convention ``0 log 0 = 0``, as PyTorch's
``special.xlogy`` and ``special.entr``, with PyTorch's derivatives (which a composition
through ``where`` could not give: at x = 0 the true derivative of -x log x is +inf).
"""

from __future__ import annotations

from ember.autograd.primitives import defvjp, primitive, unbroadcast


@primitive(promote=True, saves="inputs")
def xlogy(xp, x, y):
    """x log y, 0 where x = 0 (unless y is NaN);  d/dx = log y (0 where x = 0 and
    y <= 0), d/dy = x / y, as PyTorch's."""
    with xp.errstate(divide="ignore", invalid="ignore"):
        zero = (x == 0) & ~xp.isnan(y)
        return xp.where(zero, xp.zeros_like(x * y), x * xp.log(y))


def _xlogy_dx(xp, g, ans, x, y):
    skip = (x == 0) & (y <= 0)
    return unbroadcast(g * xp.where(skip, 0.0, xp.log(xp.where(skip, 1, y))), xp.shape(x))


def _xlogy_dy(xp, g, ans, x, y):
    with xp.errstate(divide="ignore", invalid="ignore"):   # x / 0: inf or nan, as PyTorch
        return unbroadcast(g * x / y, xp.shape(y))


defvjp(xlogy, _xlogy_dx, _xlogy_dy)


@primitive(promote=True, saves="inputs")
def entr(xp, x):
    """-x log x: 0 at 0, -inf below 0;  d/dx = -(log x + 1) (+inf at 0)."""
    with xp.errstate(divide="ignore", invalid="ignore"):
        inside = xp.where(x == 0, 0.0, -x * xp.log(x))
        return xp.where(x < 0, -xp.inf, inside).astype(inside.dtype)


def _entr_dx(xp, g, ans, x):
    with xp.errstate(divide="ignore", invalid="ignore"):   # +inf at 0, nan below, as PyTorch
        return g * -(xp.log(x) + 1)


defvjp(entr, _entr_dx)
