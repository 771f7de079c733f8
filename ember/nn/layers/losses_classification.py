"""Classification loss modules: thin wrappers of the functions in
:mod:`ember.nn.functional.losses_binary`, ``losses_cross_entropy`` and ``losses_multiclass``.

Class weights (``weight``, ``pos_weight``) are buffers, as in PyTorch: they appear in
``state_dict`` and follow ``.double()``.
"""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.layers.losses_common import _Loss, _WeightedLoss, as_buffer
from ember.tensor import Tensor

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "LogisticLoss", "SoftMarginLoss", "HingeLoss",
    "ExponentialLoss", "NLLLoss", "CrossEntropyLoss", "MultiMarginLoss", "KLDivLoss",
]


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities:
    ``l_i = -w_i (y_i log x_i + (1 - y_i) log(1 - x_i))``, logs clamped at -100
    (see :func:`~ember.nn.functional.binary_cross_entropy`).

    Pairs with a **sigmoid** output; on logits prefer :class:`BCEWithLogitsLoss`.

    Args:
        weight: optional rescaling of each element, broadcast to the input's shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (*) probabilities, target (*) in [0, 1]; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.BCELoss()(em.tensor([0.9, 0.2]), em.tensor([1.0, 0.0]))
    tensor(0.1643)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy in one stable op, on logits:
    ``l_i = w_i ((1 - y_i) x_i + (1 + (p - 1) y_i) log(1 + e^-x_i))``
    (see :func:`~ember.nn.functional.binary_cross_entropy_with_logits`).

    Pairs with a **linear** output (binary or multi-label classification).

    Args:
        weight: optional rescaling of each element, broadcast to the input's shape.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        pos_weight: optional weight p of the positives, one per class (last dimension).

    Shape:
        input (*) logits, target (*) in [0, 1]; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.BCEWithLogitsLoss()(em.tensor([2.0, -1.0]), em.tensor([1.0, 0.0]))
    tensor(0.2201)
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class LogisticLoss(_Loss):
    """Logistic loss on scores f with labels y = ±1: ``l_i = log(1 + e^(-y_i f_i))``,
    computed stably (see :func:`~ember.nn.functional.logistic_loss`).

    Pairs with a linear output (logistic regression).

    Args:
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (*) scores, target (*) labels ±1; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.LogisticLoss()(em.tensor([0.0, 2.0]), em.tensor([1.0, -1.0]))
    tensor(1.4100)
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.logistic_loss(input, target, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """PyTorch's soft margin loss, ``l_i = log(1 + e^(-y_i x_i))`` with y = ±1: the
    logistic loss under PyTorch's name (see :func:`~ember.nn.functional.soft_margin_loss`).

    Pairs with a linear output.

    Args:
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (*) scores, target (*) labels ±1; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.SoftMarginLoss()(em.tensor([0.0]), em.tensor([1.0]))
    tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class HingeLoss(_Loss):
    """Hinge loss on scores f with labels y = ±1: ``l_i = max(0, margin - y_i f_i)``
    (see :func:`~ember.nn.functional.hinge_loss`).

    Pairs with a linear output (a linear SVM, with an L2 penalty on the weights).

    Args:
        margin: the margin (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (*) scores, target (*) labels ±1; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.HingeLoss()(em.tensor([2.0, 0.5, 1.0]), em.tensor([1.0, 1.0, -1.0]))
    tensor(0.8333)
    """

    fields = ("margin",)

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_loss(input, target, margin=self.margin, reduction=self.reduction)


class ExponentialLoss(_Loss):
    """Exponential loss (AdaBoost's) on scores f with labels y = ±1: ``l_i = e^(-y_i f_i)``
    (see :func:`~ember.nn.functional.exponential_loss`).

    Pairs with a linear output (an additive model, in boosting).

    Args:
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (*) scores, target (*) labels ±1; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.ExponentialLoss(reduction='sum')(em.tensor([0.0, 1.0]), em.tensor([1.0, -1.0]))
    tensor(3.7183)
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.exponential_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices on log-probabilities:
    ``l_i = -w[y_i] x[i, y_i]``, 'mean' dividing by the sum of ``w[y_i]`` over targets
    that are not ``ignore_index`` (see :func:`~ember.nn.functional.nll_loss`).

    Pairs with a **log_softmax** output (``LogSoftmax(dim=1)`` + ``NLLLoss`` is
    ``CrossEntropyLoss``).

    Args:
        weight: optional (C,) weight per class.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        ignore_index: a target value that contributes nothing (default -100).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (N, C), (C,) or (N, C, d1, ...); target (N,), () or (N, d1, ...) int64;
        output () or the target's shape for ``'none'``.

    >>> import ember as em
    >>> em.nn.NLLLoss()(em.tensor([[0.0, -2.0], [-1.0, -0.5]]), em.tensor([0, 1]))
    tensor(0.2500)
    """

    fields = ("ignore_index",)

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy on logits, against class indices or class probabilities:
    ``l_i = (1 - eps) w[y_i] (-log p[i, y_i]) + (eps / C) sum_c w_c (-log p[i, c])``
    with ``p = softmax(x_i)`` (see :func:`~ember.nn.functional.cross_entropy` for the
    probability form and the weighted 'mean'). One fused, numerically stable op.

    Pairs with a **linear** output (logits): no softmax in front.

    Args:
        weight: optional (C,) weight per class.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        ignore_index: a class-index target that contributes nothing (default -100).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        label_smoothing: eps in [0, 1] (default 0).

    Shape:
        input (N, C), (C,) or (N, C, d1, ...) e.g. (N, C, H, W) per pixel; target int64
        (N,), () or (N, d1, ...), or probabilities of the input's shape; output () or
        (N,), () or (N, d1, ...) for ``'none'``.

    >>> import ember as em
    >>> loss = em.nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss(em.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), em.tensor([0, 1]))
    tensor(0.4773)
    """

    fields = ("ignore_index", "label_smoothing")

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss:
    ``l_i = sum_{j != y_i} w[y_i] max(0, margin - x[i, y_i] + x[i, j])^p / C``
    (see :func:`~ember.nn.functional.multi_margin_loss`).

    Pairs with a linear output (a multi-class SVM).

    Args:
        p: 1 (default) or 2.
        margin: the margin (default 1).
        weight: optional (C,) weight per class.
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (N, C) or (C,); target (N,) or () int64; output () or (N,) for ``'none'``.

    >>> import ember as em
    >>> em.nn.MultiMarginLoss()(em.tensor([[0.1, 0.2, 0.4, 0.8]]), em.tensor([3]))
    tensor(0.3250)
    """

    fields = ("p", "margin")

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence, with ``input`` the LOG-probabilities:
    ``l_i = t_i (log t_i - x_i)``, or ``e^t_i (t_i - x_i)`` with ``log_target``
    (see :func:`~ember.nn.functional.kl_div`).

    Pairs with a **log_softmax** output against target probabilities (distillation);
    ``reduction='batchmean'`` gives the KL divergence per sample.

    Args:
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target: whether the target holds log-probabilities (default False).

    Shape:
        input (*), target (*) the same; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> loss = em.nn.KLDivLoss(reduction='batchmean')
    >>> loss(em.tensor([[0.5, 0.5]]).log(), em.tensor([[0.9, 0.1]]))
    tensor(0.3681)
    """

    reductions = ("none", "mean", "sum", "batchmean")
    fields = ("log_target",)

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
