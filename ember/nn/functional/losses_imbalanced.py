"""Losses for imbalanced classes and hard examples: focal loss (multi-class and
torchvision's binary form) and the soft Dice loss of segmentation.

* ``focal_loss``: logits -> softmax cross-entropy down-weighted on easy examples;
* ``sigmoid_focal_loss``: logits -> per-element sigmoid form (RetinaNet, torchvision);
* ``dice_loss``: probabilities (after sigmoid or softmax) -> 1 - soft Dice overlap.
"""

from __future__ import annotations

import numbers

from ember.creation import arange
from ember.functions import log_softmax, where
from ember.nn.functional.losses_binary import binary_cross_entropy_with_logits
from ember.nn.functional.losses_common import (
    apply_reduction,
    as_float,
    check_class_indices,
    check_float_input,
    check_reduction,
    check_same_shape,
)
from ember.tensor import Tensor

__all__ = ["focal_loss", "sigmoid_focal_loss", "dice_loss"]


def focal_loss(input: Tensor, target: Tensor, alpha: float | Tensor | None = None,
               gamma: float = 2.0, reduction: str = "mean", ignore_index: int = -100) -> Tensor:
    """Multi-class focal loss on logits (Lin et al., 2017, "Focal Loss for Dense Object
    Detection"):

    .. math:: \\ell_i = -\\alpha_{y_i} (1 - p_{i, y_i})^\\gamma \\log p_{i, y_i}, \\qquad
              p_i = \\mathrm{softmax}(x_i)

    The factor :math:`(1 - p_t)^\\gamma` shrinks the loss of well-classified examples so
    that training focuses on the hard ones; :math:`\\gamma = 0` without ``alpha`` is
    exactly :func:`cross_entropy`. Pairs with a linear output (logits), like
    cross-entropy. Use :math:`\\gamma \\ge 1`: for :math:`0 < \\gamma < 1` the factor's
    derivative is infinite at :math:`p_t = 1`.

    Args:
        input: logits, (N, C), (C,) or (N, C, d1, ...).
        target: int64 class indices in [0, C), (N,), () or (N, d1, ...).
        alpha: None (no weighting), a float (a constant factor for every class), or a
            (C,) tensor of per-class weights, picked by the target's class.
        gamma: the focusing parameter :math:`\\gamma \\ge 0` (default 2).
        reduction: ``'mean'`` (default: over the targets that are not ignored; unlike
            cross_entropy's class ``weight``, ``alpha`` does not change the divisor),
            ``'sum'`` or ``'none'``.
        ignore_index: targets with this value contribute nothing (default -100).

    Shape:
        output () or, for ``'none'``, the target's shape.

    >>> import ember as em
    >>> logits = em.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> em.nn.functional.focal_loss(logits, em.tensor([0, 1]), gamma=2.0)
    tensor(0.0516)
    """
    name = "focal_loss"
    check_reduction(name, reduction)
    check_float_input(name, input)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension: (C,), (N, C) or "
                         "(N, C, d1, ...), got a 0-d tensor")
    if gamma < 0:
        raise ValueError(f"{name}: gamma must be non-negative, got {gamma}")
    axis = 0 if input.ndim == 1 else 1
    target = check_class_indices(name, input, target, ignore_index)
    valid = target != ignore_index
    safe = where(valid, target, 0)
    log_p = log_softmax(input, dim=axis).gather(axis, safe.unsqueeze(axis)).squeeze(axis)
    loss = -log_p
    if gamma:
        loss = loss * (1 - log_p.exp()) ** gamma
    if isinstance(alpha, numbers.Real):
        loss = loss * float(alpha)
    elif alpha is not None:
        alpha = as_float(alpha, input)
        num_classes = input.shape[axis]
        if tuple(alpha.shape) != (num_classes,):
            raise ValueError(f"{name}: alpha of shape {tuple(alpha.shape)} must be a float or "
                             f"hold one weight per class, shape ({num_classes},)")
        loss = loss * alpha[safe]
    loss = where(valid, loss, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / valid.type(input.dtype).sum()


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25,
                       gamma: float = 2, reduction: str = "none") -> Tensor:
    """Binary focal loss on logits, exactly ``torchvision.ops.sigmoid_focal_loss``:

    .. math:: \\ell_i = \\alpha_t (1 - p_t)^\\gamma \\, \\mathrm{BCE}(x_i, y_i), \\quad
              p_t = p y + (1 - p)(1 - y), \\quad \\alpha_t = \\alpha y + (1 - \\alpha)(1 - y)

    with :math:`p = \\sigma(x)` and BCE the (stable) binary cross-entropy with logits; a
    negative ``alpha`` disables the weighting. For dense detection (RetinaNet), where
    easy negatives vastly outnumber positives. Pairs with a linear output (logits); the
    arguments are named, and default, as torchvision's (note ``reduction='none'``).

    Args:
        inputs: logits, any shape.
        targets: binary labels (0 or 1; soft labels allowed) of the same shape.
        alpha: weight of the positive class in (0, 1), or < 0 for none (default 0.25).
        gamma: the focusing parameter (default 2).
        reduction: ``'none'`` (default), ``'mean'`` or ``'sum'``.

    Shape:
        inputs and targets (*); output (*) for ``'none'``, else ().

    >>> import ember as em
    >>> em.nn.functional.sigmoid_focal_loss(em.tensor([0.0, 2.0]), em.tensor([1.0, 0.0]))
    tensor([0.0433, 1.2376])
    """
    name = "sigmoid_focal_loss"
    check_reduction(name, reduction)
    check_float_input(name, inputs)
    targets = as_float(targets, inputs)
    check_same_shape(name, inputs, targets)
    p = inputs.sigmoid()
    loss = binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = loss * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return apply_reduction(loss, reduction)


def _sum_over(x: Tensor, dims: tuple) -> Tensor:
    return x.sum(dims) if dims else x


def dice_loss(input: Tensor, target: Tensor, smooth: float = 1.0, reduction: str = "mean",
              mode: str | None = None, from_logits: bool = False, batch: bool = False
              ) -> Tensor:
    """Soft Dice loss for segmentation (Milletari et al., 2016, V-Net), per sample:

    .. math:: \\ell = 1 - \\frac{2 \\sum p\\, t + s}{\\sum p + \\sum t + s}

    with the sums over the pixels (all non-batch dimensions) and :math:`s` = ``smooth``.
    It measures overlap, so it is insensitive to how much background there is (class
    imbalance). Pairs with **probabilities**: a sigmoid output (binary) or a softmax
    over dim 1 (multi-class); often added to cross-entropy.

    The choice made: Dice is computed per sample and, in the multi-class case, per class
    (over the spatial dimensions only), then averaged over the classes (every class
    counts equally, the background included); ``reduction`` then reduces over the batch.
    With ``batch=True`` the sums also run over the batch (one Dice per class for the
    whole batch, as MONAI's ``batch=True``): a class absent from one image then no longer
    pulls that image's predictions of it to zero with the full weight of a sample's
    loss, which matters for small classes that most images lack.

    Args:
        input: probabilities; (N, *) for ``'binary'``, (N, C, *) for ``'multiclass'``.
        target: ``'binary'``: 0/1 (or soft) masks of the input's shape; ``'multiclass'``:
            int64 class indices (N, *), or one-hot (N, C, *) masks.
        smooth: :math:`s`, added to numerator and denominator (default 1); it keeps the
            loss defined (and 0) when a mask and its prediction are both empty.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (one loss per sample).
        mode: ``'binary'`` or ``'multiclass'`` (also right for multi-label masks). By
            default ``'multiclass'`` when the target holds integer class indices
            (N, *) for an (N, C, *) input, else ``'binary'``: pass
            ``mode='multiclass'`` for one-hot targets.
        from_logits: the input is logits: softmax over dim 1 (``'multiclass'``) or a
            sigmoid (``'binary'``) is applied first (default False: probabilities).
        batch: sum over the batch too (default False: per sample); the loss is then one
            number whatever ``reduction`` is.

    Shape:
        output () or (N,) for ``'none'``.

    >>> import ember as em
    >>> p = em.tensor([[[0.9, 0.8], [0.1, 0.2]]])              # (N=1, H=2, W=2)
    >>> em.nn.functional.dice_loss(p, em.tensor([[[1.0, 1.0], [0.0, 0.0]]]))
    tensor(0.1200)
    """
    name = "dice_loss"
    check_reduction(name, reduction)
    check_float_input(name, input)
    if input.ndim < 2:
        raise ValueError(f"{name}: input must be a batch (N, ...) with at least one more "
                         f"dimension, got shape {tuple(input.shape)}")
    if mode is None:
        indices = isinstance(target, Tensor) and target.dtype.kind in "iu"
        mode = "multiclass" if indices and target.ndim == input.ndim - 1 else "binary"
    if mode == "binary":
        target = as_float(target, input)
        check_same_shape(name, input, target)
        dims = tuple(range(1, input.ndim))
    elif mode == "multiclass":
        if isinstance(target, Tensor) and target.dtype.kind in "iu":
            target = check_class_indices(name, input, target)
            classes = arange(input.shape[1]).reshape((1, -1) + (1,) * (input.ndim - 2))
            target = (target.unsqueeze(1) == classes).type(input.dtype)  # one-hot
        else:
            target = as_float(target, input)
            check_same_shape(name, input, target)
        dims = tuple(range(2, input.ndim))
    else:
        raise ValueError(f"{name}: mode must be 'binary', 'multiclass' or None, got {mode!r}")
    if from_logits:
        input = input.softmax(1) if mode == "multiclass" else input.sigmoid()
    if batch:  # the batch joins the summed dimensions: (1, ...) with N times the pixels
        dims = (0, *dims)
    overlap = _sum_over(input * target, dims)
    total = _sum_over(input, dims) + _sum_over(target, dims)
    loss = 1 - (2 * overlap + smooth) / (total + smooth)
    if batch:
        return loss.mean() if mode == "multiclass" else loss
    if mode == "multiclass":
        loss = loss.mean(1)
    return apply_reduction(loss, reduction)
