"""Template matching (``cv2.matchTemplate``): how well a small template T fits the image
I at every position (x, y) where it lies wholly inside.

With sums over the template's pixels (x', y'), and ``I_xy = I(x + x', y + y')``:

==================  ==============================================================
``method``          R(x, y)
==================  ==============================================================
``sqdiff``          sum (T - I_xy)^2                       (best match: minimum)
``sqdiff_normed``   sum (T - I_xy)^2 / sqrt(sum T^2 sum I_xy^2)
``ccorr``           sum T I_xy                             (best match: maximum)
``ccorr_normed``    sum T I_xy / sqrt(sum T^2 sum I_xy^2)
``ccoeff``          sum T' I'_xy, with T' = T - mean T, I' = I_xy - mean I_xy
``ccoeff_normed``   sum T' I'_xy / sqrt(sum T'^2 sum I'_xy^2)  (in [-1, 1])
==================  ==============================================================

How it runs: the cross-correlation ``sum T I_xy`` for all positions at once by the FFT
(``O(N log N)`` instead of ``O(N n)``), the window sums of I and I^2 from integral images
(cumulative sums), all in float64; the squared difference expands as
``sum T^2 - 2 sum T I + sum I^2``. A colour image sums over its channels. Where a
normalised score's denominator vanishes (a flat window) the score is 0 (1 for
``sqdiff_normed``), and a flat template scores 1 everywhere with ``ccoeff_normed``, as
OpenCV sets them.

Precision: the scores equal their float64 definitions to about 1e-9; they equal
``cv2.matchTemplate``'s to 1e-4 wherever OpenCV's own float32 sums are that accurate
(windows whose standard deviation is a few grey levels or more). On nearly flat windows
OpenCV's normalised scores cancel catastrophically and can be off by 1e-2.
"""

from __future__ import annotations

import numpy as np

from ember.tensor import Tensor
from ember.vision.layout import Planes

__all__ = ["match_template", "METHODS"]

METHODS = ("sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed")


def match_template(image, template, method: str = "ccoeff_normed"):
    """Score every placement of ``template`` in ``image`` (``cv2.matchTemplate``).

    Args:
        image: (H, W) or (H, W, C) array, or a (C, H, W) / (H, W) tensor.
        template: the same kind and channels, at most the image's size (h, w).
        method: one of :data:`METHODS` (default ``ccoeff_normed``).

    Returns:
        the scores, (H - h + 1, W - w + 1): float32 for 8-bit and float32 images (as
        OpenCV), float64 for float64 ones; a Tensor for tensors.

    >>> import numpy as np
    >>> image = np.array([[0, 0, 0, 0], [0, 9, 1, 0], [0, 1, 9, 0]], np.float64)
    >>> scores = match_template(image, np.array([[9, 1], [1, 9]], np.float64), "sqdiff")
    >>> scores.round(6)
    array([[ 83., 210., 163.],
           [210.,   0., 210.]])
    >>> np.unravel_index(scores.argmin(), scores.shape)     # row 1, column 1
    (np.int64(1), np.int64(1))
    """
    op = "match_template"
    kind = str(method).lower()
    if kind not in METHODS:
        raise ValueError(f"{op}: unknown method {method!r}; expected one of " + ", ".join(METHODS))
    planes, tpl = Planes(image, op), Planes(template, op)
    if planes.batch != 1 or tpl.batch != 1:
        raise ValueError(f"{op}: expects one image and one template, not batches")
    if tpl.channels != planes.channels:
        raise ValueError(f"{op}: the template has {tpl.channels} channels, the image "
                         f"{planes.channels}")
    h, w = tpl.height, tpl.width
    if h > planes.height or w > planes.width:
        raise ValueError(f"{op}: the template ({h}x{w}) is larger than the image "
                         f"({planes.height}x{planes.width})")
    I = planes.array[0].astype(np.float64)  # noqa: E741  (the textbook's names)
    T = tpl.array[0].astype(np.float64)
    out_h, out_w = planes.height - h + 1, planes.width - w + 1
    area = float(h * w)
    if kind.startswith("ccoeff"):
        T = T - T.mean(axis=(1, 2), keepdims=True)
        if kind == "ccoeff_normed" and float((T * T).sum()) / area < np.finfo(float).eps:
            # a flat template correlates equally with everything: OpenCV returns ones
            ones = np.ones((out_h, out_w), np.float64 if planes.dtype == np.float64 else np.float32)
            return Tensor._wrap(ones) if planes.is_tensor else ones
    cross = sum(_correlate(I[c], T[c], out_h, out_w) for c in range(planes.channels))
    window = [_window_sums(I[c], h, w) for c in range(planes.channels)]
    if kind.startswith("ccoeff"):  # sum T' I' = sum T' I (T' sums to 0)
        result = cross
        if kind == "ccoeff_normed":
            i_norm = sum(s2 - s * s / area for s, s2 in window)
            result = _normalise(cross, np.maximum(i_norm, 0.0) * float((T * T).sum()), kind)
    else:
        t2 = float((T * T).sum())
        i2 = sum(s2 for _, s2 in window)
        if kind == "ccorr":
            result = cross
        elif kind == "ccorr_normed":
            result = _normalise(cross, i2 * t2, kind)
        else:
            result = np.maximum(t2 - 2 * cross + i2, 0.0)
            if kind == "sqdiff_normed":
                result = _normalise(result, i2 * t2, kind)
    dtype = np.float64 if planes.dtype == np.float64 else np.float32
    result = result.astype(dtype)
    return Tensor._wrap(result) if planes.is_tensor else result


def _correlate(image: np.ndarray, template: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """sum_(x', y') T(x', y') I(x + x', y + y') for every valid (x, y), by the FFT."""
    shape = (image.shape[0] + template.shape[0] - 1, image.shape[1] + template.shape[1] - 1)
    shape = tuple(_fast_length(n) for n in shape)
    spectrum = np.fft.rfft2(image, shape) * np.fft.rfft2(template[::-1, ::-1], shape)
    full = np.fft.irfft2(spectrum, shape)
    h, w = template.shape
    return full[h - 1:h - 1 + out_h, w - 1:w - 1 + out_w]


def _fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n (lengths the FFT handles fastest)."""
    best = 1 << (n - 1).bit_length()
    fives = 1
    while fives < best:
        threes = fives
        while threes < best:
            length = threes
            while length < n:
                length *= 2
            best = min(best, length)
            threes *= 3
        fives *= 5
    return best


def _window_sums(image: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of I and I^2 over every h x w window, from integral images."""
    def sums(a):
        s = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
        s[1:, 1:] = a.cumsum(0).cumsum(1)
        return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]

    return sums(image), sums(image * image)


def _normalise(numerator: np.ndarray, squared_norms: np.ndarray, kind: str) -> np.ndarray:
    """numerator / sqrt(squared_norms), where the denominator is not (near) zero;
    OpenCV's rule elsewhere: |ratio| up to 1.125 is clipped to +-1, beyond it
    (a vanishing denominator) the score is 0 (1 for sqdiff_normed)."""
    norm = np.sqrt(squared_norms)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / norm
    inside = np.abs(numerator) < norm
    near = ~inside & (np.abs(numerator) < norm * 1.125)
    fallback = 1.0 if kind == "sqdiff_normed" else 0.0
    return np.where(inside, ratio, np.where(near, np.sign(numerator), fallback))
