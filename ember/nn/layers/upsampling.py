"""Resizing layers: Upsample (and its nearest/bilinear shorthands) and the padding layers
(ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad), which change the
spatial size without learning anything."""

from __future__ import annotations

from ember import functions
from ember.nn import functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
           "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
           "CircularPad2d"]


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) by ``scale_factor`` or to ``size``
    (:func:`ember.nn.functional.interpolate`).

    Args:
        size: output spatial size (int or tuple).
        scale_factor: multiplier of the spatial size.
        mode: ``nearest``, ``nearest-exact``, ``linear``, ``bilinear``, ``bicubic``, ``area``.
        align_corners: for the interpolating modes: line up corner pixels (default False).
        recompute_scale_factor: use In/Out from the computed size in the index rule.

    Shape:
        (N, C, H, W) -> (N, C, floor(H * scale_factor), floor(W * scale_factor)) or size.

    >>> import ember as em
    >>> up = em.nn.Upsample(scale_factor=2, mode="nearest")
    >>> up
    Upsample(scale_factor=2.0, mode='nearest')
    >>> up(em.tensor([[[[1.0, 2.0]]]]))
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.]]]])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode,
                             self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W): ``Upsample(mode="nearest")``.

    >>> import ember as em
    >>> em.nn.UpsamplingNearest2d(scale_factor=3)(em.zeros(1, 2, 4, 5)).shape
    (1, 2, 12, 15)
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with ``align_corners=True`` (as PyTorch's
    UpsamplingBilinear2d): the corner pixels of input and output coincide.

    >>> import ember as em
    >>> em.nn.UpsamplingBilinear2d(scale_factor=2)(em.tensor([[[[0.0, 3.0]]]]))
    tensor([[[[0., 1., 2., 3.],
              [0., 1., 2., 3.]]]])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# ----------------------------------------------------------------------------- padding


class _PadNd(Module):
    """Pad the last ``_dims`` dimensions by ``padding``: an int (all sides) or
    (left, right[, top, bottom]) as :func:`ember.pad`."""

    _dims = 2
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        n = 2 * self._dims
        padding = (padding,) * n if isinstance(padding, int) else tuple(padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"{n} ints, got {padding}")
        self.padding = padding

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__}: expected a {self._dims + 1}-d or "
                             f"{self._dims + 2}-d input, got shape {tuple(input.shape)}")
        return functions.pad(input, self.padding, mode=self._mode,
                             value=getattr(self, "value", None))

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``: padding = int or (left, right).

    >>> import ember as em
    >>> em.nn.ConstantPad1d((1, 2), 9.0)(em.tensor([[1.0, 2.0]]))
    tensor([[9., 1., 2., 9., 9.]])
    """

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``: padding = int or
    (left, right, top, bottom).

    Shape:
        (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    >>> import ember as em
    >>> em.nn.ConstantPad2d((1, 1, 0, 2), 0.5)(em.zeros(1, 3, 4, 4)).shape
    (1, 3, 6, 6)
    """


class ZeroPad1d(ConstantPad1d):
    """Pad the last dimension with zeros: padding = int or (left, right).

    >>> import ember as em
    >>> em.nn.ZeroPad1d(1)(em.tensor([[1.0]]))
    tensor([[0., 1., 0.]])
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dimensions with zeros: padding = int or (left, right, top, bottom).

    >>> import ember as em
    >>> em.nn.ZeroPad2d((1, 0, 0, 1))(em.ones(1, 1, 1, 1))
    tensor([[[[0., 1.],
              [0., 0.]]]])
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dimension with its mirror image (the edge not repeated).

    >>> import ember as em
    >>> em.nn.ReflectionPad1d(2)(em.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 2., 1., 2., 3., 2., 1.]])
    """

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last two dimensions with their mirror image (the edge not repeated);
    each padding must be smaller than that dimension.

    >>> import ember as em
    >>> em.nn.ReflectionPad2d(1)(em.zeros(1, 3, 4, 4)).shape
    (1, 3, 6, 6)
    """

    _mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dimension by repeating its edge values.

    >>> import ember as em
    >>> em.nn.ReplicationPad1d((2, 1))(em.tensor([[1.0, 2.0]]))
    tensor([[1., 1., 1., 2., 2.]])
    """

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last two dimensions by repeating their edge values.

    >>> import ember as em
    >>> em.nn.ReplicationPad2d((1, 1, 2, 0))(em.zeros(2, 3, 4, 4)).shape
    (2, 3, 6, 6)
    """

    _mode = "replicate"


class CircularPad1d(_PadNd):
    """Pad the last dimension by wrapping around (periodic boundary).

    >>> import ember as em
    >>> em.nn.CircularPad1d(1)(em.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 1., 2., 3., 1.]])
    """

    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad the last two dimensions by wrapping around (periodic boundary).

    >>> import ember as em
    >>> em.nn.CircularPad2d(1)(em.zeros(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """

    _mode = "circular"
