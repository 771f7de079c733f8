"""Correlating image planes with a kernel: the one routine under every linear filter.

``x`` holds image planes (N, 1, H, W) in floating point; the result has the same shape
(the border is added first, as :mod:`ember.vision.border` describes, the anchor at the
kernel's centre ``(kh // 2, kw // 2)``):

.. math:: y[i, j] = \\sum_{a, b} k[a, b]\\, x'[i + a, j + b]

Two ways, with the same result:

* when a graph is recorded (the image or the kernel requires grad), the border is added
  by differentiable indexing and the sums are ember's ``conv2d`` (a row pass and a
  column pass for a separable kernel), so gradients flow to the image and the kernel;
* otherwise the sums are taken directly, one shifted copy of the padded plane per kernel
  tap (``y += k[a, b] x'[a:a+H, b:b+W]``), which for the small kernels of image
  processing avoids im2col's copy of every window.
"""

from __future__ import annotations

import numpy as np

from ember.nn.functional.conv import conv2d
from ember.tensor import Tensor
from ember.vision.border import pad2d, pad2d_array
from ember.vision.layout import needs_grad

__all__ = ["anchor_pads", "correlate_separable", "correlate2d"]


def anchor_pads(kh: int, kw: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) border for a kh x kw kernel anchored at (kh//2, kw//2)."""
    return kh // 2, kh - 1 - kh // 2, kw // 2, kw - 1 - kw // 2


def _as_kernel(kernel, dtype) -> Tensor:
    if isinstance(kernel, Tensor):
        return kernel.to(dtype)
    return Tensor._wrap(np.asarray(kernel, dtype=dtype))


def correlate_separable(x: Tensor, kernel_x, kernel_y, border: str = "reflect101",
                        value: float = 0.0, op: str = "filter") -> Tensor:
    """x (N, 1, H, W) correlated along rows with kernel_x (kw,), then along columns with
    kernel_y (kh,): the 2-d kernel ``kernel_y kernel_x^T``."""
    dtype = x.dtype
    kx, ky = _as_kernel(kernel_x, dtype), _as_kernel(kernel_y, dtype)
    kh, kw = ky.shape[0], kx.shape[0]
    pads = anchor_pads(kh, kw)
    if needs_grad(x, kx, ky):
        y = pad2d(x, pads, border, value, op)
        if kw > 1 or needs_grad(kx) or float(kx.detach().numpy()[0]) != 1.0:
            y = conv2d(y, kx.reshape((1, 1, 1, kw)))
        if kh > 1 or needs_grad(ky) or float(ky.detach().numpy()[0]) != 1.0:
            y = conv2d(y, ky.reshape((1, 1, kh, 1)))
        return y
    padded = pad2d_array(x.numpy(), pads, border, value, op)
    y = _shifted_sum(padded, kx.numpy(), axis=3)
    return Tensor._wrap(_shifted_sum(y, ky.numpy(), axis=2))


def correlate2d(x: Tensor, kernel, border: str = "reflect101", value: float = 0.0,
                op: str = "filter") -> Tensor:
    """x (N, 1, H, W) correlated with a 2-d kernel (kh, kw)."""
    k = _as_kernel(kernel, x.dtype)
    kh, kw = k.shape
    pads = anchor_pads(kh, kw)
    if needs_grad(x, k):
        return conv2d(pad2d(x, pads, border, value, op), k.reshape((1, 1, kh, kw)))
    padded = pad2d_array(x.numpy(), pads, border, value, op)
    height, width = x.shape[2:]
    out = None
    for a, row in enumerate(k.numpy()):
        if not row.any():
            continue
        part = _shifted_sum(padded[:, :, a:a + height], row, axis=3)
        out = part if out is None else np.add(out, part, out=out)
    if out is None:
        out = np.zeros(x.shape, x.dtype)
    return Tensor._wrap(out)


def _shifted_sum(a: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """The valid correlation of ``a`` with a 1-d kernel along ``axis``, tap by tap."""
    k = len(kernel)
    if k == 1 and kernel[0] == 1:
        return a
    n = a.shape[axis] - k + 1
    index = [slice(None)] * a.ndim
    out = None
    for i, w in enumerate(kernel):
        if w == 0:
            continue
        index[axis] = slice(i, i + n)
        part = a[tuple(index)]
        if out is None:
            out = part * w if w != 1 else part.copy()
        elif w == 1:
            out += part
        elif w == -1:
            out -= part
        else:
            out += part * w
    if out is None:
        shape = list(a.shape)
        shape[axis] = n
        out = np.zeros(shape, a.dtype)
    return out
