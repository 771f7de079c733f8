"""IDX parsing and validation, SHA-256 checks, and the download path (no network: the
opener is replaced by one serving bytes)."""

from __future__ import annotations

import gzip
import hashlib
import urllib.error

import numpy as np
import pytest

from ember.datasets import idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("compressed", [True, False])
def test_read_idx_round_trips(tmp_path, dtype, compressed, idx_bytes):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    raw = idx_bytes(array)
    path = tmp_path / ("x-idx3.gz" if compressed else "x-idx3")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    out = idx.read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert np.array_equal(out, array)


def test_header_and_length_validation_names_the_source(idx_bytes):
    good = idx_bytes(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="f.idx: not an IDX file"):
        idx.parse_idx(b"\x01\x00\x08\x01" + good[4:], "f.idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        idx.parse_idx(b"\x00\x00\x07\x01" + good[4:], "f.idx")
    with pytest.raises(ValueError, match="truncated IDX header"):
        idx.parse_idx(good[:9], "f.idx")
    with pytest.raises(ValueError, match=r"f.idx: IDX data is truncated: shape \(2, 3\) needs "
                                         r"6 bytes, found 5"):
        idx.parse_idx(good[:-1], "f.idx")
    with pytest.raises(ValueError, match="longer than its header says"):
        idx.parse_idx(good + b"\x00", "f.idx")


def test_corrupt_and_truncated_gzip_files(tmp_path, idx_bytes):
    garbage = tmp_path / "garbage-idx1-ubyte.gz"
    garbage.write_bytes(b"this is not gzip at all")
    with pytest.raises(ValueError, match="garbage-idx1-ubyte.gz: not a readable gzip file"):
        idx.read_idx(garbage)
    cut = tmp_path / "cut-idx1-ubyte.gz"
    cut.write_bytes(gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))[:-20])
    with pytest.raises(ValueError, match="cut-idx1-ubyte.gz: not a readable gzip file"):
        idx.read_idx(cut)
    with pytest.raises(FileNotFoundError):
        idx.read_idx(tmp_path / "absent.gz")


def test_checksums(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"ember" * 1000)
    assert idx.sha256(path) == hashlib.sha256(b"ember" * 1000).hexdigest()
    idx.check_sha256(path, hashlib.sha256(b"ember" * 1000).hexdigest())
    with pytest.raises(idx.ChecksumError, match=r"file.bin: SHA-256 mismatch \(expected 00"):
        idx.check_sha256(path, "00" * 32)


def serve(monkeypatch, pages: dict, calls: list, fake_response):
    """Replace the opener: each URL gives its bytes, a FakeResponse, or an exception."""

    def opener(url, timeout):
        calls.append(url)
        page = pages[url]
        if isinstance(page, Exception):
            raise page
        return page if isinstance(page, fake_response) else fake_response(page)

    monkeypatch.setattr(idx, "urlopen", opener)


def test_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch, fake_response):
    payload = b"\x00" * 3_000_000
    digest = hashlib.sha256(payload).hexdigest()
    calls = []
    serve(monkeypatch, {"https://a/f.gz": urllib.error.URLError("unreachable"),
                        "https://b/f.gz": fake_response(payload, fail_after=1 << 20),
                        "https://c/f.gz": payload}, calls, fake_response)
    target = tmp_path / "sub" / "f.gz"
    assert idx.download(["https://a/f.gz", "https://b/f.gz", "https://c/f.gz"], target,
                        digest) == target
    assert calls == ["https://a/f.gz", "https://b/f.gz", "https://c/f.gz"]
    assert target.read_bytes() == payload
    assert [p.name for p in target.parent.iterdir()] == ["f.gz"]  # no partial files left


def test_download_keeps_nothing_when_every_mirror_fails(tmp_path, monkeypatch, fake_response):
    serve(monkeypatch, {"https://a/f.gz": b"wrong bytes",
                        "https://b/f.gz": urllib.error.HTTPError("https://b/f.gz", 404,
                                                                 "Not Found", {}, None)}, [],
          fake_response)
    with pytest.raises(OSError, match=r"could not download f.gz; tried https://a/f.gz: "
                                      r"SHA-256 mismatch .*; https://b/f.gz: .*404"):
        idx.download(["https://a/f.gz", "https://b/f.gz"], tmp_path / "f.gz", "ab" * 32)
    assert list(tmp_path.iterdir()) == []
