"""Sliding windows: the helpers that convolution, pooling and unfold/fold all use.

Argument parsing (``_tuple``), the output-size rule, zero/constant padding that also
crops, strided window views, and im2col/col2im with their reused scratch buffer.

A window of a (padded) image is a strided *view*: for a kernel offset (a, b), every
window's element at that offset is ``x'[:, :, a D :: S, b D :: S]`` (no copy), and all
windows at once are one ``as_strided`` view (N, C, kH, kW, H_out, W_out). im2col copies
that view once, as columns, so a convolution is one matrix product; col2im, its
adjoint, adds each column entry back to its pixel, one strided add per kernel offset.
The columns are kH kW times the image: their buffer is reused from call to call
(``_scratch_array``), so the largest one a model needs stays allocated.
"""

from __future__ import annotations

import math
import threading

# ----------------------------------------------------------------------------- arguments and sizes


def _tuple(value, n: int, name: str, op: str) -> tuple:
    """``value`` as a tuple of ``n`` non-negative ints (an int is repeated)."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, int):
        value = (value,) * n
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, "
                        f"got {value!r}") from None
    if len(value) == 1 and n > 1:
        value = value * n
    if len(value) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value}")
    return value


def _output_size(size, kernel, stride, padding, dilation) -> tuple:
    """floor((H + P_before + P_after - D (K - 1) - 1) / S) + 1 per spatial dimension."""
    return tuple((h + p0 + p1 - d * (k - 1) - 1) // s + 1 for h, k, s, (p0, p1), d in
                 zip(size, kernel, stride, padding, dilation, strict=True))



# ----------------------------------------------------------------------------- im2col


class _Scratch(threading.local):
    buffers: dict | None = None


_scratch = _Scratch()


def _scratch_array(xp, shape, dtype):
    """An uninitialised array reused from call to call (per thread and dtype).

    im2col's columns are the largest array a convolution touches and live only for one
    matrix product. A fresh one costs page faults on every call (more than the copy into
    it), so the memory is kept, as PyTorch's caching allocator does.
    """
    if _scratch.buffers is None:
        _scratch.buffers = {}
    key = (xp.__name__, xp.dtype(dtype).str)
    size = math.prod(shape)
    buffer = _scratch.buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = xp.empty(size, dtype)
        _scratch.buffers[key] = buffer
    return buffer[:size].reshape(shape)


def _pad2d(xp, x, padding, value=0.0):
    """x (N, C, H, W) padded by ((top, bottom), (left, right)); a negative amount crops."""
    (t, b), (l, r) = padding
    if t == b == l == r == 0:
        return x
    h, w = x.shape[2], x.shape[3]
    x = x[:, :, max(-t, 0):h - max(-b, 0), max(-l, 0):w - max(-r, 0)]
    t, b, l, r = max(t, 0), max(b, 0), max(l, 0), max(r, 0)
    if t == b == l == r == 0:
        return x
    shape = x.shape[:2] + (x.shape[2] + t + b, x.shape[3] + l + r)
    out = xp.zeros(shape, x.dtype) if value == 0 else xp.full(shape, value, x.dtype)
    out[:, :, t:t + x.shape[2], l:l + x.shape[3]] = x
    return out


def _windows(xp, x, kernel, stride, dilation, out_size):
    """A strided view (N, C, kH, kW, H_out, W_out): view[n, c, a, b, i, j] =
    x[n, c, S i + D a, S j + D b] (no copy; x must already be padded)."""
    sn, sc, sh, sw = x.strides
    shape = x.shape[:2] + tuple(kernel) + tuple(out_size)
    strides = (sn, sc, dilation[0] * sh, dilation[1] * sw, stride[0] * sh, stride[1] * sw)
    return xp.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def _im2col(xp, x, kernel, stride, padding, dilation, out_size, scratch=True):
    """The columns (N, C, kH, kW, H_out, W_out) of x: one copy of every window.

    ``scratch`` puts them in the reused buffer (only for a result consumed at once).
    """
    if kernel == (1, 1) and padding == ((0, 0), (0, 0)) and scratch:
        # a 1x1 kernel's columns are x itself (subsampled by the stride): no copy needed
        view = x[:, :, ::stride[0], ::stride[1]][:, :, :out_size[0], :out_size[1]]
        return view.reshape(x.shape[:2] + (1, 1) + tuple(out_size))
    view = _windows(xp, _pad2d(xp, x, padding), kernel, stride, dilation, out_size)
    cols = _scratch_array(xp, view.shape, x.dtype) if scratch else xp.empty(view.shape, x.dtype)
    xp.copyto(cols, view)
    return cols


def _im2col_rows(xp, x, kernel, padding, dilation, out_size):
    """Stride-1 columns (N, C, kH, kW, H_out Wp) over whole padded rows of width Wp.

    Flattened, the window at offset (a, b) is one contiguous run starting at a D Wp + b D,
    so the copy moves long runs; the Wp - W_out extra columns of each row are garbage,
    dropped from the product (forward) or met by zero gradients (backward).
    """
    (t, b), (l, r) = padding
    h, w = x.shape[2:]
    x = x[:, :, max(-t, 0):h - max(-b, 0), max(-l, 0):w - max(-r, 0)]  # negative: crop
    # a new contiguous array (rows back to back) with one more zero row, into which the
    # last run overruns
    xpad = _pad2d(xp, x, ((max(t, 0), max(b, 0) + 1), (max(l, 0), max(r, 0))))
    sn, sc, sh, sw = xpad.strides
    width = xpad.shape[3]
    shape = xpad.shape[:2] + tuple(kernel) + (out_size[0] * width,)
    view = xp.lib.stride_tricks.as_strided(
        xpad, shape, (sn, sc, dilation[0] * sh, dilation[1] * sw, sw), writeable=False)
    cols = _scratch_array(xp, shape, x.dtype)
    xp.copyto(cols, view)
    return cols, width


def _col2im(xp, cols, size, stride, padding, dilation):
    """The adjoint of im2col: each column entry is added back to the pixel it came from.

    cols (N, C, kH, kW, H_out, W_out) -> (N, C, H, W); a loop over the kernel offsets,
    each one strided add of a whole (N, C, H_out, W_out) block.
    """
    n, c, kh, kw, ho, wo = cols.shape
    (t, b), (l, r) = padding
    out = xp.zeros((n, c, size[0] + t + b, size[1] + l + r), cols.dtype)
    for a in range(kh):
        for e in range(kw):
            top, left = a * dilation[0], e * dilation[1]
            out[:, :, top:top + stride[0] * (ho - 1) + 1:stride[0],
                left:left + stride[1] * (wo - 1) + 1:stride[1]] += cols[:, :, a, e]
    return out[:, :, t:t + size[0], l:l + size[1]]
