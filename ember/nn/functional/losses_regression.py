"""Regression losses: squared, absolute, logarithmic and percentage errors, Smooth L1, Huber.

Each compares a prediction ``input`` with a ``target`` of the same shape, element by
element, then reduces (``'mean'`` by default). They pair with a linear (or ReLU) output
layer: no squashing function is needed in front of them. All are composed from tensor
ops, so the gradient of the target comes for free (PyTorch differentiates it too).
"""

from __future__ import annotations

from ember.functions import where
from ember.nn.functional.losses_common import (
    apply_reduction,
    as_float,
    check_float_input,
    check_reduction,
    check_same_shape,
    legacy_reduction,
)
from ember.tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "msle_loss", "mape_loss", "smooth_l1_loss", "huber_loss"]


def _prepare(name: str, input: Tensor, target, reduction: str) -> Tensor:
    """Check the arguments; the target as a tensor of the input's dtype."""
    check_reduction(name, reduction)
    check_float_input(name, input)
    target = as_float(target, input)
    check_same_shape(name, input, target)
    return target


def _weighted(name: str, loss: Tensor, weight, reduction: str, mean_by_weight: bool) -> Tensor:
    """PyTorch's optional per-element ``weight``: the 'mean' of mse/l1 divides by sum(weight),
    that of huber by the number of elements."""
    if weight is None:
        return apply_reduction(loss, reduction)
    weight = as_float(weight, loss)
    check_same_shape(name, loss, weight, what="weight")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return apply_reduction(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error: :math:`\\ell_i = w_i (x_i - y_i)^2`.

    Pairs with a linear output (regression). With ``weight``, 'mean' is
    :math:`\\sum_i w_i (x_i - y_i)^2 / \\sum_i w_i`, as in PyTorch.

    Args:
        input: predictions, any shape.
        target: values of the same shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        weight: optional per-element weights of the input's shape.

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.mse_loss(em.tensor([1.0, 2.0, 4.0]), em.tensor([1.0, 0.0, 1.0]))
    tensor(4.3333)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _prepare("mse_loss", input, target, reduction)
    diff = input - target
    return _weighted("mse_loss", diff * diff, weight, reduction, mean_by_weight=True)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error (MAE): :math:`\\ell_i = w_i |x_i - y_i|`.

    Pairs with a linear output; less sensitive to outliers than MSE (it estimates the
    median). The derivative at :math:`x_i = y_i` is 0 (as PyTorch's).

    Args:
        input: predictions, any shape.
        target: values of the same shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        weight: optional per-element weights; 'mean' then divides by their sum.

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.l1_loss(em.tensor([1.0, 2.0, 4.0]), em.tensor([1.0, 0.0, 1.0]))
    tensor(1.6667)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _prepare("l1_loss", input, target, reduction)
    return _weighted("l1_loss", (input - target).abs(), weight, reduction, mean_by_weight=True)


def msle_loss(input: Tensor, target: Tensor, reduction: str = "mean",
              eps: float = 1e-5) -> Tensor:
    """Mean squared logarithmic error (as Keras' ``MeanSquaredLogarithmicError``):

    .. math:: \\ell_i = \\big(\\log(1 + \\max(x_i, \\epsilon))
              - \\log(1 + \\max(y_i, \\epsilon))\\big)^2

    For positive targets spanning orders of magnitude (counts, prices): it penalises the
    ratio of prediction and target rather than their difference. Pairs with a
    non-negative output (ReLU, softplus, exp). Predictions below ``eps`` get no gradient.

    Args:
        input: predictions, any shape.
        target: values of the same shape.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        eps: both sides are clipped from below at this value (default 1e-5).

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.msle_loss(em.tensor([0.0, 2.0]), em.tensor([0.0, 2.0]))
    tensor(0.)
    """
    target = _prepare("msle_loss", input, target, reduction)
    diff = input.clamp(min=eps).log1p() - target.clamp(min=eps).log1p()
    return apply_reduction(diff * diff, reduction)


def mape_loss(input: Tensor, target: Tensor, reduction: str = "mean",
              eps: float = 1e-5) -> Tensor:
    """Mean absolute percentage error, in percent (as Keras' ``MeanAbsolutePercentageError``):

    .. math:: \\ell_i = 100 \\, \\frac{|y_i - x_i|}{\\max(|y_i|, \\epsilon)}

    A scale-free error for targets away from zero; near zero it explodes (hence ``eps``).
    Pairs with a linear output.

    Args:
        input: predictions, any shape.
        target: values of the same shape.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        eps: the denominator's floor (default 1e-5).

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.mape_loss(em.tensor([110.0, 45.0]), em.tensor([100.0, 50.0]))
    tensor(10.)
    """
    target = _prepare("mape_loss", input, target, reduction)
    loss = 100.0 * (target - input).abs() / target.abs().clamp(min=eps)
    return apply_reduction(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1 loss (Fast R-CNN's box regression), with :math:`d_i = x_i - y_i`:

    .. math:: \\ell_i = \\begin{cases} 0.5\\, d_i^2 / \\beta & |d_i| < \\beta \\\\
              |d_i| - 0.5\\,\\beta & \\text{otherwise} \\end{cases}

    Quadratic near zero (smooth gradient), linear beyond ``beta`` (robust to outliers);
    ``beta = 0`` is the L1 loss. Pairs with a linear output.

    Args:
        input: predictions, any shape.
        target: values of the same shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        beta: where the quadratic part turns linear (>= 0, default 1).

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.smooth_l1_loss(em.tensor([0.5, 3.0]), em.tensor([0.0, 0.0]),
    ...                                 reduction='none')
    tensor([0.1250, 2.5000])
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _prepare("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    diff = input - target
    magnitude = diff.abs()
    if beta == 0:  # the quadratic piece would divide by zero (and poison the gradient)
        return apply_reduction(magnitude, reduction)
    loss = where(magnitude < beta, diff * diff * (0.5 / beta), magnitude - 0.5 * beta)
    return apply_reduction(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Huber loss, with :math:`d_i = x_i - y_i`:

    .. math:: \\ell_i = w_i \\begin{cases} 0.5\\, d_i^2 & |d_i| < \\delta \\\\
              \\delta\\,(|d_i| - 0.5\\,\\delta) & \\text{otherwise} \\end{cases}

    Robust regression: MSE for small errors, ``delta`` times L1 for large ones
    (``huber_loss = delta * smooth_l1_loss`` with ``beta = delta``). Pairs with a
    linear output.

    Args:
        input: predictions, any shape.
        target: values of the same shape.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        delta: the threshold between the quadratic and linear parts (> 0, default 1).
        weight: optional per-element weights; 'mean' still divides by the number of
            elements (as PyTorch's huber_loss, unlike its mse_loss).

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.huber_loss(em.tensor([0.5, 3.0]), em.tensor([0.0, 0.0]),
    ...                             reduction='none', delta=2.0)
    tensor([0.1250, 4.0000])
    """
    target = _prepare("huber_loss", input, target, reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    diff = input - target
    magnitude = diff.abs()
    loss = where(magnitude < delta, diff * diff * 0.5, (magnitude - 0.5 * delta) * delta)
    return _weighted("huber_loss", loss, weight, reduction, mean_by_weight=False)
