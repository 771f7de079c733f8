"""Image layouts: what ``ember.vision`` accepts and how a result goes back the same way.

Every function of :mod:`ember.vision` takes

* an ember Tensor of shape (H, W), (C, H, W) or (B, C, H, W) (PyTorch's layout), or
* a NumPy array of shape (H, W) or (H, W, C) (OpenCV's and scikit-image's layout),

works on a (B, C, H, W) view of it (no copy), and returns the same kind in the same
layout: a tensor for a tensor (with its graph, where the op is differentiable), an array
for an array. :class:`Planes` does the two conversions.

>>> import numpy as np
>>> planes = Planes(np.zeros((4, 5, 3), np.uint8), "demo")
>>> planes.array.shape, planes.batch, planes.channels
((1, 3, 4, 5), 1, 3)
>>> planes.back(planes.array).shape
(4, 5, 3)
"""

from __future__ import annotations

import numpy as np

from ember.autograd import is_grad_enabled
from ember.tensor import Tensor

__all__ = ["Planes", "needs_grad", "to_float", "from_float"]


class Planes:
    """An image as (B, C, H, W) planes, remembering how it came in.

    Args:
        x: a Tensor (H, W), (C, H, W), (B, C, H, W) or an array (H, W), (H, W, C).
        op: the calling function's name, for error messages.

    Attributes:
        tensor: the planes as a Tensor (shares memory with ``x``; keeps its graph).
        array: the planes as a NumPy array (a view; no graph).
        is_tensor: whether ``x`` was a Tensor.
    """

    def __init__(self, x, op: str) -> None:
        self.op = op
        if isinstance(x, Tensor):
            if x.ndim not in (2, 3, 4):
                raise ValueError(f"{op}: expected a tensor of shape (H, W), (C, H, W) or "
                                 f"(B, C, H, W), got shape {tuple(x.shape)}")
            self.is_tensor, self.ndim = True, x.ndim
            self.tensor = x.reshape((1,) * (4 - x.ndim) + tuple(x.shape))
            self.array = self.tensor.detach().numpy()
        else:
            array = np.asarray(x)
            if array.ndim not in (2, 3) or array.dtype.kind not in "biuf":
                raise ValueError(f"{op}: expected an array of numbers of shape (H, W) or "
                                 f"(H, W, C), got shape {array.shape} and dtype {array.dtype}")
            self.is_tensor, self.ndim = False, array.ndim
            self.array = (array[None, None] if array.ndim == 2
                          else array.transpose(2, 0, 1)[None])
            self.tensor = Tensor._wrap(self.array)
        if 0 in self.array.shape:
            raise ValueError(f"{op}: the image is empty (shape {self.array.shape[2:]})")
        self.batch, self.channels, self.height, self.width = self.array.shape
        self.dtype = self.array.dtype

    def back(self, y, drop_channels: bool = False):
        """``y`` (B, C', H', W'), a Tensor or an array, in the layout the input came in.

        ``drop_channels`` (for ops that make one channel of several, such as grey
        conversion): an (H, W, C) array comes back as (H, W).
        """
        if self.is_tensor:
            y = y if isinstance(y, Tensor) else Tensor._wrap(np.asarray(y))
            if self.ndim == 4:
                return y
            if self.ndim == 3:
                return y.reshape(tuple(y.shape[1:]))
            if y.shape[1] != 1:
                return y.reshape(tuple(y.shape[1:]))  # (H, W) made several channels
            return y.reshape(tuple(y.shape[2:]))
        array = y.detach().numpy() if isinstance(y, Tensor) else np.asarray(y)
        array = array[0]
        if self.ndim == 2 or (drop_channels and array.shape[0] == 1):
            if array.shape[0] == 1:
                return np.ascontiguousarray(array[0])
        return np.ascontiguousarray(array.transpose(1, 2, 0))

    def stack(self, y):
        """``y`` (B*C, 1, H', W') regrouped as (B, C, H', W')."""
        return y.reshape((self.batch, self.channels) + tuple(y.shape[2:]))

    def flat(self) -> Tensor:
        """The planes as a (B*C, 1, H, W) tensor: one image per channel, for convolution."""
        return self.tensor.reshape((self.batch * self.channels, 1, self.height, self.width))


def needs_grad(*values) -> bool:
    """Whether any of ``values`` is a Tensor that records a graph (so the differentiable
    path must be taken)."""
    return is_grad_enabled() and any(
        isinstance(v, Tensor) and v.requires_grad for v in values)


def to_float(x: Tensor) -> Tensor:
    """A floating tensor: floats as they are, integers and booleans as float32."""
    return x if x.dtype.kind == "f" else x.to(np.float32)


def from_float(y: Tensor, dtype, half_up: bool = False) -> Tensor:
    """``y`` back in an integer ``dtype`` as OpenCV stores results: rounded to the nearest
    and saturated to the type's range; floats are returned as they are. A tie rounds to
    even (``cvRound``), or up with ``half_up`` (OpenCV's fixed-point filters)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return y
    array = y.detach().numpy()
    if dtype.kind == "b":
        return Tensor._wrap(array != 0)
    info = np.iinfo(dtype)
    rounded = np.floor(array + 0.5) if half_up else np.rint(array)
    return Tensor._wrap(np.clip(rounded, info.min, info.max).astype(dtype))
