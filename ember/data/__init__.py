"""The data pipeline: datasets, samplers, the DataLoader, splits and transforms.

As ``torch.utils.data`` (and ``torchvision.transforms`` in :mod:`ember.data.transforms`):

>>> import ember as em
>>> x, y = em.randn(100, 3), em.randint(0, 2, (100,))
>>> train, val = em.data.random_split(em.data.TensorDataset(x, y), [0.8, 0.2])
>>> loader = em.data.DataLoader(train, batch_size=32, shuffle=True)
>>> [xb.shape[0] for xb, yb in loader]
[32, 32, 16]
"""

from ember.data import transforms
from ember.data.dataloader import DataLoader, default_collate, default_convert
from ember.data.dataset import (
    ArrayDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
)
from ember.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ember.data.split import KFold, StratifiedKFold, random_split
from ember.data.workers import WorkerInfo, get_worker_info

__all__ = [
    "ArrayDataset", "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "KFold",
    "RandomSampler", "Sampler", "SequentialSampler", "StratifiedKFold", "Subset",
    "SubsetRandomSampler", "TensorDataset", "default_collate", "default_convert",
    "random_split", "transforms", "IterableDataset", "get_worker_info", "WorkerInfo",
    "WeightedRandomSampler",
]

from ember.data.distributed import DistributedSampler  # noqa: E402

__all__ += ["DistributedSampler"]
