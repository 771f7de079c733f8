"""Binary classification losses: cross-entropy on probabilities or on logits, and the
margin losses on a score f with labels y = ±1 (logistic, soft margin, hinge, exponential).

Which output pairs with which loss:

* sigmoid output (a probability)            -> ``binary_cross_entropy``;
* raw score (logit), labels 0/1             -> ``binary_cross_entropy_with_logits``
  (sigmoid and cross-entropy fused: stable for any logit, the one to prefer);
* raw score f, labels ±1                    -> ``logistic_loss`` (= ``soft_margin_loss``),
  ``hinge_loss`` (SVM), ``exponential_loss`` (AdaBoost).
"""

from __future__ import annotations

from ember.autograd.primitives import defvjp, primitive
from ember.nn.functional.losses_common import (
    apply_reduction,
    as_float,
    check_float_input,
    check_labels_pm1,
    check_reduction,
    check_same_shape,
    legacy_reduction,
    softplus,
)
from ember.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "logistic_loss",
    "soft_margin_loss",
    "hinge_loss",
    "exponential_loss",
]


def _prepare(name: str, input: Tensor, target, reduction: str) -> Tensor:
    check_reduction(name, reduction)
    check_float_input(name, input)
    target = as_float(target, input)
    check_same_shape(name, input, target)
    return target


def _broadcast_weight(name: str, weight, input: Tensor, what: str = "weight") -> Tensor:
    """A weight tensor that broadcasts to the input's shape (without enlarging it)."""
    weight = as_float(weight, input)
    shape, wshape = tuple(input.shape), tuple(weight.shape)
    if len(wshape) > len(shape) or any(
        w not in (1, s) for w, s in zip(wshape[::-1], shape[::-1], strict=False)
    ):
        raise ValueError(f"{name}: {what} of shape {wshape} does not broadcast to the input's "
                         f"shape {shape}")
    return weight


def _log(xp, x):
    """log x, and -inf at x = 0 without NumPy's divide-by-zero warning."""
    positive = x > 0
    return xp.where(positive, xp.log(xp.where(positive, x, 1)), -xp.inf)


def _log1m(xp, x):
    """log(1 - x), and -inf at x = 1 without NumPy's divide-by-zero warning."""
    below = x < 1
    return xp.where(below, xp.log1p(-xp.where(below, x, 0)), -xp.inf)


# NOTE: a primitive for PyTorch's behaviour at probabilities 0 and 1: each log is clamped at
# -100 there, and the gradient (x - y) / max(x (1 - x), 1e-12) stays finite where the
# composed log's 1/x would give inf * 0 = nan.
@primitive(saves="inputs")
def _binary_cross_entropy(xp, x, y):
    """-(y max(log x, -100) + (1 - y) max(log(1 - x), -100));
    d/dx = (x - y) / max(x (1 - x), 1e-12),  d/dy = log(1 - x) - log x."""
    log_x = xp.maximum(_log(xp, x), -100)
    log_1mx = xp.maximum(_log1m(xp, x), -100)
    return -(y * log_x + (1 - y) * log_1mx)


defvjp(_binary_cross_entropy,
       lambda xp, g, ans, x, y: g * (x - y) / xp.maximum(x * (1 - x), 1e-12),
       lambda xp, g, ans, x, y: g * (_log1m(xp, x) - _log(xp, x)))
_binary_cross_entropy.name = "binary_cross_entropy"


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy between probabilities ``input`` and targets in [0, 1]:

    .. math:: \\ell_i = -w_i \\big(y_i \\log x_i + (1 - y_i) \\log(1 - x_i)\\big)

    with each log clamped at -100 (as PyTorch), so a probability of exactly 0 or 1 gives
    a finite loss. Pairs with a **sigmoid** output; on raw scores prefer
    :func:`binary_cross_entropy_with_logits`, which is stabler.

    Args:
        input: probabilities in [0, 1], any shape.
        target: targets in [0, 1] of the same shape.
        weight: optional rescaling of each element, broadcast to the input's shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> p = em.tensor([0.9, 0.2])
    >>> em.nn.functional.binary_cross_entropy(p, em.tensor([1.0, 0.0]))
    tensor(0.1643)
    """
    name = "binary_cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _prepare(name, input, target, reduction)
    probabilities = input._data  # array methods only: validation records no graph
    if ((probabilities < 0) | (probabilities > 1)).any():
        raise ValueError(f"{name}: every element of input must be a probability in [0, 1]; "
                         "apply sigmoid first, or use binary_cross_entropy_with_logits")
    loss = _binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * _broadcast_weight(name, weight, input)
    return apply_reduction(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid and binary cross-entropy in one, on logits :math:`x` (PyTorch's form):

    .. math:: \\ell_i = w_i \\big((1 - y_i)\\, x_i + (1 + (p - 1)\\, y_i)\\,
              \\log(1 + e^{-x_i})\\big)

    which is :math:`-w_i (p\\, y_i \\log\\sigma(x_i) + (1 - y_i)\\log(1 - \\sigma(x_i)))`,
    with :math:`\\log(1 + e^{-x}) = \\max(-x, 0) + \\log(1 + e^{-|x|})` evaluated so that it
    is finite for logits of any size; the gradient is :math:`\\sigma(x) - y` (for p = 1).
    Pairs with a **linear** output (no sigmoid in front).

    Args:
        input: logits, any shape.
        target: targets in [0, 1] of the same shape.
        weight: optional rescaling of each element, broadcast to the input's shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        pos_weight: weight :math:`p` of the positive examples, broadcast along the last
            dimension (one per class in multi-label problems; > 1 raises recall).

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> x = em.tensor([2.0, -1.0])
    >>> em.nn.functional.binary_cross_entropy_with_logits(x, em.tensor([1.0, 0.0]))
    tensor(0.2201)
    """
    name = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _prepare(name, input, target, reduction)
    log_one_minus_p = softplus(-input)  # -log sigmoid(x) = log(1 + e^-x)
    if pos_weight is None:
        loss = (1 - target) * input + log_one_minus_p
    else:
        pos_weight = _broadcast_weight(name, pos_weight, input, what="pos_weight")
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_one_minus_p
    if weight is not None:
        loss = loss * _broadcast_weight(name, weight, input)
    return apply_reduction(loss, reduction)


def _margin_prepare(name: str, input: Tensor, target, reduction: str,
                    check_labels: bool = True) -> Tensor:
    target = _prepare(name, input, target, reduction)
    if check_labels:
        check_labels_pm1(name, target)
    return target


def logistic_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Logistic loss on scores :math:`f` with labels :math:`y = \\pm 1`:

    .. math:: \\ell_i = \\log(1 + e^{-y_i f_i}) = \\mathrm{softplus}(-y_i f_i)

    Logistic regression's loss; the same as binary cross-entropy with logits for labels
    :math:`(1 + y)/2`. Computed through a stable softplus, finite for any score.
    Pairs with a linear output.

    Args:
        input: scores f, any shape.
        target: labels -1 or +1 of the same shape.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.logistic_loss(em.tensor([0.0, 2.0]), em.tensor([1.0, -1.0]),
    ...                                reduction='none')
    tensor([0.6931, 2.1269])
    """
    target = _margin_prepare("logistic_loss", input, target, reduction)
    return apply_reduction(softplus(-target * input), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """PyTorch's soft margin loss, :math:`\\ell_i = \\log(1 + e^{-y_i x_i})` with
    :math:`y = \\pm 1`: the logistic loss under PyTorch's name (labels are not checked).

    Computed through a stable softplus (PyTorch's ``log1p(exp(.))`` overflows to inf for
    :math:`-y x > 89` in float32; this does not). Pairs with a linear output.

    Args:
        input: scores, any shape.
        target: labels -1 or +1 of the same shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.soft_margin_loss(em.tensor([0.0]), em.tensor([1.0]))
    tensor(0.6931)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _margin_prepare("soft_margin_loss", input, target, reduction, check_labels=False)
    return apply_reduction(softplus(-target * input), reduction)


def hinge_loss(input: Tensor, target: Tensor, margin: float = 1.0,
               reduction: str = "mean") -> Tensor:
    """Hinge loss (the linear SVM's) on scores :math:`f` with labels :math:`y = \\pm 1`:

    .. math:: \\ell_i = \\max(0, m - y_i f_i)

    Zero once an example is on the right side with margin :math:`m` (default 1); the
    derivative at the kink is 0. Pairs with a linear output (plus an L2 penalty on the
    weights, :func:`ember.nn.regularization.l2_penalty`, for the soft-margin SVM).
    For more than two classes see :func:`multi_margin_loss`.

    Args:
        input: scores f, any shape.
        target: labels -1 or +1 of the same shape.
        margin: the margin m (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.hinge_loss(em.tensor([2.0, 0.5, 1.0]), em.tensor([1.0, 1.0, -1.0]),
    ...                             reduction='none')
    tensor([0.0000, 0.5000, 2.0000])
    """
    target = _margin_prepare("hinge_loss", input, target, reduction)
    return apply_reduction((margin - target * input).relu(), reduction)


def exponential_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Exponential loss (AdaBoost's) on scores :math:`f` with labels :math:`y = \\pm 1`:

    .. math:: \\ell_i = e^{-y_i f_i}

    Penalises confident mistakes exponentially (so it is sensitive to label noise, and
    overflows to inf for :math:`-y f > 88` in float32, 709 in float64). Pairs with a
    linear output (an additive model of weak learners, in boosting).

    Args:
        input: scores f, any shape.
        target: labels -1 or +1 of the same shape.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input and target (*); output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.functional.exponential_loss(em.tensor([0.0, 1.0]), em.tensor([1.0, -1.0]),
    ...                                   reduction='none')
    tensor([1.0000, 2.7183])
    """
    target = _margin_prepare("exponential_loss", input, target, reduction)
    return apply_reduction((-target * input).exp(), reduction)
