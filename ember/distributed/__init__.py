"""Distributed training on MPI, shaped like ``torch.distributed``.

Data parallelism: every process (a *rank*) holds the whole model and trains on its own
share of each batch; after the backward pass the ranks average their gradients, so each
takes the same step, the one the whole batch would give. A script::

    import ember as em
    import ember.distributed as dist

    dist.init_process_group("mpi")                 # rank and world size from mpiexec
    model = em.nn.parallel.DistributedDataParallel(build_model())   # rank 0's weights
    sampler = em.data.DistributedSampler(train_set)                  # a shard per rank
    loader = em.data.DataLoader(train_set, batch_size=32, sampler=sampler)
    optimizer = em.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(10):
        sampler.set_epoch(epoch)                   # a new shuffle, the same on every rank
        for x, y in loader:
            optimizer.zero_grad()
            em.nn.functional.cross_entropy(model(x), y).backward()   # gradients averaged
            optimizer.step()
    dist.destroy_process_group()

runs on four processes with ``mpiexec -n 4 python train.py`` (on a cluster: ``srun
python train.py`` under Slurm, or ``mpiexec -n 8 -f hosts python train.py`` across the
machines of a host file). ``ember train`` does all this by itself when started by
``mpiexec``.

What is here: :func:`init_process_group`, :func:`destroy_process_group`,
:func:`is_initialized`, :func:`get_rank`, :func:`get_world_size`, :func:`new_group`; the
collectives :func:`all_reduce`, :func:`broadcast`, :func:`all_gather`,
:func:`all_gather_into_tensor`, :func:`reduce_scatter`, :func:`reduce_scatter_tensor`,
:func:`reduce`, :func:`gather`, :func:`scatter`, :func:`barrier`, point to point
:func:`send`/:func:`recv`/:func:`isend`/:func:`irecv`, and :func:`all_gather_object`,
:func:`broadcast_object_list`; :class:`DistributedDataParallel` (from
:mod:`ember.nn.parallel`). Needs ``pip install "ember[distributed]"`` (mpi4py and the
MPICH runtime); importing this package does not start MPI.

>>> import ember.distributed as dist
>>> dist.is_initialized(), dist.get_backend.__name__
(False, 'get_backend')
"""

from ember.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    gather,
    irecv,
    isend,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    send,
)
from ember.distributed.process_group import (
    DistBackendError,
    DistError,
    DistTimeoutError,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    launched_world_size,
    new_group,
)


def __getattr__(name):
    # DistributedDataParallel lives with the layers (ember.nn.parallel), which import
    # this package: fetch it on first use
    if name == "DistributedDataParallel":
        from ember.nn.parallel import DistributedDataParallel

        return DistributedDataParallel
    raise AttributeError(f"module 'ember.distributed' has no attribute {name!r}")
