"""3-d convolution and pooling over volumes (N, C, D, H, W), composed from the 2-d ones.

A 3-d window is a stack of 2-d windows along depth, one per kernel depth offset a. So
every 3-d op here first gathers, for each offset a, the depth slices the windows read
(``x'[:, :, D_d a + S_d i]`` for output depth i: one indexing op, a K_d-fold copy along
depth like im2col's), and then does the 2-d op on all of them at once:

* ``conv3d``: the K_d slices become extra input channels, (N D_out, C K_d, H, W), and
  the kernel (O, C, K_d, kH, kW) a 2-d kernel (O, C K_d, kH, kW): ONE conv2d, whose
  im2col product is exactly the 3-d one;
* ``conv_transpose3d``: one conv_transpose2d of every depth slice with the kernel's
  K_d depth taps as extra output channels, then each tap's planes added at depth
  S_d i + D_d a - P_d (a transposed convolution along depth);
* pooling: the 2-d pooling of every slice, then the max (or sum) over the K_d offsets;
  the max keeps the first offset among equal maxima, so the gradient goes to the first
  maximum of each 3-d window in row-major order, as PyTorch's.

Being compositions of differentiable ops, their gradients (and gradients of gradients)
need no code of their own; the output sizes and argument rules are those of the 2-d
functions, per dimension.
"""

from __future__ import annotations

import math

import numpy as np

from ember import creation
from ember.functions import pad
from ember.nn.functional.conv import (
    _conv_args,
    _conv_transpose,
    _conv_transpose_args,
    _convolution,
)
from ember.nn.functional.pooling import (
    _adaptive_output,
    _bin_average,
    _bin_index,
    _pool_size,
    _window_counts,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)
from ember.nn.functional.windows import _tuple
from ember.ops import contraction, reduction, windows
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

__all__ = ["conv3d", "conv_transpose3d", "max_pool3d", "max_pool3d_with_indices",
           "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _depth_slices(x: Tensor, kernel: int, stride: int, dilation: int) -> Tensor:
    """(N, C, K_d, D_out, H, W): for each kernel depth offset a, the depth slices
    x[:, :, D a + S i] that the windows at output depth i read (a strided view, whose
    gradient is K_d strided adds)."""
    view = windows.unfold(x, axis=2, size=kernel, step=stride, dilation=dilation)
    return view.permute(0, 1, 5, 2, 3, 4)  # (N, C, D_out, H, W, K_d) -> K_d third


def _volumes(op: str, input: Tensor) -> tuple:
    """input as (N, C, D, H, W), and whether it was batched."""
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 4-d (unbatched) or 5-d (batched) input, got "
                         f"shape {tuple(input.shape)}")
    return (input, True) if input.ndim == 5 else (input.unsqueeze(0), False)


def _unbatch(out, batched: bool):
    return out if batched else out.squeeze(0)


# ----------------------------------------------------------------------------- convolution


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-d convolution (cross-correlation) over (N, C_in, D, H, W).

    .. math:: y[n, o, i, j, k] = b[o] + \\sum_{c, a, b, e} w[o, c, a, b, e]\\,
              x'[n, c, S_d i + D_d a, S_h j + D_h b, S_w k + D_w e]

    with x' the zero-padded input and, per spatial dimension,
    D_out = floor((D + 2P - D_il (K - 1) - 1) / S) + 1.

    Args:
        input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: (C_out, C_in / groups, kD, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: ints or 3-tuples.
        padding: int, 3-tuple, ``"valid"``, ``"same"`` (stride 1), or six values
            (front, back, top, bottom, left, right) (an ember extension).
        groups: independent channel groups.

    >>> import ember as em
    >>> x = em.ones(1, 1, 3, 4, 4)
    >>> em.nn.functional.conv3d(x, em.ones(2, 1, 2, 2, 2), padding=(0, 1, 1)).shape
    (1, 2, 2, 5, 5)
    """
    op = "conv3d"
    x, batched, stride, pads, dilation = _conv_args(op, 3, input, weight, bias, stride,
                                                    padding, dilation, groups)
    (front, back), plane_pads = pads[0], pads[1:]
    if front or back:
        x = pad(x, (0, 0, 0, 0, front, back))
    n, c, depth, h, w = x.shape
    o, per_group, kd, kh, kw = weight.shape
    d_out = (depth - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    slices = _depth_slices(x, kd, stride[0], dilation[0])  # (N, C, kD, D_out, H, W)
    # channels (group, channel, depth tap), as the flattened kernel (O, C/G kD, kH, kW)
    images = slices.reshape(n, groups, per_group, kd, d_out, h, w).permute(
        0, 4, 1, 2, 3, 5, 6).reshape(n * d_out, c * kd, h, w)
    planes = _convolution(images, weight.reshape(o, per_group * kd, kh, kw), None,
                          stride=stride[1:], padding=plane_pads, dilation=dilation[1:],
                          groups=groups)
    out = planes.reshape((n, d_out, o) + planes.shape[2:]).permute(0, 2, 1, 3, 4)
    out = out.contiguous()
    if bias is not None:
        out = out + bias.reshape(o, 1, 1, 1)
    return _unbatch(out, batched)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-d transposed convolution: the gradient of conv3d with respect to its input.

    .. math:: y[n, o, S_d i + D_d a - P_d, \\ldots] \\mathrel{+}= x[n, c, i, \\ldots]\\,
              w[c, o, a, \\ldots]

    D_out = (D - 1) S - 2P + D_il (K - 1) + output_padding + 1 (per spatial dimension).

    Args:
        input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: (C_in, C_out / groups, kD, kH, kW) (note: in, then out).
        bias: (C_out,) or None.
        stride, padding, output_padding, groups, dilation: as in
            :func:`ember.nn.functional.conv_transpose2d`, per dimension.

    >>> import ember as em
    >>> em.nn.functional.conv_transpose3d(em.ones(1, 2, 2, 3, 3), em.ones(2, 4, 2, 2, 2),
    ...                                   stride=2).shape
    (1, 4, 4, 6, 6)
    """
    op = "conv_transpose3d"
    x, batched, size, stride, padding, dilation = _conv_transpose_args(
        op, 3, input, weight, bias, stride, padding, output_padding, groups, dilation)
    n, c, d_in, h, w = x.shape
    per_group, kd = weight.shape[1], weight.shape[2]
    o = per_group * groups
    # every depth slice through the 2-d transpose, the kD depth taps as output channels
    images = x.permute(0, 2, 1, 3, 4).reshape(n * d_in, c, h, w)
    taps = weight.reshape((c, per_group * kd) + tuple(weight.shape[3:]))
    planes = _conv_transpose(images, taps, None, size=size[1:], stride=stride[1:],
                             padding=tuple((p, p) for p in padding[1:]),
                             dilation=dilation[1:], groups=groups)
    planes = planes.reshape((n, d_in, groups, per_group, kd) + size[1:]).permute(
        0, 2, 3, 1, 5, 6, 4).reshape((n, o, d_in) + size[1:] + (kd,))
    # tap a of input slice i lands at depth S i + D a (then P is cropped from the front)
    reach = (d_in - 1) * stride[0] + dilation[0] * (kd - 1) + 1
    full = windows.fold(planes, axis=2, size=kd, step=stride[0], dilation=dilation[0],
                        length=max(reach, padding[0] + size[0]))
    out = shape_ops.getitem_basic(full, key=(slice(None), slice(None),
                                             slice(padding[0], padding[0] + size[0])))
    out = out.contiguous()
    if bias is not None:
        out = out + bias.reshape(o, 1, 1, 1)
    return _unbatch(out, batched)


# ----------------------------------------------------------------------------- pooling


def _pool_args(op, input, kernel_size, stride, padding, dilation):
    kernel = _tuple(kernel_size, 3, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else _tuple(stride, 3, "stride", op)
    return kernel, stride, _tuple(padding, 3, "padding", op), _tuple(dilation, 3,
                                                                      "dilation", op)


def _padded_depth(x: Tensor, kernel, stride, padding, dilation, d_out, value) -> Tensor:
    """x with ``value`` before and after along depth, as far as the windows reach."""
    reach = (d_out - 1) * stride + dilation * (kernel - 1) + 1
    back = max(reach - x.shape[2] - padding, 0)
    if not padding and not back:
        return x
    return pad(x, (0, 0, 0, 0, padding, back), value=value)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """3-d max pooling over (N, C, D, H, W): the largest value in each window (x padded
    with -inf), and with ``return_indices`` its flat index into D H W. The gradient goes
    to the first maximum of each window in row-major order, as PyTorch's.

    Arguments and output size as :func:`ember.nn.functional.max_pool2d`, per dimension.

    >>> import ember as em
    >>> em.nn.functional.max_pool3d(em.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[7.]]]]])
    """
    op = "max_pool3d"
    x, batched = _volumes(op, input)
    kernel, stride, padding, dilation = _pool_args(op, input, kernel_size, stride, padding,
                                                   dilation)
    out_size = _pool_size(op, tuple(x.shape[2:]), kernel, stride, padding, dilation,
                          ceil_mode)
    lowest = -math.inf if x.dtype.kind == "f" else int(np.iinfo(x.dtype).min)
    padded = _padded_depth(x, kernel[0], stride[0], padding[0], dilation[0], out_size[0],
                           lowest)
    n, c, _, h, w = x.shape
    slices = _depth_slices(padded, kernel[0], stride[0], dilation[0])
    slices = shape_ops.getitem_basic(slices, key=(Ellipsis, slice(0, out_size[0]),
                                                  slice(None), slice(None)))
    pooled = max_pool2d(slices.reshape(n, -1, h, w), kernel[1:], stride[1:], padding[1:],
                        dilation[1:], ceil_mode, return_indices)
    planes = (pooled[0] if return_indices else pooled).reshape((n, c, kernel[0]) + out_size)
    out = reduction.max_along(planes, axis=2)  # the first depth offset among equal maxima
    if not return_indices:
        return _unbatch(out, batched)
    plane_index = pooled[1]
    offset = np.argmax(planes._data, axis=2)  # the depth offset chosen for each window
    within = np.take_along_axis(plane_index._data.reshape(planes.shape), offset[:, :, None],
                                axis=2)[:, :, 0]
    depth = (np.arange(out_size[0]) * stride[0])[:, None, None] + offset * dilation[0] \
        - padding[0]
    indices = Tensor._wrap((depth * (h * w) + within).astype(np.int64))
    return _unbatch(out, batched), _unbatch(indices, batched)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """:func:`max_pool3d` returning ``(output, indices)``."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-d average pooling over (N, C, D, H, W): each window's sum divided by its size
    (within the padded input with ``count_include_pad``, else its real elements), or
    by ``divisor_override``. Arguments as :func:`ember.nn.functional.avg_pool2d`.

    >>> import ember as em
    >>> em.nn.functional.avg_pool3d(em.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[3.5000]]]]])
    """
    op = "avg_pool3d"
    x, batched = _volumes(op, input)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point input, got {x.dtype}")
    kernel, stride, padding, _ = _pool_args(op, input, kernel_size, stride, padding, 1)
    spatial = tuple(x.shape[2:])
    out_size = _pool_size(op, spatial, kernel, stride, padding, (1, 1, 1), ceil_mode)
    padded = _padded_depth(x, kernel[0], stride[0], padding[0], 1, out_size[0], 0.0)
    n, c, _, h, w = x.shape
    slices = _depth_slices(padded, kernel[0], stride[0], 1)
    slices = shape_ops.getitem_basic(slices, key=(Ellipsis, slice(0, out_size[0]),
                                                  slice(None), slice(None)))
    sums = avg_pool2d(slices.reshape(n, -1, h, w), kernel[1:], stride[1:], padding[1:],
                      ceil_mode, True, divisor_override=1)
    total = reduction.sum(sums.reshape((n, c, kernel[0]) + out_size), axis=(2,))
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        return _unbatch(total / int(divisor_override), batched)
    counts = [np.asarray(_window_counts(*args, count_include_pad)) for args in
              zip(spatial, kernel, stride, padding, out_size, strict=True)]
    divisor = np.einsum("i,j,k->ijk", *counts).astype(x.dtype)
    return _unbatch(total / divisor, batched)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average over (D_out, H_out, W_out) bins of (N, C, D, H, W); bins along each
    dimension as :func:`ember.nn.functional.adaptive_avg_pool2d` (None keeps a size).

    >>> import ember as em
    >>> em.nn.functional.adaptive_avg_pool3d(em.ones(2, 3, 5, 7, 6), (2, 3, 1)).shape
    (2, 3, 2, 3, 1)
    """
    op = "adaptive_avg_pool3d"
    x, batched = _volumes(op, input)
    size = _adaptive_output(op, x, output_size, 3)
    n, c, depth, h, w = x.shape
    planes = adaptive_avg_pool2d(x.reshape(n, c * depth, h, w), size[1:])
    planes = planes.reshape((n, c, depth) + size[1:])
    if depth == size[0]:
        return _unbatch(planes, batched)
    bins = creation.tensor(_bin_average(depth, size[0]), dtype=x.dtype)
    return _unbatch(contraction.einsum(bins, planes, equation="od,ncdhw->ncohw"), batched)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over (D_out, H_out, W_out) bins of (N, C, D, H, W) (bins as
    :func:`adaptive_avg_pool3d`); the gradient goes to each bin's first maximum, and
    ``return_indices`` gives its flat index into D H W.

    >>> import ember as em
    >>> em.nn.functional.adaptive_max_pool3d(em.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
    tensor([[[[[7.]]]]])
    """
    op = "adaptive_max_pool3d"
    x, batched = _volumes(op, input)
    size = _adaptive_output(op, x, output_size, 3)
    n, c, depth, h, w = x.shape
    planes, plane_index = adaptive_max_pool2d(x.reshape(n, c * depth, h, w), size[1:], True)
    planes = planes.reshape((n, c, depth) + size[1:])
    rows = _bin_index(depth, size[0])  # (D_out, K): each bin's depths (the last repeated)
    stacked = shape_ops.getitem_advanced(planes, key=(slice(None), slice(None), rows))
    out = reduction.max_along(stacked, axis=3)  # the first depth among equal maxima
    if not return_indices:
        return _unbatch(out, batched)
    chosen = rows[np.arange(size[0])[:, None, None], np.argmax(stacked._data, axis=3)]
    within = np.take_along_axis(plane_index._data.reshape(planes.shape), chosen, axis=2)
    indices = Tensor._wrap((chosen * (h * w) + within).astype(np.int64))
    return _unbatch(out, batched), _unbatch(indices, batched)
