"""What the fit loop does differently when it runs on several ranks (a distributed job).

When ``ember.distributed.init_process_group()`` has run with more than one process, the
:class:`~ember.train.Trainer`

* trains the model wrapped in :class:`~ember.nn.parallel.DistributedDataParallel` (rank
  0's initial weights; gradients averaged over the ranks), the checkpoints holding the
  model itself, so they load with one process or many;
* calls ``set_epoch`` on a :class:`~ember.data.DistributedSampler` at every epoch;
* reduces the epoch's loss (a sum of loss x samples and a sum of samples) and gathers the
  outputs for the metrics from every rank, so every rank logs the same numbers, those of
  the whole data: callbacks (early stopping, schedules) decide the same on every rank;
* stops on a NaN or infinite loss on any rank, on every rank together (the ranks agree
  on it every step);
* shows progress, logs, writes checkpoints and CSV rows on rank 0 only;
* keeps every rank's random generator state (gathered at the end of each epoch) in its
  checkpoints, so that a resumed run continues as the uninterrupted one; writing a
  checkpoint involves no other rank, so ``if rank == 0: trainer.save_checkpoint(...)``
  works too.

``fit`` and ``evaluate`` are therefore collective: every rank calls them, each with its
own share of the data. With one process every function here is the identity, and nothing
imports MPI.
"""

from __future__ import annotations

import weakref

import numpy as np

from ember import random


def process_group():
    """The default process group if a job of more than one rank runs, else None."""
    import sys

    distributed = sys.modules.get("ember.distributed")
    if distributed is None or not distributed.is_initialized():
        return None
    return distributed.group.WORLD if distributed.get_world_size() > 1 else None


def is_main_process() -> bool:
    """Rank 0 of a distributed job, or the only process."""
    group = process_group()
    return group is None or group.rank() == 0


_wrappers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its DDP


def parallel(model):
    """``model`` wrapped in DistributedDataParallel in a distributed job (once per model:
    the wrapper registers hooks on the parameters), else ``model``."""
    if process_group() is None:
        return model
    from ember.nn.parallel import DistributedDataParallel

    if isinstance(model, DistributedDataParallel):
        return model
    wrapper = _wrappers.get(model)
    if wrapper is None:
        wrapper = _wrappers[model] = DistributedDataParallel(model)
    return wrapper


def set_epoch(data, epoch: int) -> None:
    """Tell a DataLoader's DistributedSampler (if any) which epoch starts."""
    sampler = getattr(data, "sampler", None)
    if callable(getattr(sampler, "set_epoch", None)):
        sampler.set_epoch(epoch)


def on_every_rank(flag: bool) -> bool:
    """Whether ``flag`` is true on every rank (one tiny all-reduce): the ranks agree,
    e.g. that every loss is finite, and take the same branch."""
    group = process_group()
    if group is None:
        return bool(flag)
    from ember.distributed import all_reduce
    from ember.tensor import Tensor

    agreed = Tensor._wrap(np.array([bool(flag)]))
    all_reduce(agreed, op="min", group=group)
    return bool(agreed._data[0])


def reduce_epoch(total: float, count: int, outputs: list, targets: list):
    """The epoch's loss sum, sample count, outputs and targets of every rank together."""
    group = process_group()
    if group is None:
        return total, count, outputs, targets
    from ember.distributed import all_gather_object

    mine = (total, count, _joined(outputs), _joined(targets))
    everyone = [None] * group.size()
    all_gather_object(everyone, mine, group=group)
    total = sum(r[0] for r in everyone)
    count = sum(r[1] for r in everyone)
    outputs = [r[2] for r in everyone if r[2] is not None]
    targets = [r[3] for r in everyone if r[3] is not None]
    return total, count, outputs, targets


def _joined(arrays: list):
    return np.concatenate(arrays) if arrays else None


def rank_rng_states() -> dict:
    """For checkpoints: every rank's random generator state (gathered; empty with one
    process). Every rank must call it: the Trainer does at the end of each epoch, so that
    a checkpoint can then be written by rank 0 alone."""
    group = process_group()
    if group is None:
        return {}
    from ember.distributed import all_gather_object

    states = [None] * group.size()
    all_gather_object(states, random.get_rng_state(), group=group)
    return {"rank_rng": states}


def restore_rank_rng(state: dict) -> None:
    """After a checkpoint's state is loaded: this rank's own generator state, when the
    checkpoint has one per rank of a job of the same size."""
    group = process_group()
    states = state.get("rank_rng")
    if group is not None and states and len(states) == group.size():
        random.set_rng_state(states[group.rank()])
