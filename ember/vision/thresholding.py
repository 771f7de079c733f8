"""Thresholding: fixed (``cv2.threshold``), Otsu's automatic threshold, adaptive.

Otsu's method [Otsu 1979] picks the grey level t that best splits the histogram into a
dark class (levels <= t) and a bright class (> t): with p_i the share of pixels at level
i,

.. math:: \\omega_0(t) = \\sum_{i \\le t} p_i, \\quad \\omega_1 = 1 - \\omega_0, \\quad
          \\mu_0(t) = \\frac{\\sum_{i \\le t} i\\,p_i}{\\omega_0}, \\quad
          \\mu_1(t) = \\frac{\\mu - \\omega_0 \\mu_0}{\\omega_1}

.. math:: \\sigma_B^2(t) = \\omega_0\\,\\omega_1\\,(\\mu_0 - \\mu_1)^2, \\qquad
          t^* = \\arg\\max_t \\sigma_B^2(t)

(maximising the between-class variance is minimising the within-class variance, since
their sum is the fixed total variance). The search is exhaustive over the 256 levels,
with OpenCV's recurrence and tie rule (the first maximum), so the threshold equals
``cv2.threshold(x, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)``'s.

Reference: N. Otsu, "A Threshold Selection Method from Gray-Level Histograms", IEEE
Trans. SMC 9(1), 1979.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ember import creation
from ember import functions as fn
from ember.tensor import Tensor
from ember.vision.filters import box_blur, gaussian_blur2d
from ember.vision.histograms import count_levels, histogram
from ember.vision.layout import Planes, to_float

__all__ = ["threshold", "otsu_threshold", "otsu_table", "OtsuTable", "adaptive_threshold",
           "THRESHOLD_TYPES"]

THRESHOLD_TYPES = ("binary", "binary_inv", "trunc", "tozero", "tozero_inv")
_FLT_EPSILON = float(np.finfo(np.float32).eps)


def threshold(x, thresh: float, maxval: float = 255, type: str = "binary"):  # noqa: A002
    """Fixed-level thresholding (``cv2.threshold(x, thresh, maxval, type)[1]``).

    ==============  =====================================
    ``type``        y
    ==============  =====================================
    ``binary``      maxval if x > thresh else 0
    ``binary_inv``  0 if x > thresh else maxval
    ``trunc``       thresh if x > thresh else x
    ``tozero``      x if x > thresh else 0
    ``tozero_inv``  0 if x > thresh else x
    ==============  =====================================

    The result keeps the input's dtype (maxval and thresh rounded and saturated for
    integer images). On tensors ``trunc``, ``tozero`` and ``tozero_inv`` pass the
    gradient where they pass x.

    >>> import numpy as np
    >>> threshold(np.array([[10, 100, 200]], np.uint8), 100, 255, "tozero")
    array([[  0,   0, 200]], dtype=uint8)
    """
    planes = Planes(x, "threshold")
    kind = str(type).lower()
    if kind not in THRESHOLD_TYPES:
        raise ValueError(f"threshold: unknown type {type!r}; expected one of "
                         + ", ".join(THRESHOLD_TYPES))
    t, top = float(thresh), float(maxval)
    fill = t  # what trunc writes
    if planes.dtype.kind in "iu":  # OpenCV: thresh floored, maxval rounded, both saturated
        info = np.iinfo(planes.dtype)
        t = float(np.clip(np.floor(t), info.min - 1, info.max))
        fill = float(np.clip(t, info.min, info.max))
        top = float(np.clip(np.rint(top), info.min, info.max))
    source = planes.tensor
    above = source > t
    zero = creation.zeros_like(source)
    if kind == "binary":
        y = fn.where(above, creation.full_like(source, top), zero)
    elif kind == "binary_inv":
        y = fn.where(above, zero, creation.full_like(source, top))
    elif kind == "trunc":
        y = fn.where(above, creation.full_like(source, fill), source)
    elif kind == "tozero":
        y = fn.where(above, source, zero)
    else:
        y = fn.where(above, zero, source)
    return planes.back(y)


@dataclass
class OtsuTable:
    """Every candidate threshold of Otsu's search, with its class statistics.

    Attributes:
        levels: the grey levels t (class 0 is x <= t).
        w0, w1: the class probabilities omega_0(t), omega_1(t).
        mu0, mu1: the class means.
        between: the between-class variance w0 w1 (mu0 - mu1)^2 (0 where a class is
            empty, which OpenCV skips).
        threshold: the level with the largest between-class variance (the first of ties).
    """

    levels: np.ndarray
    w0: np.ndarray
    w1: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    between: np.ndarray
    threshold: float


def otsu_table(counts, levels=None) -> OtsuTable:
    """Otsu's exhaustive search over a histogram, with OpenCV's recurrence:

    ``mu0(t) = (mu0(t-1) w0(t-1) + t p_t) / w0(t)`` and ``mu1 = (mu - w0 mu0) / w1``;
    levels where a class holds less than float32's epsilon are skipped, and the first
    strict maximum wins.

    Args:
        counts: the histogram (counts per level).
        levels: the grey level of each bin (default 0, 1, 2, ...).

    >>> table = otsu_table([4, 0, 0, 2, 2])
    >>> table.threshold, table.between.round(3).tolist()
    (0.0, [3.062, 3.062, 3.062, 1.688, 0.0])
    """
    p = np.asarray(counts, dtype=np.float64)
    levels = np.arange(len(p), dtype=np.float64) if levels is None else np.asarray(
        levels, np.float64)
    p = p / p.sum()
    mu = float((levels * p).sum())
    n = len(p)
    w0, w1, mu0, mu1, between = ([0.0] * n for _ in range(5))
    q1 = m1 = best = 0.0
    best_index = 0
    for i, (level, p_i) in enumerate(zip(levels.tolist(), p.tolist(), strict=True)):
        if p_i == 0 and q1 == 0:  # before the first level present nothing changes
            w1[i] = 1.0
            mu0[i] = mu1[i] = np.nan
            continue
        m1 *= q1  # OpenCV's recurrence, step by step (Python floats are doubles)
        q1 += p_i
        q2 = 1.0 - q1
        w0[i], w1[i] = q1, q2
        if min(q1, q2) < _FLT_EPSILON or max(q1, q2) > 1.0 - _FLT_EPSILON:
            mu0[i] = mu1[i] = np.nan
            continue
        m1 = (m1 + level * p_i) / q1
        m2 = (mu - q1 * m1) / q2
        mu0[i], mu1[i] = m1, m2
        between[i] = q1 * q2 * (m1 - m2) * (m1 - m2)
        if between[i] > best:
            best, best_index = between[i], i
    w0, w1, mu0, mu1, between = (np.array(a) for a in (w0, w1, mu0, mu1, between))
    return OtsuTable(levels, w0, w1, mu0, mu1, between, float(levels[best_index]))


def otsu_threshold(x, bins: int = 256):
    """Otsu's threshold and the mask ``x > threshold``.

    8-bit images use their 256 grey levels, as OpenCV (the threshold equals
    ``cv2.threshold(..., cv2.THRESH_OTSU)``'s); other images are binned into ``bins``
    levels between their minimum and maximum, and the threshold is the centre of the
    last bin of the dark class (as ``skimage.filters.threshold_otsu``).

    Args:
        x: image (see :mod:`ember.vision.layout`); each plane gets its own threshold.
        bins: histogram bins for images that are not 8-bit.

    Returns:
        ``(threshold, mask)``: a float for one plane (an array of shape (C,) or (B, C)
        for several, a Tensor for a tensor), and a boolean mask of the image's layout.

    >>> import numpy as np
    >>> x = np.array([[10, 12, 11, 200], [205, 198, 13, 201]], np.uint8)
    >>> t, mask = otsu_threshold(x)
    >>> t, mask.astype(int).tolist()
    (13.0, [[0, 0, 0, 1], [1, 1, 0, 1]])
    """
    planes = Planes(x, "otsu_threshold")
    thresholds = np.empty((planes.batch, planes.channels))
    for b, c in np.ndindex(planes.batch, planes.channels):
        plane = planes.array[b, c]
        if planes.dtype == np.uint8:
            table = otsu_table(count_levels(plane))
        else:
            counts = histogram(plane.astype(np.float64), bins)
            lo, hi = float(plane.min()), float(plane.max())
            width = (hi - lo) / bins if hi > lo else 1.0 / bins
            table = otsu_table(counts, lo + width * (np.arange(bins) + 0.5))
        thresholds[b, c] = table.threshold
    if planes.dtype == np.uint8 and planes.batch * planes.channels == 1:
        mask = planes.array > np.uint8(thresholds[0, 0])  # an 8-bit comparison: no casts
    else:
        mask = planes.array > thresholds[:, :, None, None]
    mask = planes.back(Tensor._wrap(mask))
    if planes.batch * planes.channels == 1:
        return float(thresholds[0, 0]), mask
    shape = thresholds.shape if planes.ndim == 4 else thresholds.shape[1:]
    values = thresholds.reshape(shape)
    return (Tensor._wrap(values) if planes.is_tensor else values), mask


def adaptive_threshold(x, maxval: float = 255, method: str = "mean", type: str = "binary",  # noqa: A002
                       block_size: int = 11, C: float = 2):
    """Thresholding against the local mean (``cv2.adaptiveThreshold``): a pixel is
    bright if it exceeds the mean of its ``block_size`` neighbourhood by more than -C.

    .. math:: y = \\text{maxval if } x > T(i, j) \\text{ else } 0, \\qquad
              T = \\text{mean}_{b \\times b}(x) - C

    ``method="gaussian"`` weights the neighbourhood with a Gaussian of that size. As in
    OpenCV the border is ``replicate``; for integer images the local mean is rounded to
    a grey level and C rounded up (``binary``) or down (``binary_inv``) to a whole number.
    The result equals ``cv2.adaptiveThreshold``'s (with the Gaussian, OpenCV rounds a
    float32 sum: about one pixel in 10^4 whose mean lies within 1e-5 of k + 1/2 may
    round the other way).

    >>> import numpy as np
    >>> x = np.tile(np.array([[200, 200, 50, 200, 200]], np.uint8), (5, 1))  # dark ink
    >>> adaptive_threshold(x, 255, "mean", "binary", 3, 2)[0]
    array([255, 255,   0, 255, 255], dtype=uint8)
    """
    planes = Planes(x, "adaptive_threshold")
    kind, how = str(type).lower(), str(method).lower()
    if kind not in ("binary", "binary_inv"):
        raise ValueError(f"adaptive_threshold: type must be 'binary' or 'binary_inv', got {type!r}")
    if how not in ("mean", "gaussian"):
        raise ValueError(f"adaptive_threshold: method must be 'mean' or 'gaussian', got "
                         f"{method!r}")
    if int(block_size) != block_size or block_size < 3 or block_size % 2 == 0:
        raise ValueError(f"adaptive_threshold: block_size must be odd and >= 3, got "
                         f"{block_size!r}")
    source = Tensor._wrap(planes.array)  # (B, C, H, W), no graph
    if how == "mean":
        mean = box_blur(source, int(block_size), border="replicate").numpy()
    else:  # OpenCV: a float Gaussian, rounded to a grey level for integer images
        mean = gaussian_blur2d(to_float(source), int(block_size), 0, border="replicate").numpy()
        if planes.dtype.kind in "iu":
            mean = np.rint(mean)
    top, offset = float(maxval), float(C)
    if planes.dtype.kind in "iu":
        info = np.iinfo(planes.dtype)
        top = float(np.clip(np.rint(top), info.min, info.max))
        offset = float(np.ceil(offset) if kind == "binary" else np.floor(offset))
    if planes.dtype.kind in "iu":  # whole numbers: compare exactly in integers
        wide = {1: np.int16, 2: np.int32}.get(planes.dtype.itemsize, np.int64)
        shift = int(np.clip(offset, -(1 << 14), 1 << 14))  # beyond the range: all or none
        bright = planes.array.astype(wide) > mean.astype(wide) - wide(shift)
    else:
        bright = planes.array > mean - offset
    if kind == "binary_inv":
        bright = ~bright
    out = bright.astype(planes.dtype) * planes.dtype.type(top)
    return planes.back(Tensor._wrap(out))
