"""``mpiexec -n 4 ember train ...``: the command line as one rank of a data-parallel job.

Started by a launcher (``mpiexec``, ``mpirun``, ``srun``) with more than one process,
``ember train`` joins the job (``ember.distributed.init_process_group``); each rank
trains on its shard of the training set with the batch size given (per process, as in
PyTorch: the global batch is that times the number of processes) and evaluates its
share of the validation set; the Trainer averages the gradients and reduces the
metrics (see :mod:`ember.train.distributed`). Rank 0 alone prints, writes the
checkpoints, the history, the report and the plots. An error on any rank prints its
one line and ends the whole job.
"""

from __future__ import annotations

import sys

import numpy as np

from ember import data, random

_INSTALL = 'pip install "ember[distributed]"'


def join_job() -> tuple[int, int]:
    """(rank, number of processes): joins the job if a launcher started several."""
    from ember import distributed

    launched = distributed.launched_world_size()
    if launched <= 1:
        return 0, 1
    if not distributed.is_available():
        raise RuntimeError(f"ember train was started as one of {launched} processes (by "
                           f"mpiexec or srun), which needs mpi4py: {_INSTALL}")
    if not distributed.is_initialized():
        distributed.init_process_group("mpi")
    return distributed.get_rank(), distributed.get_world_size()


def seed_rank(seed: int, rank: int) -> None:
    """Give each rank its own random stream (augmentation, dropout), derived from
    ``(seed, rank)``; after the split and the initial weights, which every rank shares."""
    state = np.random.SeedSequence([seed, rank]).generate_state(1, np.uint64)[0]
    random.manual_seed(int(state))


def loaders(train_set, val_set, batch_size: int, seed: int, rank: int, world: int):
    """The training loader over this rank's shard (shuffled per epoch, the same on every
    rank) and the validation loader over this rank's share, unpadded (the reduced
    metrics count every sample once)."""
    sampler = data.DistributedSampler(train_set, world, rank, shuffle=True, seed=seed)
    train_loader = data.DataLoader(train_set, batch_size=batch_size, sampler=sampler)
    val_loader = None
    if val_set is not None:
        share = data.Subset(val_set, list(range(rank, len(val_set), world)))
        val_loader = data.DataLoader(share, batch_size=512)
    return train_loader, val_loader


def abort_job(code: int) -> None:
    """After an error on this rank: end every rank of the job (they may be waiting for
    this one in a collective); nothing when no job of several ranks runs."""
    distributed = sys.modules.get("ember.distributed")
    if distributed is None or not distributed.is_initialized():
        return
    if distributed.get_world_size() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        distributed.group.WORLD.comm.Abort(code)
