"""Splitting a dataset: random train/validation splits and k-fold cross-validation.

``random_split`` is ``torch.utils.data.random_split``; ``KFold`` and ``StratifiedKFold``
make the same folds as scikit-learn's (without shuffling, index for index), and give
them as ``(train_subset, val_subset)`` pairs of :class:`Subset`.

>>> import ember as em
>>> data = em.data.TensorDataset(em.arange(10))
>>> train, val = random_split(data, [0.8, 0.2], generator=0)
>>> len(train), len(val)
(8, 2)
>>> [(len(t), len(v)) for t, v in KFold(n_splits=3).split(data)]
[(6, 4), (7, 3), (7, 3)]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from ember.data.dataset import Subset
from ember.data.sampler import as_generator, draw_from
from ember.tensor import Tensor


def random_split(dataset, lengths: Sequence, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    Lengths are counts that add up to ``len(dataset)``, or fractions that add up to 1:
    then each split gets floor(N * fraction) samples and the remaining ones are dealt out
    one at a time, round-robin from the first split (PyTorch's rule).

    Args:
        dataset: the dataset to split.
        lengths: counts or fractions, one per split.
        generator: None draws the permutation from ember's global generator (so it
            follows ``em.manual_seed``); an int seed or a NumPy Generator gives a split
            that does not depend on it.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * fraction)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
    if any(int(length) != length or length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be non-negative counts or fractions "
                         f"adding up to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n})")
    order = draw_from(as_generator(generator)).permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + int(length)]))
        start += int(length)
    return subsets


class KFold:
    """K-fold cross-validation: split the samples into ``n_splits`` folds; each fold is
    the validation set once while the other folds train.

    Every sample is in exactly one validation fold. Fold sizes differ by at most one
    (the first N % k folds get one more), as ``sklearn.model_selection.KFold``.

    Args:
        n_splits: the number of folds k (at least 2).
        shuffle: shuffle the samples before cutting the folds.
        seed: with ``shuffle``, an int seed for the same folds on every call; None draws
            from ember's global generator.
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed: int | None = None):
        if not isinstance(n_splits, (int, np.integer)) or isinstance(n_splits, bool):
            raise TypeError(f"{type(self).__name__}: n_splits must be an int, got "
                            f"{n_splits!r}")
        if n_splits < 2:
            raise ValueError(f"{type(self).__name__}: n_splits must be at least 2, got "
                             f"{n_splits}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"{type(self).__name__}: shuffle must be True or False, got "
                            f"{shuffle!r}")
        if seed is not None and not shuffle:
            raise ValueError(f"{type(self).__name__}: a seed has no effect without "
                             "shuffle=True")
        self.n_splits, self.shuffle, self.seed = int(n_splits), shuffle, seed

    def get_n_splits(self) -> int:
        return self.n_splits

    def _generator(self) -> np.random.Generator:
        return draw_from(as_generator(self.seed))

    def _check_size(self, n: int) -> None:
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: cannot have number of splits "
                             f"n_splits={self.n_splits} greater than the number of samples: "
                             f"n_samples={n}")

    def _test_folds(self, n: int, labels) -> np.ndarray:
        """The validation fold of every sample."""
        self._check_size(n)
        order = self._generator().permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        folds = np.empty(n, dtype=np.int64)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds

    def split_indices(self, dataset, labels=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(train indices, validation indices) per fold, each sorted ascending."""
        if labels is None:
            labels = getattr(dataset, "targets", None)
        folds = self._test_folds(len(dataset), labels)
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)

    def split(self, dataset, labels=None) -> Iterator[tuple[Subset, Subset]]:
        """Yield ``(train_subset, val_subset)`` for each fold."""
        for train, val in self.split_indices(dataset, labels):
            yield Subset(dataset, train.tolist()), Subset(dataset, val.tolist())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, " \
               f"seed={self.seed})"


class StratifiedKFold(KFold):
    """K-fold cross-validation keeping each class's share the same in every fold.

    The folds are scikit-learn's ``StratifiedKFold`` folds: the samples of each class are
    dealt to the folds in turn, so class proportions match up to one sample.

    ``split(dataset, labels)`` takes the labels, or reads ``dataset.targets`` when
    ``labels`` is None.
    """

    def _test_folds(self, n: int, labels) -> np.ndarray:
        labels = _labels(labels, n, type(self).__name__)
        self._check_size(n)
        # classes numbered by first appearance, as scikit-learn
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        _, class_order = np.unique(first, return_inverse=True)
        encoded = class_order[inverse.ravel()]
        counts = np.bincount(encoded)
        if np.all(self.n_splits > counts):
            raise ValueError(f"{type(self).__name__}: n_splits={self.n_splits} cannot be "
                             "greater than the number of members in each class")
        if self.n_splits > counts.min():
            warnings.warn(f"The least populated class in labels has only {counts.min()} "
                          f"members, which is less than n_splits={self.n_splits}.",
                          UserWarning, stacklevel=3)
        by_class = np.sort(encoded)
        allocation = np.asarray([np.bincount(by_class[i::self.n_splits], minlength=len(counts))
                                 for i in range(self.n_splits)])
        rng = self._generator() if self.shuffle else None
        folds = np.empty(n, dtype=np.int64)
        for c in range(len(counts)):
            class_folds = np.repeat(np.arange(self.n_splits), allocation[:, c])
            if rng is not None:
                rng.shuffle(class_folds)
            folds[encoded == c] = class_folds
        return folds


def _labels(labels, n: int, owner: str) -> np.ndarray:
    if labels is None:
        raise ValueError(f"{owner}.split: needs the labels, as split(dataset, labels), or a "
                         "dataset with a .targets attribute")
    labels = labels._data if isinstance(labels, Tensor) else np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"{owner}.split: labels must be one per sample, shape ({n},), got "
                         f"{labels.shape}")
    return labels
