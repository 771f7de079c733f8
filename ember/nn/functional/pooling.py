"""Pooling: max and average over sliding windows, and adaptive pooling to a fixed size.

Every window of a pooling layer is a strided *view* of the (padded) input, one per kernel
offset (a, b): ``x'[:, :, a D :: S, b D :: S]``. Pooling is then a loop over the kH kW
offsets of whole-array ``maximum`` or ``+`` (never over pixels or batch items), and a
non-overlapping 2x2 pool (stride = kernel) reads the input in place, without a copy.

Output size (PyTorch's rule): H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1, or with
``ceil_mode`` the ceiling, dropping a last window that would start in the right padding.

Max pooling sends each window's gradient to ONE element, the first maximum in row-major
order, even when several tie (zeros after a ReLU), exactly as PyTorch; ``return_indices``
gives that element's flat index in the (unpadded) H W plane.
"""

from __future__ import annotations

import numpy as np

from ember import creation
from ember.autograd.primitives import defvjp, primitive
from ember.errors import ShapeError
from ember.nn.functional.windows import _pad2d, _tuple
from ember.ops.shape import gather
from ember.parallel import map_batch
from ember.tensor import Tensor

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
]


# ----------------------------------------------------------------------------- geometry


def _pool_size(op, size, kernel, stride, padding, dilation, ceil_mode) -> tuple:
    """Output size per spatial dimension, with PyTorch's checks."""
    out = []
    for h, k, s, p, d in zip(size, kernel, stride, padding, dilation, strict=True):
        if k < 1 or s < 1 or d < 1 or p < 0:
            raise ValueError(f"{op}: kernel_size, stride and dilation must be positive and "
                             f"padding non-negative, got kernel_size={kernel}, "
                             f"stride={stride}, padding={padding}, dilation={dilation}")
        if p > k // 2:
            raise ValueError(f"{op}: pad should be at most half of kernel size, but got "
                             f"padding={padding} and kernel_size={kernel}")
        span = h + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
        n = span // s + 1
        if ceil_mode and (n - 1) * s >= h + p:  # the last window must start inside
            n -= 1
        out.append(n)
    if any(n < 1 for n in out):
        raise ShapeError(f"{op}: input of spatial size {tuple(size)} is too small for "
                         f"kernel_size={kernel}, stride={stride}, padding={padding}, "
                         f"dilation={dilation} (output size {tuple(out)})")
    return tuple(out)


def _padded(xp, x, kernel, stride, padding, dilation, out_size, value):
    """x padded (or cropped) to exactly the rows and columns the windows read."""
    pads = []
    for h, k, s, p, d, n in zip(x.shape[2:], kernel, stride, padding, dilation, out_size,
                                strict=True):
        pads.append((p, (n - 1) * s + d * (k - 1) + 1 - h - p))
    return _pad2d(xp, x, tuple(pads), value)


def _offsets(kernel, stride, dilation, out_size):
    """(a, b, index) for each kernel offset: ``x'[index]`` is that offset's (N, C, H_out,
    W_out) view of every window."""
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            top, left = a * dilation[0], b * dilation[1]
            yield a, b, (slice(None), slice(None),
                         slice(top, top + (out_size[0] - 1) * stride[0] + 1, stride[0]),
                         slice(left, left + (out_size[1] - 1) * stride[1] + 1, stride[1]))


def _tiles(kernel, stride, padding, dilation) -> bool:
    """Whether windows never overlap (stride >= kernel, no dilation, no padding)."""
    return (padding == (0, 0) and dilation == (1, 1)
            and all(s >= k for s, k in zip(stride, kernel, strict=True)))


# ----------------------------------------------------------------------------- max pooling


def _lowest(xp, dtype):
    return -xp.inf if xp.dtype(dtype).kind == "f" else xp.iinfo(dtype).min


# NOTE: a primitive: PyTorch routes each window's gradient to its first maximum, which no
# composition of max and indexing does; and one node instead of one per kernel offset.
@primitive(saves="all")
def _max_pool(xp, x, kernel, stride, padding, dilation, out_size):
    """y = max over each window of the -inf padded input;
    dL/dx = dL/dy at each window's first maximum (row-major order), 0 elsewhere."""
    xpad = _padded(xp, x, kernel, stride, padding, dilation, out_size, _lowest(xp, x.dtype))
    out = xp.empty(x.shape[:2] + tuple(out_size), x.dtype)
    offsets = [index for _, _, index in _offsets(kernel, stride, dilation, out_size)]

    def piece(s):  # a slice of the batch
        xs, ys = xpad[s], out[s]
        xp.copyto(ys, xs[offsets[0]])
        for index in offsets[1:]:
            xp.maximum(ys, xs[index], out=ys)

    map_batch(piece, x.shape[0], x.size + out.size * len(offsets))
    return out


def _first_hits(xp, views, ans):
    """For each view (one per window offset, in row-major order), mark the windows whose
    first maximum is at that offset: each window gets exactly one hit (for a window
    whose maximum is NaN, its first NaN)."""
    free = xp.ones(ans.shape, dtype=bool)
    nan = xp.isnan(ans) if ans.dtype.kind == "f" else None
    nan = nan if nan is not None and nan.any() else None
    for view in views:
        hit = view == ans
        if nan is not None:
            hit |= nan & xp.isnan(view)
        hit &= free
        free &= ~hit
        yield hit


def _first_maxima(xp, x, ans, kernel, stride, padding, dilation):
    """(a, b, index, hit) per kernel offset: ``x'[index]`` is the offset's view and
    ``hit`` marks the windows whose first maximum sits there."""
    out_size = ans.shape[2:]
    xpad = _padded(xp, x, kernel, stride, padding, dilation, out_size, _lowest(xp, x.dtype))
    offsets = list(_offsets(kernel, stride, dilation, out_size))
    hits = _first_hits(xp, (xpad[index] for _, _, index in offsets), ans)
    for (a, b, index), hit in zip(offsets, hits, strict=True):
        yield a, b, index, hit


def _grad_buffer(xp, shape, g, kernel, stride, padding, dilation, out_size):
    """Zeros covering the padded input (of ``shape``) and every window (``empty`` where the
    windows tile the input exactly, so that every element is written once); and whether
    they tile."""
    h, w = shape[2:]
    rows, cols = ((n - 1) * s + d * (k - 1) + 1 for n, s, d, k in
                  zip(out_size, stride, dilation, kernel, strict=True))
    padded = tuple(shape[:2]) + (max(rows, h + padding[0]), max(cols, w + padding[1]))
    tiles = _tiles(kernel, stride, padding, dilation)
    exact = tiles and stride == kernel and (rows, cols) == (h, w)
    return (xp.empty if exact else xp.zeros)(padded, g.dtype), tiles


def _max_pool_vjp(xp, g, ans, x, kernel, stride, padding, dilation, out_size):
    return _max_pool_backward.on(xp, g, x, ans, kernel=kernel, stride=stride,
                                 padding=padding, dilation=dilation, out_size=out_size)


defvjp(_max_pool, _max_pool_vjp)
_max_pool.name = "max_pool"


# NOTE: a primitive, so that max pooling's gradient can itself be differentiated.
@primitive(saves="inputs")
def _max_pool_backward(xp, g, x, ans, kernel, stride, padding, dilation, out_size):
    """dL/dx: each window's dL/dy sent to its first maximum (row-major order), 0 elsewhere.
    Linear in g, and piecewise constant in x: its VJP gathers the incoming gradient at
    those same maxima (``return_indices``), and is 0 for x."""
    grad, tiles = _grad_buffer(xp, x.shape, g, kernel, stride, padding, dilation, out_size)

    def piece(s):  # a slice of the batch
        gs, into = g[s], grad[s]
        for _, _, index, hit in _first_maxima(xp, x[s], ans[s], kernel, stride, padding,
                                              dilation):
            if tiles:  # each input element is in at most one window: write, do not add
                xp.multiply(gs, hit, out=into[index])
            else:
                into[index] += gs * hit

    map_batch(piece, x.shape[0], 2 * x.size + 3 * g.size * kernel[0] * kernel[1])
    h, w = x.shape[2:]
    return grad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]


def _gather_at(xp, G, indices):
    """G (N, C, H, W) read at flat indices (N, C, H_out, W_out) into its H W plane."""
    n, c = indices.shape[:2]
    flat = gather.on(xp, G.reshape(n, c, -1), indices.reshape(n, c, -1), axis=2)
    return flat.reshape(indices.shape)


def _max_pool_backward_vjp(xp, G, ans, g, x, pooled, kernel, stride, padding, dilation,
                           out_size):
    indices = _max_pool_indices.on(xp, x, pooled, kernel=kernel, stride=stride,
                                   padding=padding, dilation=dilation)
    return _gather_at(xp, G, indices)


def _constant_in(xp, *args, **params):
    """The VJP for an input on which the output depends piecewise constantly: none."""
    return None


defvjp(_max_pool_backward, _max_pool_backward_vjp, _constant_in, _constant_in)
_max_pool_backward.name = "max_pool_backward"


@primitive(differentiable=False)
def _max_pool_indices(xp, x, ans, kernel, stride, padding, dilation):
    """The flat index (into the unpadded H x W plane) of each window's first maximum."""
    width = x.shape[3]
    rows = xp.arange(ans.shape[2]) * stride[0] - padding[0]
    cols = xp.arange(ans.shape[3]) * stride[1] - padding[1]
    base = rows[:, None] * width + cols[None, :]
    indices = xp.zeros(ans.shape, dtype=xp.int64)
    for a, b, _, hit in _first_maxima(xp, x, ans, kernel, stride, padding, dilation):
        xp.copyto(indices, base + (a * dilation[0] * width + b * dilation[1]), where=hit)
    return indices


def _as_4d(op: str, input: Tensor, dims: int):
    """input as (N, C, H, W): adds the batch (unbatched input) and, for 1-d, H = 1."""
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(f"{op}: expected a {dims + 1}-d (unbatched) or {dims + 2}-d "
                         f"(batched) input, got shape {tuple(input.shape)}")
    batched = input.ndim == dims + 2
    x = input if batched else input.unsqueeze(0)
    if dims == 1:
        x = x.unsqueeze(2)
    return x, batched


def _from_4d(out: Tensor, dims: int, batched: bool) -> Tensor:
    if dims == 1:
        out = out.squeeze(2)
    return out if batched else out.squeeze(0)


def _max_poolnd(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode,
                return_indices):
    x, batched = _as_4d(op, input, dims)
    kernel = _tuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else _tuple(stride, dims, "stride", op)
    padding = _tuple(padding, dims, "padding", op)
    dilation = _tuple(dilation, dims, "dilation", op)
    out_size = _pool_size(op, tuple(input.shape[-dims:]), kernel, stride, padding, dilation,
                          ceil_mode)
    if dims == 1:
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                             (1,) + dilation)
        out_size = (1,) + out_size
    params = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    out = _max_pool(x, out_size=out_size, **params)
    if not return_indices:
        return _from_4d(out, dims, batched)
    indices = _max_pool_indices(x, out, **params)
    return _from_4d(out, dims, batched), _from_4d(indices, dims, batched)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """1-d max pooling: y[n, c, i] = max_k x'[n, c, S i + D k - P] over (N, C, L).

    Args and output size as :func:`max_pool2d`, with one spatial dimension.

    >>> import ember as em
    >>> em.nn.functional.max_pool1d(em.tensor([[[1.0, 3.0, 2.0, 0.0, 5.0]]]), 2)
    tensor([[[3., 2.]]])
    """
    return _max_poolnd("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-d max pooling: the largest value in each window.

    .. math:: y[n, c, i, j] = \\max_{a, b} x'[n, c, S_h i + D_h a - P_h, S_w j + D_w b - P_w]

    with x' padded by -inf, so padding never wins. Per spatial dimension
    H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1 (ceiling with ``ceil_mode``).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size: window size (int or (kH, kW)).
        stride: step between windows; default ``kernel_size`` (non-overlapping).
        padding: implicit -inf padding on both sides, at most half the kernel.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (partial windows at the end).
        return_indices: also return the flat index (into H W) of each window's first
            maximum, the element that receives the gradient (as PyTorch).

    >>> import ember as em
    >>> x = em.tensor([[[[1.0, 2.0, 0.0, 1.0], [4.0, 3.0, 1.0, 0.0]]]])
    >>> em.nn.functional.max_pool2d(x, 2)
    tensor([[[[4., 1.]]]])
    >>> em.nn.functional.max_pool2d(x, 2, return_indices=True)[1]
    tensor([[[[4, 3]]]])
    """
    return _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """:func:`max_pool1d` returning ``(output, indices)``."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """:func:`max_pool2d` returning ``(output, indices)``."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ----------------------------------------------------------------------------- average pooling


def _divisor(xp, divisor, dtype):
    if isinstance(divisor, int):
        return divisor
    rows, cols = divisor
    return xp.multiply.outer(xp.asarray(rows, dtype=dtype), xp.asarray(cols, dtype=dtype))


# NOTE: a primitive: one node and one loop over the kernel offsets, forward and backward,
# instead of a graph node per offset.
@primitive(saves="none")
def _avg_pool(xp, x, kernel, stride, padding, out_size, divisor):
    """y = (sum over each zero-padded window) / divisor;
    dL/dx = sum over the windows containing x of dL/dy / divisor."""
    dilation = (1, 1)
    xpad = _padded(xp, x, kernel, stride, padding, dilation, out_size, 0)
    out = None
    for _, _, index in _offsets(kernel, stride, dilation, out_size):
        out = xpad[index].copy() if out is None else xp.add(out, xpad[index], out=out)
    out /= _divisor(xp, divisor, x.dtype)
    return out


defvjp(_avg_pool, lambda xp, g, ans, x, kernel, stride, padding, out_size, divisor:
       _avg_pool_backward.on(xp, g, shape=x.shape, kernel=kernel, stride=stride,
                             padding=padding, out_size=out_size, divisor=divisor))
_avg_pool.name = "avg_pool"


# NOTE: a primitive, the adjoint of _avg_pool (whose own adjoint is _avg_pool again).
@primitive(saves="none")
def _avg_pool_backward(xp, g, shape, kernel, stride, padding, out_size, divisor):
    """dL/dx of average pooling: each element receives the sum of dL/dy / divisor over
    the windows containing it;  VJP: average pooling of the incoming gradient."""
    dilation = (1, 1)
    g = g / _divisor(xp, divisor, g.dtype)
    grad, tiles = _grad_buffer(xp, shape, g, kernel, stride, padding, dilation, out_size)
    for _, _, index in _offsets(kernel, stride, dilation, out_size):
        if tiles:
            grad[index] = g
        else:
            grad[index] += g
    h, w = shape[2:]
    return grad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]


defvjp(_avg_pool_backward, lambda xp, G, ans, g, shape, kernel, stride, padding, out_size,
       divisor: _avg_pool.on(xp, G, kernel=kernel, stride=stride, padding=padding,
                             out_size=out_size, divisor=divisor))
_avg_pool_backward.name = "avg_pool_backward"


def _window_counts(size, kernel, stride, padding, n_out, include_pad) -> tuple:
    """How many elements each window covers along one dimension (PyTorch's divisor)."""
    counts = []
    for i in range(n_out):
        start = i * stride - padding
        end = min(start + kernel, size + padding)
        if not include_pad:
            start, end = max(start, 0), min(end, size)
        counts.append(end - start)
    return tuple(counts)


def _avg_poolnd(op, dims, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    x, batched = _as_4d(op, input, dims)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point input, got {x.dtype}")
    kernel = _tuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else _tuple(stride, dims, "stride", op)
    padding = _tuple(padding, dims, "padding", op)
    spatial = tuple(input.shape[-dims:])
    out_size = _pool_size(op, spatial, kernel, stride, padding, (1,) * dims, ceil_mode)
    if dims == 1:
        kernel, stride, padding = (1,) + kernel, (1,) + stride, (0,) + padding
        out_size, spatial = (1,) + out_size, (1,) + spatial
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        divisor = int(divisor_override)
    else:
        divisor = tuple(_window_counts(*args, count_include_pad) for args in
                        zip(spatial, kernel, stride, padding, out_size, strict=True))
    out = _avg_pool(x, kernel=kernel, stride=stride, padding=padding, out_size=out_size,
                    divisor=divisor)
    return _from_4d(out, dims, batched)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-d average pooling over (N, C, L); arguments as :func:`avg_pool2d`.

    >>> import ember as em
    >>> em.nn.functional.avg_pool1d(em.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    return _avg_poolnd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-d average pooling: the mean of each window.

    .. math:: y[n, c, i, j] = \\frac{1}{|w_{ij}|} \\sum_{a, b} x'[n, c, S_h i + a - P_h,
              S_w j + b - P_w]

    with x' zero-padded. The divisor |w_ij| is the window's size clipped to the padded
    input (``count_include_pad=True``), or the number of real (non-padding) elements
    (``False``), or ``divisor_override``. Output size as :func:`max_pool2d` (no dilation).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size: window size (int or (kH, kW)).
        stride: step between windows; default ``kernel_size``.
        padding: implicit zero padding on both sides, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count the padding zeros in the divisor.
        divisor_override: divide every window sum by this instead.

    >>> import ember as em
    >>> x = em.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    >>> em.nn.functional.avg_pool2d(x, 2)
    tensor([[[[3.]]]])
    """
    return _avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


# ----------------------------------------------------------------------------- adaptive pooling


def _adaptive_output(op, input: Tensor, output_size, dims) -> tuple:
    size = (output_size,) * dims if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(size) != dims:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {dims}, "
                         f"got {output_size!r}")
    spatial = tuple(input.shape[-dims:])
    size = tuple(h if s is None else int(s) for s, h in zip(size, spatial, strict=True))
    if any(s < 1 for s in size) or any(h < 1 for h in spatial):
        raise ValueError(f"{op}: output_size {size} and input of shape {tuple(input.shape)} "
                         "must be positive")
    return size


def _bins(n_in: int, n_out: int):
    """PyTorch's adaptive bins: start = floor(i In / Out), end = ceil((i + 1) In / Out)."""
    i = np.arange(n_out)
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)


def _bin_average(n_in: int, n_out: int) -> np.ndarray:
    """The (Out, In) matrix that averages each bin."""
    start, end = _bins(n_in, n_out)
    columns = np.arange(n_in)
    inside = (columns >= start[:, None]) & (columns < end[:, None])
    return inside / (end - start)[:, None]


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average over L_out bins of (N, C, L): bin i is [floor(i L / L_out),
    ceil((i + 1) L / L_out)), so bins may overlap when L_out does not divide L.

    >>> import ember as em
    >>> em.nn.functional.adaptive_avg_pool1d(em.tensor([[[1.0, 2.0, 3.0]]]), 2)
    tensor([[[1.5000, 2.5000]]])
    """
    (size,) = _adaptive_output("adaptive_avg_pool1d", input, output_size, 1)
    length = input.shape[-1]
    if length % size == 0:
        return avg_pool1d(input, length // size)
    matrix = creation.tensor(_bin_average(length, size).T, dtype=input.dtype)
    return input @ matrix


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over (H_out, W_out) bins of (N, C, H, W), whatever the input size.

    Bins along each dimension are [floor(i H / H_out), ceil((i + 1) H / H_out)) (PyTorch's
    rule); ``output_size`` is an int, a pair, or has None to keep that dimension.
    Computed as ``A_h @ x @ A_w^T`` with bin-averaging matrices (or an ``avg_pool2d``
    when the sizes divide), so its gradient needs no code of its own.

    >>> import ember as em
    >>> em.nn.functional.adaptive_avg_pool2d(em.ones(2, 3, 7, 5), (2, 3)).shape
    (2, 3, 2, 3)
    >>> em.nn.functional.adaptive_avg_pool2d(em.tensor([[[[1.0, 2.0], [3.0, 6.0]]]]), 1)
    tensor([[[[3.]]]])
    """
    size = _adaptive_output("adaptive_avg_pool2d", input, output_size, 2)
    spatial = tuple(input.shape[-2:])
    if spatial[0] % size[0] == 0 and spatial[1] % size[1] == 0:
        return avg_pool2d(input, (spatial[0] // size[0], spatial[1] // size[1]))
    rows = creation.tensor(_bin_average(spatial[0], size[0]), dtype=input.dtype)
    cols = creation.tensor(_bin_average(spatial[1], size[1]).T, dtype=input.dtype)
    return rows @ input @ cols


def _bin_index(n_in: int, n_out: int) -> np.ndarray:
    """(Out, K) input positions of each bin, the short bins padded with their last element
    (a repeat never changes the maximum, nor which element is the first one)."""
    start, end = _bins(n_in, n_out)
    width = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(width), end[:, None] - 1)


# NOTE: a primitive for the same reason as _max_pool: one gradient per bin, to its first max.
@primitive(saves="all")
def _adaptive_max(xp, x, rows, cols):
    """y = max over each bin x[rows[i], cols[j]];  dL/dx = dL/dy at each bin's first max."""
    rows, cols = xp.asarray(rows), xp.asarray(cols)
    windows = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, Ho, Kh, Wo, Kw)
    out = None
    for a in range(rows.shape[1]):
        for b in range(cols.shape[1]):
            view = windows[:, :, :, a, :, b]
            out = view.copy() if out is None else xp.maximum(out, view, out=out)
    return out


def _adaptive_hits(xp, x, ans, rows, cols):
    """(row index, column index, hit) per bin offset, one hit per bin (the first max)."""
    rows, cols = xp.asarray(rows), xp.asarray(cols)
    windows = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]
    offsets = [(a, b) for a in range(rows.shape[1]) for b in range(cols.shape[1])]
    hits = _first_hits(xp, (windows[:, :, :, a, :, b] for a, b in offsets), ans)
    for (a, b), hit in zip(offsets, hits, strict=True):
        yield rows[:, a], cols[:, b], hit


defvjp(_adaptive_max, lambda xp, g, ans, x, rows, cols: _adaptive_max_backward.on(
    xp, g, x, ans, rows=rows, cols=cols))
_adaptive_max.name = "adaptive_max_pool"


# NOTE: a primitive, so that adaptive max pooling's gradient can itself be differentiated.
@primitive(saves="inputs")
def _adaptive_max_backward(xp, g, x, ans, rows, cols):
    """dL/dx: each bin's dL/dy sent to its first maximum;  VJP: the incoming gradient
    gathered at those maxima (0 for x, on which it depends piecewise constantly)."""
    grad = xp.zeros(x.shape, g.dtype)
    for r, c, hit in _adaptive_hits(xp, x, ans, rows, cols):
        xp.add.at(grad, (slice(None), slice(None), r[:, None], c[None, :]), g * hit)
    return grad


defvjp(_adaptive_max_backward, lambda xp, G, ans, g, x, pooled, rows, cols: _gather_at(
    xp, G, _adaptive_max_indices.on(xp, x, pooled, rows=rows, cols=cols)),
       _constant_in, _constant_in)
_adaptive_max_backward.name = "adaptive_max_pool_backward"


@primitive(differentiable=False)
def _adaptive_max_indices(xp, x, ans, rows, cols):
    """Flat index (into H x W) of each bin's first maximum."""
    indices = xp.zeros(ans.shape, dtype=xp.int64)
    for r, c, hit in _adaptive_hits(xp, x, ans, rows, cols):
        xp.copyto(indices, r[:, None] * x.shape[3] + c[None, :], where=hit)
    return indices


def _adaptive_maxnd(op, dims, input, output_size, return_indices):
    size = _adaptive_output(op, input, output_size, dims)
    spatial = tuple(input.shape[-dims:])
    if all(h % s == 0 for h, s in zip(spatial, size, strict=True)):  # plain pooling
        kernel = tuple(h // s for h, s in zip(spatial, size, strict=True))
        pool = max_pool1d if dims == 1 else max_pool2d
        return pool(input, kernel, return_indices=return_indices)
    x, batched = _as_4d(op, input, dims)
    spatial, size = (1,) * (2 - dims) + spatial, (1,) * (2 - dims) + size
    rows, cols = _bin_index(spatial[0], size[0]), _bin_index(spatial[1], size[1])
    out = _adaptive_max(x, rows=rows, cols=cols)
    if not return_indices:
        return _from_4d(out, dims, batched)
    indices = _adaptive_max_indices(x, out, rows=rows, cols=cols)
    return _from_4d(out, dims, batched), _from_4d(indices, dims, batched)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over L_out bins of (N, C, L) (bins as :func:`adaptive_avg_pool1d`).

    >>> import ember as em
    >>> em.nn.functional.adaptive_max_pool1d(em.tensor([[[1.0, 5.0, 3.0]]]), 2)
    tensor([[[5., 5.]]])
    """
    return _adaptive_maxnd("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over (H_out, W_out) bins of (N, C, H, W) (bins as
    :func:`adaptive_avg_pool2d`); ``return_indices`` gives each bin's first maximum as a
    flat index into H W. The gradient goes to that one element, as in PyTorch.

    >>> import ember as em
    >>> x = em.tensor([[[[1.0, 2.0, 0.0], [4.0, 3.0, 5.0]]]])
    >>> em.nn.functional.adaptive_max_pool2d(x, (1, 2))
    tensor([[[[4., 5.]]]])
    """
    return _adaptive_maxnd("adaptive_max_pool2d", 2, input, output_size, return_indices)
