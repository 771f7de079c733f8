"""Reductions (sum, mean, var, std, max, min, logsumexp) and the softmax family.

``axis`` is a tuple of non-negative axes, or ``None`` for all of them; the public
functions in :mod:`ember.functions` accept PyTorch's ``dim``/``keepdim`` and NumPy's
``axis``/``keepdims`` and normalise them before calling these primitives.

The VJP of a reduction first puts the reduced axes back (``_expand``), then scales:

.. math:: \\overline{x} = \\mathrm{expand}(\\overline{y}) \\cdot \\partial y / \\partial x
"""

from __future__ import annotations

import math
import warnings

from ember.autograd.primitives import defvjp, primitive
from ember.ops.shape import gather_backward


def _expand(xp, g, shape, axis, keepdims):
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdims and axis is not None:
        g = xp.expand_dims(g, axis)
    return xp.broadcast_to(g, shape)


def _count(shape, axis) -> int:
    """How many elements each output of a reduction over ``axis`` summarises."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axis)


@primitive(saves="none")
def sum(xp, x, axis=None, keepdims=False):
    """sum_i x_i;  d/dx_i = 1."""
    return xp.sum(x, axis=axis, keepdims=keepdims)


defvjp(sum, lambda xp, g, ans, x, axis=None, keepdims=False: _expand(xp, g, x.shape, axis,
                                                                      keepdims))


@primitive(saves="none")
def mean(xp, x, axis=None, keepdims=False):
    """(1/N) sum_i x_i;  d/dx_i = 1/N.  The mean of no elements is NaN (as PyTorch)."""
    if _count(x.shape, axis) == 0:
        return xp.sum(x, axis=axis, keepdims=keepdims) * xp.nan
    return xp.mean(x, axis=axis, keepdims=keepdims)


defvjp(mean, lambda xp, g, ans, x, axis=None, keepdims=False: _expand(
    xp, g / max(_count(x.shape, axis), 1), x.shape, axis, keepdims))


@primitive(saves="inputs")
def var(xp, x, axis=None, correction=1, keepdims=False):
    """sum_i (x_i - mean)^2 / (N - correction);  d/dx_i = 2 (x_i - mean) / (N - correction).

    With N <= correction the divisor is 0 (as PyTorch: NaN for one element, inf otherwise).
    """
    if _count(x.shape, axis) > correction:
        return xp.var(x, axis=axis, ddof=correction, keepdims=keepdims)
    warnings.warn("var(): degrees of freedom is <= 0. Correction should be strictly less "
                  "than the reduction factor (input numel divided by output numel).",
                  UserWarning, stacklevel=4)
    centred = x - xp.mean(x, axis=axis, keepdims=True) if x.size else x
    with xp.errstate(divide="ignore", invalid="ignore"):
        return xp.sum(centred * centred, axis=axis, keepdims=keepdims) / x.dtype.type(0)


def _var_vjp(xp, g, ans, x, axis=None, correction=1, keepdims=False):
    count = _count(x.shape, axis)
    if count <= correction:  # PyTorch: NaN for one element, inf otherwise
        return _expand(xp, g, x.shape, axis, keepdims) * (math.nan if count == 1 else math.inf)
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    scale = 2 / (count - correction)
    return _expand(xp, g, x.shape, axis, keepdims) * centred * scale


defvjp(var, _var_vjp)


@primitive(saves="all")
def std(xp, x, axis=None, correction=1, keepdims=False):
    """sqrt(var(x));  d/dx_i = (x_i - mean) / ((N - correction) std), 0 where std = 0."""
    return xp.sqrt(var.forward(xp, x, axis, correction, keepdims))


def _std_vjp(xp, g, ans, x, axis=None, correction=1, keepdims=False):
    safe = xp.where(ans == 0, 1, ans)
    g = xp.where(ans == 0, 0, g / (2 * safe))  # PyTorch: zero gradient where std == 0
    return _var_vjp(xp, g, None, x, axis, correction, keepdims)


defvjp(std, _std_vjp)


@primitive(saves="all")
def amax(xp, x, axis=None, keepdims=False):
    """max_i x_i;  the gradient is shared equally among the elements that attain it."""
    return xp.max(x, axis=axis, keepdims=keepdims)


@primitive(saves="all")
def amin(xp, x, axis=None, keepdims=False):
    """min_i x_i;  the gradient is shared equally among the elements that attain it."""
    return xp.min(x, axis=axis, keepdims=keepdims)


def _extreme_vjp(xp, g, ans, x, axis=None, keepdims=False):
    hit = x == _expand(xp, ans, x.shape, axis, keepdims)
    count = hit.sum(axis=axis, keepdims=True)
    return _expand(xp, g, x.shape, axis, keepdims) * hit / count


defvjp(amax, _extreme_vjp)
defvjp(amin, _extreme_vjp)


@primitive(saves="inputs")
def max_along(xp, x, axis, keepdims=False):
    """max over one axis, whose gradient goes to the index ``argmax`` returns."""
    return xp.max(x, axis=axis, keepdims=keepdims)


@primitive(saves="inputs")
def min_along(xp, x, axis, keepdims=False):
    """min over one axis, whose gradient goes to the index ``argmin`` returns."""
    return xp.min(x, axis=axis, keepdims=keepdims)


def _selected_vjp(arg):
    def vjp(xp, g, ans, x, axis, keepdims=False):
        index = xp.expand_dims(getattr(xp, arg)(x, axis=axis), axis)
        values = g if keepdims else xp.expand_dims(g, axis)
        return gather_backward.on(xp, values, index, axis=axis, shape=x.shape)

    return vjp


defvjp(max_along, _selected_vjp("argmax"))
defvjp(min_along, _selected_vjp("argmin"))


@primitive(differentiable=False)
def argmax(xp, x, axis=None, keepdims=False):
    """Index of the largest element (of the flattened tensor when axis is None)."""
    return xp.argmax(x, axis=axis, keepdims=keepdims)


@primitive(differentiable=False)
def argmin(xp, x, axis=None, keepdims=False):
    """Index of the smallest element (of the flattened tensor when axis is None)."""
    return xp.argmin(x, axis=axis, keepdims=keepdims)


@primitive(saves="all")
def logsumexp(xp, x, axis=None, keepdims=False):
    """log sum_i e^{x_i} = m + log sum_i e^{x_i - m} with m = max x (stable);
    d/dx_i = softmax(x)_i.  Over no elements: -inf (log 0)."""
    if _count(x.shape, axis) == 0:
        return xp.sum(x, axis=axis, keepdims=keepdims) - xp.inf
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    return out.reshape(()) if axis is None else xp.squeeze(out, axis=axis)


def _logsumexp_vjp(xp, g, ans, x, axis=None, keepdims=False):
    full = _expand(xp, ans, x.shape, axis, keepdims)
    return _expand(xp, g, x.shape, axis, keepdims) * xp.exp(x - full)


defvjp(logsumexp, _logsumexp_vjp)


@primitive(saves="ans")
def softmax(xp, x, axis=-1):
    """softmax(x)_i = e^{x_i - m} / sum_j e^{x_j - m} (m = max x, for stability);
    VJP: s * (g - sum(g * s))."""
    if x.size == 0:
        return x.copy()
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


defvjp(softmax, lambda xp, g, ans, x, axis=-1: ans * (
    g - xp.sum(g * ans, axis=axis, keepdims=True)))


@primitive(saves="ans")
def log_softmax(xp, x, axis=-1):
    """log softmax(x)_i = (x_i - m) - log sum_j e^{x_j - m};  VJP: g - softmax(x) sum(g)."""
    if x.size == 0:
        return x.copy()
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


defvjp(log_softmax, lambda xp, g, ans, x, axis=-1: g - xp.exp(ans) * xp.sum(
    g, axis=axis, keepdims=True))


@primitive(saves="inputs")
def prod(xp, x, axis=None, keepdims=False):
    """prod_i x_i;  d/dx_i = prod_{j != i} x_j, computed without dividing by x_i (from the
    products before and after i), so it is exact where x has zeros, as PyTorch's."""
    return xp.prod(x, axis=axis, keepdims=keepdims)


def _prod_vjp(xp, g, ans, x, axis=None, keepdims=False):
    reduced = tuple(range(x.ndim)) if axis is None else axis
    kept = tuple(a for a in range(x.ndim) if a not in reduced)
    order = kept + reduced
    moved = xp.transpose(x, order)
    n = _count(x.shape, reduced)
    flat = moved.reshape(moved.shape[:len(kept)] + (n,))
    if n == 0:
        others = flat
    else:
        ones = xp.ones_like(flat[..., :1])
        before = xp.concatenate([ones, xp.cumprod(flat[..., :-1], axis=-1)], axis=-1)
        after = xp.flip(xp.concatenate(
            [ones, xp.cumprod(xp.flip(flat, -1)[..., :-1], axis=-1)], axis=-1), -1)
        others = before * after
    inverse = [0] * x.ndim
    for i, a in enumerate(order):
        inverse[a] = i
    others = xp.transpose(others.reshape(moved.shape), inverse)
    return _expand(xp, g, x.shape, axis, keepdims) * others


defvjp(prod, _prod_vjp)
