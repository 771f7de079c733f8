"""Affine augmentation (rotation, translation, scale, shear) and elastic deformation.

``RandomAffine`` follows torchvision: the output pixel at p reads the input at
``M^-1 (p - c - t) + c``, with c the centre, t the translation and M rotation (clockwise
by ``angle``), scale and shear. ``ElasticDeformation`` is Simard, Steinkraus & Platt's
(2003) augmentation for handwriting: every pixel is displaced by a random field smoothed
by a Gaussian, which bends strokes the way hands do.

>>> import ember as em
>>> from ember.data import transforms as T
>>> _ = em.manual_seed(0)
>>> T.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1))(em.zeros(1, 28, 28)).shape
(1, 28, 28)
>>> T.ElasticDeformation(alpha=34.0, sigma=4.0)(em.zeros(1, 28, 28)).shape
(1, 28, 28)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ember import random
from ember.data.transforms import functional as F
from ember.data.transforms.core import Transform

__all__ = ["affine", "inverse_affine_matrix", "RandomAffine", "elastic_displacement",
           "elastic_deform", "ElasticDeformation"]


def inverse_affine_matrix(center, angle: float, translate, scale: float, shear
                          ) -> np.ndarray:
    """The 2x3 matrix mapping output to input coordinates (torchvision's convention).

    With rotation r = angle and shears (s_x, s_y) in radians, the forward map is
    ``M = T C R S_h C^-1`` (translate, re-centre, rotate-scale-shear, centre) where

    .. math::
        RS_h = s \\begin{pmatrix}
        \\cos(r - s_y)/\\cos s_y & -\\cos(r - s_y)\\tan s_x/\\cos s_y - \\sin r \\\\
        \\sin(r - s_y)/\\cos s_y & -\\sin(r - s_y)\\tan s_x/\\cos s_y + \\cos r
        \\end{pmatrix}

    and this returns the inverse, which sampling needs.
    """
    rot = math.radians(angle)
    sx, sy = (math.radians(s) for s in shear)
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = np.array([[d, -b, 0.0], [-c, a, 0.0]]) / scale
    m[0, 2] = m[0, 0] * (-cx - tx) + m[0, 1] * (-cy - ty) + cx
    m[1, 2] = m[1, 0] * (-cx - tx) + m[1, 1] * (-cy - ty) + cy
    return m


def affine(image: np.ndarray, angle: float, translate=(0, 0), scale: float = 1.0,
           shear=(0.0, 0.0), interpolation: str = "nearest", fill=0, center=None
           ) -> np.ndarray:
    """The image under an affine map (torchvision's ``affine``: ``angle`` clockwise in
    degrees, ``translate`` (dx, dy) in pixels, ``scale``, ``shear`` (x, y) in degrees,
    about ``center`` (x, y) in pixels, default the image's centre)."""
    F.check_image(image, "affine")
    if interpolation not in F.INTERPOLATIONS:
        raise ValueError(f"affine: interpolation must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    if scale <= 0:
        raise ValueError(f"affine: scale must be positive, got {scale}")
    shear = (float(shear), 0.0) if isinstance(shear, (int, float)) else tuple(shear)
    h, w = image.shape[-2:]
    centre = (0.0, 0.0) if center is None else (center[0] - 0.5 * w, center[1] - 0.5 * h)
    m = inverse_affine_matrix(centre, angle, translate, scale, shear)
    xs = np.arange(w) - 0.5 * w + 0.5  # pixel centres, about the image centre
    ys = np.arange(h) - 0.5 * h + 0.5
    src_x = m[0, 0] * xs[None, :] + m[0, 1] * ys[:, None] + m[0, 2] + 0.5 * w - 0.5
    src_y = m[1, 0] * xs[None, :] + m[1, 1] * ys[:, None] + m[1, 2] + 0.5 * h - 0.5
    return F._sample(image, src_y, src_x, interpolation,
                     F.channel_fill(fill, image, "affine"))


def _range(value, name: str, owner: str, symmetric_about: float | None = 0.0):
    if value is None:
        return None
    if isinstance(value, (int, float, np.number)):
        if value < 0:
            raise ValueError(f"{owner}: if {name} is a single number, it must be "
                             f"non-negative, got {value}")
        return (symmetric_about - float(value), symmetric_about + float(value))
    if isinstance(value, Sequence) and len(value) in (2, 4):
        return tuple(float(v) for v in value)
    raise ValueError(f"{owner}: {name} must be a number or a sequence of 2 (or 4) numbers, "
                     f"got {value!r}")


class RandomAffine(Transform):
    """A random affine map, as ``torchvision.transforms.RandomAffine``.

    Args:
        degrees: rotation range: d for (-d, d), or (min, max); clockwise positive.
        translate: (a, b): horizontal shift drawn from (-a W, a W), vertical from
            (-b H, b H), rounded to whole pixels; None for none.
        scale: (min, max) scale factor; None for 1.
        shear: s for an x-shear in (-s, s); (min, max) for x; (xmin, xmax, ymin, ymax)
            for both; None for none (degrees).
        interpolation: ``"nearest"`` (default) or ``"bilinear"``.
        fill: value of pixels that come from outside the input.
        center: (x, y) in pixels; default the centre.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation: str = "nearest", fill=0, center=None) -> None:
        self.degrees = _range(degrees, "degrees", "RandomAffine")
        if len(self.degrees) != 2:
            raise ValueError("RandomAffine: degrees must be a number or (min, max)")
        if translate is not None and (len(translate) != 2 or not all(
                0.0 <= t <= 1.0 for t in translate)):
            raise ValueError(f"RandomAffine: translate must be two fractions in [0, 1], got "
                             f"{translate!r}")
        if scale is not None and (len(scale) != 2 or not 0 < scale[0] <= scale[1]):
            raise ValueError(f"RandomAffine: scale must be (min, max) with 0 < min <= max, "
                             f"got {scale!r}")
        if interpolation not in F.INTERPOLATIONS:
            raise ValueError(f"RandomAffine: interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}")
        self.translate, self.scale = translate, scale
        self.shear = _range(shear, "shear", "RandomAffine")
        self.interpolation, self.fill, self.center = interpolation, fill, center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, image_size):
        """``(angle, (tx, ty), scale, (shear_x, shear_y))`` drawn as torchvision draws them
        (``image_size`` is (width, height))."""
        generator = random.generator()
        angle = float(generator.uniform(degrees[0], degrees[1]))
        if translate is not None:
            max_dx, max_dy = translate[0] * image_size[0], translate[1] * image_size[1]
            tx = int(round(generator.uniform(-max_dx, max_dx)))
            ty = int(round(generator.uniform(-max_dy, max_dy)))
            translations = (tx, ty)
        else:
            translations = (0, 0)
        scale = 1.0 if scale_ranges is None else float(generator.uniform(*scale_ranges))
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(generator.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(generator.uniform(shears[2], shears[3]))
        return angle, translations, scale, (shear_x, shear_y)

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "RandomAffine")
        h, w = image.shape[-2:]
        angle, translations, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, (w, h))
        return affine(image, angle, translations, scale, shear, self.interpolation,
                      self.fill, self.center)


def _gaussian_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n): smoothing a length-n signal by a Gaussian of std ``sigma`` (kernel of
    ``2 ceil(3 sigma) + 1`` taps, borders reflected), as one matrix product."""
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    matrix = np.zeros((n, n))
    for i in range(n):
        for k, weight in zip(range(i - radius, i + radius + 1), taps, strict=True):
            j = k
            while j < 0 or j >= n:  # reflect (without repeating the edge), as scipy's
                j = -j - 1 if j < 0 else 2 * n - j - 1  # 'reflect' mode
            matrix[i, j] += weight
    return matrix


def elastic_displacement(size, alpha: float, sigma: float, generator=None):
    """Simard's displacement fields ``(dy, dx)``: uniform(-1, 1) at every pixel, smoothed
    by a Gaussian of std ``sigma``, times ``alpha`` (pixels)."""
    h, w = size
    generator = generator or random.generator()
    fields = generator.uniform(-1.0, 1.0, size=(2, h, w))
    rows, cols = _gaussian_matrix(h, sigma), _gaussian_matrix(w, sigma)
    return tuple(alpha * (rows @ field @ cols.T) for field in fields)


def elastic_deform(image: np.ndarray, dy: np.ndarray, dx: np.ndarray,
                   interpolation: str = "bilinear", fill=0) -> np.ndarray:
    """The image with each output pixel (i, j) read at (i + dy[i, j], j + dx[i, j])."""
    F.check_image(image, "elastic_deform")
    h, w = image.shape[-2:]
    if dy.shape != (h, w) or dx.shape != (h, w):
        raise ValueError(f"elastic_deform: displacements must be {h}x{w}, got {dy.shape} and "
                         f"{dx.shape}")
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                             indexing="ij")
    return F._sample(image, rows + dy, cols + dx, interpolation,
                     F.channel_fill(fill, image, "elastic_deform"))


class ElasticDeformation(Transform):
    """Elastic deformation (Simard, Steinkraus & Platt, 2003, "Best practices for
    convolutional neural networks applied to visual document analysis").

    .. math::
        \\Delta x, \\Delta y = \\alpha \\,(G_\\sigma * U(-1, 1)), \\qquad
        y(i, j) = x(i + \\Delta y_{ij}, j + \\Delta x_{ij})

    Small ``sigma`` gives random, jagged moves; large ``sigma`` nearly a translation;
    the paper's MNIST values are ``sigma = 4``, ``alpha = 34`` (pixels). (torchvision's
    ``ElasticTransform`` draws the same fields with ``alpha`` scaled by 1/2.)

    Args:
        alpha: the displacements' scale in pixels.
        sigma: the Gaussian's standard deviation in pixels.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill: value of pixels that come from outside the input.
    """

    def __init__(self, alpha: float = 34.0, sigma: float = 4.0,
                 interpolation: str = "bilinear", fill=0) -> None:
        if alpha < 0 or sigma <= 0:
            raise ValueError(f"ElasticDeformation: alpha must be >= 0 and sigma > 0, got "
                             f"alpha={alpha}, sigma={sigma}")
        if interpolation not in F.INTERPOLATIONS:
            raise ValueError(f"ElasticDeformation: interpolation must be 'nearest' or "
                             f"'bilinear', got {interpolation!r}")
        self.alpha, self.sigma = float(alpha), float(sigma)
        self.interpolation, self.fill = interpolation, fill

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "ElasticDeformation")
        dy, dx = elastic_displacement(image.shape[-2:], self.alpha, self.sigma)
        return elastic_deform(image, dy, dx, self.interpolation, self.fill)
