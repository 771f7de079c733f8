"""Parameters as one flat vector, and back (for line searches, second-order methods,
weight averaging)."""

from __future__ import annotations

from collections.abc import Iterable

from ember import functions as F
from ember.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one vector (differentiable).

    >>> import ember as em
    >>> layer = em.nn.Linear(2, 1)
    >>> em.nn.utils.parameters_to_vector(layer.parameters()).shape
    (3,)
    """
    return F.cat([F.reshape(p, -1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Give the parameters, in order, consecutive slices of ``vec`` as their values.

    As in PyTorch each parameter's data becomes a view of ``vec`` (they share memory).

    >>> import ember as em
    >>> layer = em.nn.Linear(2, 1)
    >>> em.nn.utils.vector_to_parameters(em.tensor([1.0, 2.0, 3.0]), layer.parameters())
    >>> layer.weight.detach(), layer.bias.detach()
    (tensor([[1., 2.]]), tensor([3.]))
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected an ember Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a vector of {total} elements (the "
                         f"parameters' total), got shape {vec.shape}")
    data = vec._data
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = data[pointer:pointer + n].reshape(param.shape)
        pointer += n
