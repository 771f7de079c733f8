"""Datasets: indexable collections of samples, as ``torch.utils.data``.

A dataset answers ``len(dataset)`` and ``dataset[i]`` (one sample, e.g. an
``(image, label)`` pair). ``a + b`` chains two datasets.

Fast path: a dataset that holds whole arrays may also define ``fetch_batch(indices)``,
returning the batch for an int64 index array exactly as the default collate would build
it from the samples (or None when it cannot, e.g. because a transform must run per
sample). The DataLoader then indexes the arrays once per batch instead of collating
sample by sample.

>>> import ember as em
>>> data = TensorDataset(em.arange(6).reshape(3, 2), em.tensor([0, 1, 0]))
>>> len(data), data[1]
(3, (tensor([2, 3]), tensor(1)))
>>> len(data + data)
6
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod

import numpy as np

from ember.creation import as_tensor
from ember.tensor import Tensor


class Dataset(ABC):
    """Base class of map-style datasets: define ``__getitem__`` and ``__len__``."""

    @abstractmethod
    def __getitem__(self, index):
        """The sample at ``index``."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of samples."""

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def fetch_batch(self, indices: np.ndarray):
        """The collated batch for ``indices``, or None to collate sample by sample."""
        return None


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors: ``dataset[i] = (t[i] for t in
    tensors)``.

    Args:
        *tensors: tensors or NumPy arrays (kept without copying, dtype unchanged) with one
            first dimension, the number of samples.
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else as_tensor(t) for t in tensors)
        for i, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; each tensor needs a first "
                                 "dimension indexing the samples")
        sizes = [t.shape[0] for t in self.tensors]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(f"TensorDataset: all tensors must have the same size in the first "
                             f"dimension, got sizes {sizes}")

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def fetch_batch(self, indices: np.ndarray) -> list:
        # a list, as the default collate turns tuple samples into lists (PyTorch's rule)
        return [t[indices] for t in self.tensors]


class ArrayDataset(Dataset):
    """In-memory ``(sample, target)`` pairs with torchvision-style transforms; the
    datasets in :mod:`ember.datasets` are ArrayDatasets.

    ``dataset[i]`` is ``(transform(data[i]), target_transform(target))`` where
    ``data[i]`` is a Tensor (a copy, e.g. an image (C, H, W)) and an integer target is a
    Python int, as torchvision's datasets give it.

    Args:
        data: tensor or array, first dimension = samples.
        targets: one target per sample (integer targets are stored as int64).
        transform: callable applied to each sample (e.g. a ``transforms.Compose``).
        target_transform: callable applied to each target.
        classes: the class names, index = label.

    Attributes:
        data, targets: the whole dataset as Tensors; classes: the names (or None).
    """

    def __init__(self, data, targets, transform=None, target_transform=None,
                 classes=None) -> None:
        data = data._data if isinstance(data, Tensor) else np.asarray(data)
        targets = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
        if data.ndim == 0 or targets.ndim == 0 or len(data) != len(targets):
            raise ValueError(f"ArrayDataset: data and targets need one first dimension, got "
                             f"shapes {data.shape} and {targets.shape}")
        if targets.dtype.kind in "iub":
            targets = targets.astype(np.int64, copy=False)
        self.data, self.targets = as_tensor(data), as_tensor(targets)  # checks the dtypes
        self.transform, self.target_transform = transform, target_transform
        self.classes = list(classes) if classes is not None else None

    def __getitem__(self, index):
        sample = Tensor._wrap(np.array(self.data._data[index]))
        target = self.targets._data[index]
        target = int(target) if target.dtype.kind == "i" and target.ndim == 0 \
            else Tensor._wrap(np.array(target))
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.data._data)

    def fetch_batch(self, indices: np.ndarray):
        if self.transform is not None or self.target_transform is not None:
            return None
        return [Tensor._wrap(self.data._data[indices]), Tensor._wrap(self.targets._data[indices])]

    @property
    def class_to_idx(self) -> dict:
        """{class name: label}, as torchvision."""
        return {name: i for i, name in enumerate(self.classes or [])}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}(", f"    samples: {len(self)}",
                 f"    sample shape: {tuple(self.data.shape[1:])}, dtype: {self.data.dtype}"]
        for name in ("root", "split"):
            if getattr(self, name, None) is not None:
                lines.append(f"    {name}: {getattr(self, name)}")
        if self.transform is not None:
            lines.append(f"    transform: {self.transform!r}".replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    target_transform: {self.target_transform!r}")
        return "\n".join(lines) + "\n)"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices) -> None:
        self.dataset = dataset
        self.indices = indices
        self._index_array = None

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def fetch_batch(self, indices: np.ndarray):
        fetch = getattr(self.dataset, "fetch_batch", None)
        if fetch is None:
            return None
        if self._index_array is None or len(self._index_array) != len(self.indices):
            self._index_array = np.asarray(self.indices, dtype=np.int64)
        return fetch(self._index_array[indices])


class ConcatDataset(Dataset):
    """Several datasets one after another: indices run through the first, then the next.

    Attributes:
        datasets: the list of datasets; cumulative_sizes: running totals of their lengths.
    """

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes, total = [], 0
        for i, d in enumerate(self.datasets):
            if not hasattr(d, "__len__"):
                raise TypeError(f"ConcatDataset: dataset {i} ({type(d).__name__}) has no "
                                "length")
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} is out of range for "
                                 f"{len(self)} samples")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for "
                             f"{len(self)} samples")
        offset = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - offset]


class IterableDataset(Dataset):
    """A dataset read as a stream: define ``__iter__`` (``torch.utils.data.IterableDataset``).

    The DataLoader batches what the iterator yields. With worker processes every worker
    iterates its own copy of the dataset, so a dataset split among workers must use
    :func:`ember.data.get_worker_info` to yield only its share.

    >>> import ember as em
    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [b.tolist() for b in em.data.DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it is iterated, not "
                        "indexed")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} has no length")

    def __add__(self, other):
        raise TypeError("IterableDatasets cannot be concatenated with +")
