"""digits(): scikit-learn's 8x8 digits, split stratified and repeatably."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import ember as em

# the module (``ember.datasets.digits`` is the function of the same name)
digits_module = importlib.import_module("ember.datasets.digits")

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def test_shapes_dtypes_and_values():
    train = em.datasets.digits()
    assert train.data.shape == (1438, 1, 8, 8) and train.data.dtype == np.float32
    assert train.targets.dtype == np.int64 and train.split == "train"
    assert train.data.numpy().min() == 0.0 and train.data.numpy().max() == 1.0
    image, label = train[0]
    assert image.shape == (1, 8, 8) and type(label) is int
    assert len(train.classes) == 10


def test_train_and_test_partition_scikit_learns_digits():
    reference = sklearn_datasets.load_digits()
    train, test = em.datasets.digits(), em.datasets.digits(train=False)
    assert len(train) + len(test) == 1797
    ours = np.concatenate([train.data.numpy().reshape(-1, 64), test.data.numpy().reshape(-1, 64)])
    ours = np.concatenate([ours * 16, np.concatenate([train.targets.numpy(),
                                                      test.targets.numpy()])[:, None]], axis=1)
    theirs = np.concatenate([reference.data, reference.target[:, None]], axis=1)
    ours_rows, ours_counts = np.unique(ours, axis=0, return_counts=True)
    theirs_rows, theirs_counts = np.unique(theirs, axis=0, return_counts=True)
    assert np.array_equal(ours_rows, theirs_rows) and np.array_equal(ours_counts, theirs_counts)


def test_split_is_stratified_repeatable_and_ignores_manual_seed():
    test = em.datasets.digits(train=False)
    shares = np.bincount(test.targets.numpy()) / np.bincount(
        sklearn_datasets.load_digits().target)
    assert np.all(np.abs(shares - 0.2) < 0.01)
    em.manual_seed(123)
    again = em.datasets.digits(train=False)
    assert np.array_equal(again.data.numpy(), test.data.numpy())
    other = em.datasets.digits(train=False, seed=1)
    assert not np.array_equal(other.data.numpy(), test.data.numpy())
    half = em.datasets.digits(train=False, test_fraction=0.5)
    assert 890 <= len(half) <= 905


def test_transforms_and_errors():
    data = em.datasets.digits(transform=lambda x: x * 0, target_transform=str)
    image, label = data[0]
    assert image.numpy().max() == 0 and isinstance(label, str)
    with pytest.raises(ValueError, match="test_fraction"):
        em.datasets.digits(test_fraction=1.0)


def test_missing_scikit_learn_gives_the_install_hint(monkeypatch):
    monkeypatch.setattr(digits_module.importlib.util, "find_spec", lambda name: None)
    digits_module._load.cache_clear()
    try:
        with pytest.raises(ImportError, match=r'pip install "ember\[digits\]"'):
            em.datasets.digits()
    finally:
        digits_module._load.cache_clear()


def test_falls_back_to_load_digits(monkeypatch, tmp_path):
    class Spec:
        submodule_search_locations = [str(tmp_path)]  # no digits.csv.gz there

    monkeypatch.setattr(digits_module.importlib.util, "find_spec", lambda name: Spec())
    digits_module._load.cache_clear()
    try:
        assert len(em.datasets.digits(train=False)) == 359
    finally:
        digits_module._load.cache_clear()
