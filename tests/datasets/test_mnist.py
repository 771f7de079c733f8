"""mnist / fashion_mnist: folder layouts, checksums, errors and download on small
synthetic IDX files (always run), then the real files when they are present."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import importlib
import urllib.error

import numpy as np
import pytest

import ember as em
from ember.datasets import idx

# the module (``ember.datasets.mnist`` is the function of the same name)
mnist_module = importlib.import_module("ember.datasets.mnist")
PUBLISHED_MNIST = mnist_module.MNIST

RNG = np.random.default_rng(0)
IMAGES = {"train": RNG.integers(0, 256, (6, 28, 28), dtype=np.uint8),
          "t10k": RNG.integers(0, 256, (4, 28, 28), dtype=np.uint8)}
LABELS = {"train": np.array([5, 0, 4, 1, 9, 2], np.uint8), "t10k": np.array([7, 2, 1, 0],
                                                                             np.uint8)}


def synthetic_files(idx_bytes) -> dict:
    files = {}
    for split in ("train", "t10k"):
        files[f"{split}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(IMAGES[split]))
        files[f"{split}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(LABELS[split]))
    return files


@pytest.fixture
def synthetic(monkeypatch, idx_bytes):
    """Synthetic MNIST files, and MNIST's checksums replaced by theirs."""
    files = synthetic_files(idx_bytes)
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    content = {name.removesuffix(".gz"): hashlib.sha256(gzip.decompress(data)).hexdigest()
               for name, data in files.items()}
    _replace_source(monkeypatch, "MNIST", sha256=sums, content_sha256=content)
    return files


def _replace_source(monkeypatch, name, **changes):
    source = dataclasses.replace(getattr(mnist_module, name), **changes)
    monkeypatch.setattr(mnist_module, name, source)
    sources = tuple(source if s.title == source.title else s for s in mnist_module.SOURCES)
    monkeypatch.setattr(mnist_module, "SOURCES", sources)


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


@pytest.mark.parametrize("layout", ["", "mnist", "MNIST/raw"])
def test_reads_each_folder_layout(tmp_path, synthetic, layout):
    write(tmp_path / layout, synthetic)
    train = em.datasets.mnist(tmp_path)
    assert len(train) == 6 and train.root == tmp_path / layout and train.split == "train"
    assert train.data.shape == (6, 1, 28, 28) and train.data.dtype == np.float32
    assert np.array_equal(train.data.numpy()[:, 0], IMAGES["train"] / np.float32(255))
    assert train.targets.dtype == np.int64 and train.targets.tolist() == [5, 0, 4, 1, 9, 2]
    image, label = train[4]
    assert image.shape == (1, 28, 28) and label == 9 and train.classes[9] == "9 - nine"
    test = em.datasets.mnist(str(tmp_path / layout), train=False)
    assert test.targets.tolist() == [7, 2, 1, 0]


def test_transforms_are_applied(tmp_path, synthetic):
    write(tmp_path, synthetic)
    data = em.datasets.mnist(tmp_path, transform=lambda x: x.sum(),
                             target_transform=lambda y: y + 100)
    total, label = data[0]
    assert label == 105 and abs(total.item() - IMAGES["train"][0].sum() / 255) < 1e-2


def test_missing_files_give_one_line_naming_folder_files_and_the_way_out(tmp_path, synthetic):
    with pytest.raises(FileNotFoundError) as error:
        em.datasets.mnist(tmp_path / "nowhere")
    message = str(error.value)
    assert "\n" not in message
    assert "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz not found" in message
    assert str(tmp_path / "nowhere") in message and "does not exist" in message
    assert "download=True" in message and "ossci-datasets" in message
    write(tmp_path, {k: v for k, v in synthetic.items() if "labels" not in k})
    with pytest.raises(FileNotFoundError, match=rf"t10k-labels-idx1-ubyte.gz not found in "
                                                rf"{tmp_path}; pass download=True"):
        em.datasets.mnist(tmp_path, train=False)


def test_checksum_mismatch_and_corrupt_files_name_the_file(tmp_path, synthetic, monkeypatch,
                                                           idx_bytes):
    files = dict(synthetic)
    files["train-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.array([1, 2], np.uint8)))
    write(tmp_path, files)
    with pytest.raises(idx.ChecksumError, match="train-labels-idx1-ubyte.gz: SHA-256 mismatch "
                                                "of its IDX content"):
        em.datasets.mnist(tmp_path)
    sums = dict(mnist_module.MNIST.content_sha256)
    sums["train-labels-idx1-ubyte"] = hashlib.sha256(
        gzip.decompress(files["train-labels-idx1-ubyte.gz"])).hexdigest()
    _replace_source(monkeypatch, "MNIST", content_sha256=sums)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: expected 6 uint8 labels"):
        em.datasets.mnist(tmp_path)


@pytest.mark.parametrize("form", ["plain", "recompressed", "mixed"])
def test_uncompressed_and_recompressed_files_are_accepted(tmp_path, synthetic, form):
    """The content's checksum is checked, not that of one particular .gz encoding."""
    files = {}
    for i, (name, data) in enumerate(synthetic.items()):
        content = gzip.decompress(data)
        if form == "plain" or (form == "mixed" and i % 2):
            files[name.removesuffix(".gz")] = content
        else:
            files[name] = gzip.compress(content, compresslevel=1, mtime=12345)
            assert files[name] != data  # other bytes, same content
    write(tmp_path / "MNIST" / "raw", files)
    train = em.datasets.mnist(tmp_path)
    assert train.targets.tolist() == [5, 0, 4, 1, 9, 2]
    assert np.array_equal(train.data.numpy()[:, 0], IMAGES["train"] / np.float32(255))
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"\x1f\x8bjunk")
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink(missing_ok=True)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte: not a readable gzip"):
        em.datasets.mnist(tmp_path, train=False)


def test_the_other_data_set_is_named_not_called_corrupt(tmp_path, synthetic, monkeypatch):
    content = {name.removesuffix(".gz"): hashlib.sha256(gzip.decompress(data)).hexdigest()
               for name, data in synthetic.items()}
    _replace_source(monkeypatch, "FASHION_MNIST", content_sha256=content)
    _replace_source(monkeypatch, "MNIST", content_sha256=PUBLISHED_MNIST.content_sha256)
    write(tmp_path, synthetic)
    with pytest.raises(idx.ChecksumError, match="this is Fashion-MNIST's train-images-idx3-"
                                                "ubyte, not MNIST's"):
        em.datasets.mnist(tmp_path)


def test_download_fetches_missing_files_only_when_asked(tmp_path, synthetic, monkeypatch,
                                                        fake_response):
    calls = []

    def opener(url, timeout):
        calls.append(url)
        if url.startswith("https://ossci"):
            raise urllib.error.URLError("mirror down")
        return fake_response(synthetic[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(idx, "urlopen", opener)
    with pytest.raises(FileNotFoundError):
        em.datasets.mnist(tmp_path)
    assert calls == []
    write(tmp_path / "mnist", {"train-images-idx3-ubyte.gz":
                               synthetic["train-images-idx3-ubyte.gz"]})
    data = em.datasets.mnist(tmp_path, download=True)
    assert len(data) == 6 and data.root == tmp_path / "mnist"
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(synthetic)
    assert len(calls) == 6  # three missing files, each tried on both mirrors
    assert "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz" in calls


# --------------------------------------------------------------------------- real files


def test_published_checksums_are_the_shipped_ones(mnist_dir, fashion_dir):
    for folder, source in ((mnist_dir, mnist_module.MNIST),
                           (fashion_dir, mnist_module.FASHION_MNIST)):
        listed = dict(line.split()[::-1] for line in (folder / "SHA256SUMS").read_text()
                      .splitlines() if line.strip())
        assert listed == source.sha256


def test_mnist_training_set(mnist_train, mnist_dir):
    assert len(mnist_train) == 60000 and mnist_train.data.shape == (60000, 1, 28, 28)
    pixels = mnist_train.data.numpy()
    assert pixels.dtype == np.float32 and pixels.min() == 0.0 and pixels.max() == 1.0
    assert mnist_train.targets.tolist()[:10] == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(mnist_train.targets.numpy()).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    with gzip.open(mnist_dir / "train-images-idx3-ubyte.gz") as f:  # independent reading
        raw = np.frombuffer(f.read(16 + 500 * 784), np.uint8, offset=16).reshape(500, 28, 28)
    assert np.array_equal(pixels[:500, 0] * 255, raw.astype(np.float32))


def test_mnist_loader_epoch(mnist_train):
    loader = em.data.DataLoader(mnist_train, batch_size=128, shuffle=True)
    sizes, labels = [], []
    for x, y in loader:
        assert x.shape[1:] == (1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
        sizes.append(len(y))
        labels.append(y.numpy())
    assert len(loader) == len(sizes) == 469 and sizes[-1] == 60000 - 468 * 128
    labels = np.concatenate(labels)
    assert np.array_equal(np.bincount(labels), np.bincount(mnist_train.targets.numpy()))
    assert not np.array_equal(labels, mnist_train.targets.numpy())


def test_fashion_mnist(fashion_dir):
    test = em.datasets.fashion_mnist(fashion_dir, train=False)
    assert len(test) == 10000 and test.root == fashion_dir
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert test.targets.tolist()[:5] == [9, 2, 1, 1, 6]
    assert test.classes[9] == "Ankle boot" and test.class_to_idx["T-shirt/top"] == 0
    with pytest.raises(idx.ChecksumError, match="t10k-images-idx3-ubyte.gz"):
        em.datasets.mnist(fashion_dir, train=False)  # Fashion-MNIST's files are not MNIST's


def test_download_of_the_real_files_from_a_served_copy(tmp_path, monkeypatch, mnist_dir,
                                                       fake_response):
    monkeypatch.setattr(idx, "urlopen", lambda url, timeout: fake_response(
        (mnist_dir / url.rsplit("/", 1)[1]).read_bytes()))
    test = em.datasets.mnist(tmp_path, train=False, download=True)
    assert len(test) == 10000 and test.root == tmp_path / "mnist"
    assert test.targets.tolist()[:10] == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert len(list((tmp_path / "mnist").iterdir())) == 4
