"""Lookups by index: ``embedding`` (rows of a table) and ``one_hot`` (indicator vectors)."""

from __future__ import annotations

import numpy as np

from ember import creation, dtypes, functions
from ember.autograd.engine import no_grad
from ember.autograd.primitives import defvjp, primitive
from ember.errors import ShapeError
from ember.ops.shape import index_backward
from ember.tensor import Tensor

__all__ = ["embedding", "one_hot"]


# NOTE: a primitive for speed: the VJP is one scatter-add into the table, not a dense
# gradient per lookup. It reads only the indices (and the table's shape), so it saves nothing.
@primitive(saves="none")
def _embedding(xp, weight, indices, padding_idx, scale_grad_by_freq):
    """weight[indices]: the rows of the table, shape indices.shape + (embedding_dim,)."""
    return xp.take(weight, indices, axis=0)


defvjp(_embedding, lambda xp, g, ans, weight, indices, padding_idx, scale_grad_by_freq:
       _embedding_backward.on(xp, g, indices, shape=weight.shape, padding_idx=padding_idx,
                              scale_grad_by_freq=scale_grad_by_freq), None)
_embedding.name = "embedding"


# NOTE: a primitive, so that the embedding's gradient can itself be differentiated, with
# PyTorch's double backward (which ignores scale_grad_by_freq).
@primitive(saves="none")
def _embedding_backward(xp, g, indices, shape, padding_idx, scale_grad_by_freq):
    """dL/dW[i] = sum of dL/dy over the lookups of row i (0 for padding_idx); with
    scale_grad_by_freq, divided by how often row i occurs in ``indices``.
    VJP: the incoming gradient's rows looked up again, 0 at padding_idx (unscaled)."""
    flat = indices.reshape(-1)
    rows = g.reshape(flat.shape[0], -1)
    if scale_grad_by_freq:
        counts = xp.bincount(flat, minlength=shape[0])
        rows = rows / counts[flat][:, None].astype(g.dtype)
    if padding_idx is not None:
        rows = xp.where((flat == padding_idx)[:, None], 0, rows)
    return index_backward.on(xp, rows, key=flat, shape=shape)


def _embedding_backward_vjp(xp, G, ans, g, indices, shape, padding_idx, scale_grad_by_freq):
    rows = _embedding.on(xp, G, indices, padding_idx=padding_idx,
                         scale_grad_by_freq=scale_grad_by_freq)
    if padding_idx is not None:
        rows = xp.where((indices == padding_idx)[..., None], 0, rows)
    return rows


defvjp(_embedding_backward, _embedding_backward_vjp, None)
_embedding_backward.name = "embedding_backward"


def _renorm_rows(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale in place the rows used whose norm exceeds max_norm to norm max_norm
    (PyTorch's ``embedding_renorm_``: factor max_norm / (norm + 1e-7))."""
    rows = creation.tensor(np.unique(indices.numpy()))
    with no_grad():
        table = weight[rows]
        magnitude = functions.abs(table)
        if norm_type == float("inf"):
            norms = functions.amax(magnitude, 1)
        else:
            norms = functions.sum(magnitude**norm_type, 1) ** (1 / norm_type)
        factor = functions.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows] = table * functions.unsqueeze(factor, 1)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of an embedding table: ``output[..., :] = weight[input[...], :]``.

    The gradient is scatter-added into the rows used (a row looked up k times receives
    k gradients); the ``padding_idx`` row receives none.

    Args:
        input: integer indices of any shape, each in [0, num_embeddings).
        weight: (num_embeddings, embedding_dim) table.
        padding_idx: a row that gets no gradient (negative counts from the end).
        max_norm: if given, the rows looked up whose ``norm_type``-norm exceeds it are
            rescaled *in place* (in ``weight``) to norm max_norm before the lookup.
        norm_type: the p of the p-norm for max_norm (default 2).
        scale_grad_by_freq: divide each row's gradient by its count in ``input``.
        sparse: sparse gradients are not supported (must be False).

    Returns:
        input.shape + (embedding_dim,).

    >>> import ember as em
    >>> table = em.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    >>> em.nn.functional.embedding(em.tensor([[2, 1, 2]]), table)
    tensor([[[3., 4.],
             [1., 2.],
             [3., 4.]]])
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use "
                                  "sparse=False (the gradient is dense)")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be a 2-d table, got shape "
                         f"{tuple(weight.shape)}")
    indices = functions._t(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor (int64 or int32), got "
                        f"{indices.dtype}")
    num = weight.shape[0]
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= num):
        bad = int(indices.min()) if int(indices.min()) < 0 else int(indices.max())
        raise IndexError(f"embedding: index {bad} is out of range for a table of {num} rows "
                         f"(weight of shape {tuple(weight.shape)})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({num})")
        padding_idx %= num
    if max_norm is not None and indices.numel():
        _renorm_rows(weight, indices, max_norm, norm_type)
    return _embedding(weight, indices, padding_idx=padding_idx,
                      scale_grad_by_freq=scale_grad_by_freq)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Indicator vectors: ``output[..., c] = 1`` where ``tensor[...] == c``, else 0 (int64).

    Args:
        tensor: integer class indices of any shape, each in [0, num_classes).
        num_classes: the length of the vectors; -1 uses max(tensor) + 1.

    Returns:
        int64 tensor of shape tensor.shape + (num_classes,).

    >>> import ember as em
    >>> em.nn.functional.one_hot(em.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    indices = functions._t(tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer tensor of class indices, got "
                        f"{indices.dtype}")
    if num_classes == -1:
        if indices.numel() == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty "
                             "tensor; pass num_classes")
        num_classes = int(indices.max()) + 1
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 or non-negative, got {num_classes}")
    if indices.numel():
        if int(indices.min()) < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got "
                             f"{int(indices.min())}")
        if int(indices.max()) >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes "
                             f"({num_classes}), got {int(indices.max())}")
    classes = creation.arange(num_classes)
    return (functions.unsqueeze(indices, -1) == classes).type(dtypes.int64)
