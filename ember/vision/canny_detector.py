"""The Canny edge detector [Canny 1986], in its five steps, each a public function.

1. **Smoothing**: a Gaussian blur (:func:`~ember.vision.gaussian_blur2d`) suppresses
   noise. ``cv2.Canny`` does not smooth (its callers blur first), so :func:`canny`
   smooths only when given ``sigma`` or ``kernel_size``.
2. **Gradient**: Sobel derivatives gx, gy (:func:`~ember.vision.sobel`, ``replicate``
   border as in OpenCV) and the magnitude ``|gx| + |gy|`` (``l2gradient=False``,
   OpenCV's default) or ``sqrt(gx^2 + gy^2)``.
3. **Non-maximum suppression** (:func:`non_maximum_suppression`): a pixel stays only if
   its magnitude is a maximum along the gradient direction, rounded to one of four
   (horizontal, vertical, two diagonals): edges become one pixel thin.
4. **Double threshold** (:func:`double_threshold`): ``> high`` is a strong edge,
   ``low < m <= high`` a weak one, the rest is dropped.
5. **Hysteresis** (:func:`hysteresis_threshold`): weak pixels are kept only where they
   connect (8-connectivity) to a strong one.

On 8-bit images every step is done in integers with OpenCV's own rules (the direction
test ``|gy| 2^15 < 13573 |gx|`` for 22.5 degrees;
``>`` against one neighbour and ``>=`` against the other; thresholds floored, squared for
L2), so the edges equal ``cv2.Canny``'s.

Reference: J. Canny, "A Computational Approach to Edge Detection", IEEE PAMI 8(6), 1986.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ember.tensor import Tensor
from ember.vision.components import label_runs
from ember.vision.edges import sobel
from ember.vision.filters import gaussian_blur2d
from ember.vision.layout import Planes

__all__ = ["canny", "canny_steps", "CannySteps", "non_maximum_suppression",
           "double_threshold", "hysteresis_threshold", "gradient_sectors"]

_TG22 = 13573  # tan(22.5 degrees) in 15-bit fixed point, as OpenCV
_TAN22 = float(np.tan(np.pi / 8))


@dataclass
class CannySteps:
    """Every intermediate image of :func:`canny` (one plane each, (H, W) arrays).

    Attributes:
        smoothed: the image after step 1 (the input if not smoothed).
        gx, gy: the Sobel derivatives (step 2).
        magnitude: ``|gx| + |gy|`` or ``sqrt(gx^2 + gy^2)`` (step 2).
        sector: the gradient direction rounded: 0 horizontal, 1 vertical, 2 the
            diagonal \\\\ (gx, gy same sign), 3 the diagonal / (step 3).
        suppressed: the magnitude where it is a local maximum along the gradient, else 0
            (step 3).
        strong, weak: the double threshold (step 4).
        edges: the result, uint8 0/255 (step 5).
        low, high: the thresholds used (low <= high).
    """

    smoothed: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    magnitude: np.ndarray
    sector: np.ndarray
    suppressed: np.ndarray
    strong: np.ndarray
    weak: np.ndarray
    edges: np.ndarray
    low: float
    high: float


def canny(x, low: float, high: float, l2gradient: bool = False, aperture_size: int = 3,
          sigma: float = 0.0, kernel_size: int = 0):
    """Canny edges (``cv2.Canny(x, low, high, apertureSize=aperture_size,
    L2gradient=l2gradient)``), as uint8 0/255 in the image's layout.

    Args:
        x: image (see :mod:`ember.vision.layout`); with several channels each pixel takes
            the gradient of its strongest channel, as OpenCV.
        low, high: the hysteresis thresholds on the gradient magnitude (swapped if
            low > high).
        l2gradient: use ``sqrt(gx^2 + gy^2)`` instead of ``|gx| + |gy|``.
        aperture_size: the Sobel kernel size (3, 5 or 7).
        sigma, kernel_size: smooth with a Gaussian first (step 1); both 0 (default)
            smooth nothing, as ``cv2.Canny``.

    >>> import numpy as np
    >>> x = np.zeros((6, 8), np.uint8); x[:, 4:] = 200        # a vertical step
    >>> canny(x, 50, 100)[0]
    array([  0,   0,   0, 255,   0,   0,   0,   0], dtype=uint8)
    """
    planes = Planes(x, "canny")
    edges = np.empty((planes.batch, 1, planes.height, planes.width), np.uint8)
    for b in range(planes.batch):
        edges[b, 0] = _steps(planes.array[b], low, high, l2gradient, aperture_size, sigma,
                             kernel_size, keep=False)
    return planes.back(Tensor._wrap(edges), drop_channels=True)


def canny_steps(x, low: float, high: float, l2gradient: bool = False, aperture_size: int = 3,
                sigma: float = 0.0, kernel_size: int = 0) -> CannySteps:
    """Canny's five steps on one image, every intermediate image kept (a
    :class:`CannySteps`); arguments as :func:`canny`.

    >>> import numpy as np
    >>> x = np.zeros((6, 8), np.uint8); x[:, 4:] = 200
    >>> steps = canny_steps(x, 50, 100)
    >>> steps.magnitude[2].tolist()
    [0.0, 0.0, 0.0, 800.0, 800.0, 0.0, 0.0, 0.0]
    >>> steps.suppressed[2].tolist()                  # the first of two equal maxima
    [0.0, 0.0, 0.0, 800.0, 0.0, 0.0, 0.0, 0.0]
    """
    planes = Planes(x, "canny_steps")
    if planes.batch != 1:
        raise ValueError(f"canny_steps: expects one image, got a batch of {planes.batch}")
    return _steps(planes.array[0], low, high, l2gradient, aperture_size, sigma, kernel_size)


def _steps(image: np.ndarray, low, high, l2gradient, aperture_size, sigma, kernel_size,
           keep: bool = True):
    """The five steps on one (C, H, W) image (``keep=False``: only the edges)."""
    if aperture_size not in (3, 5, 7):
        raise ValueError(f"canny: aperture_size must be 3, 5 or 7, got {aperture_size!r}")
    low, high = sorted((float(low), float(high)))
    smoothed = image
    if sigma > 0 or kernel_size > 0:
        smoothed = gaussian_blur2d(Tensor._wrap(image), kernel_size, sigma).numpy()
    exact = smoothed.dtype == np.uint8  # OpenCV's integer arithmetic
    source = Tensor._wrap(smoothed[None])
    gx = sobel(source, 1, 0, aperture_size, border="replicate").numpy()[0]
    gy = sobel(source, 0, 1, aperture_size, border="replicate").numpy()[0]
    if exact:  # whole numbers; int32 holds every product below (int64 for 7x7 Sobel)
        wide = np.int32 if aperture_size < 7 else np.int64
        gx, gy = gx.astype(wide), gy.astype(wide)
    strength = gx * gx + gy * gy if l2gradient else np.abs(gx) + np.abs(gy)
    if strength.shape[0] > 1:  # several channels: each pixel keeps its strongest one
        pick = np.argmax(strength, axis=0)[None]
        gx, gy, strength = (np.take_along_axis(a, pick, 0) for a in (gx, gy, strength))
    gx, gy, strength = gx[0], gy[0], strength[0]
    if l2gradient:  # compare squares: OpenCV squares the thresholds (capped at 32767)
        low_cut, high_cut = (min(t, 32767.0) ** 2 if t > 0 else t for t in (low, high))
    else:
        low_cut, high_cut = low, high
    if exact:
        low_cut, high_cut = float(np.floor(low_cut)), float(np.floor(high_cut))
    thin = _suppress(strength, gx, gy, low_cut)  # only pixels above low can be edges
    strong = thin & (strength > high_cut)
    edges = _grow(strong, thin).astype(np.uint8) * 255
    if not keep:
        return edges
    magnitude = np.sqrt(strength.astype(np.float64)) if l2gradient else strength.astype(
        np.float64)
    suppressed = np.where(_suppress(strength, gx, gy, 0), magnitude, 0.0)
    strong, weak = double_threshold(np.where(thin, strength, 0), low_cut, high_cut)
    return CannySteps(smoothed, gx.astype(np.float64), gy.astype(np.float64), magnitude,
                      gradient_sectors(gx, gy), suppressed, strong, weak, edges, low, high)


def gradient_sectors(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """The gradient direction rounded to four sectors: 0 horizontal (|angle| < 22.5
    degrees), 1 vertical (67.5 to 112.5), 2 the diagonal along which gx and gy have the
    same sign, 3 the other diagonal. Integer gradients use OpenCV's fixed-point test.

    >>> gradient_sectors(np.array([5, 0, 3, 3]), np.array([1, 5, 3, -3])).tolist()
    [0, 1, 2, 3]
    """
    gx, gy = np.asarray(gx), np.asarray(gy)
    ax, ay = np.abs(gx), np.abs(gy)
    if gx.dtype.kind in "iu" and gy.dtype.kind in "iu":  # OpenCV's fixed point
        ax, ay = ax.astype(np.int64), ay.astype(np.int64) << 15
        tan22 = ax * _TG22
        tan67 = tan22 + (ax << 16)
    else:
        tan22 = ax * _TAN22
        tan67 = ax * (_TAN22 + 2.0)  # tan 67.5 = tan 22.5 + 2
    opposite = (gx < 0) != (gy < 0)
    diagonal = np.where(opposite, 3, 2)
    return np.where(ay < tan22, 0, np.where(ay > tan67, 1, diagonal)).astype(np.int8)


def non_maximum_suppression(magnitude, gx, gy):
    """Keep the magnitude only where it is a maximum along the gradient direction.

    Each pixel is compared with its two neighbours across the edge (along the gradient,
    rounded to 0, 45, 90 or 135 degrees; outside the image counts as 0): it must be
    ``>`` the left/upper one and ``>=`` the right/lower one (``>`` both on diagonals),
    so of two equal neighbours exactly one survives, as in OpenCV.

    Args:
        magnitude, gx, gy: (H, W) arrays (or one-plane images) of the same shape.

    Returns:
        the magnitude where it is a local maximum, 0 elsewhere (an array).

    >>> m = np.array([[1.0, 3.0, 2.0]]); gx = np.ones((1, 3)); gy = np.zeros((1, 3))
    >>> non_maximum_suppression(m, gx, gy)
    array([[0., 3., 0.]])
    """
    m, gx, gy = (np.asarray(a) for a in (magnitude, gx, gy))
    m, gx, gy = (a.reshape(a.shape[-2:]) for a in (m, gx, gy))
    if not m.shape == gx.shape == gy.shape:
        raise ValueError(f"non_maximum_suppression: shapes differ: magnitude {m.shape}, "
                         f"gx {gx.shape}, gy {gy.shape}")
    return np.where(_suppress(m, gx, gy, 0), m, 0)


def _suppress(m: np.ndarray, gx: np.ndarray, gy: np.ndarray, low: float = 0) -> np.ndarray:
    """Where m > low is a local maximum across its gradient sector (OpenCV's > / >=
    rules), looking only at the pixels above ``low``."""
    height, width = m.shape
    stride = width + 2
    padded = np.zeros((height + 2, stride), m.dtype)
    padded[1:-1, 1:-1] = m
    flat = padded.ravel()
    candidates = np.flatnonzero(m > low)
    rows, cols = np.divmod(candidates, width)
    at = (rows + 1) * stride + cols + 1
    sector = gradient_sectors(gx.ravel()[candidates], gy.ravel()[candidates])
    before = np.array([-1, -stride, -stride - 1, -stride + 1])[sector]  # per sector: the
    value = flat[at]                                                     # neighbour before
    keep = (value > flat[at + before]) & np.where(sector < 2, value >= flat[at - before],
                                                  value > flat[at - before])
    thin = np.zeros(height * width, bool)
    thin[candidates[keep]] = True
    return thin.reshape(height, width)


def double_threshold(x, low: float, high: float):
    """Step 4: (strong, weak) masks, ``x > high`` and ``low < x <= high``.

    >>> double_threshold(np.array([1, 5, 9]), 2, 6)
    (array([False, False,  True]), array([False,  True, False]))
    """
    x = np.asarray(x)
    strong = x > high
    return strong, (x > low) & ~strong


def hysteresis_threshold(x, low: float, high: float, connectivity: int = 8):
    """Step 5: the pixels ``> low`` that are connected, through pixels ``> low``, to a
    pixel ``> high``, as a boolean mask of the image's layout. Canny (and OpenCV) joins
    the 8 neighbours; ``connectivity=4`` gives
    ``skimage.filters.apply_hysteresis_threshold``.

    >>> x = np.array([[9, 4, 0, 4],
    ...               [0, 4, 0, 0]])
    >>> hysteresis_threshold(x, 3, 8).astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 0, 0]])
    """
    if connectivity not in (4, 8):
        raise ValueError(f"hysteresis_threshold: connectivity must be 4 or 8, got "
                         f"{connectivity!r}")
    planes = Planes(x, "hysteresis_threshold")
    out = np.empty(planes.array.shape, bool)
    for index in np.ndindex(planes.batch, planes.channels):
        plane = planes.array[index]
        out[index] = _grow(plane > high, plane > low, connectivity)
    return planes.back(Tensor._wrap(out))


def _grow(seeds: np.ndarray, allowed: np.ndarray, connectivity: int = 8) -> np.ndarray:
    """The connected components of ``allowed`` that contain a seed."""
    _, labels = label_runs(allowed, connectivity)
    keep = np.zeros(labels.max() + 1, bool)
    keep[labels[seeds & allowed]] = True
    keep[0] = False
    return keep[labels]
