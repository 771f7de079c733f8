"""Median filtering (``cv2.medianBlur``): each pixel becomes the median of its k x k window.

.. math:: y[i, j] = \\operatorname{median}\\{x[i + a, j + b] : |a|, |b| \\le k/2\\}

The median removes salt-and-pepper noise while keeping edges, which a mean would blur.
As in OpenCV the border is ``replicate``.

How it runs: a *selection network* finds the median with elementwise
``minimum``/``maximum`` on whole shifted images (Batcher's odd-even merge sort of the
k^2 window values, pruned to the comparisons the middle output needs: 24 comparators
for 3 x 3, 113 for 5 x 5); windows too large for its k^2 images in memory sort each
window (``np.partition``) a few rows at a time. On a tensor that records a graph the
median is differentiable: the gradient of each output goes to the window pixel that was
the median.
"""

from __future__ import annotations

import functools

import numpy as np

from ember.tensor import Tensor
from ember.vision.border import pad2d, pad2d_array
from ember.vision.layout import Planes, needs_grad

__all__ = ["median_blur", "median_network"]

_NETWORK_BYTES = 1 << 28  # the selection network holds up to k^2 images: 256 MB at most


def median_blur(x, kernel_size: int = 3, border: str = "replicate"):
    """Median of every k x k window (``cv2.medianBlur(x, k)``).

    Args:
        x: image (see :mod:`ember.vision.layout`), any dtype (OpenCV: 8-bit for k > 5).
        kernel_size: odd window size k >= 1.
        border: border mode (default ``replicate``, OpenCV's).

    >>> import numpy as np
    >>> x = np.full((3, 3), 10, np.uint8); x[1, 1] = 255        # one hot pixel
    >>> median_blur(x, 3)
    array([[10, 10, 10],
           [10, 10, 10],
           [10, 10, 10]], dtype=uint8)
    """
    op = "median_blur"
    planes = Planes(x, op)
    k = kernel_size
    if isinstance(k, bool) or int(k) != k or k < 1 or k % 2 == 0:
        raise ValueError(f"{op}: kernel_size must be an odd whole number >= 1, got {k!r}")
    k, r = int(k), int(k) // 2
    padded = pad2d_array(planes.array, (r, r, r, r), border, op=op)
    height, width = planes.height, planes.width
    views = [padded[:, :, a:a + height, b:b + width] for a in range(k) for b in range(k)]
    if k * k * planes.array.nbytes <= _NETWORK_BYTES:
        median = _select(views, median_network(k * k))
    else:
        median = _partition(padded, k, height, width)
    if not needs_grad(planes.tensor):
        return planes.back(Tensor._wrap(median))
    # the differentiable path: pick, for each output, the window pixel holding the median
    which = np.full(median.shape, -1, dtype=np.int64)
    for n, view in enumerate(views):
        np.copyto(which, n, where=(which < 0) & (view == median))
    b, c, i, j = np.indices(median.shape, sparse=True)
    rows, cols = i + which // k, j + which % k
    source = pad2d(planes.tensor, (r, r, r, r), border, op=op)
    return planes.back(source[b, c, rows, cols])


@functools.cache
def median_network(n: int) -> tuple[tuple[int, int, bool, bool], ...]:
    """The comparators that bring the median of n values to the middle wire.

    Batcher's odd-even merge sort of the next power of two (extra wires hold +inf and
    never move), walked backwards to keep only comparators whose outputs the middle wire
    depends on. Each entry is (i, j, keep_min, keep_max): after it, wire i holds
    ``min(w_i, w_j)`` (if needed) and wire j ``max(w_i, w_j)`` (if needed).

    >>> len(median_network(9)), len(median_network(25))
    (24, 113)
    """
    size = 1
    while size < n:
        size *= 2
    comparators = [(i, j) for i, j in _batcher(size) if j < n]
    needed, kept = {n // 2}, []
    for i, j in reversed(comparators):
        keep_min, keep_max = i in needed, j in needed
        if keep_min or keep_max:
            kept.append((i, j, keep_min, keep_max))
            needed |= {i, j}
    return tuple(reversed(kept))


def _batcher(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort network for n = 2^m wires, as (low, high) pairs."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


def _select(views: list[np.ndarray], network) -> np.ndarray:
    wires = list(views)
    for i, j, keep_min, keep_max in network:
        a, b = wires[i], wires[j]
        if keep_min:
            wires[i] = np.minimum(a, b)
        if keep_max:
            wires[j] = np.maximum(a, b)
    return np.array(wires[len(views) // 2], copy=True)


def _partition(padded: np.ndarray, k: int, height: int, width: int) -> np.ndarray:
    """Median by partial sorting of each window, a block of rows at a time."""
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
    out = np.empty(padded.shape[:2] + (height, width), dtype=padded.dtype)
    middle = k * k // 2
    rows = max(1, (1 << 22) // (k * k * width * padded.shape[0] * padded.shape[1]))
    for start in range(0, height, rows):
        block = windows[:, :, start:start + rows].reshape(
            windows.shape[:2] + (min(rows, height - start), width, k * k))
        out[:, :, start:start + rows] = np.partition(block, middle, axis=-1)[..., middle]
    return out
