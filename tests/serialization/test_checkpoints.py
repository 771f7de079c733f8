"""Checkpoints: round trips, atomic saves, refusing pickles, clear errors for corrupt files."""

from __future__ import annotations

import math
import os
import pickle

import numpy as np
import pytest

import ember as em
from ember.serialization import CheckpointError


def test_round_trip_of_a_nested_checkpoint(tmp_path):
    model = em.nn.Sequential(em.nn.Linear(3, 2), em.nn.Linear(2, 1))
    obj = {
        "model": model.state_dict(),
        "optimizer": {"state": {0: {"step": 3, "momentum_buffer": em.ones(2, 3)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}]},
        "epoch": 7, "loss": float("nan"), "best": float("inf"), "name": "run",
        "flags": [True, None, 2.5], "array": np.arange(4, dtype=np.int32),
        "int64_labels": em.tensor([1, 2]), "f64": em.ones(2, dtype=em.float64),
    }
    em.save(obj, tmp_path / "c.safetensors")
    back = em.load(tmp_path / "c.safetensors")
    assert list(back["model"]) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    for key, value in model.state_dict().items():
        assert np.array_equal(back["model"][key].numpy(), value.numpy())
        assert back["model"][key].dtype == value.dtype
    state = back["optimizer"]["state"]
    assert list(state) == [0] and state[0]["step"] == 3  # int keys survive
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["epoch"] == 7 and math.isnan(back["loss"]) and back["best"] == math.inf
    assert back["flags"] == [True, None, 2.5] and back["name"] == "run"
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int32
    assert back["int64_labels"].dtype == em.int64 and back["f64"].dtype == em.float64
    fresh = em.nn.Sequential(em.nn.Linear(3, 2), em.nn.Linear(2, 1))
    fresh.load_state_dict(back["model"])
    x = em.randn(4, 3)
    assert np.array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    back["optimizer"]["state"][0]["momentum_buffer"].add_(1.0)  # loaded arrays are writable


def test_a_crash_mid_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    em.save({"w": em.ones(3)}, path)
    from safetensors import numpy as st_numpy

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(st_numpy, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        em.save({"w": em.zeros(3)}, path)
    assert em.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind


def test_pickles_are_refused_without_being_executed(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CheckpointError, match="pickle"):
        em.load(path)
    assert not (tmp_path / "pwned").exists()
    zip_like = tmp_path / "model.pt"
    zip_like.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(CheckpointError, match="evil|model.pt"):
        em.load(zip_like)


def test_any_header_length_loads(tmp_path):
    # the first 8 bytes are the header's length; a length of 0x80 + 256 k makes the first
    # byte 0x80, which is also how a pickle starts
    path = tmp_path / "c.safetensors"
    first_bytes = set()
    for padding in range(0, 300, 3):
        em.save({"x": "a" * padding, "w": em.ones(2)}, path)
        first_bytes.add(path.read_bytes()[:1])
        assert em.load(path)["x"] == "a" * padding
    assert b"\x80" in first_bytes


def test_truncated_and_corrupt_files_name_the_file(tmp_path):
    path = tmp_path / "c.safetensors"
    em.save({"w": em.ones(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"c\.safetensors.*truncated or corrupt"):
        em.load(path)
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(CheckpointError, match=r"c\.safetensors"):
        em.load(path)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        em.load(tmp_path / "missing.safetensors")


def test_objects_that_are_not_data_are_refused():
    with pytest.raises(TypeError, match="cannot save a Linear.*state_dict"):
        em.save({"model": em.nn.Linear(1, 1)}, "unused.safetensors")
    with pytest.raises(TypeError, match="dict keys"):
        em.save({(1, 2): 3}, "unused.safetensors")


def test_plain_safetensors_files_load_as_flat_dicts(tmp_path):
    from safetensors.numpy import save_file

    save_file({"weight": np.ones((2, 2), np.float32)}, str(tmp_path / "plain.safetensors"))
    back = em.load(tmp_path / "plain.safetensors")
    assert list(back) == ["weight"] and back["weight"].shape == (2, 2)
