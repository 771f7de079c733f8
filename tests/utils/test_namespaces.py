"""PyTorch's import paths: em.utils.data and em.nn.modules.<file>.<Class>."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import ember as em
from ember.nn.modules import PYTORCH_FILES

DATA_NAMES = ["DataLoader", "Dataset", "TensorDataset", "ConcatDataset", "Subset",
              "random_split", "Sampler", "SequentialSampler", "RandomSampler",
              "SubsetRandomSampler", "BatchSampler", "default_collate", "default_convert",
              "IterableDataset", "WeightedRandomSampler", "get_worker_info"]


@pytest.mark.parametrize("name", DATA_NAMES)
def test_utils_data_names(torch, name):
    import torch.utils.data as reference

    assert hasattr(reference, name)
    assert getattr(em.utils.data, name) is getattr(em.data, name)


@pytest.mark.parametrize("submodule, name", [("dataloader", "default_collate"),
                                             ("dataset", "Dataset"),
                                             ("sampler", "SubsetRandomSampler")])
def test_utils_data_submodules_import(torch, submodule, name):
    ours = importlib.import_module(f"ember.utils.data.{submodule}")
    theirs = importlib.import_module(f"torch.utils.data.{submodule}")
    assert hasattr(theirs, name) and getattr(ours, name) is getattr(em.data, name)


def test_a_pytorch_style_data_pipeline_runs():
    from ember.utils.data import DataLoader, TensorDataset, random_split

    data = TensorDataset(em.arange(20.0).reshape(10, 2), em.arange(10))
    train, val = random_split(data, [8, 2])
    batches = [len(y) for _, y in DataLoader(train, batch_size=3, shuffle=True)]
    assert batches == [3, 3, 2] and len(val) == 2


@pytest.mark.parametrize("file", sorted(PYTORCH_FILES))
def test_nn_modules_paths_match_pytorch(torch, file):
    ours = importlib.import_module(f"ember.nn.modules.{file}")
    theirs = importlib.import_module(f"torch.nn.modules.{file}")
    for name in ours.__all__:
        assert hasattr(theirs, name), f"torch.nn.modules.{file} has no {name}"
        assert getattr(ours, name) is getattr(em.nn, name)
        assert getattr(em.nn.modules, name) is getattr(em.nn, name)


def test_common_layers_have_their_pytorch_path():
    from ember.nn.modules.activation import ReLU
    from ember.nn.modules.batchnorm import BatchNorm2d
    from ember.nn.modules.container import Sequential
    from ember.nn.modules.conv import Conv2d
    from ember.nn.modules.dropout import Dropout
    from ember.nn.modules.linear import Linear
    from ember.nn.modules.loss import CrossEntropyLoss
    from ember.nn.modules.module import Module
    from ember.nn.modules.normalization import LayerNorm
    from ember.nn.modules.pooling import MaxPool2d
    from ember.nn.modules.rnn import LSTM
    from ember.nn.modules.sparse import Embedding

    from ember.nn.parameter import Parameter

    assert (Linear, Conv2d, ReLU, BatchNorm2d, Sequential, Dropout, CrossEntropyLoss, Module,
            LayerNorm, MaxPool2d, LSTM, Embedding, Parameter) == (
        em.nn.Linear, em.nn.Conv2d, em.nn.ReLU, em.nn.BatchNorm2d, em.nn.Sequential,
        em.nn.Dropout, em.nn.CrossEntropyLoss, em.nn.Module, em.nn.LayerNorm,
        em.nn.MaxPool2d, em.nn.LSTM, em.nn.Embedding, em.nn.Parameter)


def test_weighted_random_sampler(torch):
    from ember.utils.data import WeightedRandomSampler

    counts = np.bincount(list(WeightedRandomSampler([1.0, 3.0, 0.0], 4000)), minlength=3)
    assert counts[2] == 0 and abs(counts[1] / 4000 - 0.75) < 0.03
    assert sorted(WeightedRandomSampler([1.0, 2.0, 3.0], 3, replacement=False)) == [0, 1, 2]
    for fw in (torch, em):
        with pytest.raises(ValueError):
            fw.utils.data.WeightedRandomSampler([1.0, 2.0], num_samples=0)
        with pytest.raises(RuntimeError):
            list(fw.utils.data.WeightedRandomSampler([1.0, 0.0], 3, replacement=False))
        assert list(fw.utils.data.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)) \
            == [0, 1]
