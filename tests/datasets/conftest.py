"""Where the MNIST / Fashion-MNIST files are: $EMBER_DATA_DIR, else the folder
``shared/data`` beside the repository. Tests that need them skip when it is absent."""

from __future__ import annotations

import http.client
import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest

import ember as em


def data_dir() -> Path:
    env = os.environ.get("EMBER_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _folder(name: str) -> Path:
    folder = data_dir() / name
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"{name} IDX files not found in {folder} (set EMBER_DATA_DIR to the "
                    "folder holding mnist/ and fashion-mnist/)")
    return folder


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    return _folder("mnist")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    return _folder("fashion-mnist")


@pytest.fixture(scope="session")
def mnist_train(mnist_dir):
    """The 60,000 MNIST training images, read once per test session."""
    return em.datasets.mnist(mnist_dir.parent)


def _idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array`` (header, then big-endian values)."""
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


class _FakeResponse(io.BytesIO):
    """What urlopen returns, serving ``data``; it breaks after ``fail_after`` bytes."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        super().__init__(data)
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise http.client.IncompleteRead(b"")
        return super().read(size)


@pytest.fixture
def idx_bytes():
    return _idx_bytes


@pytest.fixture
def fake_response():
    return _FakeResponse
