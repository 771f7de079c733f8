"""Pooling layers: max, average and adaptive pooling (thin wrappers of
:mod:`ember.nn.functional.pooling`, with PyTorch's arguments and ``repr``)."""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.functional.windows import _tuple
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
           "MaxUnpool3d"]


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


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling over (N, C, D, H, W): the largest value in each window; the
    gradient goes to each window's first maximum (as PyTorch). Arguments as
    :class:`MaxPool2d`, per dimension.

    Shape:
        (N, C, D, H, W) -> (N, C, D_out, H_out, W_out),
        D_out = floor((D + 2P - D_il (K - 1) - 1) / S) + 1 (ceiling with ``ceil_mode``).

    >>> import ember as em
    >>> em.nn.MaxPool3d(2)(em.zeros(1, 3, 4, 6, 8)).shape
    (1, 3, 2, 3, 4)
    """

    def forward(self, input: Tensor):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool3d(AvgPool2d):
    """3-d average pooling over (N, C, D, H, W); arguments as :class:`AvgPool2d`, per
    dimension.

    Shape:
        (N, C, D, H, W) -> (N, C, D_out, H_out, W_out), D_out = floor((D + 2P - K) / S) + 1.

    >>> import ember as em
    >>> em.nn.AvgPool3d(2)(em.ones(1, 3, 4, 4, 4)).shape
    (1, 3, 2, 2, 2)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average pooling of (N, C, D, H, W) to a fixed size (bins as
    :class:`AdaptiveAvgPool2d`, per dimension).

    >>> import ember as em
    >>> em.nn.AdaptiveAvgPool3d((1, 2, 2))(em.zeros(2, 3, 5, 6, 7)).shape
    (2, 3, 1, 2, 2)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max pooling of (N, C, D, H, W) to a fixed size (bins as :class:`AdaptiveAvgPool3d`).

    >>> import ember as em
    >>> em.nn.AdaptiveMaxPool3d(1)(em.zeros(2, 3, 5, 6, 7)).shape
    (2, 3, 1, 1, 1)
    """

    def forward(self, input: Tensor):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        self.stride = _tuple(stride if stride is not None else kernel_size, n, "stride", name)
        self.padding = _tuple(padding, n, "padding", name)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        unpool = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self._dims - 1]
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of :class:`MaxPool1d` (given its indices): maxima back at
    their places, zeros elsewhere. L_out = (L - 1) S - 2P + K, or ``output_size``.

    >>> import ember as em
    >>> em.nn.MaxUnpool1d(2)(em.tensor([[[5.0]]]), em.tensor([[[1]]]))
    tensor([[[0., 5.]]])
    """

    _dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of :class:`MaxPool2d` (given its indices), as in SegNet's
    decoder: H_out = (H - 1) S - 2P + K, or ``output_size`` in ``forward``.

    >>> import ember as em
    >>> pool, unpool = em.nn.MaxPool2d(2, return_indices=True), em.nn.MaxUnpool2d(2)
    >>> y, i = pool(em.arange(16.0).reshape(1, 1, 4, 4))
    >>> unpool(y, i)[0, 0, 1]
    tensor([0., 5., 0., 7.])
    """

    _dims = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of :class:`MaxPool3d` (given its indices)."""

    _dims = 3
