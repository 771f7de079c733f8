"""Elementwise math and the classic activations, each with its derivative beside it.

Derivative conventions at kinks follow PyTorch: relu'(0) = 0, |x|'(0) = 0, clamp passes
the gradient where min <= x <= max, and maximum/minimum split it equally on ties.
"""

from __future__ import annotations

from ember import dtypes
from ember.autograd.primitives import defvjp, primitive, unbroadcast


@primitive(promote=True, saves="ans")
def exp(xp, x):
    """e^x;  d/dx = e^x."""
    return xp.exp(x)


defvjp(exp, lambda xp, g, ans, x: g * ans)


@primitive(promote=True, saves="inputs")
def log(xp, x):
    """ln x;  d/dx = 1/x."""
    return xp.log(x)


defvjp(log, lambda xp, g, ans, x: g / x)


@primitive(promote=True, saves="inputs")
def log1p(xp, x):
    """ln(1 + x), accurate for small x;  d/dx = 1/(1 + x)."""
    return xp.log1p(x)


defvjp(log1p, lambda xp, g, ans, x: g / (1 + x))


@primitive(promote=True, saves="ans")
def sqrt(xp, x):
    """sqrt(x);  d/dx = 1/(2 sqrt(x))."""
    return xp.sqrt(x)


defvjp(sqrt, lambda xp, g, ans, x: g / (2 * ans))


@primitive(saves="inputs")
def abs(xp, x):
    """|x|;  d/dx = sign(x), 0 at 0."""
    return xp.abs(x)


defvjp(abs, lambda xp, g, ans, x: g * xp.sign(x))


@primitive(promote=True, saves="inputs")
def sin(xp, x):
    """sin x;  d/dx = cos x."""
    return xp.sin(x)


defvjp(sin, lambda xp, g, ans, x: g * xp.cos(x))


@primitive(promote=True, saves="inputs")
def cos(xp, x):
    """cos x;  d/dx = -sin x."""
    return xp.cos(x)


defvjp(cos, lambda xp, g, ans, x: -g * xp.sin(x))


@primitive(saves="inputs")
def clamp(xp, x, min=None, max=None):
    """min(max(x, min), max);  d/dx = 1 where min <= x <= max, else 0."""
    if min is not None and max is not None and min > max:
        return xp.full_like(x, max)  # PyTorch: min > max sets every element to max
    return xp.clip(x, min, max)


def _clamp_vjp(xp, g, ans, x, min=None, max=None):
    if min is None:
        inside = x <= max
    elif max is None:
        inside = x >= min
    else:
        inside = (x >= min) & (x <= max)
    return xp.where(inside, g, 0)


defvjp(clamp, _clamp_vjp)


@primitive(promote=True, saves="ans")
def sigmoid(xp, x):
    """sigma(x) = 1/(1 + e^-x), computed without overflow;  d/dx = sigma(x)(1 - sigma(x))."""
    e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


defvjp(sigmoid, lambda xp, g, ans, x: g * ans * (1 - ans))


@primitive(promote=True, saves="ans")
def tanh(xp, x):
    """tanh x;  d/dx = 1 - tanh^2 x."""
    return xp.tanh(x)


defvjp(tanh, lambda xp, g, ans, x: g * (1 - ans * ans))


@primitive(saves="ans")
def relu(xp, x):
    """max(x, 0);  d/dx = 1 where x > 0, else 0 (relu'(0) = 0)."""
    return xp.maximum(x, 0)


defvjp(relu, lambda xp, g, ans, x: g * (ans > 0))


@primitive(promote=True, saves="inputs")
def maximum(xp, x, y):
    """max(x, y) elementwise;  the gradient goes to the larger, split in half on ties."""
    return xp.maximum(x, y)


@primitive(promote=True, saves="inputs")
def minimum(xp, x, y):
    """min(x, y) elementwise;  the gradient goes to the smaller, split in half on ties."""
    return xp.minimum(x, y)


def _select_vjp(xp, g, x, y, wins):
    return xp.where(x == y, g / 2, xp.where(wins, g, 0))


defvjp(maximum,
       lambda xp, g, ans, x, y: unbroadcast(_select_vjp(xp, g, x, y, x > y), xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(_select_vjp(xp, g, x, y, y > x), xp.shape(y)))
defvjp(minimum,
       lambda xp, g, ans, x, y: unbroadcast(_select_vjp(xp, g, x, y, x < y), xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(_select_vjp(xp, g, x, y, y < x), xp.shape(y)))


@primitive(saves="inputs")
def where(xp, condition, x, y):
    """x where condition else y (broadcasting);  the gradient follows the chosen branch."""
    ans = xp.where(condition, x, y)
    target = dtypes.result_type(x, y)
    return ans if ans.dtype == target else ans.astype(target)


defvjp(where,
       None,
       lambda xp, g, ans, c, x, y: unbroadcast(xp.where(c, g, 0), xp.shape(x)),
       lambda xp, g, ans, c, x, y: unbroadcast(xp.where(c, 0, g), xp.shape(y)))


# Piecewise-constant functions: their derivative is 0 wherever it exists (as in PyTorch).


def _zero_vjp(xp, g, ans, x):
    return xp.zeros_like(g)


@primitive(saves="none")
def sign(xp, x):
    """sign(x) in {-1, 0, 1};  d/dx = 0."""
    return xp.sign(x)


@primitive(saves="none")
def floor(xp, x):
    """Largest integer <= x;  d/dx = 0."""
    return xp.floor(x)


@primitive(saves="none")
def ceil(xp, x):
    """Smallest integer >= x;  d/dx = 0."""
    return xp.ceil(x)


@primitive(saves="none")
def round(xp, x, decimals=0):
    """x rounded half to even (as NumPy and PyTorch);  d/dx = 0."""
    return xp.round(x, decimals)


for _op in (sign, floor, ceil):
    defvjp(_op, _zero_vjp)
defvjp(round, lambda xp, g, ans, x, decimals=0: xp.zeros_like(g))
