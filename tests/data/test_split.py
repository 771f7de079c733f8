"""random_split (PyTorch's lengths), KFold and StratifiedKFold (scikit-learn's folds)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember as em
from ember.data import ArrayDataset, KFold, StratifiedKFold, TensorDataset, random_split


def _data(n):
    return TensorDataset(em.arange(n))


@pytest.mark.parametrize("n", [1, 7, 10, 101])
@pytest.mark.parametrize("lengths", [[0.8, 0.2], [0.5, 0.3, 0.2], [0.33, 0.33, 0.34],
                                     [1 / 3, 1 / 3, 1 / 3], [1.0]])
def test_fraction_lengths_match_pytorch(torch, n, lengths):
    with warnings.catch_warnings(record=True) as their_warnings:
        warnings.simplefilter("always")
        theirs = torch.utils.data.random_split(range(n), lengths,
                                               generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as our_warnings:
        warnings.simplefilter("always")
        ours = random_split(_data(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert [str(w.message) for w in our_warnings] == [str(w.message) for w in their_warnings]


def test_splits_partition_the_dataset():
    parts = random_split(_data(23), [10, 8, 5])
    indices = [i for part in parts for i in part.indices]
    assert sorted(indices) == list(range(23)) and indices != list(range(23))
    assert [len(p) for p in parts] == [10, 8, 5]
    value = parts[1][0][0].item()
    assert value == parts[1].indices[0]


def test_split_follows_manual_seed_unless_a_generator_is_given():
    em.manual_seed(0)
    a = random_split(_data(20), [0.5, 0.5])[0].indices
    em.manual_seed(0)
    b = random_split(_data(20), [0.5, 0.5])[0].indices
    assert a == b
    em.manual_seed(1)
    seeded = random_split(_data(20), [0.5, 0.5], generator=3)[0].indices
    em.manual_seed(2)
    assert random_split(_data(20), [0.5, 0.5], generator=3)[0].indices == seeded


def test_split_errors():
    with pytest.raises(ValueError, match=r"sum of input lengths \(9\) does not equal"):
        random_split(_data(10), [5, 4])
    with pytest.raises(ValueError, match="fraction at index 1 is not between 0 and 1"):
        random_split(_data(10), [0.5, 1.5, -1.0])
    with pytest.raises(ValueError, match="non-negative counts"):
        random_split(_data(10), [0.7, 0.2])


@pytest.mark.parametrize("n, k", [(10, 2), (10, 3), (11, 5), (5, 5)])
def test_kfold_matches_sklearn(n, k):
    sklearn = pytest.importorskip("sklearn.model_selection")
    ours = list(KFold(k).split_indices(_data(n)))
    theirs = list(sklearn.KFold(k).split(np.zeros(n)))
    assert len(ours) == len(theirs) == k
    for (tr, va), (str_, sva) in zip(ours, theirs, strict=True):
        assert tr.tolist() == str_.tolist() and va.tolist() == sva.tolist()


def test_kfold_subsets_and_shuffle():
    data = _data(17)
    folds = list(KFold(4, shuffle=True, seed=1).split(data))
    val = [i for _, v in folds for i in v.indices]
    assert sorted(val) == list(range(17))  # every sample validates exactly once
    for train, v in folds:
        assert set(train.indices).isdisjoint(v.indices) and len(train) + len(v) == 17
    again = list(KFold(4, shuffle=True, seed=1).split(data))
    assert [v.indices for _, v in again] == [v.indices for _, v in folds]
    assert [v.indices for _, v in folds] != [v.indices for _, v in KFold(4).split(data)]
    em.manual_seed(5)
    a = [v.indices for _, v in KFold(4, shuffle=True).split(data)]
    em.manual_seed(5)
    assert a == [v.indices for _, v in KFold(4, shuffle=True).split(data)]


def test_kfold_errors():
    with pytest.raises(ValueError, match="at least 2"):
        KFold(1)
    with pytest.raises(ValueError, match="no effect without shuffle"):
        KFold(3, seed=0)
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of samples"):
        list(KFold(5).split(_data(3)))
    assert KFold(3).get_n_splits() == 3 and "n_splits=3" in repr(KFold(3))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_kfold_matches_sklearn(seed):
    sklearn = pytest.importorskip("sklearn.model_selection")
    labels = np.random.default_rng(seed).integers(0, 4, 53)
    ours = list(StratifiedKFold(5).split_indices(_data(53), labels))
    theirs = list(sklearn.StratifiedKFold(5).split(np.zeros(53), labels))
    for (tr, va), (str_, sva) in zip(ours, theirs, strict=True):
        assert tr.tolist() == str_.tolist() and va.tolist() == sva.tolist()


def test_stratified_kfold_shuffled_keeps_class_shares_and_reads_targets():
    labels = np.repeat([0, 1, 2], [30, 20, 10])
    data = ArrayDataset(np.zeros((60, 1)), labels)
    folds = list(StratifiedKFold(5, shuffle=True, seed=0).split(data))
    for _, val in folds:
        assert np.bincount(labels[val.indices]).tolist() == [6, 4, 2]
    assert sorted(i for _, v in folds for i in v.indices) == list(range(60))
    with pytest.raises(ValueError, match="needs the labels"):
        list(StratifiedKFold(3).split(_data(9)))
    with pytest.raises(ValueError, match="cannot be greater than the number of members"):
        list(StratifiedKFold(3).split(_data(4), [0, 0, 1, 1]))
    with pytest.warns(UserWarning, match="least populated class"):
        list(StratifiedKFold(3).split(_data(7), [0, 0, 0, 0, 0, 1, 1]))
