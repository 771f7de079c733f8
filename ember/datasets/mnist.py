"""MNIST and Fashion-MNIST from their standard IDX files, checked by SHA-256.

``root`` is the folder holding the four files, or a parent with them in ``mnist/``
(``fashion-mnist/``) or torchvision's ``MNIST/raw/`` (``FashionMNIST/raw/``). Each file
may be gzip-compressed (``train-images-idx3-ubyte.gz``, the published form, or any other
valid gzip of the same content) or plain (``train-images-idx3-ubyte``, as torchvision
keeps them): the SHA-256 checked is that of the IDX content itself. Files of the other
data set (Fashion-MNIST given as MNIST) are recognised and named as such.

Nothing is downloaded unless ``download=True``; then missing files come from the
official mirrors, are checked, and land in ``root/mnist`` (``root/fashion-mnist``)
unless ``root`` already holds some of them.

Samples are ``(image, label)``: an image Tensor (1, 28, 28), float32 in [0, 1]
(pixel / 255), and an int label; ``.data`` is (N, 1, 28, 28), ``.targets`` int64 (N,).
"""

from __future__ import annotations

import hashlib
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
    sha256: dict  # published file name (.gz) -> SHA-256 of that file, for downloads
    content_sha256: dict  # file name without .gz -> SHA-256 of the IDX content
    classes: tuple


TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

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
    content_sha256={
        "train-images-idx3-ubyte":
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
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
    content_sha256={
        "train-images-idx3-ubyte":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
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


class DatasetNotFoundError(FileNotFoundError):
    """Some of a data set's files are not in the folder looked in.

    Attributes: ``source`` (the data set), ``missing`` (file names), ``folder`` (where
    they were looked for), ``root_exists``. The message advises ``download=True``;
    the command line words its own advice from the attributes.
    """

    def __init__(self, source: Source, missing: list[str], where: str, root_exists: bool,
                 root: Path) -> None:
        self.source, self.missing, self.where = source, missing, where
        self.root_exists, self.root = root_exists, root
        super().__init__(self.describe("pass download=True"))

    def describe(self, advice: str) -> str:
        state = "" if self.root_exists else f" (the folder {self.root} does not exist)"
        return (f"{self.source.title}: {', '.join(self.missing)} not found in {self.where}"
                f"{state}; {advice} to fetch them from {self.source.mirrors[0]}, or copy "
                f"the four IDX files ({', '.join(self.source.sha256)}) there")


def load(source: Source, root, train: bool, download: bool, transform,
         target_transform) -> ArrayDataset:
    """Find (or download), verify and read one split of ``source``."""
    needed = TRAIN_FILES if train else TEST_FILES
    folder = find_folder(source, root, needed, download)
    images_path, labels_path = (_existing(folder, name) for name in needed)
    images, labels = (idx.parse_idx(_verified(source, path, name), str(path))
                      for path, name in zip((images_path, labels_path), needed, strict=True))
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


def _existing(folder: Path, name: str) -> Path | None:
    """``name.gz`` or ``name`` in ``folder`` (the compressed form first), or None."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _verified(source: Source, path: Path, name: str) -> bytes:
    """The IDX content of ``path``, after checking its SHA-256 against ``source``'s."""
    content = idx.read_bytes(path)
    actual = hashlib.sha256(content).hexdigest()
    if actual == source.content_sha256[name]:
        return content
    for other in SOURCES:
        if other is not source and actual in other.content_sha256.values():
            kind = next(k for k, v in other.content_sha256.items() if v == actual)
            raise idx.ChecksumError(
                f"{path}: this is {other.title}'s {kind}, not {source.title}'s; point "
                f"{source.title} at its own files (or load it as {other.title})")
    raise idx.ChecksumError(f"{path}: SHA-256 mismatch of its IDX content (expected "
                            f"{source.content_sha256[name]}, got {actual}); the file is "
                            "corrupt or not the original, delete it and fetch it again")


def find_folder(source: Source, root, needed, download: bool) -> Path:
    """The folder holding the ``needed`` files, downloading them when asked."""
    root = Path(root).expanduser()
    candidates = [root, root / source.folder, root / source.torchvision_folder / "raw"]
    for folder in candidates:
        if all(_existing(folder, name) for name in needed):
            return folder
    holding = [f for f in candidates if any(_existing(f, name) for name in
                                            source.content_sha256)]
    target = holding[0] if holding else root / source.folder
    if download:
        for name, digest in source.sha256.items():
            if not _existing(target, name.removesuffix(".gz")):
                idx.download([mirror + name for mirror in source.mirrors], target / name,
                             digest)
        return target
    missing = [f"{name}.gz" for name in needed if not _existing(target, name)]
    where = f"{target}" if holding else f"{root} or {root / source.folder}"
    raise DatasetNotFoundError(source, missing, where, root.is_dir(), root)


SOURCES = (MNIST, FASHION_MNIST)
