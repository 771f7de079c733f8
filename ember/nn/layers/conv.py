"""Convolution layers (Conv1d, Conv2d and their transposes) and Fold/Unfold.

Each layer holds its weight and bias and calls :mod:`ember.nn.functional.conv`; the
parameter names, shapes, initialisation and ``repr`` are PyTorch's, so a PyTorch
``state_dict`` loads key for key.
"""

from __future__ import annotations

import math

from ember import creation, dtypes, functions
from ember.devices import check_device
from ember.nn import functional as F
from ember.nn import init
from ember.nn.functional.conv import _conv_padding
from ember.nn.functional.windows import _tuple
from ember.nn.module import Module, Parameter
from ember.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "Fold", "Unfold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared construction, initialisation and repr of the convolution layers."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride, padding,
                 dilation, groups: int, bias: bool, padding_mode: str, output_padding=0,
                 device=None, dtype=None) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported')
        check_device(device, name)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        self.stride = _tuple(stride, n, "stride", name)
        self.dilation = _tuple(dilation, n, "dilation", name)
        self.output_padding = _tuple(output_padding, n, "output_padding", name)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, self._transposed
        # validates padding (strings, 'same' with stride) and gives (before, after) pairs
        self._pairs = _conv_padding(padding, self.kernel_size, self.dilation, self.stride,
                                    name)
        if isinstance(padding, str) or (not isinstance(padding, int)
                                        and len(tuple(padding)) == 2 * n):
            self.padding = padding if isinstance(padding, str) else tuple(padding)
        else:
            self.padding = _tuple(padding, n, "padding", name)
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        dtype = dtypes.as_dtype(dtype)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W from kaiming_uniform_(a=sqrt(5)), i.e. U(-k, k) with
        k = 1/sqrt(fan_in), and b from U(-k, k), fan_in = weight.shape[1] * prod(kernel)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _check_channels(self, input: Tensor) -> None:
        expected = self.in_channels
        if input.ndim in (self._dims + 1, self._dims + 2):
            channels = input.shape[-self._dims - 1]
            if channels != expected:
                raise ValueError(f"{type(self).__name__}: expected input with {expected} "
                                 f"channels (weight of shape {tuple(self.weight.shape)}), "
                                 f"got input of shape {tuple(input.shape)}")

    def extra_repr(self) -> str:
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check_channels(input)
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._dims - 1]
        if self.padding_mode == "zeros":
            return conv(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)
        # pad explicitly (F.pad lists the last dimension first), then convolve unpadded
        widths = tuple(p for pair in reversed(self._pairs) for p in pair)
        padded = functions.pad(input, widths, mode=self.padding_mode)
        return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                    self.groups)


class Conv1d(_Conv):
    """1-d convolution layer (cross-correlation) over (N, C_in, L).

    .. math:: y[n, o, i] = b[o] + \\sum_{c, k} w[o, c, k]\\, x'[n, c, S i + D k]

    Parameters: weight (C_out, C_in / groups, K) and bias (C_out,), initialised as
    PyTorch: U(-k, k) with k = 1/sqrt(C_in / groups * K).

    Args:
        in_channels, out_channels: channels of the input and output.
        kernel_size, stride, dilation: ints (or 1-tuples).
        padding: int, ``"valid"``, ``"same"`` (stride 1) or ``(left, right)``.
        groups: independent channel groups (``in_channels`` for depthwise).
        bias: learn an additive bias (default True).
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        dtype: parameter dtype (default float32).

    Shape:
        (N, C_in, L) -> (N, C_out, L_out), L_out = floor((L + 2P - D (K - 1) - 1) / S) + 1.

    >>> import ember as em
    >>> layer = em.nn.Conv1d(4, 8, kernel_size=3, padding=1)
    >>> layer(em.zeros(2, 4, 10)).shape
    (2, 8, 10)
    """

    _dims = 1


class Conv2d(_Conv):
    """2-d convolution layer (cross-correlation: the kernel is not flipped).

    .. math:: y[n, o, i, j] = b[o] + \\sum_{c, a, b} w[o, c, a, b]\\,
              x'[n, c, S_h i + D_h a, S_w j + D_w b]

    Each output channel slides one (C_in / groups, kH, kW) filter over the padded input
    x'. Parameters: ``out_channels * (in_channels / groups * kH * kW + 1)``, initialised as
    PyTorch (kaiming_uniform_ with a = sqrt(5): U(-k, k), k = 1/sqrt(fan_in); the bias
    too, fan_in = in_channels / groups * kH * kW).

    Args:
        in_channels, out_channels: channels of the input and output.
        kernel_size: int or (kH, kW).
        stride: step between windows (default 1).
        padding: int or (pH, pW) on both sides; ``"valid"`` (none); ``"same"``
            (H_out = H, stride 1 only, the extra row/column at the bottom/right for even
            kernels); or ``(top, bottom, left, right)`` (an ember extension).
        dilation: spacing between kernel taps (default 1).
        groups: independent channel groups; ``groups = in_channels`` is depthwise.
        bias: learn an additive bias (default True).
        padding_mode: ``"zeros"`` or ``"reflect"``, ``"replicate"``, ``"circular"``.
        dtype: parameter dtype (default float32).

    Shape:
        (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
        H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1 (likewise W_out);
        ``(W - F + 2P)/S + 1`` in CS231n's notation.

    >>> import ember as em
    >>> layer = em.nn.Conv2d(1, 6, kernel_size=5, padding=2)
    >>> layer
    Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    >>> layer(em.zeros(8, 1, 28, 28)).shape
    (8, 6, 28, 28)
    >>> sum(p.numel() for p in layer.parameters())
    156
    """

    _dims = 2


class Conv3d(_Conv):
    """3-d convolution layer over volumes (N, C_in, D, H, W): video, medical scans.

    .. math:: y[n, o, i, j, k] = b[o] + \\sum_{c, a, b, e} w[o, c, a, b, e]\\,
              x'[n, c, S_d i + D_d a, S_h j + D_h b, S_w k + D_w e]

    Parameters: weight (C_out, C_in / groups, kD, kH, kW) and bias (C_out,), initialised
    as PyTorch (fan_in = C_in / groups * kD * kH * kW). Arguments as :class:`Conv2d`,
    per dimension (padding as 6 values: front, back, top, bottom, left, right).

    Shape:
        (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
        D_out = floor((D + 2P - D_il (K - 1) - 1) / S) + 1 (likewise H_out, W_out).

    >>> import ember as em
    >>> layer = em.nn.Conv3d(2, 4, kernel_size=3, padding=1)
    >>> layer(em.zeros(1, 2, 5, 6, 7)).shape
    (1, 4, 5, 6, 7)
    >>> sum(p.numel() for p in layer.parameters())
    220
    """

    _dims = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, "
                             f"got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that gives ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        output_size = tuple(output_size)[-n:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} elements, "
                             f"got {output_size}")
        result = []
        for d in range(n):
            low = ((input.shape[-n + d] - 1) * self.stride[d] - 2 * self.padding[d]
                   + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not low <= output_size[d] <= low + self.stride[d] - 1:
                raise ValueError(f"{type(self).__name__}: requested an output size of "
                                 f"{output_size}, but valid sizes range from {low} to "
                                 f"{low + self.stride[d] - 1} in dimension {d} (for an "
                                 f"input of shape {tuple(input.shape)})")
            result.append(output_size[d] - low)
        return tuple(result)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check_channels(input)
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._dims - 1]
        return conv(input, self.weight, self.bias, self.stride, self.padding,
                    self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-d transposed convolution layer: the input-gradient of Conv1d, used to upsample.

    Parameters: weight (C_in, C_out / groups, K) (in, then out) and bias (C_out,).

    Shape:
        (N, C_in, L) -> (N, C_out, L_out),
        L_out = (L - 1) S - 2P + D (K - 1) + output_padding + 1.

    >>> import ember as em
    >>> em.nn.ConvTranspose1d(4, 2, kernel_size=2, stride=2)(em.zeros(1, 4, 5)).shape
    (1, 2, 10)
    """

    _dims = 1


class ConvTranspose2d(_ConvTranspose):
    """2-d transposed convolution layer ("deconvolution"): each input pixel scatters a
    weighted copy of the kernel into the output, the adjoint of Conv2d.

    .. math:: y[n, o, S i + D a - P, S j + D b - P] \\mathrel{+}= x[n, c, i, j]\\,
              w[c, o, a, b]

    Parameters: weight (C_in, C_out / groups, kH, kW) (in, then out) and bias (C_out,),
    initialised as PyTorch with fan_in = C_out / groups * kH * kW.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias:
            as Conv2d (padding is an int or (pH, pW)).
        output_padding: extra rows/columns at the bottom/right, smaller than the stride
            or dilation; or pass ``output_size`` to ``forward``.

    Shape:
        (N, C_in, H, W) -> (N, C_out, H_out, W_out),
        H_out = (H - 1) S - 2P + D (K - 1) + output_padding + 1.

    >>> import ember as em
    >>> up = em.nn.ConvTranspose2d(16, 8, kernel_size=3, stride=2, padding=1)
    >>> up(em.zeros(1, 16, 7, 7)).shape
    (1, 8, 13, 13)
    >>> up(em.zeros(1, 16, 7, 7), output_size=(14, 14)).shape
    (1, 8, 14, 14)
    """

    _dims = 2


class ConvTranspose3d(_ConvTranspose):
    """3-d transposed convolution layer: the adjoint of Conv3d, to upsample volumes.

    Parameters: weight (C_in, C_out / groups, kD, kH, kW) (in, then out) and bias
    (C_out,). Arguments as :class:`ConvTranspose2d`, per dimension.

    Shape:
        (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
        D_out = (D - 1) S - 2P + D_il (K - 1) + output_padding + 1.

    >>> import ember as em
    >>> em.nn.ConvTranspose3d(4, 2, kernel_size=2, stride=2)(em.zeros(1, 4, 3, 4, 5)).shape
    (1, 2, 6, 8, 10)
    """

    _dims = 3


class Unfold(Module):
    """Extract sliding blocks (im2col): (N, C, H, W) -> (N, C kH kW, L); see
    :func:`ember.nn.functional.unfold`.

    Shape:
        (N, C, H, W) -> (N, C * prod(kernel_size), L), L = H_out W_out with
        H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1.

    >>> import ember as em
    >>> em.nn.Unfold(kernel_size=(2, 3))(em.zeros(2, 5, 3, 4)).shape
    (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum sliding blocks back into an image (col2im), the adjoint of Unfold; see
    :func:`ember.nn.functional.fold`.

    Shape:
        (N, C * prod(kernel_size), L) -> (N, C, output_size[0], output_size[1]).

    >>> import ember as em
    >>> em.nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(em.zeros(1, 12, 12)).shape
    (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
