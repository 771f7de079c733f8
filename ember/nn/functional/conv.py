"""Convolution: conv1d, conv2d and their transposes, as im2col and one matrix product.

Convolution here is *cross-correlation*, as in every deep-learning framework: the kernel
is not flipped. With input x (N, C, H, W) zero-padded to x', weight w (O, C, kH, kW),
stride S and dilation D,

.. math::  y[n, o, i, j] = b[o] + \\sum_{c, a, b} w[o, c, a, b]\\,
           x'[n, c, S i + D a, S j + D b]

and the output size along each spatial dimension is

.. math::  H_{out} = \\lfloor (H + 2P - D (K - 1) - 1) / S \\rfloor + 1

(``(W - F + 2P)/S + 1`` in CS231n's notation, where D = 1).

How it runs (im2col): every window is copied once into a matrix of "columns"
``cols[n, (c, a, b), (i, j)]``, so the whole layer is one batched matrix product
``w (O, C kH kW) @ cols (N, C kH kW, H_out W_out)`` done by BLAS. The backward passes are
matrix products too:

* weight: ``dL/dw = sum_n cols[n] @ dL/dy[n]^T``;
* input: ``dcols = w^T @ dL/dy``, scattered back by col2im (a loop over the kH kW kernel
  offsets, never over pixels or batch items); or, at stride 1 when it copies less, a
  convolution of dL/dy with the flipped, transposed kernel (the "full" correlation),
  computed by the same im2col code.

A transposed convolution is the input-gradient of a convolution, and its own gradients
are a convolution and a weight-gradient: the three routines serve both. im2col and col2im
live in :mod:`ember.nn.functional.windows`, shared with pooling and ``unfold``/``fold``.
"""

from __future__ import annotations

from ember.autograd.primitives import defvjp, primitive
from ember.errors import ShapeError
from ember.nn.functional.windows import (
    _col2im,
    _im2col,
    _im2col_rows,
    _output_size,
    _scratch_array,
    _tuple,
)
from ember.parallel import batch_slices, map_chunks
from ember.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


# ----------------------------------------------------------------------------- arguments


def _conv_padding(padding, kernel, dilation, stride, op: str) -> tuple:
    """Padding as ((before, after), ...) per spatial dimension.

    ``int`` or a tuple of one value per dimension pads both sides; ``"valid"`` pads
    nothing; ``"same"`` keeps the size (stride 1 only) with ``D (K - 1)`` in total, the
    extra element on the right/bottom for even kernels (as PyTorch); a tuple of two per
    dimension gives explicit ``(before, after)`` pairs: ``(left, right)`` for 1-d,
    ``(top, bottom, left, right)`` for 2-d (an ember extension).
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride}); pad explicitly")
            total = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                         "'valid', 'same' (or an int or a tuple)")
    if not isinstance(padding, int) and len(tuple(padding)) == 2 * n:
        flat = _tuple(padding, 2 * n, "padding", op)
        pairs = tuple((flat[2 * i], flat[2 * i + 1]) for i in range(n))
    else:
        pairs = tuple((p, p) for p in _tuple(padding, n, "padding", op))
    if any(p < 0 for pair in pairs for p in pair):
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return pairs


def _check_floating(op: str, *tensors) -> None:
    dtypes = {t.dtype for t in tensors if t is not None}
    if any(d.kind != "f" for d in dtypes) or len(dtypes) > 1:
        names = ", ".join(str(t.dtype) for t in tensors if t is not None)
        raise TypeError(f"{op}: input, weight and bias must have the same floating dtype, "
                        f"got {names}")


# ----------------------------------------------------------------------------- the three products


def _rows_pay_off(stride, out_channels, width, out_width, weight_grad=False) -> bool:
    """Whether to use whole-row columns (:func:`_im2col_rows`) at stride 1: with few output
    channels, where copying short rows costs more than the product's wasted columns; and
    for the forward product whenever the padded rows are at most 10% wider (a 3x3 'same'
    convolution on 32 x 32 images: 34 columns for 32), measured faster there."""
    if stride != (1, 1) or 2 * width > 3 * out_width:
        return False
    return out_channels <= 16 or (not weight_grad and 10 * width <= 11 * out_width)


def _conv_forward(xp, x, weight, bias, stride, padding, dilation, groups, out=None):
    """y = w @ im2col(x) (+ b), grouped: (N, C, H, W) -> (N, O, H_out, W_out), written
    into ``out`` when given."""
    n = x.shape[0]
    o, cg, kh, kw = weight.shape
    out_size = _output_size(x.shape[2:], (kh, kw), stride, padding, dilation)
    width = out_size[1]
    if _rows_pay_off(stride, o, x.shape[3] + padding[1][0] + padding[1][1], out_size[1]):
        cols, width = _im2col_rows(xp, x, (kh, kw), padding, dilation, out_size)
    else:
        cols = _im2col(xp, x, (kh, kw), stride, padding, dilation, out_size)
    cols = cols.reshape(n, groups, cg * kh * kw, out_size[0] * width)
    weight = weight.reshape(groups, o // groups, cg * kh * kw)
    y = None
    if cg == 1 and groups > 1:  # depthwise: N G tiny products, cheaper without BLAS
        y = xp.einsum("gok,ngkp->ngop", weight, cols)
    elif out is not None and width == out_size[1] and out.flags.c_contiguous:
        xp.matmul(weight, cols, out=out.reshape(cols.shape[:2] + (o // groups, -1)))
    else:
        y = xp.matmul(weight, cols)
    if y is not None:  # not written into out yet: drop the extra columns of whole rows
        y = y.reshape((n, o, out_size[0], width))[..., :out_size[1]]
        if out is None:
            out = xp.ascontiguousarray(y)  # no copy when there are no extra columns
        else:
            out[...] = y
    if bias is not None:
        out += bias.reshape(o, 1, 1)
    return out


CHUNK_BYTES = 8 << 20  # im2col columns per chunk of the batch: about what a cache keeps


def _chunk(n: int, per_sample: int) -> int:
    """Samples per chunk whose columns (``per_sample`` bytes each) fill CHUNK_BYTES."""
    return max(1, min(n, CHUNK_BYTES // max(per_sample, 1)))


def _conv_forward_batch(xp, x, weight, bias, stride, padding, dilation, groups):
    """:func:`_conv_forward` over chunks of the batch, shared out among ember's threads."""
    n, o = x.shape[0], weight.shape[0]
    out_size = _output_size(x.shape[2:], weight.shape[2:], stride, padding, dilation)
    out = xp.empty((n, o) + out_size, x.dtype)
    k = x.shape[1] * weight.shape[2] * weight.shape[3]
    per_sample = k * out_size[0] * (out_size[1] + weight.shape[3]) * x.itemsize
    work = n * (k + o) * out_size[0] * out_size[1]
    map_chunks(lambda s: _conv_forward(xp, x[s], weight, bias, stride, padding, dilation,
                                       groups, out=out[s]), n, _chunk(n, per_sample), work)
    return out


def _conv_weight_grad_batch(xp, x, g, kernel, stride, padding, dilation, groups):
    """:func:`_conv_weight_grad` over chunks of the batch, shared out among ember's
    threads; the chunks' partial sums added in order."""
    n = x.shape[0]
    k = x.shape[1] * kernel[0] * kernel[1]
    per_sample = k * g.shape[2] * (g.shape[3] + kernel[1]) * x.itemsize
    work = n * (k + g.shape[1]) * g.shape[2] * g.shape[3]
    parts = map_chunks(lambda s: _conv_weight_grad(xp, x[s], g[s], kernel, stride, padding,
                                                   dilation, groups),
                       n, _chunk(n, per_sample), work)
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _conv_input_grad_batch(xp, g, weight, size, stride, padding, dilation, groups):
    """:func:`_conv_input_grad` over chunks of the batch, shared out among ember's
    threads."""
    n, c = g.shape[0], weight.shape[1] * groups
    k = weight.shape[0] * weight.shape[2] * weight.shape[3]
    # col2im's columns: C kH kW x H_out (W_out + kW) per sample
    per_sample = (c * weight.shape[2] * weight.shape[3] * g.shape[2]
                  * (g.shape[3] + weight.shape[3]) * g.itemsize)
    work = n * (k + c) * size[0] * size[1]
    chunk = _chunk(n, per_sample)
    if chunk >= n and len(batch_slices(n, work)) == 1:
        return _conv_input_grad(xp, g, weight, size, stride, padding, dilation, groups)
    out = xp.empty((n, c) + tuple(size), g.dtype)

    def piece(s):
        out[s] = _conv_input_grad(xp, g[s], weight, size, stride, padding, dilation, groups)

    map_chunks(piece, n, chunk, work)
    return out


def _conv_weight_grad(xp, x, g, kernel, stride, padding, dilation, groups):
    """dL/dw[o, c, a, b] = sum_{n,i,j} dL/dy[n, o, i, j] x'[n, c, S i + D a, S j + D b]."""
    n, o, ho, wo = g.shape
    cg = x.shape[1] // groups
    k = cg * kernel[0] * kernel[1]
    if _rows_pay_off(stride, o, x.shape[3] + padding[1][0] + padding[1][1], wo,
                     weight_grad=True):
        cols, width = _im2col_rows(xp, x, kernel, padding, dilation, (ho, wo))
        wide = xp.zeros((n, o, ho, width), g.dtype)  # zero gradient for the extra columns
        wide[..., :wo] = g
        g, wo = wide, width
    else:
        cols = _im2col(xp, x, kernel, stride, padding, dilation, (ho, wo))
    cols = cols.reshape(n, groups, k, ho * wo)
    g = g.reshape(n, groups, o // groups, ho * wo)
    if o // groups <= ho * wo:  # per-sample products (N, G, K, O/G), summed over the batch
        grad = xp.matmul(cols, g.swapaxes(-1, -2)).sum(axis=0)
    else:  # deep layers with small images: one product over (batch, pixels)
        cols = cols.transpose(1, 2, 0, 3).reshape(groups, k, n * ho * wo)
        grad = xp.matmul(cols, g.transpose(1, 0, 3, 2).reshape(groups, n * ho * wo, -1))
    return grad.swapaxes(-1, -2).reshape((o, cg) + tuple(kernel))


def _conv_input_grad(xp, g, weight, size, stride, padding, dilation, groups):
    """dL/dx: the transposed convolution of dL/dy (N, O, H_out, W_out) -> (N, C, H, W)."""
    n, o, ho, wo = g.shape
    _, cg, kh, kw = weight.shape
    # stride 1 and no more columns than col2im would add up: one more im2col product
    if stride == (1, 1) and o * size[0] * size[1] <= 2 * groups * cg * ho * wo:
        # a correlation of dL/dy with the kernel flipped and in/out channels swapped,
        # padded by D (K - 1) - P before (negative amounts crop)
        flipped = weight.reshape(groups, o // groups, cg, kh, kw).swapaxes(1, 2)
        flipped = flipped.reshape(groups * cg, o // groups, kh, kw)[:, :, ::-1, ::-1]
        pads = []
        for h, out, k, d, (before, _) in zip(size, (ho, wo), (kh, kw), dilation, padding,
                                             strict=True):
            top = d * (k - 1) - before
            pads.append((top, h - out + before))
        return _conv_forward(xp, g, flipped, None, (1, 1), tuple(pads), dilation, groups)
    w = weight.reshape(groups, o // groups, cg * kh * kw).swapaxes(-1, -2)
    if stride == (1, 1):
        return _col2im_rows(xp, g, w, size, padding, dilation, (kh, kw))
    cols = _scratch_array(xp, (n, groups, cg * kh * kw, ho * wo), g.dtype)
    xp.matmul(w, g.reshape(n, groups, o // groups, ho * wo), out=cols)
    cols = cols.reshape(n, groups * cg, kh, kw, ho, wo)
    return _col2im(xp, cols, size, stride, padding, dilation)


def _col2im_rows(xp, g, w, size, padding, dilation, kernel):
    """col2im for stride 1 with long contiguous adds.

    dL/dy is widened with zero columns to the padded input's width Wp: in the flattened
    image a kernel offset (a, b) then moves every column entry by the same a D Wp + b D,
    so each offset is ONE add of contiguous runs (the zero columns add nothing).
    """
    n, o, ho, wo = g.shape
    groups, k, _ = w.shape
    (t, b), (l, r) = padding
    hp, wp = size[0] + t + b, size[1] + l + r
    wide = xp.zeros((n, o, ho, wp), g.dtype)
    wide[..., :wo] = g
    cols = _scratch_array(xp, (n, groups, k, ho * wp), g.dtype)
    xp.matmul(w, wide.reshape(n, groups, o // groups, ho * wp), out=cols)
    cols = cols.reshape(n, groups * k // (kernel[0] * kernel[1]), kernel[0], kernel[1], ho * wp)
    flat = xp.zeros((n, cols.shape[1], hp * wp + (kernel[1] - 1) * dilation[1]), g.dtype)
    for a in range(kernel[0]):
        for e in range(kernel[1]):
            start = a * dilation[0] * wp + e * dilation[1]
            flat[:, :, start:start + ho * wp] += cols[:, :, a, e]
    image = flat[:, :, :hp * wp].reshape(n, cols.shape[1], hp, wp)
    return image[:, :, t:t + size[0], l:l + size[1]]


# ----------------------------------------------------------------------------- primitives


# NOTE: a primitive: composed from padding, indexing and matmul the graph would hold every
# window, and each backward would scatter through them element by element.
@primitive(saves="inputs")
def _convolution(xp, x, weight, bias, stride, padding, dilation, groups):
    """y = conv(x, w) + b on (N, C, H, W);  dL/dx = conv_transpose(dL/dy, w),
    dL/dw = sum_n dL/dy[n] im2col(x)[n]^T,  dL/db = sum_{n,i,j} dL/dy."""
    return _conv_forward_batch(xp, x, weight, bias, stride, padding, dilation, groups)


def _convolution_vjp_input(xp, g, ans, x, weight, bias, stride, padding, dilation, groups):
    return _conv_transpose.on(xp, g, weight, None, size=x.shape[2:], stride=stride,
                              padding=padding, dilation=dilation, groups=groups)


def _convolution_vjp_weight(xp, g, ans, x, weight, bias, stride, padding, dilation, groups):
    return _convolution_backward_weight.on(xp, x, g, kernel=weight.shape[2:], stride=stride,
                                           padding=padding, dilation=dilation, groups=groups)


def _bias_vjp(xp, g, ans, x, weight, bias, *args, **params):
    return g.sum(axis=(0, 2, 3))


defvjp(_convolution, _convolution_vjp_input, _convolution_vjp_weight, _bias_vjp)
_convolution.name = "convolution"


def _cropped(y, like):
    """``y`` cut to the spatial size of ``like`` (a strided convolution's input can be one
    row or column larger than what reaches its output, through output_padding)."""
    if tuple(y.shape[2:]) == tuple(like.shape[2:]):
        return y
    return y[:, :, :like.shape[2], :like.shape[3]]


# NOTE: a primitive for the same reason as _convolution, whose input-gradient it is.
@primitive(saves="inputs")
def _conv_transpose(xp, x, weight, bias, size, stride, padding, dilation, groups):
    """y = conv_transpose(x, w) + b, the adjoint of a convolution with weight w (C_in,
    C_out/G, kH, kW);  dL/dx = conv(dL/dy, w),  dL/dw = weight-gradient of conv(dL/dy)
    with output gradient x,  dL/db = sum_{n,i,j} dL/dy."""
    out = _conv_input_grad_batch(xp, x, weight, size, stride, padding, dilation, groups)
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1)
    return out


def _conv_transpose_vjp_input(xp, g, ans, x, weight, bias, size, stride, padding, dilation,
                              groups):
    out = _convolution.on(xp, g, weight, None, stride=stride, padding=padding,
                          dilation=dilation, groups=groups)
    return _cropped(out, x)  # stride 1 with output_padding: one extra


def _conv_transpose_vjp_weight(xp, g, ans, x, weight, bias, size, stride, padding, dilation,
                               groups):
    return _convolution_backward_weight.on(xp, g, x, kernel=weight.shape[2:], stride=stride,
                                           padding=padding, dilation=dilation, groups=groups)


defvjp(_conv_transpose, _conv_transpose_vjp_input, _conv_transpose_vjp_weight, _bias_vjp)
_conv_transpose.name = "conv_transpose"


# NOTE: a primitive, so that a convolution's weight-gradient can itself be differentiated.
@primitive(saves="inputs")
def _convolution_backward_weight(xp, x, g, kernel, stride, padding, dilation, groups):
    """dL/dw[o, c, a, b] = sum_{n,i,j} g[n, o, i, j] x'[n, c, S i + D a, S j + D b], for the
    output gradient g of conv(x, w). Bilinear in x and g: with G the gradient of dL/dw,
    its VJPs are conv_transpose(g, G) for x and conv(x, G) for g."""
    return _conv_weight_grad_batch(xp, x, g, kernel, stride, padding, dilation, groups)


def _backward_weight_vjp_input(xp, G, ans, x, g, kernel, stride, padding, dilation, groups):
    return _conv_transpose.on(xp, g, G, None, size=x.shape[2:], stride=stride,
                              padding=padding, dilation=dilation, groups=groups)


def _backward_weight_vjp_grad(xp, G, ans, x, g, kernel, stride, padding, dilation, groups):
    out = _convolution.on(xp, x, G, None, stride=stride, padding=padding, dilation=dilation,
                          groups=groups)
    return _cropped(out, g)


defvjp(_convolution_backward_weight, _backward_weight_vjp_input, _backward_weight_vjp_grad)
_convolution_backward_weight.name = "convolution_backward_weight"


# ----------------------------------------------------------------------------- public functions


def _prepare(op: str, input: Tensor, weight: Tensor, bias, dims: int):
    """Check shapes and dtypes; return (input as (N, C, H, W), was_batched)."""
    if weight.ndim != dims + 2:
        raise ShapeError(f"{op}: weight must have {dims + 2} dimensions (out, in/groups, "
                         f"kernel...), got shape {tuple(weight.shape)}")
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(f"{op}: expected a {dims + 1}-d (unbatched) or {dims + 2}-d "
                         f"(batched) input, got shape {tuple(input.shape)}")
    _check_floating(op, input, weight, bias)
    batched = input.ndim == dims + 2
    if not batched:
        input = input.unsqueeze(0)
    if dims == 1:  # a 1-d convolution is a 2-d one on images of height 1
        input = input.unsqueeze(2)
    return input, batched


def _finish(out: Tensor, dims: int, batched: bool) -> Tensor:
    if dims == 1:
        out = out.squeeze(2)
    return out if batched else out.squeeze(0)


def _conv_args(op, dims, input, weight, bias, stride, padding, dilation, groups):
    """PyTorch's checks of a convolution's arguments; returns (input as (N, C, ...),
    was_batched, stride, ((before, after), ...) padding, dilation)."""
    x, batched = _prepare(op, input, weight, bias, dims)
    out_channels, cg = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    stride = _tuple(stride, dims, "stride", op)
    dilation = _tuple(dilation, dims, "dilation", op)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={stride}, "
                         f"dilation={dilation}")
    pads = _conv_padding(padding, kernel, dilation, stride, op)
    if groups < 1 or out_channels % groups:
        raise ShapeError(f"{op}: groups={groups} must be positive and divide the "
                         f"{out_channels} output channels of weight {tuple(weight.shape)}")
    if x.shape[1] != cg * groups:
        raise ShapeError(f"{op}: expected input with {cg * groups} channels (weight "
                         f"{tuple(weight.shape)}, groups={groups}), got input of shape "
                         f"{tuple(input.shape)}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias of shape {tuple(bias.shape)} does not match the "
                         f"{out_channels} output channels")
    spatial = tuple(input.shape[-dims:])
    padded = tuple(h + p0 + p1 for h, (p0, p1) in zip(spatial, pads, strict=True))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    if any(e > p for e, p in zip(extent, padded, strict=True)):
        raise ShapeError(f"{op}: kernel size {kernel} (dilated {extent}) is larger than the "
                         f"padded input size {padded} (input of shape {tuple(input.shape)})")
    return x, batched, stride, pads, dilation


def _convnd(op, dims, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x, batched, stride, pads, dilation = _conv_args(op, dims, input, weight, bias, stride,
                                                    padding, dilation, groups)
    if dims == 1:
        weight = weight.unsqueeze(2)
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    out = _convolution(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                       groups=groups)
    return _finish(out, dims, batched)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-d convolution (cross-correlation) over an input of shape (N, C_in, L).

    .. math:: y[n, o, i] = b[o] + \\sum_{c, k} w[o, c, k]\\, x'[n, c, S i + D k]

    with x' the zero-padded input and L_out = floor((L + 2P - D (K - 1) - 1) / S) + 1.

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_out, C_in / groups, K).
        bias: (C_out,) or None.
        stride: step between windows (int or 1-tuple).
        padding: int, ``"valid"`` (none), ``"same"`` (L_out = L; stride 1 only; the extra
            element on the right for even kernels) or ``(left, right)`` (ember extension).
        dilation: spacing between kernel taps.
        groups: split the channels into independent groups (``groups = C_in`` is a
            depthwise convolution).

    >>> import ember as em
    >>> x = em.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    >>> em.nn.functional.conv1d(x, em.tensor([[[1.0, 0.0, -1.0]]]))
    tensor([[[-2., -2.]]])
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-d convolution (cross-correlation, the kernel is not flipped) over (N, C_in, H, W).

    .. math:: y[n, o, i, j] = b[o] + \\sum_{c, a, b} w[o, c, a, b]\\,
              x'[n, c, S_h i + D_h a, S_w j + D_w b]

    with x' the zero-padded input and, per spatial dimension,
    H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride: step between windows (int or (sH, sW)).
        padding: int or (pH, pW) on both sides; ``"valid"`` (no padding); ``"same"``
            (H_out = H, stride 1 only: D (K - 1) in total, the extra row/column at the
            bottom/right for even kernels, as PyTorch); or ``(top, bottom, left, right)``
            for asymmetric zero padding (an ember extension).
        dilation: spacing between kernel taps (int or (dH, dW)).
        groups: split the channels into independent groups; ``groups = C_in`` with
            ``C_out = m C_in`` is a depthwise convolution.

    Example: the kernel [[-1, 0, 1]] * 3 on the patch [[1, 0, 2], [5, 4, 2], [3, 4, 5]]
    with bias 1 gives (2 - 1) + (2 - 5) + (5 - 3) + 1 = 1.

    >>> import ember as em
    >>> x = em.tensor([[[[1.0, 0.0, 2.0], [5.0, 4.0, 2.0], [3.0, 4.0, 5.0]]]])
    >>> w = em.tensor([[[[-1.0, 0.0, 1.0]] * 3]])
    >>> em.nn.functional.conv2d(x, w, em.tensor([1.0]))
    tensor([[[[1.]]]])
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _transpose_output_size(op, spatial, kernel, stride, padding, output_padding, dilation):
    size = []
    for h, k, s, p, op_, d in zip(spatial, kernel, stride, padding, output_padding, dilation,
                                  strict=True):
        if op_ >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                             f"either stride {stride} or dilation {dilation}")
        size.append((h - 1) * s - 2 * p + d * (k - 1) + op_ + 1)
    if any(h < 1 for h in size):
        raise ShapeError(f"{op}: the output size {tuple(size)} is too small (input "
                         f"{tuple(spatial)}, kernel {kernel}, stride {stride}, padding "
                         f"{padding})")
    return tuple(size)


def _conv_transpose_args(op, dims, input, weight, bias, stride, padding, output_padding,
                         groups, dilation):
    """PyTorch's checks of a transposed convolution's arguments; returns (input as (N, C,
    ...), was_batched, output size, stride, padding, dilation)."""
    x, batched = _prepare(op, input, weight, bias, dims)
    in_channels, out_per_group = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    stride = _tuple(stride, dims, "stride", op)
    dilation = _tuple(dilation, dims, "dilation", op)
    padding = _tuple(padding, dims, "padding", op)
    output_padding = _tuple(output_padding, dims, "output_padding", op)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation) or min(padding) < 0:
        raise ValueError(f"{op}: stride and dilation must be positive and padding "
                         f"non-negative, got stride={stride}, dilation={dilation}, "
                         f"padding={padding}")
    if groups < 1 or in_channels % groups:
        raise ShapeError(f"{op}: groups={groups} must be positive and divide the "
                         f"{in_channels} input channels of weight {tuple(weight.shape)}")
    if x.shape[1] != in_channels:
        raise ShapeError(f"{op}: expected input with {in_channels} channels (weight "
                         f"{tuple(weight.shape)}), got input of shape {tuple(input.shape)}")
    if bias is not None and tuple(bias.shape) != (out_per_group * groups,):
        raise ShapeError(f"{op}: bias of shape {tuple(bias.shape)} does not match the "
                         f"{out_per_group * groups} output channels")
    size = _transpose_output_size(op, tuple(input.shape[-dims:]), kernel, stride, padding,
                                  output_padding, dilation)
    return x, batched, size, stride, padding, dilation


def _conv_transposend(op, dims, input, weight, bias, stride, padding, output_padding, groups,
                      dilation) -> Tensor:
    x, batched, size, stride, padding, dilation = _conv_transpose_args(
        op, dims, input, weight, bias, stride, padding, output_padding, groups, dilation)
    pads = tuple((p, p) for p in padding)
    if dims == 1:
        weight = weight.unsqueeze(2)
        size, stride, dilation = (1,) + size, (1,) + stride, (1,) + dilation
        pads = ((0, 0),) + pads
    out = _conv_transpose(x, weight, bias, size=size, stride=stride, padding=pads,
                          dilation=dilation, groups=groups)
    return _finish(out, dims, batched)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-d transposed convolution: the gradient of conv1d with respect to its input.

    Each input element scatters ``x[n, c, i] * w[c, o, :]`` into the output starting at
    ``S i - P``; L_out = (L - 1) S - 2P + D (K - 1) + output_padding + 1.

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_in, C_out / groups, K) (note: in, then out).
        bias: (C_out,) or None.
        stride, padding, dilation, groups: as the convolution this is the transpose of.
        output_padding: extra size added to one side of the output (smaller than the
            stride or the dilation), to pick among the input sizes a strided conv maps
            to the same output size.

    >>> import ember as em
    >>> x = em.tensor([[[1.0, 2.0]]])
    >>> em.nn.functional.conv_transpose1d(x, em.tensor([[[1.0, 10.0]]]), stride=2)
    tensor([[[ 1., 10.,  2., 20.]]])
    """
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-d transposed convolution ("deconvolution"): the gradient of conv2d with respect
    to its input, used to upsample in decoders and GANs.

    .. math:: y[n, o, S i + D a - P, S j + D b - P] \\mathrel{+}= x[n, c, i, j]\\, w[c, o, a, b]

    H_out = (H - 1) S - 2P + D (K - 1) + output_padding + 1 (per spatial dimension).

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW) (note: in, then out).
        bias: (C_out,) or None.
        stride, padding, dilation, groups: as the convolution this is the transpose of.
        output_padding: extra rows/columns added at the bottom/right (smaller than the
            stride or the dilation).

    >>> import ember as em
    >>> x = em.ones(1, 1, 2, 2)
    >>> em.nn.functional.conv_transpose2d(x, em.ones(1, 1, 2, 2), stride=2).shape
    (1, 1, 4, 4)
    """
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)
