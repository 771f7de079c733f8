"""DistributedSampler: each rank of a data-parallel job gets its own shard of the dataset.

As ``torch.utils.data.distributed.DistributedSampler``. Each epoch's order (shuffled
with a generator seeded by ``seed + epoch``, so every rank draws the same permutation)
is padded by repeating its first indices until it divides evenly (or cut, with
``drop_last``), and rank r takes every ``num_replicas``-th index starting at r:

.. math:: \\text{shard}_r = (i_r, i_{r+R}, i_{r+2R}, \\ldots), \\qquad
          |\\text{shard}_r| = \\lceil N / R \\rceil \\;(\\lfloor N / R \\rfloor
          \\text{ with drop\\_last})

so the shards are disjoint apart from the padding and equally long: every rank runs the
same number of steps. Call ``set_epoch(epoch)`` at the start of each epoch for a new
shuffle (the Trainer does).

The permutation is NumPy's (``default_rng(seed + epoch).permutation``), not
``torch.randperm``'s: the same shards as PyTorch for ``shuffle=False``, an equally
distributed but different order when shuffling.

>>> import ember as em
>>> [list(DistributedSampler(range(10), num_replicas=4, rank=r, shuffle=False))
...  for r in range(4)]
[[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
>>> [len(DistributedSampler(range(10), num_replicas=4, rank=r, drop_last=True))
...  for r in range(4)]
[2, 2, 2, 2]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from ember.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of this rank's shard of ``dataset`` (see the module).

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: the number of ranks (default: the default process group's size).
        rank: this rank (default: its rank in the default process group).
        shuffle: shuffle anew each epoch (default True).
        seed: the shuffle's seed, the same on every rank (default 0).
        drop_last: cut the tail so that the order divides evenly instead of padding it.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None,
                 rank: int | None = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ember import distributed

            if not distributed.is_initialized():
                raise RuntimeError("DistributedSampler: give num_replicas and rank, or call "
                                   "ember.distributed.init_process_group() first")
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if not isinstance(num_replicas, (int, np.integer)) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def epoch_indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if not self.drop_last:
            padding = self.total_size - n
            if padding and n:
                order = np.concatenate([order, np.resize(order, padding)])
        else:
            order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffle of epoch ``epoch`` next (the same on every rank)."""
        self.epoch = int(epoch)
