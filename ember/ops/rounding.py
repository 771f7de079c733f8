"""Truncation and the two remainders (``fmod`` and ``remainder``), and ``copysign``.

``trunc`` rounds toward zero, so ``fmod(x, y) = x - trunc(x / y) y`` has the sign of x
(C's fmod); ``remainder(x, y) = x - floor(x / y) y`` has the sign of y (Python's ``%``).
Their derivatives follow PyTorch: 1 for x, and ``-trunc(x / y)`` or ``-floor(x / y)`` for
y (the quotient is piecewise constant). Integer inputs stay integer.
"""

from __future__ import annotations

from ember.autograd.primitives import defvjp, primitive, unbroadcast
from ember.ops.compare import _not_bool


@primitive(saves="none")
def trunc(xp, x):
    """x rounded toward zero (``fix``);  d/dx = 0."""
    return xp.trunc(x) if x.dtype.kind == "f" else x.copy()


defvjp(trunc, lambda xp, g, ans, x: xp.zeros_like(g))


@primitive(promote=True, saves="inputs")
def fmod(xp, input, other):
    """input - trunc(input / other) other, with the sign of input;
    d/d input = 1,  d/d other = -trunc(input / other)."""
    return xp.fmod(input, other)


defvjp(fmod,
       lambda xp, g, ans, x, y: unbroadcast(g, xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(-g * xp.trunc(x / y), xp.shape(y)))


@primitive(promote=True, saves="inputs")
def remainder(xp, input, other):
    """input - floor(input / other) other, with the sign of other (Python's ``%``);
    d/d input = 1,  d/d other = -floor(input / other)."""
    _not_bool("remainder", input, other)
    return xp.remainder(input, other)


defvjp(remainder,
       lambda xp, g, ans, x, y: unbroadcast(g, xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(-g * xp.floor(x / y), xp.shape(y)))


@primitive(promote=True, saves="all")
def copysign(xp, input, other):
    """|input| with the sign of other (-0.0 counts as negative);
    d/d input = ans / input (+-1; 0 where input = 0, as PyTorch),  d/d other = 0."""
    return xp.copysign(input, other)


def _copysign_vjp(xp, g, ans, x, y):
    nonzero = x != 0
    ratio = xp.where(nonzero, ans, 0) / xp.where(nonzero, x, 1)
    return unbroadcast(g * ratio, xp.shape(x))


defvjp(copysign, _copysign_vjp,
       lambda xp, g, ans, x, y: unbroadcast(xp.zeros_like(g), xp.shape(y)))
