"""More reductions: prod, std_mean/var_mean, the NaN-ignoring sum and mean,
count_nonzero and aminmax.

>>> import ember as em
>>> em.prod(em.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
tensor([ 2., 12.])
"""

from __future__ import annotations

import builtins
import collections

from ember import dtypes
from ember.functions import _axis, _dim, _dims, _keep, _t, amax, amin, mean, std, var
from ember.ops import compare, elementwise, reduction
from ember.tensor import Tensor

__all__ = ["prod", "std_mean", "var_mean", "nansum", "nanmean", "count_nonzero", "aminmax"]

aminmax_result = collections.namedtuple("aminmax", ["min", "max"])


def prod(input, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The product of the elements (along ``dim``); integers multiply in int64.

    The gradient, prod of the other elements, is computed without division, so it is
    exact with zeros: with one zero only that element gets a gradient, with two none.
    """
    x = _t(input)
    if dtype is not None:
        x = x.type(dtypes.as_dtype(dtype))
    elif x.dtype.kind in "biu":
        x = x.type(dtypes.int64)
    axis = None if dim is None else (_dim(dim, x.ndim, "prod"),) if x.ndim else None
    return reduction.prod(x, axis=axis, keepdims=builtins.bool(keepdim and x.ndim))


def std_mean(input, dim=None, *, correction=None, unbiased=None, keepdim: bool = False):
    """``(std(input, dim), mean(input, dim))`` in one call (as PyTorch's)."""
    kwargs = dict(correction=correction, unbiased=unbiased, keepdim=keepdim)
    return std(input, dim, **kwargs), mean(input, dim, keepdim=keepdim)


def var_mean(input, dim=None, *, correction=None, unbiased=None, keepdim: bool = False):
    """``(var(input, dim), mean(input, dim))`` in one call (as PyTorch's)."""
    kwargs = dict(correction=correction, unbiased=unbiased, keepdim=keepdim)
    return var(input, dim, **kwargs), mean(input, dim, keepdim=keepdim)


def _without_nan(x: Tensor) -> Tensor:
    return elementwise.where(compare.isnan(x), 0.0, x) if x.dtype.kind == "f" else x


def nansum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum treating NaN as 0 (its gradient is 0 there)."""
    x = _t(input) if dtype is None else _t(input).type(dtype)
    return reduction.sum(_without_nan(x), axis=_dims(dim, x.ndim, "nansum"),
                         keepdims=builtins.bool(keepdim))


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the non-NaN elements (NaN where there are none)."""
    x = _t(input) if dtype is None else _t(input).type(dtype)
    count = reduction.sum(~compare.isnan(x), axis=_dims(dim, x.ndim, "nanmean"),
                          keepdims=builtins.bool(keepdim))
    return nansum(x, dim, keepdim) / count.type(x.dtype)


def count_nonzero(input, dim=None) -> Tensor:
    """How many elements are not zero (along ``dim``: an int or a tuple), as int64."""
    x = _t(input)
    return reduction.sum(x != 0, axis=_dims(dim, x.ndim, "count_nonzero"))


def aminmax(input, *, dim: int | None = None, keepdim: bool = False, axis=None,
            keepdims=None):
    """``(min, max)`` of the elements, or along ``dim`` (values only; ties share the
    gradient equally, as ``amin``/``amax``)."""
    d = _axis(dim, axis)
    keep = _keep(keepdim, keepdims)
    x = _t(input)
    if x.numel() == 0 and (d is None or x.shape[_dim(d, x.ndim, "aminmax")] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                           "the operation has no identity.")
    dims = () if d is None else d
    return aminmax_result(amin(x, dims, keep), amax(x, dims, keep))
