"""ember.distributed in one process, without MPI: what works, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.distributed as dist


def test_before_init_process_group_the_errors_say_what_to_do():
    assert not dist.is_initialized()
    assert dist.group.WORLD is None
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(em.ones(2)),
                 dist.barrier, lambda: em.nn.parallel.DistributedDataParallel(em.nn.Linear(2, 2))):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()
    with pytest.raises(ValueError, match="backend must be 'mpi'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="timeout must be a positive"):
        dist.init_process_group("mpi", timeout=-1)
    with pytest.raises(RuntimeError, match="not initialized"):
        dist.destroy_process_group()
    assert dist.DistributedDataParallel is em.nn.parallel.DistributedDataParallel
    assert em.distributed is dist  # available after `import ember`, MPI not started


@pytest.mark.parametrize("variables, size", [
    ({}, 1), ({"PMI_SIZE": "4"}, 4), ({"OMPI_COMM_WORLD_SIZE": "3"}, 3),
    ({"SLURM_STEP_NUM_TASKS": "8"}, 8), ({"PMI_SIZE": "junk"}, 1),
])
def test_the_launchers_world_size_is_read_from_its_environment(monkeypatch, variables, size):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
                 "SLURM_STEP_NUM_TASKS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert dist.launched_world_size() == size


def _batchnorm_net(norm):
    em.manual_seed(0)
    return em.nn.Sequential(em.nn.Conv2d(2, 3, 3), norm(3), em.nn.ReLU(), em.nn.Flatten(),
                            em.nn.Linear(12, 4, bias=False), em.nn.BatchNorm1d(4)).double()


def test_sync_batchnorm_in_one_process_is_batchnorm():
    plain = _batchnorm_net(em.nn.BatchNorm2d)
    synced = em.nn.SyncBatchNorm.convert_sync_batchnorm(_batchnorm_net(em.nn.BatchNorm2d))
    assert [type(m).__name__ for m in synced] == [
        "Conv2d", "SyncBatchNorm", "ReLU", "Flatten", "Linear", "SyncBatchNorm"]
    assert list(synced.state_dict()) == list(plain.state_dict())
    x = em.tensor(np.random.default_rng(0).normal(size=(5, 2, 4, 4)))
    for mode in ("train", "eval"):
        getattr(plain, mode)()
        getattr(synced, mode)()
        a, b = plain(x), synced(x)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    a.sum().backward()
    b.sum().backward()
    for (name, p), q in zip(plain.named_parameters(), synced.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)


def test_convert_sync_batchnorm_keeps_the_objects_and_the_order():
    bn = em.nn.BatchNorm1d(3, momentum=None, bias=False)
    bn.eval()
    converted = em.nn.SyncBatchNorm.convert_sync_batchnorm(bn, process_group="group")
    assert isinstance(converted, em.nn.SyncBatchNorm) and converted.process_group == "group"
    assert converted.weight is bn.weight and converted.bias is None
    assert converted.running_mean is bn.running_mean and not converted.training
    assert converted.momentum is None
    net = em.nn.Sequential(em.nn.Linear(2, 3), bn, em.nn.ReLU())
    optimizer = em.optim.SGD(net.parameters(), lr=0.1)
    net = em.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert [type(m).__name__ for m in net] == ["Linear", "SyncBatchNorm", "ReLU"]
    assert {id(p) for p in net.parameters()} == {id(p) for g in optimizer.param_groups
                                                 for p in g["params"]}
    with pytest.raises(ValueError, match="expected at least 2D input"):
        em.nn.SyncBatchNorm(3)(em.ones(3))
