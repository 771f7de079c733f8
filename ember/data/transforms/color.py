"""Colour transforms: random brightness and contrast, as Keras' RandomBrightness and
RandomContrast, on (..., C, H, W) images whose values lie in ``value_range``.

One random factor is drawn per call (from ember's global generator), so a batch passed
as one array shares it; in a dataset's ``transform`` each sample gets its own.

>>> import ember as em
>>> image = em.tensor([[[0.2, 0.4], [0.6, 0.8]]])
>>> RandomBrightness((0.5, 0.5))(image)         # delta = 0.5 * (1 - 0), then clipped
tensor([[[0.7000, 0.9000],
         [1.0000, 1.0000]]])
>>> RandomContrast((1.0, -1.0))(image)           # factor 1 - 1 = 0: every pixel -> mean
tensor([[[0.5000, 0.5000],
         [0.5000, 0.5000]]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ember import random
from ember.data.transforms import functional as F
from ember.data.transforms.core import Transform


class RandomBrightness(Transform):
    """Shift all pixels by a random amount: ``x' = clip(x + f * (high - low), low, high)``
    with f drawn uniformly from the factor range and (low, high) = ``value_range``.

    Args:
        factor: a number a in [0, 1] for the range [-a, a], or a (lower, upper) pair in
            [-1, 1]. f = -1 makes the image black (all ``low``), f = 1 white.
        value_range: the valid pixel range (default (0, 1), ember's image range; Keras
            defaults to (0, 255)).
    """

    def __init__(self, factor, value_range=(0.0, 1.0)) -> None:
        if isinstance(factor, Sequence):
            if len(factor) != 2:
                raise ValueError(f"RandomBrightness: factor must be a number or a pair "
                                 f"(lower, upper), got {factor!r}")
            lower, upper = float(factor[0]), float(factor[1])
        else:
            lower, upper = -abs(float(factor)), abs(float(factor))
        if not -1.0 <= lower <= upper <= 1.0:
            raise ValueError(f"RandomBrightness: factor must lie in [-1, 1] with lower <= "
                             f"upper, got {factor!r}")
        self.factor = (lower, upper)
        self.value_range = _value_range(value_range, "RandomBrightness")

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "RandomBrightness")
        low, high = self.value_range
        f = random.generator().uniform(*self.factor)
        out = np.clip(image.astype(np.float64) + f * (high - low), low, high)
        return F.to_dtype(out, image.dtype)


class RandomContrast(Transform):
    """Scale each channel's deviations from its mean by a random factor:
    ``x' = clip((x - mean) * f + mean, low, high)``, the mean taken over each channel's
    H x W pixels, f drawn uniformly from [1 - lower, 1 + upper].

    Args:
        factor: a number a in [0, 1] (lower = upper = a) or a pair (lower, upper); f = 0
            flattens a channel to its mean, f = 2 doubles its contrast.
        value_range: the valid pixel range, used for clipping (default (0, 1)).
    """

    def __init__(self, factor, value_range=(0.0, 1.0)) -> None:
        if isinstance(factor, Sequence):
            if len(factor) != 2:
                raise ValueError(f"RandomContrast: factor must be a number or a pair "
                                 f"(lower, upper), got {factor!r}")
            lower, upper = float(factor[0]), float(factor[1])
        else:
            lower = upper = float(factor)
        if not (-1.0 <= lower <= 1.0 and -1.0 <= upper <= 1.0) or 1 - lower > 1 + upper:
            raise ValueError(f"RandomContrast: factor must give a range [1 - lower, 1 + upper] "
                             f"with lower, upper in [-1, 1]; got {factor!r}")
        self.factor = (lower, upper)
        self.value_range = _value_range(value_range, "RandomContrast")

    def apply(self, image: np.ndarray) -> np.ndarray:
        F.check_image(image, "RandomContrast")
        low, high = self.value_range
        f = random.generator().uniform(1.0 - self.factor[0], 1.0 + self.factor[1])
        x = image.astype(np.float64)
        mean = x.mean(axis=(-2, -1), keepdims=True)
        out = np.clip((x - mean) * f + mean, low, high)
        return F.to_dtype(out, image.dtype)


def _value_range(value_range, owner: str) -> tuple[float, float]:
    if not isinstance(value_range, Sequence) or len(value_range) != 2 \
            or not float(value_range[0]) < float(value_range[1]):
        raise ValueError(f"{owner}: value_range must be (low, high) with low < high, got "
                         f"{value_range!r}")
    return float(value_range[0]), float(value_range[1])
