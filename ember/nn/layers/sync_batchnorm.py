"""SyncBatchNorm: batch normalisation over the whole batch of a data-parallel job."""

from __future__ import annotations

from ember.autograd.engine import no_grad
from ember.nn.functional.sync_batch_norm import sync_batch_norm
from ember.nn.layers.norm import _BatchNorm
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose statistics are those of every rank's batch together
    (Ioffe & Szegedy, 2015; synchronised as in PyTorch's ``nn.SyncBatchNorm``):

    .. math:: y = \\frac{x - \\mathrm{E}[x]}{\\sqrt{\\mathrm{Var}[x] + \\epsilon}}
              \\gamma + \\beta

    with E and Var over the batches of all the ranks of ``process_group`` (and the
    spatial axes), so that R ranks with B/R samples each normalise exactly as one
    process with all B samples would. One all-gather per forward and one all-reduce per
    backward; see :mod:`ember.nn.functional.sync_batch_norm`. In evaluation, or with one
    process (no distributed job, or a group of one rank), it is ``BatchNorm``: the same
    parameters, buffers and state_dict keys.

    Turn the BatchNorm layers of a model into SyncBatchNorm with
    :meth:`convert_sync_batchnorm`, before wrapping it in DistributedDataParallel.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance (default 1e-5).
        momentum: the running estimates' update factor (default 0.1), or None for a
            cumulative average.
        affine: learn gamma and beta (default True).
        track_running_stats: keep running estimates (default True).
        process_group: the ranks whose batches are normalised together (default: all).
        dtype: parameter and buffer dtype (default float32).

    Shape:
        input (N, C, *), the same shape out.

    >>> import ember as em
    >>> net = em.nn.Sequential(em.nn.Conv2d(1, 4, 3), em.nn.BatchNorm2d(4), em.nn.ReLU())
    >>> net = em.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    >>> net[1]
    SyncBatchNorm(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> net(em.randn(2, 1, 5, 5)).shape
    (2, 4, 3, 3)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)})")

    def _sync_group(self):
        """The process group to synchronise over now, or None (plain batch norm)."""
        if not self.training:
            return None
        from ember import distributed

        if not distributed.is_initialized():
            return None
        group = self.process_group or distributed.group.WORLD
        return group if distributed.get_world_size(group) > 1 else None

    def forward(self, input: Tensor) -> Tensor:
        group = self._sync_group()
        if group is None:
            return super().forward(input)
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        return sync_batch_norm(input, self.running_mean, self.running_var, self.weight,
                               self.bias, factor, self.eps, group)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every BatchNorm1d/2d/3d replaced by a SyncBatchNorm that holds
        the same parameter and buffer objects (an optimiser built before keeps working);
        returns the new root when the root itself was a BatchNorm."""
        output = module
        if isinstance(module, _BatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group)
            with no_grad():
                if module.affine:
                    output.weight = module.weight
                    if module.bias is None:
                        output.register_parameter("bias", None)
                    else:
                        output.bias = module.bias
            output.running_mean = module.running_mean
            output.running_var = module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child, process_group)
            if converted is not child:
                output._modules[name] = converted  # in place: a Sequential keeps its order
        return output
