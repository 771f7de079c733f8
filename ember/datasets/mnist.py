"""MNIST and Fashion-MNIST from their standard IDX .gz files, checked against the
published SHA-256 checksums.

``root`` is the folder holding the four files, or a parent with them in ``mnist/``
(``fashion-mnist/``) or torchvision's ``MNIST/raw/`` (``FashionMNIST/raw/``). Nothing is
downloaded unless ``download=True``; then missing files come from the official mirrors,
are checked, and land in ``root/mnist`` (``root/fashion-mnist``) unless ``root``
already holds some of them.

Samples are ``(image, label)``: an image Tensor (1, 28, 28), float32 in [0, 1]
(pixel / 255), and an int label; ``.data`` is (N, 1, 28, 28), ``.targets`` int64 (N,).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ember.data.dataset import ArrayDataset
from ember.datasets import idx


@dataclass(frozen=True)
class Source:
    """Where a dataset's files live and what they must hash to."""

    title: str
    folder: str  # the sub-folder of root: "mnist" / "fashion-mnist"
    torchvision_folder: str
    mirrors: tuple
    sha256: dict  # file name -> SHA-256
    classes: tuple


TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

MNIST = Source(
    title="MNIST",
    folder="mnist",
    torchvision_folder="MNIST",
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "http://yann.lecun.com/exdb/mnist/"),
    sha256={
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz":
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz":
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    classes=("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
             "6 - six", "7 - seven", "8 - eight", "9 - nine"),
)

FASHION_MNIST = Source(
    title="Fashion-MNIST",
    folder="fashion-mnist",
    torchvision_folder="FashionMNIST",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    sha256={
        "train-images-idx3-ubyte.gz":
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz":
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz":
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz":
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot"),
)


def mnist(root, train: bool = True, download: bool = False, transform=None,
          target_transform=None) -> ArrayDataset:
    """The MNIST handwritten digits: 60,000 training or 10,000 test images, 28 x 28.

    Args:
        root: the folder with the IDX .gz files, or its parent (see the module docs).
        train: the training set (True) or the test set (False).
        download: fetch missing files from the official mirrors.
        transform: applied to each image Tensor (1, 28, 28).
        target_transform: applied to each int label.
    """
    return load(MNIST, root, train, download, transform, target_transform)


def fashion_mnist(root, train: bool = True, download: bool = False, transform=None,
                  target_transform=None) -> ArrayDataset:
    """Fashion-MNIST (Zalando): 28 x 28 greyscale images of ten kinds of article, in the
    format of MNIST; ``.classes`` are the article names. Arguments as :func:`mnist`."""
    return load(FASHION_MNIST, root, train, download, transform, target_transform)


def load(source: Source, root, train: bool, download: bool, transform,
         target_transform) -> ArrayDataset:
    """Find (or download), verify and read one split of ``source``."""
    needed = TRAIN_FILES if train else TEST_FILES
    folder = find_folder(source, root, needed, download)
    for name in needed:
        idx.check_sha256(folder / name, source.sha256[name])
    images_path, labels_path = (folder / name for name in needed)
    images, labels = idx.read_idx(images_path), idx.read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected uint8 images (N, 28, 28), got "
                         f"{images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8 or len(labels) != len(images):
        raise ValueError(f"{labels_path}: expected {len(images)} uint8 labels, got "
                         f"{labels.dtype} {labels.shape}")
    if labels.size and labels.max() >= len(source.classes):
        raise ValueError(f"{labels_path}: label {labels.max()} is out of range 0-"
                         f"{len(source.classes) - 1}")
    data = np.true_divide(images[:, None], np.float32(255), dtype=np.float32)
    dataset = ArrayDataset(data, labels.astype(np.int64), transform, target_transform,
                           classes=source.classes)
    dataset.root, dataset.train = folder, train
    dataset.split = "train" if train else "test"
    return dataset


def find_folder(source: Source, root, needed, download: bool) -> Path:
    """The folder holding the ``needed`` files, downloading them when asked."""
    root = Path(root).expanduser()
    candidates = [root, root / source.folder, root / source.torchvision_folder / "raw"]
    for folder in candidates:
        if all((folder / name).is_file() for name in needed):
            return folder
    holding = [f for f in candidates if any((f / name).is_file() for name in source.sha256)]
    target = holding[0] if holding else root / source.folder
    if download:
        for name, digest in source.sha256.items():
            if not (target / name).is_file():
                idx.download([mirror + name for mirror in source.mirrors], target / name,
                             digest)
        return target
    missing = [name for name in needed if not (target / name).is_file()]
    where = f"{target}" if holding else f"{root} or {root / source.folder}"
    state = "" if root.is_dir() else f" (the folder {root} does not exist)"
    raise FileNotFoundError(
        f"{source.title}: {', '.join(missing)} not found in {where}{state}; pass "
        f"download=True to fetch them from {source.mirrors[0]}, or copy the four IDX .gz "
        f"files ({', '.join(source.sha256)}) there"
    )
