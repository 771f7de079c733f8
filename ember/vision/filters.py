"""Linear filters: Gaussian, box (mean), any 2-d kernel, separable kernels.

Each output pixel is a weighted sum of its neighbourhood (a cross-correlation, as
OpenCV's ``filter2D`` and ``conv2d``: the kernel is not flipped), with the anchor at the
kernel's centre ``(kh // 2, kw // 2)`` and the image extended by a border mode
(:mod:`ember.vision.border`; OpenCV's default ``reflect101``):

.. math:: y[i, j] = \\sum_{a, b} k[a, b]\\, x[i + a - k_h/2,\\ j + b - k_w/2]

The filters run on :mod:`ember.vision.correlate`: on ember's ``conv2d`` when a graph is
recorded (separable kernels as a row pass and a column pass), so on tensors they are
differentiable in the image and in the kernel (the gradient of a pixel that the border
copied goes to the pixel it copies); as direct shifted sums otherwise.

Images: floats are filtered in their own precision; integer images are filtered in
float32 and come back in their own type, rounded and saturated as OpenCV stores them.
"""

from __future__ import annotations

import numpy as np

from ember import functions as fn
from ember.tensor import Tensor
from ember.vision.border import border_mode, pad2d_array
from ember.vision.correlate import anchor_pads, correlate2d, correlate_separable
from ember.vision.layout import Planes, from_float, needs_grad, to_float

__all__ = ["gaussian_kernel", "gaussian_kernel2d", "gaussian_blur2d", "box_blur",
           "filter2d", "sep_filter2d"]

# OpenCV's fixed kernels for sigma <= 0 and odd sizes up to 9 (binomial-like, exact)
_SMALL_GAUSSIAN = {1: [1.0], 3: [0.25, 0.5, 0.25], 5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
                   7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
                   9: [v / 256 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)]}


def _pair(value, name: str, op: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be one value or (height, width), got {value}")
        return tuple(value)
    return (value, value)


def _size(value, name: str, op: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{op}: {name} must be a non-negative whole number, got {value!r}")
    return int(value)


def gaussian_sigma(kernel_size: int) -> float:
    """OpenCV's sigma for a kernel size when sigma <= 0:
    ``sigma = 0.3 ((k - 1) / 2 - 1) + 0.8 = 0.15 k + 0.35``."""
    return 0.15 * kernel_size + 0.35


def gaussian_size(sigma: float, integer_image: bool = False) -> int:
    """OpenCV's kernel size for a sigma when none is given: the odd number nearest to
    ``2 * 3 sigma + 1`` for 8-bit images, ``2 * 4 sigma + 1`` otherwise."""
    return int(np.rint(sigma * (3 if integer_image else 4) * 2 + 1)) | 1


def gaussian_kernel(kernel_size: int, sigma, dtype=np.float64) -> Tensor:
    """The normalised 1-d Gaussian kernel (``cv2.getGaussianKernel``).

    .. math:: g_i = \\frac{e^{-(i - (k-1)/2)^2 / (2\\sigma^2)}}
              {\\sum_j e^{-(j - (k-1)/2)^2 / (2\\sigma^2)}}, \\quad i = 0 \\ldots k-1

    With ``sigma <= 0`` the sigma comes from the size, ``0.3 ((k - 1)/2 - 1) + 0.8``,
    and for odd sizes up to 9 OpenCV's fixed kernels are used (``[1, 2, 1] / 4`` for
    3). A Tensor ``sigma`` that requires grad gives a kernel differentiable in sigma.

    Args:
        kernel_size: the number of taps k (>= 1).
        sigma: the standard deviation in pixels (a number or a 0-d Tensor).
        dtype: float64 (default) or float32.

    >>> gaussian_kernel(5, 0)
    tensor([0.0625, 0.2500, 0.3750, 0.2500, 0.0625], dtype=float64)
    >>> gaussian_kernel(3, 1.0)
    tensor([0.2741, 0.4519, 0.2741], dtype=float64)
    """
    k = _size(kernel_size, "kernel_size", "gaussian_kernel")
    if k < 1:
        raise ValueError(f"gaussian_kernel: kernel_size must be at least 1, got {k}")
    offsets = np.arange(k, dtype=np.float64) - (k - 1) * 0.5
    if isinstance(sigma, Tensor):
        sigma = sigma.to(dtype)
        weights = fn.exp(Tensor._wrap(-0.5 * offsets**2).to(dtype) / (sigma * sigma))
        return weights / weights.sum()
    sigma = float(sigma)
    if sigma <= 0 and k in _SMALL_GAUSSIAN:
        return Tensor._wrap(np.array(_SMALL_GAUSSIAN[k], dtype=dtype))
    if sigma <= 0:
        sigma = gaussian_sigma(k)
    weights = np.exp(-0.5 * offsets**2 / sigma**2)
    return Tensor._wrap((weights / weights.sum()).astype(dtype))


def gaussian_kernel_fixed(kernel_size: int, sigma: float, bits: int = 8) -> np.ndarray:
    """The Gaussian kernel in fixed point, as OpenCV filters 8-bit images: each weight a
    multiple of ``2**-bits``, rounded from the outside in with the rounding error carried
    to the next weight (error diffusion), and the centre weight making the sum exactly 1.

    >>> (gaussian_kernel_fixed(5, 1.3) * 256).tolist()
    [25.0, 62.0, 82.0, 62.0, 25.0]
    """
    exact = gaussian_kernel(kernel_size, sigma).numpy()
    scale, k = float(1 << bits), len(exact)
    fixed, error = np.empty(k), 0.0
    for i in range(k // 2):
        value = exact[i] * scale + error
        fixed[i] = fixed[k - 1 - i] = np.rint(value)
        error = value - fixed[i]
    fixed[k // 2] = scale - 2 * fixed[: k // 2].sum()
    return fixed / scale


def gaussian_kernel2d(kernel_size, sigma, dtype=np.float64) -> Tensor:
    """The 2-d Gaussian kernel, the outer product ``g_y g_x^T`` of two 1-d kernels.

    ``kernel_size`` and ``sigma`` are one value or (height, width) pairs.

    >>> gaussian_kernel2d(3, 0) * 16
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]], dtype=float64)
    """
    (kh, kw), (sy, sx) = (_pair(kernel_size, "kernel_size", "gaussian_kernel2d"),
                          _pair(sigma, "sigma", "gaussian_kernel2d"))
    gy, gx = gaussian_kernel(kh, sy, dtype), gaussian_kernel(kw, sx, dtype)
    return gy.reshape((kh, 1)) * gx.reshape((1, kw))


def gaussian_blur2d(x, kernel_size=0, sigma=0.0, border: str = "reflect101"):
    """Gaussian smoothing (``cv2.GaussianBlur``), as a row pass and a column pass.

    .. math:: y = g_y * (g_x * x), \\quad g = \\text{gaussian\\_kernel}(k, \\sigma)

    Args:
        x: image (Tensor (H, W), (C, H, W), (B, C, H, W); array (H, W), (H, W, C)).
        kernel_size: k or (kh, kw), odd; 0 (default) takes it from sigma as OpenCV
            does (``2 * 3 sigma + 1`` rounded to odd for 8-bit images, ``4 sigma``
            otherwise).
        sigma: sigma or (sigma_y, sigma_x); <= 0 takes it from the kernel size. A
            0-d Tensor makes the result differentiable in sigma.
        border: border mode (default ``reflect101``, OpenCV's).

    Note the order: (height, width) as in PyTorch, where OpenCV's ``ksize`` is
    (width, height).

    >>> import numpy as np
    >>> x = np.zeros((5, 5)); x[2, 2] = 16
    >>> gaussian_blur2d(x, 3, 0)[1:4, 1:4]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    op = "gaussian_blur2d"
    planes = Planes(x, op)
    kh, kw = (_size(k, "kernel_size", op) for k in _pair(kernel_size, "kernel_size", op))
    sy, sx = _pair(sigma, "sigma", op)
    if not isinstance(sx, Tensor) and not isinstance(sy, Tensor):
        sx, sy = float(sx), float(sy)
        if sy <= 0:  # OpenCV: sigma_y = sigma_x when not given
            sy = sx
        integer = planes.dtype.kind != "f"
        if kw == 0:
            if sx <= 0:
                raise ValueError(f"{op}: give a kernel_size or a positive sigma")
            kw = gaussian_size(sx, integer)
        if kh == 0:
            kh = gaussian_size(sy, integer) if sy > 0 else kw
    if kh % 2 == 0 or kw % 2 == 0 or kh == 0 or kw == 0:
        raise ValueError(f"{op}: kernel_size must be odd and positive, got ({kh}, {kw})")
    dtype = to_float(planes.tensor).dtype
    if planes.dtype == np.uint8:  # OpenCV's bit-exact 8-bit path: 8-bit fixed-point weights
        kernel_x = Tensor._wrap(gaussian_kernel_fixed(kw, sx).astype(dtype))
        kernel_y = Tensor._wrap(gaussian_kernel_fixed(kh, sy).astype(dtype))
        return _separable(planes, kernel_x, kernel_y, border, 0.0, op, half_up=True)
    return _separable(planes, gaussian_kernel(kw, sx, dtype), gaussian_kernel(kh, sy, dtype),
                      border, 0.0, op)


def box_blur(x, kernel_size, border: str = "reflect101", normalized: bool = True):
    """Mean filter (``cv2.blur``; ``cv2.boxFilter`` with ``normalized=False`` sums).

    .. math:: y[i, j] = \\frac{1}{k_h k_w} \\sum_{a < k_h, b < k_w}
              x[i + a - k_h/2,\\ j + b - k_w/2]

    Computed as running sums along rows, then columns (for windows over 32 pixels from
    cumulative sums, the cost of a pixel independent of k), unless a graph is recorded,
    when it is a separable convolution with a kernel of ones.

    Args:
        x: image (see :mod:`ember.vision.layout`).
        kernel_size: k or (kh, kw) (even sizes allowed; the anchor is k // 2).
        border: border mode (default ``reflect101``).
        normalized: divide by the window's area (default True).

    >>> import numpy as np
    >>> box_blur(np.arange(9.0).reshape(3, 3), 3, border="constant")
    array([[0.88888889, 1.66666667, 1.33333333],
           [2.33333333, 4.        , 3.        ],
           [2.22222222, 3.66666667, 2.66666667]])
    """
    op = "box_blur"
    planes = Planes(x, op)
    kh, kw = (_size(k, "kernel_size", op) for k in _pair(kernel_size, "kernel_size", op))
    if kh < 1 or kw < 1:
        raise ValueError(f"{op}: kernel_size must be positive, got ({kh}, {kw})")
    border = border_mode(border, op)
    if needs_grad(planes.tensor):
        dtype = planes.dtype
        kx = Tensor._wrap(np.full(kw, 1.0 / kw if normalized else 1.0, dtype))
        ky = Tensor._wrap(np.full(kh, 1.0 / kh if normalized else 1.0, dtype))
        return _separable(planes, kx, ky, border, 0.0, op)
    padded = pad2d_array(planes.array, anchor_pads(kh, kw), border)
    sums = running_sum(running_sum(padded, kw, axis=-1), kh, axis=-2)
    area = kh * kw
    if normalized and planes.dtype == np.uint8 and area <= 256:
        return planes.back(_divide_fixed(sums, area))
    sums = sums.astype(np.float64, copy=False)
    if normalized:
        sums /= area
    out_dtype = planes.dtype if planes.dtype.kind == "f" else np.float64
    result = Tensor._wrap(sums.astype(out_dtype, copy=False))
    return planes.back(from_float(result, planes.dtype))


def _divide_fixed(sums: np.ndarray, area: int) -> np.ndarray:
    """Exact integer window sums of an 8-bit image divided by the area as OpenCV does
    for areas up to 256: ``(s + d) m >> 23`` with ``m ~ 2**23 / area`` and ``d ~ area/2``
    (rounding to nearest, an exact tie upwards or downwards as the fixed point falls)."""
    scale = (1 << 23) / area
    multiplier, delta = int(scale), area // 2
    if scale - multiplier < 0.5:
        delta += 1
    else:
        multiplier += 1
    scaled = (sums.astype(np.uint32) + np.uint32(delta)) * np.uint32(multiplier)
    return (scaled >> np.uint32(23)).astype(np.uint8)  # (s + d) m < 2^32: no overflow


def running_sum(x: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Sums of every k consecutive elements along ``axis`` (length n - k + 1). Exact:
    8-bit images sum in int32, other integers in int64, floats in float64. Windows up to
    32 add shifted copies (sums of 1, 2, 4, 8, ... elements by doubling, then one per
    binary digit of k: about 2 log2 k additions); longer ones take one cumulative sum,
    ``s_i = c_{i+k-1} - c_{i-1}`` with ``c_{-1} = 0``, whose cost does not grow with k."""
    if x.dtype.kind in "biu":
        accumulator = np.int32 if x.dtype.itemsize == 1 else np.int64
    else:
        accumulator = np.float64
    n = x.shape[axis]
    index = [slice(None)] * x.ndim

    def window(a, start, length):
        index[axis] = slice(start, start + length)
        return a[tuple(index)]

    if k <= 32:  # sums of 1, 2, 4, 8, ... by doubling, then k's binary digits added up
        length = n - k + 1
        power, block, out, offset = 1, x.astype(accumulator), None, 0
        while True:
            if k & power:
                part = window(block, offset, length)
                out = part.copy() if out is None else np.add(out, part, out=out)
                offset += power
            if 2 * power > k:
                return out
            size = block.shape[axis] - power
            block = window(block, 0, size) + window(block, power, size)
            power *= 2
    c = np.cumsum(x, axis=axis, dtype=accumulator)
    index[axis] = slice(k - 1, n)
    out = c[tuple(index)].copy()
    index[axis] = slice(1, None)
    head = out[tuple(index)]
    index[axis] = slice(0, n - k)
    head -= c[tuple(index)]
    return out


def filter2d(x, kernel, border: str = "reflect101", value: float = 0.0, delta: float = 0.0):
    """Correlate the image with any 2-d kernel (``cv2.filter2D`` with ``ddepth=-1``).

    .. math:: y[i, j] = \\delta + \\sum_{a, b} k[a, b]\\, x[i + a - k_h/2,\\ j + b - k_w/2]

    Args:
        x: image (see :mod:`ember.vision.layout`).
        kernel: (kh, kw) array or Tensor (a Tensor that requires grad gives its gradient).
        border: border mode (default ``reflect101``); ``value`` fills ``constant``.
        delta: added to every output pixel.

    The central difference ``x[j+1] - x[j-1]`` of a row, its ends replicated:

    >>> import numpy as np
    >>> filter2d(np.array([[1.0, 2.0, 4.0, 8.0]]), [[-1, 0, 1]], border="replicate")
    array([[1., 3., 6., 4.]])
    """
    op = "filter2d"
    planes = Planes(x, op)
    kernel = _kernel(kernel, 2, "kernel", op)
    y = correlate2d(to_float(planes.flat()), kernel, border, value, op)
    return _finish(planes, y, delta)


def sep_filter2d(x, kernel_x, kernel_y, border: str = "reflect101", value: float = 0.0,
                 delta: float = 0.0):
    """Filter rows by ``kernel_x``, then columns by ``kernel_y`` (``cv2.sepFilter2D``):
    the same as :func:`filter2d` with the kernel ``kernel_y kernel_x^T`` at
    ``k_h + k_w`` instead of ``k_h k_w`` multiplications a pixel.

    >>> import numpy as np
    >>> x = np.zeros((3, 3)); x[1, 1] = 1
    >>> sep_filter2d(x, [-1, 0, 1], [1, 2, 1], border="constant")
    array([[ 1.,  0., -1.],
           [ 2.,  0., -2.],
           [ 1.,  0., -1.]])
    """
    op = "sep_filter2d"
    planes = Planes(x, op)
    return _separable(planes, _kernel(kernel_x, 1, "kernel_x", op),
                      _kernel(kernel_y, 1, "kernel_y", op), border, value, op, delta)


# ----------------------------------------------------------------------------- helpers


def _kernel(kernel, ndim: int, name: str, op: str) -> Tensor:
    if not isinstance(kernel, Tensor):
        kernel = Tensor._wrap(np.asarray(kernel, dtype=np.float64))
    if kernel.ndim != ndim or 0 in kernel.shape:
        shape = "(kh, kw)" if ndim == 2 else "(k,)"
        raise ValueError(f"{op}: {name} must have shape {shape}, got {tuple(kernel.shape)}")
    return kernel


def _separable(planes: Planes, kernel_x: Tensor, kernel_y: Tensor, border: str,
               value: float, op: str, delta: float = 0.0, half_up: bool = False):
    """Rows by kernel_x, columns by kernel_y; back in the input's type and layout."""
    y = correlate_separable(to_float(planes.flat()), kernel_x, kernel_y, border, value, op)
    return _finish(planes, y, delta, half_up)


def _finish(planes: Planes, y: Tensor, delta: float = 0.0, half_up: bool = False):
    """Add delta, regroup the channels, return in the input's type and layout."""
    if delta:
        y = y + delta
    return planes.back(from_float(planes.stack(y), planes.dtype, half_up))
