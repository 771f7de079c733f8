"""Trigonometric and hyperbolic functions and their inverses, each with its derivative.

Each is one NumPy ufunc (so one pass over memory, and NumPy's accuracy) with a one-line
VJP written on the op's output where that is cheaper (tan' = 1 + tan^2). Integer inputs
give the default float dtype, as in PyTorch. Outside an inverse function's domain the
value is NaN (asin(2)), and so is the gradient, as in PyTorch.
"""

from __future__ import annotations

from ember.autograd.primitives import defvjp, primitive, unbroadcast


@primitive(promote=True, saves="ans")
def tan(xp, x):
    """tan x;  d/dx = 1 + tan^2 x."""
    return xp.tan(x)


defvjp(tan, lambda xp, g, ans, x: g * (1 + ans * ans))


@primitive(promote=True, saves="inputs")
def asin(xp, x):
    """arcsin x on [-1, 1];  d/dx = 1 / sqrt(1 - x^2)."""
    return xp.arcsin(x)


defvjp(asin, lambda xp, g, ans, x: g / xp.sqrt(1 - x * x))


@primitive(promote=True, saves="inputs")
def acos(xp, x):
    """arccos x on [-1, 1];  d/dx = -1 / sqrt(1 - x^2)."""
    return xp.arccos(x)


defvjp(acos, lambda xp, g, ans, x: -g / xp.sqrt(1 - x * x))


@primitive(promote=True, saves="inputs")
def atan(xp, x):
    """arctan x;  d/dx = 1 / (1 + x^2)."""
    return xp.arctan(x)


defvjp(atan, lambda xp, g, ans, x: g / (1 + x * x))


@primitive(promote=True, saves="inputs")
def atan2(xp, input, other):
    """The angle of the point (other, input) in (-pi, pi]: atan(input / other) in the
    right quadrant;  d/d input = other / r^2,  d/d other = -input / r^2,  r^2 = input^2 +
    other^2."""
    return xp.arctan2(input, other)


defvjp(atan2,
       lambda xp, g, ans, y, x: unbroadcast(g * x / (x * x + y * y), xp.shape(y)),
       lambda xp, g, ans, y, x: unbroadcast(-g * y / (x * x + y * y), xp.shape(x)))


@primitive(promote=True, saves="inputs")
def hypot(xp, input, other):
    """sqrt(input^2 + other^2) without overflow;  d/d input = input / hypot,
    d/d other = other / hypot."""
    return xp.hypot(input, other)


defvjp(hypot,
       lambda xp, g, ans, x, y: unbroadcast(g * x / ans, xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(g * y / ans, xp.shape(y)))


@primitive(promote=True, saves="inputs")
def sinh(xp, x):
    """sinh x = (e^x - e^-x) / 2;  d/dx = cosh x."""
    return xp.sinh(x)


defvjp(sinh, lambda xp, g, ans, x: g * xp.cosh(x))


@primitive(promote=True, saves="inputs")
def cosh(xp, x):
    """cosh x = (e^x + e^-x) / 2;  d/dx = sinh x."""
    return xp.cosh(x)


defvjp(cosh, lambda xp, g, ans, x: g * xp.sinh(x))


@primitive(promote=True, saves="inputs")
def asinh(xp, x):
    """arsinh x = ln(x + sqrt(x^2 + 1));  d/dx = 1 / sqrt(x^2 + 1)."""
    return xp.arcsinh(x)


defvjp(asinh, lambda xp, g, ans, x: g / xp.sqrt(x * x + 1))


@primitive(promote=True, saves="inputs")
def acosh(xp, x):
    """arcosh x = ln(x + sqrt(x^2 - 1)) for x >= 1;  d/dx = 1 / sqrt((x - 1)(x + 1))."""
    return xp.arccosh(x)


defvjp(acosh, lambda xp, g, ans, x: g / xp.sqrt((x - 1) * (x + 1)))


@primitive(promote=True, saves="inputs")
def atanh(xp, x):
    """artanh x = ln((1 + x) / (1 - x)) / 2 on (-1, 1);  d/dx = 1 / (1 - x^2)."""
    return xp.arctanh(x)


defvjp(atanh, lambda xp, g, ans, x: g / (1 - x * x))
