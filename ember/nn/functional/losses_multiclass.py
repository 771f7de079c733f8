"""Multi-class losses other than cross-entropy: the multi-class hinge
(``multi_margin_loss``) and the Kullback-Leibler divergence between distributions
(``kl_div``, for soft targets and distillation), both with PyTorch's semantics.
"""

from __future__ import annotations

import warnings

from ember.creation import arange
from ember.functions import where
from ember.nn.functional.losses_common import (
    REDUCTIONS,
    apply_reduction,
    as_float,
    check_class_indices,
    check_float_input,
    check_reduction,
    check_same_shape,
    class_weight,
    legacy_reduction,
)
from ember.tensor import Tensor

__all__ = ["multi_margin_loss", "kl_div"]


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (Weston and Watkins' multi-class SVM, PyTorch's form):

    .. math:: \\ell_i = \\frac{1}{C} \\sum_{j \\ne y_i}
              w_{y_i} \\max(0, m - x_{i, y_i} + x_{i, j})^p

    Zero once the target's score beats every other by the margin :math:`m`; the
    derivative at the kink is 0. Pairs with a linear output (scores, no softmax).

    Args:
        input: scores, (N, C) or (C,).
        target: int64 class indices in [0, C), (N,) or ().
        p: 1 (default) or 2 (squared hinge).
        margin: the margin m (default 1).
        weight: optional (C,) weight per class, applied by the target's class.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default, over the N samples), ``'sum'`` or ``'none'``.

    Shape:
        output () or (N,) for ``'none'``.

    >>> import ember as em
    >>> scores = em.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> em.nn.functional.multi_margin_loss(scores, em.tensor([3]))
    tensor(0.3250)
    """
    name = "multi_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(name, reduction)
    check_float_input(name, input)
    if p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 or 2, got {p}")
    if input.ndim not in (1, 2):
        raise ValueError(f"{name}: input must be (N, C) or (C,), got shape {tuple(input.shape)}")
    weight = class_weight(name, weight, input)
    target = check_class_indices(name, input, target)
    axis = input.ndim - 1
    num_classes = input.shape[axis]
    index = target.unsqueeze(axis)
    hinge = (margin - input.gather(axis, index) + input).relu()
    if p == 2:
        hinge = hinge * hinge
    others = index != arange(num_classes)  # (N, C): every class but the target's
    loss = where(others, hinge, 0.0).sum(axis) / num_classes
    if weight is not None:
        loss = loss * weight[target]
    return apply_reduction(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence :math:`KL(t \\,\\|\\, q)`, with ``input`` the LOG of
    :math:`q` (PyTorch's argument order and convention):

    .. math:: \\ell_i = t_i (\\log t_i - x_i)  \\quad (0 \\text{ where } t_i = 0), \\qquad
              \\ell_i = e^{t_i} (t_i - x_i) \\text{ with log\\_target}

    Pairs with a **log_softmax** output (model distribution) against target
    probabilities (or log-probabilities with ``log_target=True``), e.g. in knowledge
    distillation. Use ``reduction='batchmean'`` for the true KL divergence per sample;
    'mean' divides by the number of elements (kept for compatibility, with PyTorch's
    warning).

    Args:
        input: log-probabilities, any shape, usually (N, C).
        target: probabilities (or log-probabilities) of the same shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'batchmean'`` (sum / N), ``'sum'``, ``'none'``.
        log_target: whether ``target`` holds log-probabilities (default False).

    Shape:
        output () or (*) for ``'none'``.

    >>> import ember as em
    >>> q = em.tensor([[0.5, 0.5]]).log()
    >>> em.nn.functional.kl_div(q, em.tensor([[0.9, 0.1]]), reduction='batchmean')
    tensor(0.3681)
    """
    name = "kl_div"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(name, reduction, REDUCTIONS + ("batchmean",))
    check_float_input(name, input)
    target = as_float(target, input)
    check_same_shape(name, input, target)
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total by the number of elements, "
                      "not the batch size; 'batchmean' gives the KL divergence per sample",
                      UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # x log x is 0 at x = 0 (and its gradient taken as 0 there)
        loss = target * where(target == 0, 1.0, target).log() - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return apply_reduction(loss, reduction)
