"""DistributedSampler against PyTorch's: shards, padding, drop_last, epochs."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import ember as em
from ember.data import DistributedSampler

SIZES = [(10, 4), (12, 4), (7, 3), (3, 5), (1, 2), (0, 2), (9, 1)]


@pytest.mark.parametrize("n, replicas", SIZES)
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_shards_equal_pytorchs(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == len(list(ours))


@pytest.mark.parametrize("n, replicas", [(10, 4), (12, 4), (7, 3)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_shards_partition_one_permutation_per_epoch(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    def shards(epoch, seed=0):
        samplers = [DistributedSampler(range(n), replicas, r, seed=seed, drop_last=drop_last)
                    for r in range(replicas)]
        for s in samplers:
            s.set_epoch(epoch)
        return [list(s) for s in samplers]

    first = shards(0)
    torch_shards = [list(TorchSampler(range(n), replicas, r, drop_last=drop_last))
                    for r in range(replicas)]
    # the same sizes and the same multiset structure as PyTorch's: every index once, the
    # padding repeating the order's first indices (or the tail cut with drop_last)
    assert [len(s) for s in first] == [len(s) for s in torch_shards]
    counts = collections.Counter(sum(first, []))
    torch_counts = collections.Counter(sum(torch_shards, []))
    assert sorted(counts.values()) == sorted(torch_counts.values())
    if not drop_last:
        assert set(counts) == set(range(n))
    # interleaving the shards gives back the epoch's (padded) order
    order = np.random.default_rng(0).permutation(n)
    interleaved = [first[r][i] for i in range(len(first[0])) for r in range(replicas)]
    assert interleaved[:min(n, len(interleaved))] == order[:len(interleaved)].tolist()
    assert shards(0) == first  # the same on every rank, every time
    assert shards(1) != first  # a new shuffle each epoch
    assert shards(0, seed=5) != first


def test_errors_and_defaults():
    with pytest.raises(ValueError, match=r"Invalid rank 4, rank should be in the interval \[0, 3\]"):
        DistributedSampler(range(8), num_replicas=4, rank=4)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(8))  # no process group and no num_replicas/rank
    s = DistributedSampler(range(8), num_replicas=2, rank=1)
    assert (s.shuffle, s.seed, s.drop_last, s.epoch) == (True, 0, False, 0)


def test_a_dataloader_batches_a_shard():
    x = em.arange(10).reshape(10, 1)
    data = em.data.TensorDataset(x, em.arange(10))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    loader = em.data.DataLoader(data, batch_size=2, sampler=sampler)
    assert [b[1].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
