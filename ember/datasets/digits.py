"""The 8 x 8 handwritten digits that ship inside scikit-learn (offline, 1,797 images).

The UCI "optical recognition of handwritten digits" set: 32 x 32 bitmaps counted in
4 x 4 blocks, so each pixel is an integer 0-16. Here pixels are scaled to [0, 1]
(pixel / 16) and the set is split, stratified by class and with a fixed seed, into a
training and a test part that never overlap and are the same on every call.

>>> import ember as em
>>> train = em.datasets.digits()
>>> train.data.shape, train.targets.dtype
((1438, 1, 8, 8), dtype('int64'))
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from ember.data.dataset import ArrayDataset

CLASSES = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
           "6 - six", "7 - seven", "8 - eight", "9 - nine")


def digits(train: bool = True, transform=None, target_transform=None,
           test_fraction: float = 0.2, seed: int = 0) -> ArrayDataset:
    """The training (or test) part of scikit-learn's 8 x 8 digits.

    Each class is shuffled with ``numpy.random.default_rng(seed)`` (its own generator:
    the split does not follow ``em.manual_seed``) and its first round(n_c * test_fraction)
    samples go to the test part; both parts keep the original order.

    Args:
        train: the training part (True) or the test part (False).
        transform: applied to each image Tensor (1, 8, 8), float32 in [0, 1].
        target_transform: applied to each int label.
        test_fraction: the share of each class held out for testing, in (0, 1).
        seed: the split's seed.

    Needs scikit-learn (``pip install "ember[digits]"``); nothing is downloaded.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"digits: test_fraction must be in (0, 1), got {test_fraction}")
    images, labels = _load()
    test = _test_mask(labels, test_fraction, int(seed))
    keep = ~test if train else test
    data = (images[keep] / np.float32(16)).astype(np.float32)[:, None]
    dataset = ArrayDataset(data, labels[keep], transform, target_transform, classes=CLASSES)
    dataset.train, dataset.split = train, "train" if train else "test"
    return dataset


def _test_mask(labels: np.ndarray, test_fraction: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        chosen = rng.permutation(members)[: int(round(len(members) * test_fraction))]
        test[chosen] = True
    return test


@functools.lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) uint8, labels (1797,) int64) from scikit-learn's copy.

    The CSV inside scikit-learn is read directly, which skips importing scikit-learn
    (most of a second); ``load_digits`` is the fallback if the file moves.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise ImportError('digits() needs scikit-learn, which ships the 8x8 digits: '
                          'pip install "ember[digits]"')
    for location in spec.submodule_search_locations or []:
        path = Path(location) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",", dtype=np.float64)
            if table.shape == (1797, 65):
                return (table[:, :64].reshape(-1, 8, 8).astype(np.uint8),
                        table[:, 64].astype(np.int64))
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.uint8), bunch.target.astype(np.int64)
