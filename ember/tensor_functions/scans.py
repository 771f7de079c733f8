"""Cumulative functions along a dimension (cumsum, cumprod, cummax, cummin,
logcumsumexp) and their inverse, ``diff``.

>>> import ember as em
>>> em.cumsum(em.tensor([1, 2, 3]), dim=0)
tensor([1, 3, 6])
>>> em.cummax(em.tensor([1.0, 3.0, 2.0, 5.0]), dim=0)
cummax(values=tensor([1., 3., 3., 5.]), indices=tensor([0, 1, 1, 3]))
"""

from __future__ import annotations

import collections

from ember import dtypes
from ember.functions import _dim, _t, cat
from ember.ops import scan
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff"]

cummax_result = collections.namedtuple("cummax", ["values", "indices"])
cummin_result = collections.namedtuple("cummin", ["values", "indices"])


def _accumulating(op: str, input, dim, dtype):
    """(input converted to the accumulating dtype, dimension): integers and booleans
    accumulate in int64, as in PyTorch, unless ``dtype`` says otherwise."""
    x = _t(input)
    if dtype is not None:
        x = x.type(dtypes.as_dtype(dtype))
    elif x.dtype.kind in "biu":
        x = x.type(dtypes.int64)
    if dim is None:
        raise TypeError(f"{op}(): missing the dimension to accumulate along (dim=...)")
    return x, _dim(dim, x.ndim, op)


def cumsum(input, dim: int, *, dtype=None) -> Tensor:
    """y_i = x_1 + ... + x_i along ``dim``; integers accumulate in int64.

    Gradient: the reversed cumulative sum of the output's gradient."""
    x, d = _accumulating("cumsum", input, dim, dtype)
    return x.clone() if x.ndim == 0 else scan.cumsum(x, axis=d)


def cumprod(input, dim: int, *, dtype=None) -> Tensor:
    """y_i = x_1 x_2 ... x_i along ``dim``; integers accumulate in int64.

    The gradient needs no division by x, so it is exact where x has zeros."""
    x, d = _accumulating("cumprod", input, dim, dtype)
    return x.clone() if x.ndim == 0 else scan.cumprod(x, axis=d)


def logcumsumexp(input, dim: int) -> Tensor:
    """y_i = log(e^{x_1} + ... + e^{x_i}) along ``dim``, accumulated without overflow.

    >>> import ember as em
    >>> em.logcumsumexp(em.tensor([0.0, 0.0, 1000.0]), 0)
    tensor([   0.0000,    0.6931, 1000.0000])
    """
    x = _t(input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"logcumsumexp(): not implemented for {x.dtype} (needs a "
                           "floating-point tensor)")
    d = _dim(dim, x.ndim, "logcumsumexp")
    return x.clone() if x.ndim == 0 else scan.logcumsumexp(x, axis=d)


def _running(op, result, input, dim):
    x = _t(input)
    d = _dim(dim, x.ndim, op)
    if x.ndim == 0:
        return result(x.clone(), Tensor._wrap(x._data.astype("int64") * 0))
    index = scan.cumulative_argextreme(x, axis=d, largest=op == "cummax")
    return result(shape_ops.gather(x, index._data, axis=d), index)


def cummax(input, dim: int):
    """The running maximum along ``dim`` and where it was attained (the latest index
    among equal values; NaN, once met, stays). The gradient goes to those elements."""
    return _running("cummax", cummax_result, input, dim)


def cummin(input, dim: int):
    """The running minimum along ``dim`` and where it was attained (as :func:`cummax`)."""
    return _running("cummin", cummin_result, input, dim)


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along ``dim``: out[i] = x[i + 1] - x[i], applied ``n``
    times, after joining ``prepend`` and ``append`` along ``dim``; booleans give their
    exclusive or.

    >>> import ember as em
    >>> em.diff(em.tensor([1, 4, 9, 16]))
    tensor([3, 5, 7])
    """
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = _dim(dim, x.ndim, "diff")
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        x = cat([_t(p) for p in parts], d)
    for _ in range(n):
        head = (slice(None),) * d
        later = shape_ops.getitem_basic(x, key=head + (slice(1, None),))
        earlier = shape_ops.getitem_basic(x, key=head + (slice(None, -1),))
        x = later ^ earlier if x.dtype == bool else later - earlier
    return x
