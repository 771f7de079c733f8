"""Losses built from other losses: a weighted sum of several (cross-entropy + Dice for
segmentation), and deep supervision (one loss per output of a model with several)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ember.nn.container import ModuleList
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["CombinedLoss", "DeepSupervisionLoss"]


def _weights(weights, count: int, name: str) -> tuple[float, ...]:
    if weights is None:
        return (1.0,) * count
    weights = tuple(float(w) for w in weights)
    if len(weights) != count:
        raise ValueError(f"{name}: {len(weights)} weights for {count} losses")
    return weights


class CombinedLoss(Module):
    """A weighted sum of losses on the same output and target:

    .. math:: \\ell = \\sum_k w_k\\, \\ell_k(\\hat y, y)

    Segmentation often adds Dice (overlap, blind to class imbalance) to pixel-wise
    cross-entropy (well-behaved gradients): ``CombinedLoss(nn.CrossEntropyLoss(),
    nn.DiceLoss(from_logits=True))``.

    Args:
        *losses: loss modules (or callables) ``loss(input, target)``.
        weights: one weight per loss (default all 1).

    >>> import ember as em
    >>> logits, target = em.zeros(1, 2, 2, 2), em.tensor([[[0, 1], [1, 1]]])
    >>> loss = CombinedLoss(em.nn.CrossEntropyLoss(), em.nn.DiceLoss(from_logits=True),
    ...                     weights=(1.0, 0.5))
    >>> round(loss(logits, target).item(), 4)  # ln 2 + 0.5 * Dice
    0.9015
    """

    def __init__(self, *losses: Callable, weights: Sequence[float] | None = None) -> None:
        super().__init__()
        if not losses:
            raise ValueError("CombinedLoss: give at least one loss")
        self.losses = ModuleList([loss for loss in losses if isinstance(loss, Module)])
        self._functions = list(losses)
        self.weights = _weights(weights, len(losses), "CombinedLoss")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        total = None
        for weight, loss in zip(self.weights, self._functions, strict=True):
            term = weight * loss(input, target)
            total = term if total is None else total + term
        return total

    def extra_repr(self) -> str:
        return f"weights={self.weights}"


class DeepSupervisionLoss(Module):
    """One loss on every output of a model that has several, combined into one:

    * a Tensor: ``loss(output, target)``;
    * a list or tuple (deep supervision, e.g. UNet++ in training mode, one output per
      depth): :math:`\\sum_k w_k\\, \\ell(\\hat y_k, y)`, by default the mean
      (:math:`w_k = 1/K`, the UNet++ paper's choice);
    * a dict with ``"out"`` (torchvision's segmentation models):
      ``loss(out) + aux_weight * loss(aux)`` when it has ``"aux"`` (torchvision's
      training reference uses 0.5).

    Args:
        loss: the loss applied to each output (default ``nn.CrossEntropyLoss()``).
        weights: per-output weights for list outputs (default: equal, summing to 1).
        aux_weight: the auxiliary output's weight for dict outputs (default 0.5).

    >>> import ember as em
    >>> loss = DeepSupervisionLoss(em.nn.CrossEntropyLoss())
    >>> target = em.tensor([[[0, 1]]])
    >>> outputs = [em.zeros(1, 2, 1, 2), em.tensor([[[[5.0, -5.0]], [[-5.0, 5.0]]]])]
    >>> round(loss(outputs, target).item(), 4)  # (ln 2 + ~0) / 2
    0.3466
    """

    def __init__(self, loss: Callable | None = None, weights: Sequence[float] | None = None,
                 aux_weight: float = 0.5) -> None:
        super().__init__()
        if loss is None:
            from ember.nn.layers.losses_classification import CrossEntropyLoss

            loss = CrossEntropyLoss()
        self.loss = loss
        self.weights = None if weights is None else tuple(float(w) for w in weights)
        self.aux_weight = float(aux_weight)

    def forward(self, output, target: Tensor) -> Tensor:
        if isinstance(output, Tensor):
            return self.loss(output, target)
        if isinstance(output, Mapping):
            if "out" not in output:
                raise ValueError(f"DeepSupervisionLoss: a dict output needs an 'out' entry, "
                                 f"got {sorted(output)}")
            total = self.loss(output["out"], target)
            if output.get("aux") is not None:
                total = total + self.aux_weight * self.loss(output["aux"], target)
            return total
        if isinstance(output, (list, tuple)) and output:
            count = len(output)
            weights = self.weights or (1.0 / count,) * count
            if len(weights) != count:
                raise ValueError(f"DeepSupervisionLoss: {len(weights)} weights for {count} "
                                 "outputs")
            total = None
            for weight, out in zip(weights, output, strict=True):
                term = weight * self.loss(out, target)
                total = term if total is None else total + term
            return total
        raise TypeError(f"DeepSupervisionLoss: expected a Tensor, a list of Tensors or a dict "
                        f"with 'out', got {type(output).__name__}")

    def extra_repr(self) -> str:
        return f"weights={self.weights}, aux_weight={self.aux_weight}"
