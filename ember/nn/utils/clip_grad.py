"""Gradient clipping: rescale gradients whose norm is too large, or clamp their values.

Clipping runs between ``loss.backward()`` and ``optimizer.step()``; it changes the
``.grad`` tensors in place and never records a graph.

>>> import ember as em
>>> w = em.tensor([3.0, 4.0], requires_grad=True)
>>> w.grad = em.tensor([3.0, 4.0])
>>> em.nn.utils.clip_grad_norm_([w], max_norm=1.0)      # returns the norm before clipping
tensor(5.)
>>> w.grad                                              # now of norm 1 (to within 1e-6)
tensor([0.6000, 0.8000])
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np

from ember import dtypes
from ember.tensor import Tensor


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(x: np.ndarray, norm_type: float):
    """``torch.linalg.vector_norm(x, norm_type)`` of a flattened array."""
    x = x.ravel()
    if norm_type == 2.0:
        return np.sqrt(np.dot(x, x)) if x.size else x.dtype.type(0)
    if x.size == 0:
        return x.dtype.type(0.0 if norm_type > 0 else np.inf if norm_type < 0 else 0.0)
    x = np.abs(x)
    if norm_type == np.inf:
        return x.max()
    if norm_type == -np.inf:
        return x.min()
    if norm_type == 0.0:
        return x.dtype.type(np.count_nonzero(x))
    if norm_type == 1.0:
        return x.sum()
    return (x**norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The norm of the norms of ``tensors``: their norm as if joined into one vector.

    .. math::  \\|(\\|t_1\\|_p, \\ldots, \\|t_n\\|_p)\\|_p

    Args:
        tensors (Tensor or iterable of Tensors): e.g. the gradients.
        norm_type (float): p, including ``inf`` (the largest magnitude). Default: 2.
        error_if_nonfinite (bool): raise if the norm is nan or inf. Default: False.

    >>> import ember as em
    >>> em.nn.utils.get_total_norm([em.tensor([3.0]), em.tensor([-4.0])], norm_type="inf")
    tensor(4.)
    """
    arrays = [t._data for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor._wrap(np.array(0.0, dtypes.get_default_dtype()))
    norms = np.stack([np.asarray(_vector_norm(a, norm_type)) for a in arrays])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=norms.dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor) -> None:
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))``, in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    with np.errstate(invalid="ignore", divide="ignore"):  # inf or nan norms: as PyTorch,
        coefficient = np.minimum(float(max_norm) / (total + 1e-6), 1.0)  # nan stays nan
        for g in grads:
            np.multiply(g._data, coefficient.astype(g.dtype), out=g._data)
            g._vc[0] += 1


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Rescale the gradients so that their total norm is at most ``max_norm``.

    .. math::  g \\leftarrow g \\cdot \\min\\left(1, \\frac{max\\_norm}{\\|g\\|_p + 10^{-6}}
               \\right)

    where :math:`\\|g\\|_p` is the norm of all the gradients joined into one vector.
    Parameters whose ``.grad`` is None are skipped. Introduced for recurrent networks by
    Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural networks"
    (2013).

    Args:
        parameters (Tensor or iterable of Tensors): the parameters whose gradients to clip.
        max_norm (float): the largest norm allowed.
        norm_type (float): p, including ``inf``. Default: 2.
        error_if_nonfinite (bool): raise if the total norm is nan or inf, instead of
            scaling by it. Default: False.

    Returns:
        the total norm of the gradients before clipping (a 0-d Tensor).

    >>> import ember as em
    >>> model = em.nn.Linear(4, 2)
    >>> (model(em.randn(8, 4)) * 100).sum().backward()
    >>> norm = em.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> clipped = sum((p.grad ** 2).sum() for p in model.parameters()) ** 0.5
    >>> bool(norm > 1.0), round(clipped.item(), 4)
    (True, 1.0)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        generator = not isinstance(parameters, (list, tuple))
        parameters = list(parameters)
        if generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    Args:
        parameters (Tensor or iterable of Tensors): the parameters whose gradients to clip.
        clip_value (float): the largest magnitude allowed.

    >>> import ember as em
    >>> w = em.zeros(3, requires_grad=True)
    >>> w.grad = em.tensor([-3.0, 0.5, 2.0])
    >>> em.nn.utils.clip_grad_value_([w], clip_value=1.0)
    >>> w.grad
    tensor([-1.0000,  0.5000,  1.0000])
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            g = p.grad._data
            np.clip(g, -clip_value, clip_value, out=g)
            p.grad._vc[0] += 1
