"""Reductions (sum, mean, var, std, max, min, logsumexp) and the softmax family.

``axis`` is a tuple of non-negative axes, or ``None`` for all of them; the public
functions in :mod:`ember.functions` accept PyTorch's ``dim``/``keepdim`` and NumPy's
``axis``/``keepdims`` and normalise them before calling these primitives.

The VJP of a reduction first puts the reduced axes back (``_expand``), then scales:

.. math:: \\overline{x} = \\mathrm{expand}(\\overline{y}) \\cdot \\partial y / \\partial x
"""

from __future__ import annotations

import math

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
    """(1/N) sum_i x_i;  d/dx_i = 1/N."""
    return xp.mean(x, axis=axis, keepdims=keepdims)


defvjp(mean, lambda xp, g, ans, x, axis=None, keepdims=False: _expand(
    xp, g / _count(x.shape, axis), x.shape, axis, keepdims))


@primitive(saves="inputs")
def var(xp, x, axis=None, correction=1, keepdims=False):
    """sum_i (x_i - mean)^2 / (N - correction);  d/dx_i = 2 (x_i - mean) / (N - correction)."""
    return xp.var(x, axis=axis, ddof=correction, keepdims=keepdims)


def _var_vjp(xp, g, ans, x, axis=None, correction=1, keepdims=False):
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    scale = 2 / (_count(x.shape, axis) - correction)
    return _expand(xp, g, x.shape, axis, keepdims) * centred * scale


defvjp(var, _var_vjp)


@primitive(saves="all")
def std(xp, x, axis=None, correction=1, keepdims=False):
    """sqrt(var(x));  d/dx_i = (x_i - mean) / ((N - correction) std), 0 where std = 0."""
    return xp.sqrt(xp.var(x, axis=axis, ddof=correction, keepdims=keepdims))


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
    d/dx_i = softmax(x)_i."""
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
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


defvjp(softmax, lambda xp, g, ans, x, axis=-1: ans * (
    g - xp.sum(g * ans, axis=axis, keepdims=True)))


@primitive(saves="ans")
def log_softmax(xp, x, axis=-1):
    """log softmax(x)_i = (x_i - m) - log sum_j e^{x_j - m};  VJP: g - softmax(x) sum(g)."""
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


defvjp(log_softmax, lambda xp, g, ans, x, axis=-1: g - xp.exp(ans) * xp.sum(
    g, axis=axis, keepdims=True))
