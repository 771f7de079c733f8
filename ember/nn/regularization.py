"""Regularisation penalties on the weights: add one (times a strength) to any loss.

.. math:: L_1 = \\sum_i |w_i|, \\qquad L_2 = \\sum_i w_i^2, \\qquad
          \\text{elastic net} = r L_1 + (1 - r) L_2

Each returns a differentiable scalar tensor::

    loss = criterion(model(x), y) + 1e-4 * l2_penalty(model)

Given a Module, the penalties cover the parameters whose name ends with ``weight``
(``fc.weight``, ``conv1.weight``; also recurrent layers' ``weight_ih_l0``, whose name
starts with it): biases are left out, as is conventional, since penalising them does
not reduce overfitting. Pass ``weights_only=False`` to include every parameter, or pass
the tensors yourself (a tensor or any iterable of them; all are used).

L2 and weight decay: SGD's ``weight_decay=λ`` adds :math:`\\lambda w` to each gradient,
which is the gradient of :math:`\\frac{\\lambda}{2} \\sum w^2`; so ``weight_decay=λ``
matches adding ``(λ / 2) * l2_penalty(...)`` to the loss (over the same parameters).
(For Adam the two differ; AdamW's decoupled decay is neither.)
"""

from __future__ import annotations

from collections.abc import Iterable

from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty", "elastic_net_penalty"]


def _is_weight(name: str) -> bool:
    """``weight`` (and recurrent layers' ``weight_ih_l0``), not ``bias``."""
    return name.endswith("weight") or name.startswith("weight")


def _tensors(parameters, weights_only: bool, name: str) -> list[Tensor]:
    """The tensors to penalise: a Module's weights (or all its parameters), or the
    tensors of an iterable."""
    if isinstance(parameters, Module):
        return [p for name, p in parameters.named_parameters()
                if not weights_only or _is_weight(name.rsplit(".", 1)[-1])]
    if isinstance(parameters, Tensor):
        return [parameters]
    if not isinstance(parameters, Iterable):
        raise TypeError(f"{name}: expects a Module or an iterable of tensors, got "
                        f"{type(parameters).__name__}")
    tensors = list(parameters)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expects tensors, got a {type(t).__name__}")
    return tensors


def _total(terms: list[Tensor]) -> Tensor:
    """The sum of scalar tensors (0 when there are none)."""
    if not terms:
        from ember.creation import tensor

        return tensor(0.0)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def l1_penalty(parameters: Module | Iterable[Tensor], weights_only: bool = True) -> Tensor:
    """Lasso penalty :math:`\\sum_i |w_i|` over the parameters (drives weights to exactly
    zero: sparse models). The derivative at 0 is 0.

    Args:
        parameters: a Module (its ``*weight`` parameters) or an iterable of tensors.
        weights_only: for a Module, only parameters named ``...weight`` (default True);
            False takes every parameter, biases included.

    Returns:
        A scalar tensor, differentiable with respect to the parameters.

    >>> import ember as em
    >>> layer = em.nn.Linear(2, 1)
    >>> with em.no_grad():
    ...     _ = layer.weight.copy_(em.tensor([[1.0, -2.0]]))
    >>> em.nn.regularization.l1_penalty(layer)           # the bias is left out
    tensor(3., grad_fn=<SumBackward0>)
    """
    return _total([t.abs().sum() for t in _tensors(parameters, weights_only, "l1_penalty")])


def l2_penalty(parameters: Module | Iterable[Tensor], weights_only: bool = True) -> Tensor:
    """Ridge penalty :math:`\\sum_i w_i^2` over the parameters (shrinks all weights).

    SGD's ``weight_decay=λ`` is the same as adding ``(λ / 2) * l2_penalty(...)`` to the
    loss (the gradient of :math:`\\frac{\\lambda}{2} w^2` is :math:`\\lambda w`).

    Args:
        parameters: a Module (its ``*weight`` parameters) or an iterable of tensors.
        weights_only: for a Module, only parameters named ``...weight`` (default True);
            False takes every parameter, biases included.

    Returns:
        A scalar tensor, differentiable with respect to the parameters.

    >>> import ember as em
    >>> w = em.tensor([1.0, -2.0], requires_grad=True)
    >>> em.nn.regularization.l2_penalty([w])
    tensor(5., grad_fn=<SumBackward0>)
    """
    return _total([(t * t).sum() for t in _tensors(parameters, weights_only, "l2_penalty")])


def elastic_net_penalty(parameters: Module | Iterable[Tensor], l1_ratio: float = 0.5,
                        weights_only: bool = True) -> Tensor:
    """Elastic-net penalty :math:`r \\sum_i |w_i| + (1 - r) \\sum_i w_i^2` with
    :math:`r` = ``l1_ratio`` (sparsity of L1, stability of L2 with correlated inputs).

    Args:
        parameters: a Module (its ``*weight`` parameters) or an iterable of tensors.
        l1_ratio: :math:`r` in [0, 1]: 1 is :func:`l1_penalty`, 0 is :func:`l2_penalty`.
        weights_only: for a Module, only parameters named ``...weight`` (default True).

    Returns:
        A scalar tensor, differentiable with respect to the parameters.

    >>> import ember as em
    >>> w = em.tensor([1.0, -2.0], requires_grad=True)
    >>> em.nn.regularization.elastic_net_penalty([w], l1_ratio=0.5)
    tensor(4., grad_fn=<AddBackward0>)
    """
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"elastic_net_penalty: l1_ratio must be in [0, 1], got {l1_ratio}")
    tensors = _tensors(parameters, weights_only, "elastic_net_penalty")
    return l1_ratio * l1_penalty(tensors) + (1 - l1_ratio) * l2_penalty(tensors)
