"""Loss modules for imbalanced classes and hard examples: focal and Dice (thin wrappers of
:mod:`ember.nn.functional.losses_imbalanced`)."""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.layers.losses_common import _Loss
from ember.tensor import Tensor

__all__ = ["FocalLoss", "DiceLoss"]


class FocalLoss(_Loss):
    """Multi-class focal loss on logits:
    ``l_i = -alpha[y_i] (1 - p[i, y_i])^gamma log p[i, y_i]`` with ``p = softmax(x_i)``
    (see :func:`~ember.nn.functional.focal_loss`); ``gamma=0`` without alpha is cross-entropy.

    Pairs with a **linear** output (logits), for imbalanced classes and hard examples.

    Args:
        alpha: None, a float factor, or a (C,) tensor of per-class weights (a buffer).
        gamma: the focusing parameter (default 2).
        reduction: ``'mean'`` (default, over non-ignored targets), ``'sum'`` or ``'none'``.
        ignore_index: a target value that contributes nothing (default -100).

    Shape:
        input (N, C), (C,) or (N, C, d1, ...); target int64 (N,), () or (N, d1, ...);
        output () or the target's shape for ``'none'``.

    >>> import ember as em
    >>> em.nn.FocalLoss()(em.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), em.tensor([0, 1]))
    tensor(0.0516)
    """

    fields = ("gamma", "ignore_index")

    def __init__(self, alpha: float | Tensor | None = None, gamma: float = 2.0,
                 reduction: str = "mean", ignore_index: int = -100) -> None:
        super().__init__(reduction=reduction)
        if isinstance(alpha, Tensor):
            self.register_buffer("alpha", alpha)
        else:
            self.alpha = alpha
        self.gamma, self.ignore_index = gamma, ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.focal_loss(input, target, alpha=self.alpha, gamma=self.gamma,
                            reduction=self.reduction, ignore_index=self.ignore_index)


class DiceLoss(_Loss):
    """Soft Dice loss, ``1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth)`` per
    sample (and per class, then averaged over the classes, in the multi-class case;
    see :func:`~ember.nn.functional.dice_loss`).

    Pairs with **probabilities**: a sigmoid output (binary masks) or a softmax over the
    classes (multi-class segmentation).

    Args:
        smooth: added to numerator and denominator (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (one loss per sample).
        mode: ``'binary'``, ``'multiclass'``, or None to infer it from the target.
        from_logits: apply softmax over dim 1 (multi-class) or a sigmoid (binary) to the
            input first, so the loss takes a network's raw scores (default False).
        batch: one Dice per class over the whole batch instead of per sample (default
            False; see :func:`~ember.nn.functional.dice_loss`).

    Shape:
        binary: input (N, *), target (N, *); multi-class: input (N, C, *), target (N, *)
        int64 or (N, C, *) one-hot; output () or (N,) for ``'none'``.

    >>> import ember as em
    >>> p = em.tensor([[[0.9, 0.8], [0.1, 0.2]]])
    >>> em.nn.DiceLoss()(p, em.tensor([[[1.0, 1.0], [0.0, 0.0]]]))
    tensor(0.1200)
    """

    fields = ("smooth", "mode", "from_logits", "batch")

    def __init__(self, smooth: float = 1.0, reduction: str = "mean",
                 mode: str | None = None, from_logits: bool = False,
                 batch: bool = False) -> None:
        super().__init__(reduction=reduction)
        if mode not in (None, "binary", "multiclass"):
            raise ValueError(f"DiceLoss: mode must be 'binary', 'multiclass' or None, "
                             f"got {mode!r}")
        self.smooth, self.mode, self.from_logits = smooth, mode, from_logits
        self.batch = batch

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.dice_loss(input, target, smooth=self.smooth, reduction=self.reduction,
                           mode=self.mode, from_logits=self.from_logits, batch=self.batch)
