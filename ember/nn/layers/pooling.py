"""Pooling layers: max, average and adaptive pooling (thin wrappers of
:mod:`ember.nn.functional.pooling`, with PyTorch's arguments and ``repr``)."""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.functional.vision import _tuple
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling over (N, C, L): the largest value in each window.

    Shape:
        (N, C, L) -> (N, C, L_out), L_out = floor((L + 2P - D (K - 1) - 1) / S) + 1
        (ceiling with ``ceil_mode``).

    >>> import ember as em
    >>> em.nn.MaxPool1d(2)(em.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    tensor([[[3., 2.]]])
    """

    def forward(self, input: Tensor):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling: y[n, c, i, j] = max over the window at (S i - P, S j - P).

    Halves the resolution with the usual ``MaxPool2d(2)`` (stride defaults to the kernel
    size) and makes the features tolerant to small shifts. The gradient goes to one
    element per window, the first maximum (as PyTorch).

    Args:
        kernel_size: window size (int or (kH, kW)).
        stride: step between windows (default: ``kernel_size``).
        padding: implicit -inf padding, at most half the kernel size.
        dilation: spacing between window elements.
        return_indices: also return the flat index of each maximum (for MaxUnpool).
        ceil_mode: round the output size up.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out),
        H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1 (ceiling with ``ceil_mode``).

    >>> import ember as em
    >>> pool = em.nn.MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(em.zeros(4, 6, 28, 28)).shape
    (4, 6, 14, 14)
    """

    def forward(self, input: Tensor):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """1-d average pooling over (N, C, L); arguments as :class:`AvgPool2d` (no
    ``divisor_override``).

    Shape:
        (N, C, L) -> (N, C, L_out), L_out = floor((L + 2P - K) / S) + 1.

    >>> import ember as em
    >>> em.nn.AvgPool1d(2)
    AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _tuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = _tuple(stride if stride is not None else kernel_size, 1, "stride",
                             "AvgPool1d")
        self.padding = _tuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """2-d average pooling: the mean of each window (zero padding).

    Args:
        kernel_size: window size (int or (kH, kW)).
        stride: step between windows (default: ``kernel_size``).
        padding: implicit zero padding, at most half the kernel size.
        ceil_mode: round the output size up.
        count_include_pad: divide by the window size including padding (default True),
            or by the number of real elements.
        divisor_override: divide every window sum by this instead.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2P - K) / S) + 1.

    >>> import ember as em
    >>> em.nn.AvgPool2d(2)(em.ones(1, 3, 4, 4)).shape
    (1, 3, 2, 2)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling to a fixed length: (N, C, L) -> (N, C, output_size).

    >>> import ember as em
    >>> em.nn.AdaptiveAvgPool1d(3)(em.zeros(2, 4, 10)).shape
    (2, 4, 3)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed size, whatever the input size: bin i along a dimension
    of size H covers [floor(i H / H_out), ceil((i + 1) H / H_out)).
    ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out) = output_size (None keeps that dimension).

    >>> import ember as em
    >>> em.nn.AdaptiveAvgPool2d((5, 7))(em.zeros(1, 64, 8, 9)).shape
    (1, 64, 5, 7)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling to a fixed length: (N, C, L) -> (N, C, output_size).

    >>> import ember as em
    >>> em.nn.AdaptiveMaxPool1d(2)(em.tensor([[[1.0, 4.0, 2.0]]]))
    tensor([[[4., 4.]]])
    """

    def forward(self, input: Tensor):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling to a fixed size (bins as :class:`AdaptiveAvgPool2d`).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out) = output_size.

    >>> import ember as em
    >>> em.nn.AdaptiveMaxPool2d((2, 2))(em.zeros(1, 3, 5, 5)).shape
    (1, 3, 2, 2)
    """

    def forward(self, input: Tensor):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
