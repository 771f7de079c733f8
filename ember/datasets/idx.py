"""IDX files (the MNIST format): reading with validation, SHA-256 checks, downloading.

An IDX file is a header then the raw values, big-endian:

    bytes 0-1  zero
    byte  2    type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3    number of dimensions d
    4 * d      the dimensions, uint32 each
    the values, row-major

Gzip-compressed files (any valid gzip, recognised by its magic bytes, whatever the name)
are decompressed. Nothing here touches the network unless :func:`download` is called.

>>> import gzip, io, tempfile, pathlib
>>> raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx2-ubyte.gz"
>>> _ = path.write_bytes(gzip.compress(raw))
>>> read_idx(path)
array([[0, 1, 2],
       [3, 4, 5]], dtype=uint8)
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# the opener used by download(); tests replace it to serve local bytes
urlopen = urllib.request.urlopen


class ChecksumError(ValueError):
    """A file's SHA-256 differs from the published one."""


GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (gzip-compressed or not), in native byte order.

    Raises ValueError naming the file when it is truncated, a damaged gzip, or its header
    is not an IDX header.
    """
    return parse_idx(read_bytes(path), str(path))


def read_bytes(path) -> bytes:
    """The content of a file, decompressed if it is gzip (by its magic bytes)."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != GZIP_MAGIC:
        if path.suffix == ".gz":
            raise ValueError(f"{path}: not a readable gzip file (it starts with "
                             f"{raw[:4].hex(' ')}, not 1f 8b); the file is corrupt, delete it "
                             "and fetch it again")
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: not a readable gzip file ({error}); the file is corrupt or "
                         "truncated, delete it and fetch it again") from None


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array in the IDX bytes ``raw`` (``name`` is used in error messages)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise ValueError(f"{name}: not an IDX file (its header is {raw[:4].hex(' ')}; expected "
                         "00 00 <type> <ndim> with type one of 08 09 0b 0c 0d 0e)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions "
                         f"need {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise ValueError(f"{name}: IDX data is {what}: shape {shape} needs {expected} bytes, "
                         f"found {found}")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def sha256(path) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path, expected: str) -> None:
    """Raise ChecksumError naming ``path`` when its SHA-256 is not ``expected``."""
    actual = sha256(path)
    if actual != expected:
        raise ChecksumError(f"{path}: SHA-256 mismatch (expected {expected}, got {actual}); "
                            "the file is corrupt or not the original, delete it and fetch it "
                            "again")


def download(urls, path, expected_sha256: str, timeout: float = 60.0) -> Path:
    """Fetch a file from the first of ``urls`` that serves it with the right SHA-256.

    The bytes go to a temporary file beside ``path``, are checked, and only then renamed
    to ``path`` (atomic), so an interrupted or corrupt download never leaves a bad file.
    Raises OSError listing every URL tried and why it failed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".part")
        try:
            digest = hashlib.sha256()
            with os.fdopen(handle, "wb") as out, urlopen(url, timeout=timeout) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != expected_sha256:
                raise ChecksumError(f"SHA-256 mismatch (expected {expected_sha256}, got "
                                    f"{digest.hexdigest()})")
            os.replace(temporary, path)
            return path
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append(f"{url}: {error}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise OSError(f"could not download {path.name}; tried " + "; ".join(failures))
