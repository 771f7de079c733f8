"""Comparisons and logical ops: boolean results, no gradient (as in PyTorch)."""

from __future__ import annotations

import builtins

from ember.autograd.primitives import primitive


@primitive(differentiable=False)
def eq(xp, x, y):
    """x == y elementwise."""
    return xp.equal(x, y)


@primitive(differentiable=False)
def ne(xp, x, y):
    """x != y elementwise."""
    return xp.not_equal(x, y)


@primitive(differentiable=False)
def lt(xp, x, y):
    """x < y elementwise."""
    return xp.less(x, y)


@primitive(differentiable=False)
def le(xp, x, y):
    """x <= y elementwise."""
    return xp.less_equal(x, y)


@primitive(differentiable=False)
def gt(xp, x, y):
    """x > y elementwise."""
    return xp.greater(x, y)


@primitive(differentiable=False)
def ge(xp, x, y):
    """x >= y elementwise."""
    return xp.greater_equal(x, y)


@primitive(differentiable=False)
def logical_and(xp, x, y):
    """x and y elementwise, nonzero meaning True (a bool result for any dtypes)."""
    return xp.logical_and(x, y)


@primitive(differentiable=False)
def logical_or(xp, x, y):
    """x or y elementwise, nonzero meaning True (a bool result for any dtypes)."""
    return xp.logical_or(x, y)


@primitive(differentiable=False)
def logical_xor(xp, x, y):
    """x xor y elementwise, nonzero meaning True (a bool result for any dtypes)."""
    return xp.logical_xor(x, y)


@primitive(differentiable=False)
def logical_not(xp, x):
    """not x elementwise, nonzero meaning True (a bool result for any dtype)."""
    return xp.logical_not(x)


@primitive(differentiable=False)
def isnan(xp, x):
    """True where x is NaN."""
    return xp.isnan(x)


@primitive(differentiable=False)
def isinf(xp, x):
    """True where x is +inf or -inf."""
    return xp.isinf(x)


@primitive(differentiable=False)
def isfinite(xp, x):
    """True where x is neither NaN nor infinite."""
    return xp.isfinite(x)


@primitive(differentiable=False)
def all(xp, x, axis=None, keepdims=False):
    """True where every element (along axis) is nonzero."""
    return xp.all(x, axis=axis, keepdims=keepdims)


@primitive(differentiable=False)
def any(xp, x, axis=None, keepdims=False):
    """True where some element (along axis) is nonzero."""
    return xp.any(x, axis=axis, keepdims=keepdims)


@primitive(differentiable=False, promote=True)
def floor_divide(xp, x, y):
    """floor(x / y) elementwise (``//``)."""
    _not_bool("floor_divide", x, y)
    return xp.floor_divide(x, y)


def _not_bool(op: str, x, y) -> None:
    """PyTorch has no bool kernel for // and % (``ember.ops.rounding.remainder``): refuse
    two bool operands, as it does."""
    if builtins.all(getattr(getattr(a, "dtype", None), "kind", "") == "b" or isinstance(a, bool)
                    for a in (x, y)):
        raise NotImplementedError(f"{op}(): not implemented for two bool operands")


@primitive(differentiable=False)
def isclose(xp, x, y, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|x - y| <= atol + rtol |y| elementwise."""
    return xp.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)


@primitive(differentiable=False)
def nonzero(xp, x):
    """The indices of the nonzero elements, one row per element: (n, ndim) int64."""
    return xp.stack(xp.nonzero(x), axis=1).astype(xp.int64) if x.ndim else \
        xp.zeros((int(x != 0), 0), dtype=xp.int64)
