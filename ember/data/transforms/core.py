"""Transform basics: the Transform base, Compose, Lambda, ToTensor and Normalize.

A transform is a callable on one image, torchvision-style: an ember Tensor of shape
(C, H, W) gives a Tensor, a NumPy array gives an array (leading dimensions beyond
(C, H, W), such as a batch, get the same operation). The work is done in NumPy; a
transform's output is a new tensor outside the autograd graph.

>>> import ember as em
>>> to_tensor = ToTensor()
>>> image = to_tensor(np.array([[0, 255], [51, 102]], dtype=np.uint8))
>>> image.shape, image.dtype
((1, 2, 2), dtype('float32'))
>>> Normalize(mean=[0.5], std=[0.5])(image)
tensor([[[-1.0000,  1.0000],
         [-0.6000, -0.2000]]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ember.tensor import Tensor


class Transform:
    """Base class of image transforms: subclasses define ``apply(array) -> array``.

    ``__call__`` unwraps a Tensor to its array, applies, and wraps the result back, so
    the same transform serves tensors and NumPy arrays.
    """

    def apply(self, image: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define apply(image)")

    def __call__(self, image):
        if isinstance(image, Tensor):
            return Tensor._wrap(self.apply(image._data))
        if isinstance(image, np.ndarray):
            return self.apply(image)
        raise TypeError(f"{type(self).__name__}: expects an ember Tensor or a NumPy array "
                        f"(C, H, W), got {type(image).__name__}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose:
    """Apply transforms one after another: ``Compose([t1, t2])(x) = t2(t1(x))``.

    >>> Compose([Lambda(lambda x: x + 1), Lambda(lambda x: x * 10)])(1)
    20
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {i} is not callable "
                                f"({type(t).__name__})")
        self.transforms = transforms

    def __call__(self, image):
        for t in self.transforms:
            image = t(image)
        return image

    def __repr__(self) -> str:
        body = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """A user function as a transform: ``Lambda(f)(x) = f(x)``."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument lambd should be callable, got "
                            f"{type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToTensor:
    """A NumPy image (H, W) or (H, W, C) to a Tensor (C, H, W), as torchvision's ToTensor.

    uint8 images are scaled to float32 in [0, 1] (x / 255); other dtypes keep their
    values and dtype. Anything exposing ``__array_interface__`` (a PIL image) is read as
    an array first. A float Tensor is returned unchanged (ember's datasets already give
    (C, H, W) float tensors, so a pipeline starting with ToTensor still works); a uint8
    Tensor is taken as (C, H, W) and scaled to float32.
    """

    def __call__(self, pic) -> Tensor:
        if isinstance(pic, Tensor):
            if pic.dtype.kind == "f":
                return pic
            if pic.dtype == np.uint8:
                return Tensor._wrap(pic._data.astype(np.float32) / np.float32(255))
            raise TypeError(f"ToTensor: expects a float or uint8 Tensor, got {pic.dtype}")
        if not isinstance(pic, np.ndarray) and hasattr(pic, "__array_interface__"):
            pic = np.asarray(pic)
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"ToTensor: pic should be a NumPy array (H, W) or (H, W, C), got "
                            f"{type(pic).__name__}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, (H, W) or "
                             f"(H, W, C); got shape {pic.shape}")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        image = np.ascontiguousarray(pic.transpose(2, 0, 1))
        if image.dtype == np.uint8:
            image = image.astype(np.float32) / np.float32(255)
        return Tensor._wrap(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize(Transform):
    """Standardise each channel: ``output[c] = (input[c] - mean[c]) / std[c]``.

    Args:
        mean: the channels' means (a sequence of C values, or one value for all).
        std: the channels' standard deviations (non-zero).
        inplace: write into the input's array instead of a new one.

    MNIST's usual values are ``mean=(0.1307,), std=(0.3081,)``.
    """

    def __init__(self, mean, std, inplace: bool = False) -> None:
        self.mean = tuple(float(m) for m in np.atleast_1d(np.asarray(mean, dtype=float)))
        self.std = tuple(float(s) for s in np.atleast_1d(np.asarray(std, dtype=float)))
        if 0.0 in self.std:
            raise ValueError(f"Normalize: std {self.std} contains a zero, leading to division "
                             "by zero")
        self.inplace = inplace

    def apply(self, image: np.ndarray) -> np.ndarray:
        if image.dtype.kind != "f":
            raise TypeError(f"Normalize: input should be a float image, got {image.dtype}; "
                            "convert it with ToTensor() first")
        if image.ndim < 3:
            raise ValueError(f"Normalize: expects an image of shape (..., C, H, W), got shape "
                             f"{image.shape}")
        channels = image.shape[-3]
        mean = np.asarray(self.mean, dtype=image.dtype)
        std = np.asarray(self.std, dtype=image.dtype)
        for name, values in (("mean", mean), ("std", std)):
            if values.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {values.size} values but the image "
                                 f"has {channels} channels")
        if (std == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero after conversion to "
                             f"{image.dtype}, leading to division by zero")
        mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if self.inplace:
            image -= mean
            image /= std
            return image
        return (image - mean) / std
