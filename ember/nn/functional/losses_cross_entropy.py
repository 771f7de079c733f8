"""Multi-class cross-entropy: ``nll_loss`` on log-probabilities and ``cross_entropy`` on
logits, with PyTorch's class weights, ``ignore_index``, label smoothing, class-probability
targets and N-d inputs (N, C, d1, d2, ...) for per-pixel classification (segmentation).

Which output pairs with which loss: raw scores (logits) straight into ``cross_entropy``
(it applies log-softmax itself, stably); a ``log_softmax`` output into ``nll_loss``
(the two together are ``cross_entropy``); never a softmax output into either.

The 'mean' reduction of PyTorch, reproduced exactly: with class indices it is a weighted
mean, :math:`\\sum_i \\ell_i / \\sum_i w_{y_i}` over the targets that are not
``ignore_index`` (the plain mean over them without weights; NaN if every target is
ignored); with class probabilities it divides by the number of samples N d1 d2 ...
"""

from __future__ import annotations

import numpy as np

from ember.autograd.primitives import defcomposite, defvjp, primitive
from ember.functions import log_softmax, where
from ember.nn.functional.losses_common import (
    as_float,
    check_class_indices,
    check_float_input,
    check_reduction,
    class_weight,
    legacy_reduction,
)
from ember.tensor import Tensor

__all__ = ["nll_loss", "cross_entropy"]


def _targets(xp, x, target, weight, axis: int, ignore_index: int):
    """Per target: valid (not ignored); the index tuple of its logit, so that x[places] is
    x[n, target[n, h, w], h, w] (ignored targets point at class 0); its weight w[target]
    (1 without class weights), 0 where ignored."""
    valid = target != ignore_index
    safe = xp.where(valid, target, 0)
    places = [xp.arange(n).reshape((1,) * d + (n,) + (1,) * (target.ndim - d - 1))
              for d, n in enumerate(target.shape)]
    places.insert(axis, safe)
    w_t = valid.astype(x.dtype) if weight is None else xp.where(valid, weight[safe], 0)
    return valid, tuple(places), w_t


def _unsqueeze(v, axis: int):
    """``v`` with a size-1 axis at ``axis``: a per-target value against the logits."""
    return v.reshape(v.shape[:axis] + (1,) + v.shape[axis:])


def _along(v, ndim: int, axis: int):
    """A per-class vector shaped to broadcast along ``axis`` of an ndim-d array."""
    return v.reshape((1,) * axis + (-1,) + (1,) * (ndim - axis - 1))


# NOTE: one primitive instead of log_softmax + nll_loss (six graph nodes, an (N, C) array
# of log-probabilities kept for backward, a scatter-add): the loss is log-sum-exp minus
# the target's logit, the gradient softmax - one_hot is formed in place in a few passes,
# and both are finite for logits of any size (measured 4x faster at (256, 1000)).
@primitive(saves="inputs")
def _cross_entropy(xp, x, target, weight, axis, ignore_index, label_smoothing, reduction):
    """l = (1 - eps) w_y (lse - x_y) + (eps / C) sum_c w_c (lse - x_c), lse = log sum_c e^x_c,
    zero where y = ignore_index; reduced by sum, or by a mean over sum of w_y."""
    shifted = x - x.max(axis=axis, keepdims=True)
    lse = xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))  # the lse of shifted
    valid, places, w_t = _targets(xp, x, target, weight, axis, ignore_index)
    loss = (lse.squeeze(axis) - shifted[places]) * w_t  # -w_y log p_y
    smooth = None
    if label_smoothing:
        if weight is None:  # -sum_c log p_c
            smooth = x.shape[axis] * lse - shifted.sum(axis=axis, keepdims=True)
        else:  # -sum_c w_c log p_c
            w = _along(weight, x.ndim, axis)
            smooth = weight.sum() * lse - (shifted * w).sum(axis=axis, keepdims=True)
        smooth = smooth.squeeze(axis)
    return _smooth_and_reduce(loss, smooth, valid, w_t, x.shape[axis], label_smoothing,
                              reduction, lambda total: xp.asarray(xp.nan, dtype=x.dtype))


def _smooth_and_reduce(loss, smooth, valid, w_t, num_classes, label_smoothing, reduction,
                       empty):
    """(1 - eps) loss + (eps / C) smooth over the valid targets, then the reduction: the
    sum, or the mean over sum of w_y (``empty(total)`` when every target is ignored)."""
    if label_smoothing:
        loss = (1 - label_smoothing) * loss + (label_smoothing / num_classes) * (smooth * valid)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    count = w_t.sum()
    return total / count if count != 0 else empty(total)


def _cross_entropy_vjp(xp, g, ans, x, target, weight, axis, ignore_index, label_smoothing,
                       reduction):
    """dl/dx_c = s_i [(1 - eps) w_y (p_c - [c = y]) + (eps / C)(W p_c - w_c)], with p the
    softmax, W = sum_c w_c, and s_i the reduction's scale (g, or g / sum of w_y)."""
    valid, places, w_t = _targets(xp, x, target, weight, axis, ignore_index)
    if reduction == "mean":
        count = w_t.sum()
        if count == 0:  # every target ignored: the loss is NaN, its gradient zero
            return xp.zeros_like(x)
        g = g / count
    nll_scale = w_t * (g * (1 - label_smoothing))  # shape of the target
    softmax_scale = nll_scale
    if label_smoothing:
        num_classes = x.shape[axis]
        smooth_scale = valid * (g * (label_smoothing / num_classes))
        total_weight = num_classes if weight is None else weight.sum()
        softmax_scale = nll_scale + smooth_scale * total_weight
    grad = x - x.max(axis=axis, keepdims=True)
    xp.exp(grad, out=grad)  # e^(x - max), then scaled in place into softmax * scale
    grad *= _unsqueeze(softmax_scale, axis) / grad.sum(axis=axis, keepdims=True)
    if label_smoothing:
        smooth_scale = _unsqueeze(smooth_scale, axis)
        grad -= smooth_scale if weight is None else smooth_scale * _along(weight, x.ndim, axis)
    grad[places] -= nll_scale  # - one_hot: one place per target, so no index repeats
    return grad


defvjp(_cross_entropy, _cross_entropy_vjp, None, None)
_cross_entropy.name = "cross_entropy"


def _cross_entropy_composite(x, target, weight, axis, ignore_index, label_smoothing,
                             reduction):
    """The same loss composed of log_softmax and indexing, for higher-order gradients."""
    log_p = log_softmax(x, axis)
    weight = None if weight is None else weight._data
    valid, places, w_t = _targets(np, x._data, target._data, weight, axis, ignore_index)
    smooth = None
    if label_smoothing:
        smooth = -(log_p * (1 if weight is None else _along(weight, x.ndim, axis))).sum(axis)
    return _smooth_and_reduce(-log_p[places] * w_t, smooth, valid, w_t, x.shape[axis],
                              label_smoothing, reduction, lambda total: total * 0 + np.nan)


defcomposite(_cross_entropy, _cross_entropy_composite)


def _class_input(name: str, input: Tensor) -> int:
    """Check a (C,) or (N, C, d1, ...) float input; its class axis."""
    check_float_input(name, input)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension: (C,), (N, C) or "
                         f"(N, C, d1, ...), got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities :math:`x`:

    .. math:: \\ell_i = -w_{y_i} x_{i, y_i}, \\qquad
              \\text{'mean'} = \\sum_i \\ell_i \\Big/ \\sum_i w_{y_i}

    over the targets that are not ``ignore_index`` (their loss is 0). Pairs with a
    **log_softmax** output; ``nll_loss(log_softmax(z, 1), y)`` is ``cross_entropy(z, y)``.

    Args:
        input: log-probabilities, (N, C), (C,) or (N, C, d1, ...).
        target: int64 class indices in [0, C), (N,), () or (N, d1, ...).
        weight: optional (C,) weight per class (for imbalanced classes).
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        ignore_index: targets with this value contribute nothing (default -100).
        reduction: ``'mean'`` (default; weighted as above), ``'sum'`` or ``'none'``.

    Shape:
        output () or, for ``'none'``, the target's shape.

    >>> import ember as em
    >>> logp = em.tensor([[0.0, -2.0], [-1.0, -0.5]])
    >>> em.nn.functional.nll_loss(logp, em.tensor([0, 1]))
    tensor(0.2500)
    """
    name = "nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(name, reduction)
    axis = _class_input(name, input)
    weight = class_weight(name, weight, input)
    target = check_class_indices(name, input, target, ignore_index)
    valid = target != ignore_index
    safe = where(valid, target, 0)
    picked = input.gather(axis, safe.unsqueeze(axis)).squeeze(axis)
    if weight is None:
        w_t = valid.type(input.dtype)
    else:
        w_t = where(valid, weight[safe], 0.0)
    loss = -(picked * w_t)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    total_weight = w_t.sum()
    if total_weight.item() == 0:  # every target ignored: NaN (as PyTorch), zero gradient
        return loss.sum() * 0.0 + float("nan")
    return loss.sum() / total_weight


def _cross_entropy_probabilities(input: Tensor, target: Tensor, weight, axis: int,
                                 label_smoothing: float, reduction: str) -> Tensor:
    """-sum_c w_c t_c log softmax(x)_c, composed (so the target gets a gradient too)."""
    num_classes = input.shape[axis]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    product = log_softmax(input, dim=axis) * target
    if weight is not None:
        shape = [1] * input.ndim
        shape[axis] = num_classes
        product = product * weight.reshape(shape)
    if reduction == "none":
        return -product.sum(axis)
    if reduction == "sum":
        return -product.sum()
    return -product.sum() / (input.numel() // max(num_classes, 1))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits and class indices or class probabilities.

    With class indices :math:`y` (smoothing :math:`\\epsilon`, C classes):

    .. math:: \\ell_i = (1 - \\epsilon)\\, w_{y_i} (-\\log p_{i, y_i})
              + \\frac{\\epsilon}{C} \\sum_c w_c (-\\log p_{i, c}), \\qquad
              p_i = \\mathrm{softmax}(x_i)

    with 'mean' dividing by :math:`\\sum_i w_{y_i}` over the targets that are not
    ``ignore_index`` (both terms, as PyTorch). With class probabilities :math:`t`
    (a target of the input's shape), :math:`\\ell_i = -\\sum_c w_c t'_{i,c} \\log p_{i,c}`
    with :math:`t' = (1 - \\epsilon) t + \\epsilon / C`, and 'mean' divides by N.
    The gradient for class indices is :math:`p - \\mathrm{one\\_hot}(y)` (scaled), from
    one fused, numerically stable op: finite for logits of any size.

    Pairs with a **linear** output (logits); no softmax in front.

    Args:
        input: logits, (N, C), (C,), or (N, C, d1, ...) e.g. (N, C, H, W) per pixel.
        target: int64 class indices in [0, C) of shape (N,), () or (N, d1, ...); or
            class probabilities of the input's shape.
        weight: optional (C,) weight per class (for imbalanced classes).
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        ignore_index: class-index targets with this value contribute nothing (default -100).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        label_smoothing: :math:`\\epsilon` in [0, 1] (default 0).

    Shape:
        output () or, for ``'none'``, (N,), () or (N, d1, ...).

    >>> import ember as em
    >>> logits = em.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> em.nn.functional.cross_entropy(logits, em.tensor([0, 1]))
    tensor(0.3606)
    >>> em.nn.functional.cross_entropy(logits, em.tensor([0, 1]), reduction='none',
    ...                                label_smoothing=0.1)
    tensor([0.3365, 0.6181])
    """
    name = "cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(name, reduction)
    axis = _class_input(name, input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    weight = class_weight(name, weight, input)
    if isinstance(target, Tensor) and tuple(target.shape) == tuple(input.shape):
        if target.dtype.kind != "f":
            raise TypeError(f"{name}: a target of the input's shape {tuple(input.shape)} holds "
                            f"class probabilities and must be floating point, got "
                            f"{target.dtype}")
        if ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index is not supported with class-probability "
                             "targets")
        return _cross_entropy_probabilities(input, as_float(target, input), weight, axis,
                                            float(label_smoothing), reduction)
    target = check_class_indices(name, input, target, ignore_index)
    return _cross_entropy(input, target, weight, axis=axis, ignore_index=ignore_index,
                          label_smoothing=float(label_smoothing), reduction=reduction)
