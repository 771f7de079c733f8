"""Samplers: the order in which a DataLoader visits a dataset's indices.

As ``torch.utils.data``: a sampler yields indices, a :class:`BatchSampler` groups them
into batches. Random samplers draw from ember's global generator
(:func:`ember.random.generator`) when an epoch starts, so ``em.manual_seed(n)`` makes the
order repeatable and restoring the generator's state resumes it; give ``generator=`` (a
NumPy ``Generator`` or an int seed) for an order that ignores the global generator.

>>> import ember as em
>>> list(SequentialSampler(range(4)))
[0, 1, 2, 3]
>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
>>> _ = em.manual_seed(0); a = list(RandomSampler(range(5)))
>>> _ = em.manual_seed(0); b = list(RandomSampler(range(5)))
>>> a == b and sorted(a) == [0, 1, 2, 3, 4]
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from ember import random


def as_generator(generator) -> np.random.Generator | None:
    """``generator`` as a NumPy Generator: None stays None (use the global one at draw time),
    an int seeds a new generator, a Generator is used as it is."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"generator must be None, an int seed or a numpy.random.Generator, "
        f"got {type(generator).__name__}"
    )


def _check_num_samples(num_samples) -> None:
    if (not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool)
            or num_samples <= 0):
        raise ValueError(f"num_samples should be a positive integer value, but got "
                         f"num_samples={num_samples!r}")


def draw_from(generator: np.random.Generator | None) -> np.random.Generator:
    """The generator to draw from now: the given one, else ember's global generator."""
    return random.generator() if generator is None else generator


class Sampler:
    """Base class: iterating yields dataset indices.

    Samplers that know their whole epoch up front also define ``epoch_indices()``, returning
    the epoch's indices as one int64 array (the DataLoader then slices batches from it).
    """

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1 in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in a random order, a new one each epoch (each time it is iterated).

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement (indices may repeat); default False.
        num_samples: how many indices per epoch (default: ``len(data_source)``); without
            replacement, more than the length gives whole permutations one after another.
        generator: None (ember's global generator), an int seed, or a NumPy Generator.
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        if num_samples is not None:
            _check_num_samples(num_samples)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = as_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def epoch_indices(self) -> np.ndarray:
        """This epoch's indices (draws from the generator now)."""
        n, count = len(self.data_source), self.num_samples
        rng = draw_from(self.generator)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if self.replacement:
            return rng.integers(0, n, size=count, dtype=np.int64)
        rounds = [rng.permutation(n) for _ in range(math.ceil(count / n))]
        return np.concatenate(rounds)[:count].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a new one each epoch."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = np.asarray(indices, dtype=np.int64)
        self.generator = as_generator(generator)

    def epoch_indices(self) -> np.ndarray:
        return self.indices[draw_from(self.generator).permutation(len(self.indices))]

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of ``batch_size`` (the last may be shorter,
    or dropped with ``drop_last=True``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        return (batch.tolist() for batch in self.index_batches())

    def index_batches(self) -> Iterator[np.ndarray]:
        """The batches as int64 arrays. A sampler with ``epoch_indices()`` is drawn from now,
        at the start of the epoch; any other sampler is consumed lazily."""
        size = self.batch_size
        if callable(getattr(self.sampler, "epoch_indices", None)):
            order = np.asarray(self.sampler.epoch_indices(), dtype=np.int64)
            stop = len(order) - len(order) % size if self.drop_last else len(order)
            return (order[start:start + size] for start in range(0, stop, size))
        return self._grouped(iter(self.sampler))

    def _grouped(self, indices: Iterator[int]) -> Iterator[np.ndarray]:
        batch = []
        for index in indices:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield np.asarray(batch, dtype=np.int64)
                batch = []
        if batch and not self.drop_last:
            yield np.asarray(batch, dtype=np.int64)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with
    replacement by default), anew each epoch, e.g. to rebalance classes.

    Args:
        weights: one non-negative weight per index (need not sum to 1).
        num_samples: indices per epoch.
        replacement: draw with replacement (default True).
        generator: None (ember's global generator), an int seed, or a NumPy Generator.

    >>> import ember as em
    >>> sampler = WeightedRandomSampler([0.0, 1.0, 0.0], num_samples=4)
    >>> list(sampler)
    [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        _check_num_samples(num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        weights = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        if (weights < 0).any() or not weights.sum() > 0:
            raise RuntimeError("WeightedRandomSampler: weights must be non-negative with a "
                               "positive sum")
        if not replacement and num_samples > len(weights):
            raise RuntimeError(f"WeightedRandomSampler: cannot sample {num_samples} > "
                               f"{len(weights)} samples without replacement")
        self.weights, self.num_samples = weights, int(num_samples)
        self.replacement, self.generator = replacement, as_generator(generator)

    def epoch_indices(self) -> np.ndarray:
        rng = draw_from(self.generator)
        n, count = len(self.weights), self.num_samples
        if self.replacement or count <= int((self.weights > 0).sum()):
            return rng.choice(n, size=count, replace=self.replacement,
                              p=self.weights / self.weights.sum()).astype(np.int64)
        # without replacement, past the positive weights: the zero-weight indices follow
        positive = np.flatnonzero(self.weights > 0)
        first = rng.choice(positive, size=len(positive), replace=False,
                           p=self.weights[positive] / self.weights.sum())
        rest = rng.permutation(np.flatnonzero(self.weights == 0))
        return np.concatenate([first, rest])[:count].astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples
