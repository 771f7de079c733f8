"""Order statistics as indices: argsort and the positions of medians and modes.

These have no gradient (an index is piecewise constant); the values are then read with
``gather``, whose gradient sends each output's gradient back to the element it came
from. So ``sort``, ``topk``, ``kthvalue``, ``median``, ``mode``, ``cummax`` and
``cummin`` all differentiate exactly as PyTorch's, with no backward code of their own.

Order follows PyTorch: sorting is stable (equal elements keep their order, ascending or
descending) and NaN counts as larger than every number (last ascending, first
descending).
"""

from __future__ import annotations

from ember.autograd.primitives import primitive


def argsort_array(xp, x, axis, descending=False):
    """Stable argsort along ``axis``; descending keeps equal elements in input order and
    puts NaN first, as PyTorch (a reversed ascending sort of the reversed input)."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    reverse = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return n - 1 - xp.flip(reverse, axis)


@primitive(differentiable=False)
def argsort(xp, x, axis=-1, descending=False):
    """The indices that sort x along ``axis`` (stable; NaN largest)."""
    return argsort_array(xp, x, axis, descending).astype(xp.int64)


@primitive(differentiable=False)
def median_index(xp, x, axis, ignore_nan=False):
    """The index of the lower median along ``axis`` (the element at position
    (n - 1) // 2 of the stable sort). A row with NaN has a NaN median (its first NaN),
    unless ``ignore_nan`` (``nanmedian``), which takes the median of the other values."""
    order = argsort_array(xp, x, axis)
    n = x.shape[axis]
    if x.dtype.kind == "f":
        nans = xp.isnan(x).sum(axis=axis, keepdims=True)
    else:
        nans = xp.zeros_like(xp.take(order, [0], axis=axis))
    if ignore_nan:
        position = xp.maximum(n - nans - 1, 0) // 2
    else:
        position = xp.where(nans > 0, n - nans, (n - 1) // 2)
    return xp.take_along_axis(order, position, axis=axis).squeeze(axis).astype(xp.int64)


@primitive(differentiable=False)
def kth_index(xp, x, k, axis):
    """The index of the k-th smallest element (k from 1) along ``axis``."""
    order = argsort_array(xp, x, axis)
    return xp.take(order, k - 1, axis=axis).astype(xp.int64)


@primitive(differentiable=False)
def mode_index(xp, x, axis):
    """The index of the most frequent value along ``axis`` (the smallest such value when
    several are equally frequent), at its last occurrence, as PyTorch's ``mode``.

    Sorted, equal values form runs; each element knows its run's first and last
    positions (running maxima of the run starts, forwards and backwards), so the longest
    run is one ``argmax`` and, the sort being stable, its last element is the value's
    last occurrence.
    """
    moved = xp.moveaxis(x, axis, -1)
    order = xp.argsort(moved, axis=-1, kind="stable")
    ordered = xp.take_along_axis(moved, order, axis=-1)
    n = ordered.shape[-1]
    positions = xp.broadcast_to(xp.arange(n), ordered.shape)
    change = ordered[..., 1:] != ordered[..., :-1]
    starts = xp.concatenate([xp.ones_like(ordered[..., :1], dtype=bool), change], axis=-1)
    ends = xp.concatenate([change, xp.ones_like(ordered[..., :1], dtype=bool)], axis=-1)
    first = xp.maximum.accumulate(xp.where(starts, positions, 0), axis=-1)
    last = n - 1 - xp.maximum.accumulate(xp.where(ends, n - 1 - positions, 0)[..., ::-1],
                                         axis=-1)[..., ::-1]
    best = xp.argmax(last - first, axis=-1)[..., None]
    end = xp.take_along_axis(last, best, axis=-1)
    return xp.take_along_axis(order, end, axis=-1)[..., 0].astype(xp.int64)
