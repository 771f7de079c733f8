"""Connected components of a binary image (``cv2.connectedComponents[WithStats]``).

Two foreground (nonzero) pixels belong to the same component if a path of foreground
pixels joins them, stepping to one of the 4 side neighbours (``connectivity=4``) or of
the 8 side-and-corner neighbours (``connectivity=8``). The background is 0; components
are numbered 1, 2, ... in the order OpenCV's scans first meet them, so the labels equal
OpenCV's: with 4-connectivity a raster scan, pixel by pixel; with 8-connectivity a raster
scan of 2 x 2 blocks (OpenCV's block-based algorithm; all the foreground pixels of a
block are 8-connected).

How it runs, without a Python loop over pixels: each row's runs of foreground pixels are
found at once; runs of consecutive rows that touch are joined by union-find on the runs
(hooking each tree's root under the smaller root, then pointer jumping, repeated until
no edge joins two trees), and each run is painted with its root's label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ember.tensor import Tensor
from ember.vision.layout import Planes

__all__ = ["connected_components", "ComponentStats"]


@dataclass
class ComponentStats:
    """Per-label statistics (label 0 is the background), as OpenCV's ``stats`` and
    ``centroids``.

    Attributes:
        left, top, width, height: the bounding box of each label's pixels (all 0 for a
            label without pixels, such as the background of an all-foreground image).
        area: the number of pixels.
        centroid: (N, 2) mean (x, y) of the pixels.
    """

    left: np.ndarray
    top: np.ndarray
    width: np.ndarray
    height: np.ndarray
    area: np.ndarray
    centroid: np.ndarray

    def as_opencv(self) -> tuple[np.ndarray, np.ndarray]:
        """(stats (N, 5) int32 as left, top, width, height, area; centroids (N, 2))."""
        stats = np.stack([self.left, self.top, self.width, self.height, self.area], axis=1)
        return stats.astype(np.int32), self.centroid


def connected_components(x, connectivity: int = 8, return_stats: bool = False):
    """Label the connected components of the nonzero pixels.

    Args:
        x: a binary or grey image with one channel (nonzero = foreground).
        connectivity: 8 (default, as OpenCV) or 4.
        return_stats: also return a :class:`ComponentStats`.

    Returns:
        ``(count, labels)`` — count includes the background label 0; labels are int32 in
        the image's layout — or ``(count, labels, stats)``.

    >>> import numpy as np
    >>> x = np.array([[1, 1, 0, 0],
    ...               [0, 0, 0, 1],
    ...               [1, 0, 1, 1]], np.uint8)
    >>> count, labels = connected_components(x, 4)
    >>> count
    4
    >>> labels
    array([[1, 1, 0, 0],
           [0, 0, 0, 2],
           [3, 0, 2, 2]], dtype=int32)
    >>> connected_components(x, 8)[0]          # the corner joins nothing new here
    4
    """
    if connectivity not in (4, 8):
        raise ValueError(f"connected_components: connectivity must be 4 or 8, got {connectivity!r}")
    planes = Planes(x, "connected_components")
    if planes.batch * planes.channels != 1:
        raise ValueError(f"connected_components: expects one image plane, got shape "
                         f"{tuple(np.shape(x))}")
    count, labels = label_runs(planes.array[0, 0] != 0, connectivity)
    result = planes.back(Tensor._wrap(labels[None, None]))
    if not return_stats:
        return count, result
    return count, result, _stats(labels, count)


def label_runs(foreground: np.ndarray, connectivity: int = 8) -> tuple[int, np.ndarray]:
    """(count, int32 labels) of a 2-d boolean image, numbered as OpenCV numbers them."""
    height, width = foreground.shape
    padded = np.zeros((height, width + 2), bool)
    padded[:, 1:-1] = foreground
    changes = np.flatnonzero(padded[:, 1:] ^ padded[:, :-1])  # starts and ends alternate
    row_start, start = np.divmod(changes[0::2], width + 1)
    end = changes[1::2] - row_start * (width + 1)  # runs are [start, end), in raster order
    runs = len(start)
    if runs == 0:
        return 1, np.zeros((height, width), np.int32)
    a, b = _touching_runs(row_start, start, end, width, 1 if connectivity == 8 else 0)
    root = _union_find(runs, a, b)
    # each component's first pixel (4) or first 2 x 2 block (8) in raster order
    if connectivity == 4:
        first = row_start * (width + 1) + start
    else:
        first = (row_start // 2) * (width + 1) + start // 2
    key = np.full(runs, np.iinfo(np.int64).max)
    np.minimum.at(key, root, first)
    roots = np.flatnonzero(root == np.arange(runs))
    number = np.zeros(runs, np.int32)
    number[roots[np.argsort(key[roots], kind="stable")]] = np.arange(1, len(roots) + 1)
    # paint: the image in raster order is gap, run, gap, run, ..., gap
    bounds = np.empty(2 * runs + 2, np.int64)
    bounds[0], bounds[-1] = 0, height * width
    bounds[1:-1:2], bounds[2:-1:2] = row_start * width + start, row_start * width + end
    values = np.zeros(2 * runs + 1, np.int32)
    values[1::2] = number[root]
    labels = np.repeat(values, np.diff(bounds)).reshape(height, width)
    return len(roots) + 1, labels


def _touching_runs(row, start, end, width, corner):
    """Pairs (a, b) of runs in consecutive rows that touch (``corner`` = 1 lets runs
    meet at a corner): run b in row r + 1 touches run a in row r if
    ``b.start <= a.end - 1 + corner`` and ``b.end - 1 >= a.start - corner``."""
    stride = width + 3  # keys of different rows never interleave
    start_key, end_key = row * stride + start, row * stride + end
    below = (row + 1) * stride
    first = np.searchsorted(end_key, below + start - corner, side="right")
    last = np.searchsorted(start_key, below + end - 1 + corner, side="right")
    count = np.maximum(last - first, 0)
    a = np.repeat(np.arange(len(start)), count)
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return a, np.repeat(first, count) + offsets


def _union_find(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The root (smallest member) of each node's tree, for the edges (a, b)."""
    parent = np.arange(n)
    while True:
        pa, pb = parent[a], parent[b]
        join = pa != pb
        if not join.any():
            return parent
        low, high = np.minimum(pa, pb)[join], np.maximum(pa, pb)[join]
        np.minimum.at(parent, high, low)  # hook each root under the smallest root it meets
        while True:  # pointer jumping: every node straight to its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def _stats(labels: np.ndarray, count: int) -> ComponentStats:
    rows, cols = np.indices(labels.shape)
    flat, r, c = labels.ravel(), rows.ravel(), cols.ravel()
    area = np.bincount(flat, minlength=count)
    left, top = np.full(count, labels.shape[1]), np.full(count, labels.shape[0])
    right, bottom = np.full(count, -1), np.full(count, -1)
    np.minimum.at(left, flat, c)
    np.minimum.at(top, flat, r)
    np.maximum.at(right, flat, c)
    np.maximum.at(bottom, flat, r)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.stack([np.bincount(flat, c, count) / area,
                             np.bincount(flat, r, count) / area], axis=1)
    empty = area == 0
    left[empty], top[empty], right[empty], bottom[empty] = 0, 0, -1, -1
    return ComponentStats(left, top, right - left + 1, bottom - top + 1, area, centroid)
