"""Max unpooling: the partial inverse of max pooling, from its ``return_indices``.

Each input value is written at its flat index into the output's spatial plane (or
volume), zeros elsewhere; as a write through an index (``index_put``), its gradient
reads the output's gradient back at the same places. The output size defaults to
(in - 1) S - 2P + K per dimension (``output_size`` picks among the sizes that pool to
the input's, as PyTorch).
"""

from __future__ import annotations

import math

import numpy as np

from ember.nn.functional.windows import _tuple
from ember.ops import indexing as index_ops
from ember.tensor import Tensor

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _unpool_size(op, spatial, kernel, stride, padding, output_size) -> tuple:
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in
                    zip(spatial, kernel, stride, padding, strict=True))
    if output_size is None:
        return default
    size = tuple(int(n) for n in output_size)[-len(spatial):]
    if len(size) != len(spatial):
        raise ValueError(f"{op}: output_size should have {len(spatial)} or "
                         f"{len(spatial) + 2} elements, got {tuple(output_size)}")
    for d, (n, low, s) in enumerate(zip(size, default, stride, strict=True)):
        if not low - s < n < low + s:
            raise ValueError(f'{op}: invalid output_size "{size}" (dim {d} must be between '
                             f"{low - s + 1} and {low + s - 1})")
    return size


def _max_unpoolnd(op, dims, input, indices, kernel_size, stride, padding, output_size):
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 1}-d (unbatched) or {dims + 2}-d input, "
                         f"got shape {tuple(input.shape)}")
    indices = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if indices.shape != tuple(input.shape) or indices.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected indices of dtype int64 and the input's shape "
                           f"{tuple(input.shape)}, got {indices.dtype} {indices.shape}")
    kernel = _tuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None else _tuple(stride, dims, "stride", op)
    padding = _tuple(padding, dims, "padding", op)
    size = _unpool_size(op, tuple(input.shape[-dims:]), kernel, stride, padding, output_size)
    batched = input.ndim == dims + 2
    x = input if batched else input.unsqueeze(0)
    flat_index = indices.reshape(x.shape[0], x.shape[1], -1)
    volume = math.prod(size)
    if flat_index.size and (flat_index.min() < 0 or flat_index.max() >= volume):
        bad = flat_index.max() if flat_index.max() >= volume else flat_index.min()
        raise RuntimeError(f"{op}: Found an invalid max index: {bad} (output volumes are "
                           f"of size {'x'.join(str(n) for n in size)})")
    n, c = x.shape[:2]
    key = (np.arange(n)[:, None, None], np.arange(c)[None, :, None], flat_index)
    zeros = np.zeros((n, c, volume), dtype=x.dtype)
    out = index_ops.index_put(zeros, x.reshape(n, c, -1), key=key).reshape((n, c) + size)
    return out if batched else out.squeeze(0)


def max_unpool1d(input: Tensor, indices, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Inverse of :func:`max_pool1d` (its ``indices``): values at their positions, zeros
    elsewhere; (N, C, L) -> (N, C, L_out), L_out = (L - 1) S - 2P + K."""
    return _max_unpoolnd("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool2d(input: Tensor, indices, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Inverse of :func:`max_pool2d` (its ``indices``, flat into H W): each maximum back
    at its place, zeros elsewhere (as in SegNet's decoder).

    >>> import ember as em
    >>> F = em.nn.functional
    >>> x = em.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])
    >>> y, i = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2)
    tensor([[[[0., 0.],
              [4., 0.]]]])
    """
    return _max_unpoolnd("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool3d(input: Tensor, indices, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Inverse of :func:`max_pool3d` (its ``indices``, flat into D H W)."""
    return _max_unpoolnd("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                         output_size)
