"""Regression loss modules: thin wrappers of :mod:`ember.nn.functional.losses_regression`.

Each pairs with a linear (or ReLU) output layer and compares it element by element with
a target of the same shape.
"""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.layers.losses_common import _Loss
from ember.tensor import Tensor

__all__ = ["MSELoss", "L1Loss", "MSLELoss", "MAPELoss", "SmoothL1Loss", "HuberLoss"]


class MSELoss(_Loss):
    """Mean squared error: ``l_i = (x_i - y_i)^2``, then reduced
    (see :func:`~ember.nn.functional.mse_loss`).

    Pairs with a linear output (regression).

    Args:
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (*), target (*) the same; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.MSELoss()(em.tensor([1.0, 2.0, 4.0]), em.tensor([1.0, 0.0, 1.0]))
    tensor(4.3333)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (MAE): ``l_i = |x_i - y_i|`` (see :func:`~ember.nn.functional.l1_loss`).

    Pairs with a linear output; robust to outliers.

    Args:
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Shape:
        input (*), target (*) the same; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.L1Loss()(em.tensor([1.0, 2.0, 4.0]), em.tensor([1.0, 0.0, 1.0]))
    tensor(1.6667)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class MSLELoss(_Loss):
    """Mean squared logarithmic error:
    ``l_i = (log(1 + max(x_i, eps)) - log(1 + max(y_i, eps)))^2``
    (see :func:`~ember.nn.functional.msle_loss`).

    Pairs with a non-negative output (ReLU, softplus) for targets spanning magnitudes.

    Args:
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        eps: the clip from below (default 1e-5).

    Shape:
        input (*), target (*) the same; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.MSLELoss()(em.tensor([0.0, 2.0]), em.tensor([0.0, 2.0]))
    tensor(0.)
    """

    fields = ("eps",)

    def __init__(self, reduction: str = "mean", eps: float = 1e-5) -> None:
        super().__init__(reduction=reduction)
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.msle_loss(input, target, reduction=self.reduction, eps=self.eps)


class MAPELoss(_Loss):
    """Mean absolute percentage error, in percent:
    ``l_i = 100 |y_i - x_i| / max(|y_i|, eps)`` (see :func:`~ember.nn.functional.mape_loss`).

    Pairs with a linear output, for targets away from zero.

    Args:
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        eps: the denominator's floor (default 1e-5).

    Shape:
        input (*), target (*) the same; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.MAPELoss()(em.tensor([110.0, 45.0]), em.tensor([100.0, 50.0]))
    tensor(10.)
    """

    fields = ("eps",)

    def __init__(self, reduction: str = "mean", eps: float = 1e-5) -> None:
        super().__init__(reduction=reduction)
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mape_loss(input, target, reduction=self.reduction, eps=self.eps)


class SmoothL1Loss(_Loss):
    """Smooth L1: ``l_i = 0.5 d^2 / beta`` if ``|d| < beta`` else ``|d| - 0.5 beta``, with
    ``d = x_i - y_i`` (see :func:`~ember.nn.functional.smooth_l1_loss`).

    Pairs with a linear output (box regression in detectors).

    Args:
        size_average, reduce: deprecated (PyTorch's), override ``reduction``.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        beta: where the quadratic part turns linear (>= 0, default 1).

    Shape:
        input (*), target (*) the same; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.SmoothL1Loss(reduction='sum')(em.tensor([0.5, 3.0]), em.tensor([0.0, 0.0]))
    tensor(2.6250)
    """

    fields = ("beta",)

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber: ``l_i = 0.5 d^2`` if ``|d| < delta`` else ``delta (|d| - 0.5 delta)``, with
    ``d = x_i - y_i`` (see :func:`~ember.nn.functional.huber_loss`).

    Pairs with a linear output (robust regression).

    Args:
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        delta: the threshold between quadratic and linear (> 0, default 1).

    Shape:
        input (*), target (*) the same; output () or (*) for ``'none'``.

    >>> import ember as em
    >>> em.nn.HuberLoss(delta=2.0)(em.tensor([0.5, 3.0]), em.tensor([0.0, 0.0]))
    tensor(2.0625)
    """

    fields = ("delta",)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)
