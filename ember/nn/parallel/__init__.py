"""Parallel training of a model: :class:`DistributedDataParallel` (data parallelism on
MPI, see :mod:`ember.distributed`)."""

from ember.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
