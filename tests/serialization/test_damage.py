"""Damaged, truncated and hostile files: a CheckpointError naming the file, or the original.

Never another exception type, never silently different values, never code execution.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import ember as em
from ember import nn, serialization
from ember.serialization import CheckpointError
from tests.serialization.conftest import assert_same


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A real training checkpoint: a BatchNorm model, Adam's state, history, rng."""
    em.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(12, 2))
    x, y = em.randn(16, 1, 4, 4), (em.rand(16) > 0.5).long()
    trainer = em.train.Trainer(model, nn.CrossEntropyLoss(),
                               em.optim.Adam(model.parameters(), lr=0.01),
                               metrics=["accuracy"], progress=False)
    trainer.fit(em.data.DataLoader(em.data.TensorDataset(x, y), batch_size=8), epochs=2)
    path = tmp_path_factory.mktemp("fuzz") / "real.safetensors"
    trainer.save_checkpoint(path)
    return path, path.read_bytes(), em.load(path)


def _load_or_error(path):
    """The loaded object, or None for a CheckpointError that names the file."""
    try:
        return em.load(path)
    except CheckpointError as error:
        assert str(path) in str(error), str(error)
        assert "\n" not in str(error)
        return None


def test_flipped_bytes_in_a_weight_are_detected(checkpoint, tmp_path):
    path, data, original = checkpoint
    header_length = int.from_bytes(data[:8], "little")
    damaged = bytearray(data)
    start = 8 + header_length  # the data section: 16 bytes flipped in the first tensor
    for i in range(start, start + 16):
        damaged[i] ^= 0xFF
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(bytes(damaged))
    with pytest.raises(CheckpointError, match=r"broken\.safetensors.*tensor '.*'.*checksum"):
        em.load(broken)


def test_a_single_flipped_bit_anywhere_in_the_data_is_detected(checkpoint, tmp_path):
    path, data, original = checkpoint
    header_length = int.from_bytes(data[:8], "little")
    rng = np.random.default_rng(1)
    broken = tmp_path / "bit.safetensors"
    for position in rng.integers(8 + header_length, len(data), size=50):
        damaged = bytearray(data)
        damaged[position] ^= 1 << int(rng.integers(8))
        broken.write_bytes(bytes(damaged))
        with pytest.raises(CheckpointError, match="checksum"):
            em.load(broken)


def test_changed_metadata_is_detected(checkpoint, tmp_path):
    """An edited number in the JSON structure (epoch 2 -> 7) loads nothing."""
    path, data, original = checkpoint
    text = data.replace(b'[\\"epoch\\", 2]', b'[\\"epoch\\", 7]')  # JSON in JSON
    assert text != data
    broken = tmp_path / "edited.safetensors"
    broken.write_bytes(text)
    with pytest.raises(CheckpointError, match=r"edited\.safetensors.*metadata"):
        em.load(broken)


def _mutations(data: bytes, rng: np.random.Generator, count: int):
    """Random byte flips anywhere, truncations, junk headers and random lengths."""
    header_length = int.from_bytes(data[:8], "little")
    for i in range(count):
        kind = i % 6
        damaged = bytearray(data)
        if kind in (0, 1):  # flips anywhere (1-16 bytes)
            for position in rng.integers(0, len(data), size=int(rng.integers(1, 17))):
                damaged[position] = int(rng.integers(256))
        elif kind == 2:  # flips in the header
            for position in rng.integers(0, 8 + header_length, size=int(rng.integers(1, 5))):
                damaged[position] ^= 1 << int(rng.integers(8))
        elif kind == 3:  # truncation
            damaged = damaged[: int(rng.integers(0, len(data)))]
        elif kind == 4:  # a junk header of random length
            junk = rng.integers(0, 256, size=int(rng.integers(0, 64)), dtype=np.uint8)
            damaged = (int(rng.integers(0, 2**16)).to_bytes(8, "little") + junk.tobytes()
                       + bytes(damaged[8 + header_length:]))
        else:  # a wrong header length
            length = int(rng.choice([0, 1, header_length - 1, header_length + 1, 2**63,
                                     int(rng.integers(0, 2**32))]))
            damaged[:8] = (length % 2**64).to_bytes(8, "little")
        yield bytes(damaged)


def test_fuzz_thousands_of_mutated_checkpoints(checkpoint, tmp_path):
    path, data, original = checkpoint
    rng = np.random.default_rng(2026)
    target = tmp_path / "mutant.safetensors"
    loaded = errors = 0
    for mutant in _mutations(data, rng, 1200):
        target.write_bytes(mutant)
        result = _load_or_error(target)  # any other exception type fails the test
        if result is None:
            errors += 1
        else:
            assert_same(result, original)  # a harmless change (e.g. header padding)
            loaded += 1
    assert errors > 1000 and loaded + errors == 1200


def _hostile(metadata: dict) -> bytes:
    header = json.dumps({"__metadata__": metadata}).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header


def _signed(structure: str, checksums: str = "{}") -> dict:
    fmt = "ember.checkpoint/2"
    digest = hashlib.sha256("\n".join([fmt, structure, checksums]).encode()).hexdigest()
    return {"format": fmt, "structure": structure, "checksums": checksums, "digest": digest}


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_structures_are_refused_not_a_recursion_error(tmp_path, depth):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(_hostile(_signed("[" * depth + "]" * depth)))
    with pytest.raises(CheckpointError, match=r"deep\.safetensors.*nested too deeply"):
        em.load(path)
    nested_dict = '{"__dict__": [["a", ' * depth + "1" + "]]}" * depth
    path.write_bytes(_hostile(_signed(nested_dict)))
    with pytest.raises(CheckpointError, match=r"deep\.safetensors"):
        em.load(path)
    # a deeply nested safetensors header itself
    path.write_bytes(len(b"[" * depth).to_bytes(8, "little") + b"[" * depth)
    with pytest.raises(CheckpointError, match=r"deep\.safetensors"):
        em.load(path)


@pytest.mark.parametrize("structure", [
    '{"__tensor__": "missing"}', '{"__dict__": [[{"a": 1}, 2]]}', '{"__dict__": [[1]]}',
    '{"__float__": "not a number"}', '{"__tuple__": 5}', '{"what": 1}', "not json",
])
def test_signed_but_malformed_structures_are_checkpoint_errors(tmp_path, structure):
    path = tmp_path / "odd.safetensors"
    path.write_bytes(_hostile(_signed(structure)))
    with pytest.raises(CheckpointError, match=r"odd\.safetensors"):
        em.load(path)


def test_unknown_format_or_missing_keys_are_errors_not_a_flat_dict(tmp_path):
    path = tmp_path / "odd.safetensors"
    for metadata in ({"format": "ember.checkpoint/9", "structure": "1"},
                     {"formbt": "ember.checkpoint/2", "structure": "1", "checksums": "{}",
                      "digest": "0"},
                     {"format": "ember.checkpoint/2", "structure": "1"}):
        path.write_bytes(_hostile(metadata))
        with pytest.raises(CheckpointError, match=r"odd\.safetensors"):
            em.load(path)


_SAVER = """
import sys, numpy as np, ember as em
from safetensors import numpy as st
real = st.save_file
def slow(*args, **kwargs):
    print("saving", flush=True)
    import time; time.sleep(60)
st.save_file = slow
em.save({"w": em.Tensor._wrap(np.zeros(10))}, sys.argv[1])
"""


def test_a_save_killed_midway_leaves_no_lasting_temporary(tmp_path):
    target = tmp_path / "model.safetensors"
    em.save({"w": em.ones(3)}, target)
    for _ in range(3):  # kill -9 in the middle of saving, three times
        process = subprocess.Popen([sys.executable, "-c", _SAVER, str(target)],
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "saving"
        process.send_signal(signal.SIGKILL)
        process.wait()
        # each save removed the temporary of the one killed before it: one is left
        leftovers = [n for n in os.listdir(tmp_path) if n != "model.safetensors"]
        assert len(leftovers) == 1 and ".ember-tmp-" in leftovers[0], leftovers
    assert em.load(target)["w"].tolist() == [1.0, 1.0, 1.0]  # the target is intact
    foreign = tmp_path / ".notes.tmp"
    foreign.write_text("not ember's")
    # a temporary of a process that still runs (this one) is somebody's save in progress
    live = tmp_path / f".model.safetensors.{serialization._TEMPORARY_TAG}-{os.getpid()}-x.tmp"
    live.write_text("a save in progress")
    em.save({"w": em.zeros(3)}, target)  # the next save cleans up after the dead ones
    assert sorted(os.listdir(tmp_path)) == sorted([".notes.tmp", live.name, "model.safetensors"])
    assert em.load(target)["w"].tolist() == [0.0, 0.0, 0.0]
