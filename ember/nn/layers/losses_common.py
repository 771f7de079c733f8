"""The base classes of the loss modules: they hold the reduction (and class weights)."""

from __future__ import annotations

from ember.nn.functional.losses_common import REDUCTIONS, check_reduction, legacy_reduction
from ember.nn.module import Module
from ember.tensor import Tensor


class _Loss(Module):
    """A loss module: ``loss(input, target)``; ``reduction`` is checked when built."""

    reductions = REDUCTIONS
    fields: tuple = ()  # settings shown by repr() besides the reduction

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)
        check_reduction(type(self).__name__, self.reduction, self.reductions)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in ("reduction",
                                                                         *self.fields))


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight``, kept as a buffer (in ``state_dict``,
    converted by ``.double()``), as in PyTorch."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", as_buffer(weight))


def as_buffer(value) -> Tensor | None:
    """None, or ``value`` as a tensor (lists of weights are accepted)."""
    if value is None or isinstance(value, Tensor):
        return value
    from ember.creation import tensor

    return tensor(value)
