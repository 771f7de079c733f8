"""Samplers: orders, lengths, replacement, batching, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.data import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
)


def test_sequential_and_batches(torch):
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    for n, size, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False)]:
        ours = BatchSampler(SequentialSampler(range(n)), size, drop)
        theirs = torch.utils.data.BatchSampler(range(n), size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_batch_sampler_over_a_plain_iterable_is_lazy():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    batches = BatchSampler(endless(), 4, False).index_batches()
    assert next(batches).tolist() == [0, 1, 2, 3] and next(batches).tolist() == [4, 5, 6, 7]


def test_random_sampler_permutations_and_repeatability():
    sampler = RandomSampler(range(20))
    em.manual_seed(0)
    a, b = list(sampler), list(sampler)
    assert sorted(a) == sorted(b) == list(range(20)) and a != b
    em.manual_seed(0)
    assert list(sampler) == a


def test_random_sampler_num_samples_and_replacement():
    sampler = RandomSampler(range(4), num_samples=10)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 10
    assert sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3]  # whole permutations
    with_replacement = list(RandomSampler(range(3), replacement=True, num_samples=300))
    assert set(with_replacement) == {0, 1, 2} and len(with_replacement) == 300
    seeded = [list(RandomSampler(range(10), generator=5)) for _ in range(2)]
    assert seeded[0] == seeded[1]


def test_subset_random_sampler():
    sampler = SubsetRandomSampler([10, 20, 30])
    assert sorted(sampler) == [10, 20, 30] and len(sampler) == 3


def test_sampler_argument_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, drop_last=None)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), True, drop_last=False)
    assert list(RandomSampler([])) == [] and np.asarray(list(SequentialSampler([]))).size == 0
