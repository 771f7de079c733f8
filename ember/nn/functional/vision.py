"""Images as columns and back (``unfold`` and ``fold``: im2col and col2im, from
:mod:`ember.nn.functional.windows`, which convolution is built on), and resampling
(``interpolate``: nearest, linear, bilinear, bicubic, trilinear, area).

Interpolation is separable: resizing an image is resizing its rows, then its columns.
Along one axis every mode is a fixed (Out, In) matrix A (nearest picks one input, linear
mixes two, cubic four), so ``y = A_h @ x @ A_w^T`` and its gradient
``A_h^T @ dL/dy @ A_w`` come from two matrix products. The matrices follow PyTorch's
source-index rules exactly, computed in the input's precision as PyTorch does:

* ``align_corners=False``: src = (dst + 0.5) * In/Out - 0.5 (pixel centres line up);
* ``align_corners=True``: src = dst * (In - 1)/(Out - 1) (corner pixels line up);
* nearest: src = floor(dst * In/Out).
"""

from __future__ import annotations

import math

import numpy as np

from ember import creation
from ember.autograd.primitives import defvjp, primitive
from ember.nn.functional.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from ember.nn.functional.volumetric import adaptive_avg_pool3d
from ember.nn.functional.windows import _col2im, _im2col, _output_size, _tuple
from ember.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "unfold",
           "fold"]


# ----------------------------------------------------------------------------- unfold / fold


@primitive(saves="none")
def _unfold(xp, x, kernel, stride, padding, dilation, out_size):
    """Sliding blocks as columns (im2col);  VJP: col2im (each entry added back)."""
    n, c = x.shape[:2]
    cols = _im2col(xp, x, kernel, stride, padding, dilation, out_size, scratch=False)
    return cols.reshape(n, c * kernel[0] * kernel[1], out_size[0] * out_size[1])


defvjp(_unfold, lambda xp, g, ans, x, kernel, stride, padding, dilation, out_size: _fold.on(
    xp, g, size=tuple(x.shape[2:]), kernel=kernel, stride=stride, padding=padding,
    dilation=dilation, out_size=out_size))
_unfold.name = "unfold"


@primitive(saves="none")
def _fold(xp, cols, size, kernel, stride, padding, dilation, out_size):
    """Columns summed back into an image (col2im);  VJP: im2col."""
    n, c = cols.shape[0], cols.shape[1] // (kernel[0] * kernel[1])
    blocks = cols.reshape((n, c) + tuple(kernel) + tuple(out_size))
    return _col2im(xp, blocks, size, stride, padding, dilation)


defvjp(_fold, lambda xp, g, ans, cols, size, kernel, stride, padding, dilation, out_size:
       _unfold.on(xp, g, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                  out_size=out_size))
_fold.name = "fold"


def _block_args(op, kernel_size, dilation, padding, stride):
    kernel = _tuple(kernel_size, 2, "kernel_size", op)
    dilation = _tuple(dilation, 2, "dilation", op)
    padding = _tuple(padding, 2, "padding", op)
    stride = _tuple(stride, 2, "stride", op)
    if min(kernel + dilation + stride) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size, dilation and stride must be positive and "
                         f"padding non-negative, got kernel_size={kernel}, dilation="
                         f"{dilation}, padding={padding}, stride={stride}")
    return kernel, dilation, ((padding[0],) * 2, (padding[1],) * 2), stride


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks (im2col): (N, C, H, W) -> (N, C kH kW, L).

    Column l holds the block at output position l = i W_out + j, flattened channel by
    channel, then row by row: ``out[n, (c, a, b), l] = x'[n, c, S i + D a, S j + D b]``,
    L = H_out W_out with H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1. A convolution
    is ``w.view(O, -1) @ unfold(x)``.

    >>> import ember as em
    >>> x = em.arange(9.0).reshape(1, 1, 3, 3)
    >>> em.nn.functional.unfold(x, 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    kernel, dilation, padding, stride = _block_args("unfold", kernel_size, dilation, padding,
                                                    stride)
    if input.ndim not in (3, 4):
        raise ValueError(f"unfold: expected a 3-d (unbatched) or 4-d input, got shape "
                         f"{tuple(input.shape)}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    out_size = _output_size(x.shape[2:], kernel, stride, padding, dilation)
    if min(out_size) < 1:
        raise ValueError(f"unfold: kernel_size={kernel} (dilation {dilation}) does not fit in "
                         f"the padded input of shape {tuple(input.shape)}")
    out = _unfold(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                  out_size=out_size)
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks back into an image (col2im): (N, C kH kW, L) -> (N, C, H, W).

    The adjoint of :func:`unfold`: overlapping entries are added, so
    ``fold(unfold(x))`` is x times how many blocks cover each pixel.

    >>> import ember as em
    >>> x = em.ones(1, 1, 3, 3)
    >>> em.nn.functional.fold(em.nn.functional.unfold(x, 2), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    kernel, dilation, padding, stride = _block_args("fold", kernel_size, dilation, padding,
                                                    stride)
    size = _tuple(output_size, 2, "output_size", "fold")
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-d (unbatched) or 3-d input (N, C kH kW, L), got "
                         f"shape {tuple(input.shape)}")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    out_size = _output_size(size, kernel, stride, padding, dilation)
    blocks = kernel[0] * kernel[1]
    if x.shape[1] % blocks or x.shape[2] != out_size[0] * out_size[1] or min(out_size) < 1:
        raise ValueError(f"fold: input of shape {tuple(input.shape)} does not match "
                         f"output_size={size}, kernel_size={kernel}: expected (N, C * "
                         f"{blocks}, {max(out_size[0], 0) * max(out_size[1], 0)})")
    out = _fold(x, size=size, kernel=kernel, stride=stride, padding=padding,
                dilation=dilation, out_size=out_size)
    return out if input.ndim == 3 else out.squeeze(0)


# ----------------------------------------------------------------------------- interpolate

_MODES = {3: ("nearest", "nearest-exact", "linear", "area"),
          4: ("nearest", "nearest-exact", "bilinear", "bicubic", "area"),
          5: ("nearest", "nearest-exact", "trilinear", "area")}




def _nearest_index(mode: str, n_in: int, n_out: int, scale) -> np.ndarray:
    """Source index of every output position (PyTorch's float32 arithmetic)."""
    dst = np.arange(n_out)
    if n_out == n_in:
        return dst
    if mode == "nearest" and n_out == 2 * n_in:
        return dst >> 1
    ratio = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    if mode == "nearest":
        src = np.floor(dst.astype(np.float32) * ratio)
    else:  # nearest-exact: floor((dst + 0.5) * ratio), rounded through float32
        src = np.floor(((dst + 0.5) * np.float64(ratio)).astype(np.float32))
    return np.minimum(src.astype(np.int64), n_in - 1)


def _cubic_weights(t):
    """Keys' cubic convolution weights (A = -0.75, as PyTorch) for the 4 taps around t."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _interp_matrix(mode: str, n_in: int, n_out: int, scale, align_corners, dtype):
    """The (Out, In) matrix of one axis' linear or cubic interpolation."""
    real = np.dtype(dtype).type
    dst = np.arange(n_out).astype(dtype)
    if align_corners:
        ratio = real(n_in - 1) / real(n_out - 1) if n_out > 1 else real(0)
        src = ratio * dst
    else:
        ratio = real(1.0 / scale) if scale else real(n_in) / real(n_out)
        src = ratio * (dst + real(0.5)) - real(0.5)
    matrix = np.zeros((n_out, n_in), dtype)
    rows = np.arange(n_out)
    if mode == "cubic":
        base = np.floor(src).astype(np.int64)
        for tap, weight in enumerate(_cubic_weights(src - base)):
            np.add.at(matrix, (rows, np.clip(base - 1 + tap, 0, n_in - 1)), weight)
        return matrix
    if n_out == n_in:
        return np.eye(n_in, dtype=dtype)
    src = np.maximum(src, 0)
    low = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    frac = np.clip(src - low, 0, 1)
    high = low + (low < n_in - 1)
    np.add.at(matrix, (rows, low), 1 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix


def _along(axis: int, index) -> tuple:
    """The index ``x[..., index, :, ...]`` selecting ``index`` along ``axis`` (< 0)."""
    return (Ellipsis, index) + (slice(None),) * (-axis - 1)


def _resample_axis(x: Tensor, axis: int, mode: str, n_out: int, scale, align_corners):
    """x resized along ``axis`` (-1, -2 or -3) to ``n_out``."""
    n_in = x.shape[axis]
    if mode in ("nearest", "nearest-exact"):
        index = _nearest_index(mode, n_in, n_out, scale)
        if np.array_equal(index, np.arange(n_in)):
            return x
        if n_out % n_in == 0 and np.array_equal(index, np.arange(n_out) // (n_out // n_in)):
            # an integer upscale: each input repeated (a broadcast view, summed back)
            factor, after = n_out // n_in, x.ndim + axis + 1  # a new axis after ``axis``
            spread = x.unsqueeze(after).expand(*(x.shape[:after] + (factor,)
                                                  + x.shape[after:]))
            shape = list(x.shape)
            shape[axis] = n_out
            return spread.reshape(shape)
        return x[_along(axis, index)]
    matrix = _interp_matrix("cubic" if mode == "bicubic" else "linear", n_in, n_out, scale,
                            align_corners, x.dtype)
    if np.array_equal(matrix, np.eye(n_in)):
        return x
    a = creation.tensor(matrix, dtype=x.dtype)
    if axis == -1:
        return x @ a.T
    if axis == -2:
        return a @ x
    return (x.transpose(axis, -1) @ a.T).transpose(axis, -1)


# PyTorch resamples uint8 images (bilinear, bicubic) in fixed point, width first: weights
# rounded to integers with the most bits that keep them within int16, the sums rounded
# half up and clamped after each pass. Reproducing it gives PyTorch's exact bytes.
def _fixed_point_weights(matrix: np.ndarray) -> tuple:
    """(integer weights, precision bits) of PyTorch's uint8 interpolation."""
    largest = np.abs(matrix).max()
    bits = 0
    while bits < 22 and int(0.5 + largest * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    scaled = matrix * (1 << bits)
    weights = np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5))
    return weights.astype(np.int64), bits


def _resample_bytes(x: Tensor, out_size, mode, scales, align_corners) -> Tensor:
    """uint8 (N, C, H, W) resized as PyTorch does (no gradient: integers)."""
    data = x._data.astype(np.int64)
    for axis, n_out, scale in ((-1, out_size[1], scales[1]), (-2, out_size[0], scales[0])):
        matrix = _interp_matrix("cubic" if mode == "bicubic" else "linear", data.shape[axis],
                                n_out, scale, align_corners, np.float64)
        weights, bits = _fixed_point_weights(matrix)
        moved = np.moveaxis(data, axis, -1) @ weights.T
        data = np.moveaxis(np.clip((moved + (1 << bits >> 1)) >> bits, 0, 255), -1, axis)
    return Tensor._wrap(np.ascontiguousarray(data, dtype=np.uint8))


def _target_size(input: Tensor, size, scale_factor, dims: int):
    """(output size, scales passed to the index rule) per spatial dimension."""
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    if size is not None:
        size = _tuple(size, dims, "size", "interpolate")
        return size, (None,) * dims
    if scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if isinstance(scale_factor, (int, float)):
        scale_factor = (float(scale_factor),) * dims
    scales = tuple(float(s) for s in scale_factor)
    if len(scales) != dims:
        raise ValueError(f"interpolate: scale_factor must be a number or a tuple of {dims}, "
                         f"got {scale_factor!r}")
    return tuple(math.floor(h * s) for h, s in zip(spatial, scales, strict=True)), scales


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor``.

    Along each spatial axis, output position i reads input position
    src = (i + 0.5) In/Out - 0.5 (or i (In - 1)/(Out - 1) with ``align_corners``):

    * ``nearest``: x[floor(i In/Out)] (PyTorch's legacy rule); ``nearest-exact``:
      x[floor((i + 0.5) In/Out)];
    * ``linear`` (3-d) / ``bilinear`` (4-d) / ``trilinear`` (5-d):
      (1 - t) x[floor(src)] + t x[floor(src) + 1], t = src - floor(src), per axis;
    * ``bicubic`` (4-d): Keys' cubic convolution on 4 neighbours (A = -0.75);
    * ``area``: adaptive average pooling to the output size.

    uint8 images are accepted where PyTorch accepts them (nearest modes; bilinear and
    bicubic, computed in PyTorch's fixed-point arithmetic, so the bytes are its bytes).

    Args:
        input: (N, C, L), (N, C, H, W) or (N, C, D, H, W).
        size: output spatial size (int or tuple).
        scale_factor: multiplier of the spatial size (output = floor(In * scale)); the
            index rules then use 1/scale_factor, unless ``recompute_scale_factor``.
        mode: as above.
        align_corners: for linear modes only (default False).
        recompute_scale_factor: use In/Out from the computed size instead of 1/scale.
        antialias: not supported (False).

    >>> import ember as em
    >>> x = em.tensor([[[1.0, 2.0]]])
    >>> em.nn.functional.interpolate(x, scale_factor=2)
    tensor([[[1., 1., 2., 2.]]])
    >>> em.nn.functional.interpolate(x, size=4, mode="linear", align_corners=False)
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    """
    if input.ndim not in _MODES:
        raise ValueError(f"interpolate: expected a 3-d (N, C, L), 4-d (N, C, H, W) or 5-d "
                         f"(N, C, D, H, W) input, got shape {tuple(input.shape)}")
    dims = input.ndim - 2
    if mode not in _MODES[input.ndim]:
        known = ", ".join(sorted(set(_MODES[3] + _MODES[4] + _MODES[5])))
        raise ValueError(f"interpolate: mode {mode!r} is not supported for a {input.ndim}-d "
                         f"input of shape {tuple(input.shape)} (modes: {known}; linear is "
                         "for 3-d inputs, bilinear and bicubic for 4-d, trilinear for 5-d)")
    linear = mode in ("linear", "bilinear", "bicubic", "trilinear")
    if align_corners is not None and not linear:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    out_size, scales = _target_size(input, size, scale_factor, dims)
    if any(s < 1 for s in out_size):
        raise ValueError(f"interpolate: output size {out_size} must be positive (input of "
                         f"shape {tuple(input.shape)})")
    if recompute_scale_factor:
        scales = (None,) * dims
    if input.dtype.kind != "f":  # as PyTorch: nearest for uint8, and bilinear/bicubic
        if input.dtype != np.uint8 or mode in ("linear", "trilinear", "area"):
            raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented for "
                                      f"{input.dtype} input (nearest takes uint8, bilinear "
                                      "and bicubic too; others need floating point)")
        if mode in ("bilinear", "bicubic"):
            return _resample_bytes(input, out_size, mode, scales, bool(align_corners))
    if mode == "area":
        pool = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}[dims]
        return pool(input, out_size)
    out = input
    for axis, n_out, scale in zip(range(-dims, 0), out_size, scales, strict=True):
        out = _resample_axis(out, axis, mode, n_out, scale, bool(align_corners))
    if out is input:
        return out.clone()  # a new tensor, as PyTorch
    return out.contiguous()


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`interpolate` (as in PyTorch)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """:func:`interpolate` with ``mode="nearest"``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """:func:`interpolate` with ``mode="bilinear"`` and ``align_corners=True`` (as PyTorch)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
