"""Exponentials and logarithms in bases 2 and 10, expm1, and log-add-exp, with derivatives.

Each is one NumPy ufunc, for speed and accuracy: ``log2`` is exact on powers of two,
``expm1(x)`` = e^x - 1 keeps its relative accuracy for tiny x (where ``exp(x) - 1``
cancels), and ``logaddexp`` never overflows. Integer inputs give the default float dtype.
"""

from __future__ import annotations

import math

from ember.autograd.primitives import defvjp, primitive, unbroadcast

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


@primitive(promote=True, saves="inputs")
def log2(xp, x):
    """log_2 x;  d/dx = 1 / (x ln 2)."""
    return xp.log2(x)


defvjp(log2, lambda xp, g, ans, x: g / (x * _LN2))


@primitive(promote=True, saves="inputs")
def log10(xp, x):
    """log_10 x;  d/dx = 1 / (x ln 10)."""
    return xp.log10(x)


defvjp(log10, lambda xp, g, ans, x: g / (x * _LN10))


@primitive(promote=True, saves="ans")
def exp2(xp, x):
    """2^x;  d/dx = 2^x ln 2."""
    return xp.exp2(x)


defvjp(exp2, lambda xp, g, ans, x: g * ans * _LN2)


@primitive(promote=True, saves="ans")
def expm1(xp, x):
    """e^x - 1, accurate for small x;  d/dx = e^x = expm1(x) + 1."""
    return xp.expm1(x)


defvjp(expm1, lambda xp, g, ans, x: g * (ans + 1))


@primitive(promote=True, saves="all")
def logaddexp(xp, input, other):
    """log(e^input + e^other) = max + log1p(e^-|input - other|) (never overflows);
    d/d input = e^(input - ans),  d/d other = e^(other - ans) (a softmax of the two)."""
    return xp.logaddexp(input, other)


defvjp(logaddexp,
       lambda xp, g, ans, x, y: unbroadcast(g * xp.exp(x - ans), xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(g * xp.exp(y - ans), xp.shape(y)))


@primitive(promote=True, saves="all")
def logaddexp2(xp, input, other):
    """log_2(2^input + 2^other);  d/d input = 2^(input - ans),  d/d other = 2^(other - ans)."""
    return xp.logaddexp2(input, other)


defvjp(logaddexp2,
       lambda xp, g, ans, x, y: unbroadcast(g * xp.exp2(x - ans), xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(g * xp.exp2(y - ans), xp.shape(y)))

