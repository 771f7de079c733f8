"""Geometric transforms: crops, flips, resizing and rotation (torchvision's).

Random ones draw their parameters from ember's global generator at each call, so
``em.manual_seed(n)`` repeats an augmentation exactly.

>>> import ember as em
>>> image = em.arange(16, dtype=em.float32).reshape(1, 4, 4)
>>> CenterCrop(2)(image)
tensor([[[ 5.,  6.],
         [ 9., 10.]]])
>>> RandomHorizontalFlip(p=1.0)(image)[0, 0]
tensor([3., 2., 1., 0.])
>>> RandomCrop(4, padding=2)(image).shape
(1, 4, 4)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ember import random
from ember.data.transforms import functional as F
from ember.data.transforms.core import Transform


class RandomCrop(Transform):
    """A window of ``size`` at a random position (after optional padding).

    Args:
        size: (height, width) of the crop, or an int for a square.
        padding: pad the borders first: an int, (left/right, top/bottom) or
            (left, top, right, bottom). ``RandomCrop(28, padding=4)`` shifts an MNIST
            digit by up to 4 pixels.
        pad_if_needed: pad an image smaller than ``size`` (by the shortfall, each side).
        fill: the value for ``constant`` padding (a number or one per channel).
        padding_mode: ``constant``, ``edge``, ``reflect`` or ``symmetric``.
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:
        self.size = F.pair(size, "RandomCrop: size")
        if padding is not None:
            F.padding_ltrb(padding)  # validate now
        if padding_mode not in F.PADDING_MODES:
            raise ValueError(f"RandomCrop: padding_mode should be 'constant', 'edge', "
                             f"'reflect' or 'symmetric', got {padding_mode!r}")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(image: np.ndarray, output_size) -> tuple[int, int, int, int]:
        """A random (top, left, height, width) window of ``output_size`` inside image."""
        h, w = image.shape[-2:]
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the "
                             f"input image size {(h, w)}")
        if (h, w) == (th, tw):
            return 0, 0, h, w
        rng = random.generator()
        top = int(rng.integers(0, h - th + 1))
        left = int(rng.integers(0, w - tw + 1))
        return top, left, th, tw

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "RandomCrop")
        if self.padding is not None:
            image = F.pad(image, self.padding, self.fill, self.padding_mode)
        h, w = image.shape[-2:]
        if self.pad_if_needed and w < self.size[1]:
            image = F.pad(image, [self.size[1] - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < self.size[0]:
            image = F.pad(image, [0, self.size[0] - h], self.fill, self.padding_mode)
        return F.crop(image, *self.get_params(image, self.size))


class CenterCrop(Transform):
    """The central window of ``size`` (zero-padded where the image is smaller)."""

    def __init__(self, size) -> None:
        self.size = F.pair(size, "CenterCrop: size")

    def apply(self, image: np.ndarray) -> np.ndarray:
        return F.center_crop(image, self.size)


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p`` (default 0.5)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = _probability(p, "RandomHorizontalFlip")

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "RandomHorizontalFlip")
        return F.hflip(image) if random.generator().random() < self.p else image


class RandomVerticalFlip(Transform):
    """Mirror top-bottom with probability ``p`` (default 0.5)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = _probability(p, "RandomVerticalFlip")

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "RandomVerticalFlip")
        return F.vflip(image) if random.generator().random() < self.p else image


class Resize(Transform):
    """Resample to ``size``: a pair (height, width), or an int that the shorter side
    becomes (keeping the aspect ratio). See :func:`functional.resize` for the formulas.

    Args:
        size: the output size.
        interpolation: ``"bilinear"`` (default, as torchvision) or ``"nearest"``.
    """

    def __init__(self, size, interpolation: str = "bilinear") -> None:
        if isinstance(size, Sequence) and len(size) == 1:
            size = size[0]
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            size = int(size)
        else:
            size = F.pair(size, "Resize: size")
        if interpolation not in F.INTERPOLATIONS:
            raise ValueError(f"Resize: interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}")
        self.size, self.interpolation = size, interpolation

    def apply(self, image: np.ndarray) -> np.ndarray:
        return F.resize(image, self.size, self.interpolation)


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (counter-clockwise positive).

    Vectorised inverse mapping (see :func:`functional.rotate`): every output pixel
    computes where it comes from in the input and reads it there.

    Args:
        degrees: a number d for the range (-d, d), or a (min, max) pair.
        interpolation: ``"nearest"`` (default) or ``"bilinear"``.
        expand: enlarge the output to hold the whole rotated image.
        center: (x, y) pixel coordinates of the centre of rotation; default the centre.
        fill: the value of pixels that come from outside the input.
    """

    def __init__(self, degrees, interpolation: str = "nearest", expand: bool = False,
                 center=None, fill=0) -> None:
        if isinstance(degrees, (int, float, np.number)):
            if degrees < 0:
                raise ValueError(f"RandomRotation: if degrees is a single number, it must be "
                                 f"non-negative, got {degrees}")
            degrees = (-float(degrees), float(degrees))
        elif isinstance(degrees, Sequence) and len(degrees) == 2:
            degrees = (float(degrees[0]), float(degrees[1]))
            if degrees[0] > degrees[1]:
                raise ValueError(f"RandomRotation: degrees {degrees} must be (min, max)")
        else:
            raise ValueError(f"RandomRotation: degrees must be a number or a sequence of "
                             f"2 numbers, got {degrees!r}")
        if interpolation not in F.INTERPOLATIONS:
            raise ValueError(f"RandomRotation: interpolation must be 'nearest' or "
                             f"'bilinear', got {interpolation!r}")
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError(f"RandomRotation: center must be a sequence (x, y), got "
                             f"{center!r}")
        self.degrees, self.interpolation = degrees, interpolation
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees) -> float:
        """An angle drawn uniformly from [degrees[0], degrees[1]]."""
        return float(random.generator().uniform(degrees[0], degrees[1]))

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "RandomRotation")
        angle = self.get_params(self.degrees)
        return F.rotate(image, angle, self.interpolation, self.expand, self.center, self.fill)


def _probability(p, owner: str) -> float:
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{owner}: p must be a probability in [0, 1], got {p}")
    return float(p)
