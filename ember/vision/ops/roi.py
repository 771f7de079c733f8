"""Region-of-interest pooling: a fixed-size feature map for every box (torchvision's
``roi_pool`` (Fast R-CNN) and ``roi_align`` (Mask R-CNN)).

Boxes are a (K, 5) tensor of rows ``(batch_index, x1, y1, x2, y2)``, or a list of (L, 4)
tensors, one per image; box coordinates are scaled by ``spatial_scale`` into the feature
map. Both are differentiable in ``input`` (not in the boxes, as torchvision's).

**RoIPool** rounds the box to whole cells (``round`` half away from zero), splits it into
``output_size`` bins of ``floor``/``ceil`` edges, and takes each bin's maximum (the first
one in row-major order on ties; 0 for an empty bin); the gradient goes to that cell.

**RoIAlign** does not round: each bin is the mean of ``g_h x g_w`` bilinear samples at

.. math:: y = y_1 s - o + (p_h + (i_y + \\tfrac12)/g_h)\\, \\frac{h}{P_H},
    \\quad i_y = 0..g_h - 1

(``o = 0.5`` with ``aligned=True``, else 0 and the box is at least 1 x 1; ``g_h =
sampling_ratio``, or ``ceil(h / P_H)`` when it is <= 0; x likewise). A sample outside
``[-1, H] x [-1, W]`` counts as 0; inside, coordinates below 0 are read at 0. Bilinear
sampling is separable, so every box's output is two matrix products,
``out = A_y X A_x^T`` with ``A_y`` (P_H, H) holding each bin's summed sampling weights per
row (and ``A_x`` per column): the gradient ``A_y^T dL/dout A_x`` comes from the same
products. The rules are those of torchvision's CPU kernel.

>>> import ember as em
>>> from ember.vision import ops
>>> x = em.arange(16.0).reshape(1, 1, 4, 4)
>>> ops.roi_pool(x, [em.tensor([[0.0, 0.0, 3.0, 3.0]])], output_size=2)
tensor([[[[ 5.,  7.],
          [13., 15.]]]])

RoIAlign with ``aligned=True`` samples the box (0, 0, 2, 2) at pixel centres 0 and 1 on
each axis: the mean of x[0:2, 0:2] = (0 + 1 + 4 + 5) / 4.

>>> ops.roi_align(x, [em.tensor([[0.0, 0.0, 2.0, 2.0]])], output_size=1, aligned=True)
tensor([[[[2.5000]]]])
"""

from __future__ import annotations

import numpy as np

from ember.functions import cat, where
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["roi_align", "roi_pool", "RoIAlign", "RoIPool"]


def _pair(size, op: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"{op}: output_size must be a positive int or (height, width), got "
                         f"{size!r}")
    return size


def _rois(boxes, op: str) -> np.ndarray:
    """Boxes as a (K, 5) float64 array of (batch_index, x1, y1, x2, y2)."""
    if isinstance(boxes, (list, tuple)):
        parts = []
        for i, b in enumerate(boxes):
            b = b.detach().numpy() if isinstance(b, Tensor) else np.asarray(b)
            if b.ndim != 2 or b.shape[1] != 4:
                raise ValueError(f"{op}: each tensor in the boxes list must be (L, 4), got "
                                 f"shape {b.shape} for image {i}")
            parts.append(np.concatenate([np.full((len(b), 1), i), b], axis=1))
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, 5))
    rois = boxes.detach().numpy() if isinstance(boxes, Tensor) else np.asarray(boxes)
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(f"{op}: boxes must be a (K, 5) tensor of (batch_index, x1, y1, x2, "
                         f"y2) or a list of (L, 4) tensors, got shape {rois.shape}")
    return rois.astype(np.float64)


def _check_input(input: Tensor, rois: np.ndarray, op: str) -> np.ndarray:
    if input.ndim != 4:
        raise ValueError(f"{op}: input must be (N, C, H, W), got shape {tuple(input.shape)}")
    index = rois[:, 0].astype(np.int64)
    if len(index) and (index.min() < 0 or index.max() >= input.shape[0]):
        raise ValueError(f"{op}: box batch indices must be in [0, {input.shape[0] - 1}], got "
                         f"{index.min()}..{index.max()}")
    return index


def _per_image(input: Tensor, index: np.ndarray, pool, empty_shape: tuple) -> Tensor:
    """``pool(image, rows)`` for the boxes of each image, reassembled in the boxes' order."""
    if len(index) == 0:
        from ember.creation import zeros

        return zeros(*empty_shape, dtype=input.dtype)
    pieces, order = [], []
    for b in np.unique(index):
        rows = np.flatnonzero(index == b)
        pieces.append(pool(input[int(b)], rows))
        order.append(rows)
    out = cat(pieces) if len(pieces) > 1 else pieces[0]
    order = np.concatenate(order)
    if np.array_equal(order, np.arange(len(order))):
        return out
    return out[np.argsort(order, kind="stable")]


# ---------------------------------------------------------------- RoIAlign


def _sampling_matrices(start, length, bins: int, size: int, sampling_ratio: int,
                       dtype) -> np.ndarray:
    """(K, bins, size): each bin's bilinear weights on the ``size`` rows (or columns),
    summed over its samples and divided by their number, along one axis."""
    k = len(start)
    bin_size = length / bins
    if sampling_ratio > 0:
        grid = np.full(k, sampling_ratio, dtype=np.int64)
    else:
        grid = np.ceil(length / bins).astype(np.int64)
    samples = max(int(grid.max(initial=0)), 1)
    i = np.arange(samples)
    p = np.arange(bins)
    coord = (start[:, None, None] + p[None, :, None] * bin_size[:, None, None]
             + (i[None, None, :] + 0.5) * bin_size[:, None, None]
             / np.maximum(grid, 1)[:, None, None])  # (K, bins, samples)
    used = (i[None, None, :] < grid[:, None, None]) & (coord >= -1.0) & (coord <= size)
    coord = np.maximum(coord, 0.0)
    low = coord.astype(np.int64)
    top = low >= size - 1
    low = np.where(top, size - 1, low)
    high = np.where(top, size - 1, low + 1)
    frac = np.where(top, 0.0, coord - low)
    weights = np.zeros((k, bins, size))
    kk, pp = np.broadcast_to(np.arange(k)[:, None, None], coord.shape), np.broadcast_to(
        p[None, :, None], coord.shape)
    np.add.at(weights, (kk[used], pp[used], low[used]), (1.0 - frac)[used])
    np.add.at(weights, (kk[used], pp[used], high[used]), frac[used])
    weights /= np.maximum(grid, 1)[:, None, None]
    return weights.astype(dtype)


def roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
              sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """RoIAlign: each box's region of ``input`` averaged into ``output_size`` bins of
    bilinear samples, without rounding the box (see the module notes for the rules).

    Args:
        input: (N, C, H, W) feature maps.
        boxes: (K, 5) rows ``(batch_index, x1, y1, x2, y2)``, or a list of (L, 4) boxes
            per image.
        output_size: ``int`` or ``(P_H, P_W)``.
        spatial_scale: multiplies the box coordinates (1/16 for a stride-16 feature map).
        sampling_ratio: samples per bin along each axis; <= 0 (default): ``ceil`` of the
            bin size.
        aligned: shift the box by half a pixel (-0.5) so that the sample grid lines up
            with pixel centres (Detectron2); ``False`` (default) is the legacy form.

    Returns:
        (K, C, P_H, P_W), differentiable in ``input``.

    Reference: He et al., "Mask R-CNN", ICCV 2017.
    """
    out_h, out_w = _pair(output_size, "roi_align")
    rois = _rois(boxes, "roi_align")
    index = _check_input(input, rois, "roi_align")
    offset = 0.5 if aligned else 0.0
    x1, y1 = rois[:, 1] * spatial_scale - offset, rois[:, 2] * spatial_scale - offset
    width = rois[:, 3] * spatial_scale - offset - x1
    height = rois[:, 4] * spatial_scale - offset - y1
    if not aligned:
        width, height = np.maximum(width, 1.0), np.maximum(height, 1.0)
    _, channels, h, w = input.shape
    a_y = _sampling_matrices(y1, height, out_h, h, sampling_ratio, input.dtype)  # (K, PH, H)
    a_x = _sampling_matrices(x1, width, out_w, w, sampling_ratio, input.dtype)   # (K, PW, W)

    def pool(image: Tensor, rows: np.ndarray) -> Tensor:
        k = len(rows)
        # columns first: (C, H, W) @ (W, K PW) -> (C, H, K, PW) -> (K, C, H, PW)
        columns = image @ Tensor._wrap(np.ascontiguousarray(
            a_x[rows].reshape(k * out_w, w).T))
        columns = columns.reshape(channels, h, k, out_w).permute(2, 0, 1, 3)
        return Tensor._wrap(a_y[rows][:, None]) @ columns  # (K, 1, PH, H) @ (K, C, H, PW)

    return _per_image(input, index, pool, (0, channels, out_h, out_w))


# ---------------------------------------------------------------- RoIPool


def _round_half_away(x: np.ndarray) -> np.ndarray:
    """C's ``round``: halves go away from zero (NumPy's ``round`` goes to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """RoIPool: each box, rounded to whole cells, split into ``output_size`` bins, each bin
    max-pooled (see the module notes for the rules).

    Args:
        input: (N, C, H, W) feature maps.
        boxes: (K, 5) rows ``(batch_index, x1, y1, x2, y2)``, or a list of (L, 4) boxes
            per image.
        output_size: ``int`` or ``(P_H, P_W)``.
        spatial_scale: multiplies the box coordinates.

    Returns:
        (K, C, P_H, P_W), differentiable in ``input`` (the gradient of a bin goes to its
        maximum; empty bins are 0).

    Reference: Girshick, "Fast R-CNN", ICCV 2015.
    """
    out_h, out_w = _pair(output_size, "roi_pool")
    rois = _rois(boxes, "roi_pool")
    index = _check_input(input, rois, "roi_pool")
    _, channels, h, w = input.shape
    corners = _round_half_away(rois[:, 1:] * spatial_scale).astype(np.int64)
    data = input.detach().numpy()
    real = data.dtype.type if data.dtype.kind == "f" else np.float64

    def pool(image: Tensor, rows: np.ndarray) -> Tensor:
        k = len(rows)
        where_h = np.zeros((k, channels, out_h, out_w), dtype=np.int64)
        where_w = np.zeros_like(where_h)
        empty = np.zeros((k, 1, out_h, out_w), dtype=bool)
        values = data[index[rows[0]]]
        for r, row in enumerate(rows):
            x1, y1, x2, y2 = corners[row]
            # bin edges in the input's precision, as the kernel computes them
            bin_h = real(max(y2 - y1 + 1, 1)) / real(out_h)
            bin_w = real(max(x2 - x1 + 1, 1)) / real(out_w)
            for ph in range(out_h):
                h0 = min(max(int(np.floor(real(ph) * bin_h)) + y1, 0), h)
                h1 = min(max(int(np.ceil(real(ph + 1) * bin_h)) + y1, 0), h)
                for pw in range(out_w):
                    w0 = min(max(int(np.floor(real(pw) * bin_w)) + x1, 0), w)
                    w1 = min(max(int(np.ceil(real(pw + 1) * bin_w)) + x1, 0), w)
                    if h1 <= h0 or w1 <= w0:
                        empty[r, 0, ph, pw] = True
                        continue
                    best = values[:, h0:h1, w0:w1].reshape(channels, -1).argmax(axis=1)
                    where_h[r, :, ph, pw] = h0 + best // (w1 - w0)
                    where_w[r, :, ph, pw] = w0 + best % (w1 - w0)
        c = np.arange(channels)[None, :, None, None]
        picked = image[c, where_h, where_w]
        return where(Tensor._wrap(empty), 0.0, picked) if empty.any() else picked

    return _per_image(input, index, pool, (0, channels, out_h, out_w))


# ---------------------------------------------------------------- modules


class RoIAlign(Module):
    """:func:`roi_align` as a layer (torchvision's ``RoIAlign``)."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int,
                 aligned: bool = False) -> None:
        super().__init__()
        self.output_size, self.spatial_scale = output_size, spatial_scale
        self.sampling_ratio, self.aligned = sampling_ratio, aligned

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_align(input, rois, self.output_size, self.spatial_scale,
                         self.sampling_ratio, self.aligned)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned}")


class RoIPool(Module):
    """:func:`roi_pool` as a layer (torchvision's ``RoIPool``)."""

    def __init__(self, output_size, spatial_scale: float) -> None:
        super().__init__()
        self.output_size, self.spatial_scale = output_size, spatial_scale

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, spatial_scale={self.spatial_scale}"
