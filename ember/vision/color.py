"""Colour to grey and back (ITU-R BT.601 luma, as OpenCV's ``cvtColor``).

.. math:: Y = 0.299\\,R + 0.587\\,G + 0.114\\,B

On 8-bit images OpenCV computes the weights in 15-bit fixed point,
``Y = (9798 R + 19235 G + 3735 B + 2^14) >> 15``, and so does :func:`rgb_to_grayscale`,
so the result equals ``cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)`` exactly. Float images use
the weights above and are differentiable.

Channel order: scikit-image, Pillow and PyTorch hold colour images as RGB; OpenCV reads
files as BGR (:func:`bgr_to_grayscale`).
"""

from __future__ import annotations

import numpy as np

from ember import functions as fn
from ember.tensor import Tensor
from ember.vision.layout import Planes

__all__ = ["rgb_to_grayscale", "bgr_to_grayscale", "grayscale_to_rgb"]

_WEIGHTS = (0.299, 0.587, 0.114)  # R, G, B
_FIXED = (9798, 19235, 3735)  # the same in 15-bit fixed point (they sum to 2^15)


def rgb_to_grayscale(x):
    """Grey levels of an RGB (or RGBA, alpha ignored) image: ``0.299 R + 0.587 G + 0.114 B``.

    Args:
        x: Tensor (3, H, W) or (B, 3, H, W), or an array (H, W, 3); 4 channels allowed.

    Returns:
        Tensor (1, H, W) / (B, 1, H, W), or an array (H, W), of the input's dtype.

    >>> import numpy as np
    >>> rgb_to_grayscale(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8))
    array([[ 76, 150,  29]], dtype=uint8)
    """
    return _to_gray(x, (0, 1, 2), "rgb_to_grayscale")


def bgr_to_grayscale(x):
    """Grey levels of a BGR image (OpenCV's channel order): ``0.114 B + 0.587 G + 0.299 R``.

    >>> import numpy as np
    >>> bgr_to_grayscale(np.array([[[255, 0, 0]]], np.uint8))
    array([[29]], dtype=uint8)
    """
    return _to_gray(x, (2, 1, 0), "bgr_to_grayscale")


def _to_gray(x, order, op):
    planes = Planes(x, op)
    if planes.channels not in (3, 4):
        raise ValueError(f"{op}: expected 3 (or 4) channels, got {planes.channels} in an "
                         f"image of shape {tuple(np.shape(x))}")
    if planes.dtype == np.uint8:
        a = planes.array.reshape(planes.batch, planes.channels, -1)  # (H, W) as one axis
        fixed = a[:, order[0]].astype(np.uint32) * np.uint32(_FIXED[0])
        for i, weight in zip(order[1:], _FIXED[1:], strict=True):
            fixed += a[:, i].astype(np.uint32) * np.uint32(weight)
        fixed += np.uint32(1 << 14)
        fixed >>= np.uint32(15)
        fixed = fixed.astype(np.uint8).reshape(planes.batch, 1, planes.height, planes.width)
        return planes.back(fixed, drop_channels=True)
    r, g, b = (planes.tensor[:, i:i + 1] for i in order)
    if planes.dtype.kind != "f":
        gray = np.rint(sum(w * c.numpy().astype(np.float64) for w, c in zip(_WEIGHTS, (r, g, b),
                                                                         strict=True)))
        info = np.iinfo(planes.dtype)
        return planes.back(np.clip(gray, info.min, info.max).astype(planes.dtype),
                           drop_channels=True)
    dtype = planes.dtype.type
    gray = r * dtype(_WEIGHTS[0]) + g * dtype(_WEIGHTS[1]) + b * dtype(_WEIGHTS[2])
    return planes.back(gray, drop_channels=True)


def grayscale_to_rgb(x):
    """Three equal channels from a grey image (``cv2.COLOR_GRAY2RGB``).

    Args:
        x: Tensor (1, H, W) / (B, 1, H, W) / (H, W), or an array (H, W).

    Returns:
        Tensor (3, H, W) / (B, 3, H, W), or an array (H, W, 3).

    >>> import numpy as np
    >>> grayscale_to_rgb(np.array([[7]], np.uint8)).tolist()
    [[[7, 7, 7]]]
    """
    planes = Planes(x, "grayscale_to_rgb")
    if planes.channels != 1:
        raise ValueError(f"grayscale_to_rgb: expected one channel, got {planes.channels}")
    if planes.is_tensor:
        return planes.back(fn.cat([planes.tensor] * 3, dim=1))
    return planes.back(Tensor._wrap(np.repeat(planes.array, 3, axis=1)))
