"""Sorting and order statistics: sort, argsort, topk, kthvalue, median, mode, unique,
searchsorted and counting (bincount, histc).

Each order statistic finds its indices without a gradient (:mod:`ember.ops.sorting`)
and reads its values with ``gather``, so the gradient goes back to the selected elements
exactly as in PyTorch. Sorting is stable; NaN counts as the largest value.

>>> import ember as em
>>> em.sort(em.tensor([3.0, 1.0, 2.0]), descending=True)
sort(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
"""

from __future__ import annotations

import builtins
import collections

import numpy as np

from ember.backend import get_array_module
from ember.functions import _dim, _t
from ember.ops import shape as shape_ops
from ember.ops import sorting as sort_ops
from ember.tensor import Tensor

__all__ = [
    "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
    "unique", "unique_consecutive", "searchsorted", "bucketize", "bincount", "histc",
]

sort_result = collections.namedtuple("sort", ["values", "indices"])
topk_result = collections.namedtuple("topk", ["values", "indices"])
kthvalue_result = collections.namedtuple("kthvalue", ["values", "indices"])
median_result = collections.namedtuple("median", ["values", "indices"])
nanmedian_result = collections.namedtuple("nanmedian", ["values", "indices"])
mode_result = collections.namedtuple("mode", ["values", "indices"])


def _wrap(array) -> Tensor:
    return Tensor._wrap(array)


def _select(x: Tensor, index: Tensor, d: int, keepdim: bool, result):
    """(values, indices) for one index per row along ``d``: the values gathered (so the
    gradient flows to the selected elements)."""
    expanded = index.unsqueeze(d)
    values = shape_ops.gather(x, expanded._data, axis=d)
    if not keepdim:
        values = values.squeeze(d)
        return result(values, index)
    return result(values, expanded)


def _scalar_rows(x: Tensor):
    """A 0-d tensor as one row of one element (PyTorch treats it so)."""
    return x.reshape(1) if x.ndim == 0 else x


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """The elements sorted along ``dim``, and where each came from: ``(values, indices)``.

    Always stable (equal elements keep their order, also when descending); NaN sorts as
    the largest value. The gradient of ``values`` goes back to the elements it came from.

    >>> import ember as em
    >>> em.sort(em.tensor([[2, 1, 2, 0]]), dim=1).indices
    tensor([[3, 1, 0, 2]])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "sort")
    if x.ndim == 0:
        return sort_result(x.clone(), _wrap(np.zeros((), np.int64)))
    index = sort_ops.argsort(x, axis=d, descending=builtins.bool(descending))
    return sort_result(shape_ops.gather(x, index._data, axis=d), index)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    x = _t(input)
    d = _dim(dim, x.ndim, "argsort")
    if x.ndim == 0:
        return _wrap(np.zeros((), np.int64))
    return sort_ops.argsort(x, axis=d, descending=builtins.bool(descending))


def msort(input) -> Tensor:
    """``input`` sorted along its first dimension (``sort(input, 0).values``)."""
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or, with ``largest=False``, smallest) elements along ``dim`` and
    their indices, in sorted order; equal elements in input order.

    >>> import ember as em
    >>> em.topk(em.tensor([1.0, 5.0, 3.0, 5.0]), 2)
    topk(values=tensor([5., 5.]), indices=tensor([1, 3]))
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "topk")
    size = x.shape[d] if x.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k={k} out of range for dimension "
                           f"{dim} of size {size}")
    if x.ndim == 0:
        return topk_result(x.clone(), _wrap(np.zeros((), np.int64)))
    order = sort_ops.argsort(x, axis=d, descending=builtins.bool(largest))
    index = order._data[(slice(None),) * d + (slice(0, k),)]
    return topk_result(shape_ops.gather(x, index, axis=d), _wrap(np.ascontiguousarray(index)))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest element (k counts from 1) along ``dim`` and its index.

    >>> import ember as em
    >>> em.kthvalue(em.tensor([3.0, 1.0, 2.0]), 2)
    kthvalue(values=tensor(2.), indices=tensor(2))
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "kthvalue")
    rows = _scalar_rows(x)
    if not 1 <= k <= rows.shape[d]:
        raise IndexError(f"kthvalue(): selected number k={k} out of range for dimension "
                         f"{dim} of size {rows.shape[d]}")
    out = _select(rows, sort_ops.kth_index(rows, k, axis=d), d, keepdim, kthvalue_result)
    return out if x.ndim else kthvalue_result(out.values.reshape(()), out.indices.reshape(()))


def _median(op, result, input, dim, keepdim, ignore_nan):
    x = _t(input)
    if dim is None:
        if x.numel() == 0:
            return _wrap(np.full((), np.nan, x.dtype)) if x.dtype.kind == "f" else \
                _raise_empty(op)
        flat = x.reshape(-1)
        return _select(flat, sort_ops.median_index(flat, axis=0, ignore_nan=ignore_nan),
                       0, False, result).values
    d = _dim(dim, x.ndim, op)
    rows = _scalar_rows(x)
    if rows.shape[d] == 0:
        _raise_empty(op)
    out = _select(rows, sort_ops.median_index(rows, axis=d, ignore_nan=ignore_nan), d,
                  keepdim, result)
    return out if x.ndim else result(out.values.reshape(()), out.indices.reshape(()))


def _raise_empty(op):
    raise IndexError(f"{op}(): Expected reduction dim to have non-zero size.")


def median(input, dim: int | None = None, keepdim: bool = False):
    """The lower median (the element at position (n - 1) // 2 of the sorted values; no
    averaging of the middle two). Without ``dim``, of all elements (a tensor); with
    ``dim``, ``(values, indices)`` along it. NaN anywhere makes the median NaN.

    >>> import ember as em
    >>> em.median(em.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2.)
    """
    return _median("median", median_result, input, dim, keepdim, False)


def nanmedian(input, dim: int | None = None, keepdim: bool = False):
    """:func:`median` ignoring NaN (NaN only where every value is NaN)."""
    return _median("nanmedian", nanmedian_result, input, dim, keepdim, True)


def mode(input, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and
    the index of its last occurrence, as PyTorch's.

    >>> import ember as em
    >>> em.mode(em.tensor([3, 1, 3, 2, 1, 3]))
    mode(values=tensor(3), indices=tensor(5))
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "mode")
    rows = _scalar_rows(x)
    if rows.shape[d] == 0:
        _raise_empty("mode")
    out = _select(rows, sort_ops.mode_index(rows, axis=d), d, keepdim, mode_result)
    return out if x.ndim else mode_result(out.values.reshape(()), out.indices.reshape(()))


# ----------------------------------------------------------------------------- unique


def _unique_outputs(values, inverse, counts, return_inverse, return_counts):
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(_wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct elements (or, with ``dim``, distinct slices along it), sorted;
    optionally where each input element went (``inverse``: ``values[inverse]`` rebuilds
    input) and how often each occurs. No gradient (as in PyTorch).

    >>> import ember as em
    >>> em.unique(em.tensor([3, 1, 2, 3, 1]), return_inverse=True, return_counts=True)
    (tensor([1, 2, 3]), tensor([2, 0, 1, 2, 0]), tensor([2, 1, 2]))
    """
    x = _t(input)
    xp = get_array_module(x._data)
    if dim is None:
        values, inverse, counts = xp.unique(x._data, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(x.shape)
    else:
        d = _dim(dim, x.ndim, "unique")
        values, inverse, counts = xp.unique(x._data, return_inverse=True, return_counts=True,
                                            axis=d)
        inverse = inverse.reshape(-1)
    return _unique_outputs(values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Each run of equal consecutive elements (or slices along ``dim``) reduced to one, as
    the Unix ``uniq``; optionally the run of each input element and the run lengths.

    >>> import ember as em
    >>> em.unique_consecutive(em.tensor([1, 1, 2, 2, 3, 1, 1]))
    tensor([1, 2, 3, 1])
    """
    x = _t(input)
    xp = get_array_module(x._data)
    if dim is None:
        data, d = x._data.reshape(-1), 0
    else:
        data, d = x._data, _dim(dim, x.ndim, "unique_consecutive")
    moved = xp.moveaxis(data, d, 0).reshape(data.shape[d], -1) if data.ndim else data
    n = moved.shape[0]
    change = (moved[1:] != moved[:-1]).reshape(builtins.max(n - 1, 0), -1).any(axis=1)
    starts = xp.concatenate([xp.ones(builtins.min(n, 1), dtype=bool), change])
    values = xp.compress(starts, data, axis=d)
    inverse = xp.cumsum(starts) - 1
    counts = xp.diff(xp.append(xp.flatnonzero(starts), n))
    if dim is None:
        inverse = inverse.reshape(x.shape)
    return _unique_outputs(values, inverse, counts, return_inverse, return_counts)


# --------------------------------------------------------------------------- searching and counting


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter=None) -> Tensor:
    """Where each value of ``input`` would be inserted into ``sorted_sequence`` (sorted
    along its last dimension) to keep it sorted: the first such place, or the last with
    ``right=True`` / ``side="right"``. An n-d sequence is searched row by row, matching
    the leading dimensions of input.

    >>> import ember as em
    >>> em.searchsorted(em.tensor([1, 3, 5, 7]), em.tensor([3, 6]))
    tensor([1, 3])
    """
    seq = _t(sorted_sequence)._data
    values = _t(input)._data if isinstance(input, Tensor) else np.asarray(input)
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise RuntimeError(f"searchsorted(): side must be 'left' or 'right' and agree "
                               f"with right={right}, got {side!r}")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, _t(sorter)._data, axis=-1)
    how = "right" if right else "left"
    if seq.ndim <= 1:
        out = np.searchsorted(seq, values, side=how)
    else:
        if seq.shape[:-1] != values.shape[:-1]:
            raise RuntimeError(f"searchsorted(): boundaries {seq.shape} and input "
                               f"{values.shape} must match in all but the last dimension")
        rows, flat = seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1])
        out = np.stack([np.searchsorted(r, v, side=how) for r, v in zip(rows, flat,
                                                                         strict=True)])
        out = out.reshape(values.shape)
    return _wrap(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element for the 1-d sorted ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (``right=True``: boundaries[i-1] <= x <
    boundaries[i])."""
    boundaries = _t(boundaries)
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in the 1-d ``input`` (or the sum of
    its ``weights``); length max(input) + 1, at least ``minlength``."""
    x = _t(input)
    if x.ndim != 1 or x.dtype.kind not in "iub":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got "
                           f"shape {x.shape} and dtype {x.dtype}")
    if x.numel() and x._data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else _t(weights)._data
    out = np.bincount(x._data, weights=w, minlength=minlength)
    if w is None:
        return _wrap(out.astype(np.int64))
    return _wrap(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def histc(input, bins: int = 100, min=0, max=0) -> Tensor:
    """A histogram of ``bins`` equal-width bins over [min, max] (the data's range when
    both are 0); elements outside are ignored, the last bin includes max. Same dtype as
    input (float)."""
    x = _t(input)
    data = x._data
    low, high = builtins.float(min), builtins.float(max)
    if low == high and data.size:
        low, high = builtins.float(data.min()), builtins.float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError(f"histc(): max must be larger than min, got min={min}, max={max}")
    counts, _ = np.histogram(data, bins=bins, range=(low, high))
    return _wrap(counts.astype(x.dtype))
