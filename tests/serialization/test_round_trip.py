"""Every shape, dtype, layer and model of the zoo survives em.save / em.load exactly."""

from __future__ import annotations

import inspect
import io
import os
import stat

import numpy as np
import pytest

import ember as em
from ember import nn, serialization
from ember.nn import init
from tests.serialization.conftest import assert_same

DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]
SHAPES = [(), (0,), (3, 0, 2), (1,), (5,), (2, 3, 4), (1, 1, 1, 1)]


def _values(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if np.dtype(dtype).kind == "f":
        return np.asarray(rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return np.asarray(rng.integers(info.min, info.max, size=shape, dtype=dtype,
                                   endpoint=True))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_shape_and_dtype_round_trips_exactly(tmp_path, dtype):
    obj = {f"{'x'.join(map(str, s)) or 'scalar'}": em.Tensor._wrap(_values(s, dtype))
           for s in SHAPES}
    obj["array"] = _values((2, 2), dtype)
    obj["strided"] = em.Tensor._wrap(_values((4, 6), dtype)[::2, 1::2])  # not contiguous
    em.save(obj, tmp_path / "c.safetensors")
    assert_same(em.load(tmp_path / "c.safetensors"), obj)


def test_large_and_special_values_round_trip(tmp_path):
    big = np.random.default_rng(1).standard_normal(3_000_001).astype(np.float32)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.7976931348623157e308])
    obj = {"big": em.Tensor._wrap(big), "special": em.Tensor._wrap(special),
           "numbers": [float("nan"), float("-inf"), -0.0, 2**62, -(2**62), 1e-310],
           "text": "ünïcödé \u2603", "empty": {}, "nested": ((), [[]], {"a": None})}
    em.save(obj, tmp_path / "c.safetensors")
    back = em.load(tmp_path / "c.safetensors")
    assert_same(back, obj)
    assert np.array_equal(back["special"].numpy().view(np.uint64), special.view(np.uint64))
    assert str(back["numbers"][2]) == "-0.0"


def _layer_types():
    """Every Module subclass that ember.nn exports (so new layers are covered too)."""
    seen = set()
    for value in vars(nn).values():
        if inspect.isclass(value) and issubclass(value, nn.Module):
            seen.add(value)
    return sorted(seen, key=lambda c: c.__name__)


# constructor arguments tried in turn, for layers that need some
_ARGUMENTS = [(), (4,), (4, 2), (2, 4), (4, 2, 3), ("LSTM", 4, 2), (1, (2, 2)), ((4, 4), 2),
              (((0, 1), (1, 2)), 3), ([[1.0, -1.0], [1.0, 1.0]],),
              (nn.TransformerEncoderLayer(4, 2, 8), 2), (nn.TransformerDecoderLayer(4, 2, 8), 2)]


def _build(layer_type):
    for args in _ARGUMENTS:
        try:
            return layer_type(*args)
        except Exception:
            continue
    raise AssertionError(f"{layer_type.__name__}: add constructor arguments to _ARGUMENTS")


@pytest.mark.parametrize("layer_type", _layer_types(), ids=lambda c: c.__name__)
def test_every_layer_type_round_trips(layer_type):
    em.manual_seed(0)
    layer = _build(layer_type)
    with em.no_grad():
        for i, tensor in enumerate(layer.state_dict().values()):  # not the initial values
            if tensor.dtype.kind == "f":
                tensor.copy_(em.Tensor._wrap(_values(tensor.shape, tensor.dtype, seed=i)))
    state = layer.state_dict()
    buffer = io.BytesIO()
    em.save(state, buffer)
    back = em.load(io.BytesIO(buffer.getvalue()))
    assert_same(back, state)
    fresh = _build(layer_type)
    fresh.load_state_dict(back)
    assert_same(fresh.state_dict(), state)


def _zoo():
    import ember.models as zoo

    return sorted(name for name, value in vars(zoo).items()
                  if inspect.isfunction(value) and not name.startswith("_")
                  and value.__module__.startswith("ember.models"))


@pytest.fixture
def fast_init(monkeypatch):
    """Initialisers draw from a cheap generator, and leave tensors of over a million
    elements as allocated (VGG's 123M classifier weights take seconds to draw, and any
    bytes do for a round trip: the comparison is bit for bit)."""
    rng = np.random.default_rng(0)

    def fill(tensor, *args, **kwargs):
        data = tensor._data
        if data.size < 2**20:
            data[...] = rng.random(data.shape, dtype=np.float32)
        return tensor

    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_",
                 "kaiming_normal_", "xavier_uniform_", "xavier_normal_", "constant_"):
        monkeypatch.setattr(init, name, fill)


# The VGG family shares one classifier (25088 -> 4096 -> 4096 -> 1000: 123.6M of each
# model's 133-144M parameters, 500 MB); only the features differ. Each variant's features
# make the full round trip, and the shared classifier makes it once (with vgg11), which
# covers every key, shape, dtype and value of every VGG in a tenth of the bytes.
_SHARED_CLASSIFIER = {f"vgg{depth}{bn}" for depth in (13, 16, 19) for bn in ("", "_bn")} | {
    "vgg11_bn"}
_CLASSIFIER_SHAPES = {"classifier.0.weight": (4096, 25088), "classifier.0.bias": (4096,),
                      "classifier.3.weight": (4096, 4096), "classifier.3.bias": (4096,),
                      "classifier.6.weight": (1000, 4096), "classifier.6.bias": (1000,)}


def _round_trip(state: dict, folder, monkeypatch) -> dict:
    """Through a file (fsync skipped: durability is tested elsewhere, and syncing 500 MB
    per model would dominate the suite's time)."""
    monkeypatch.setattr(serialization.os, "fsync", lambda fd: None)
    em.save(state, folder / "model.safetensors")
    back = em.load(folder / "model.safetensors")
    assert_same(back, state)
    return back


@pytest.mark.parametrize("name", _zoo())
def test_every_model_in_the_zoo_round_trips(name, fast_init, tmp_path, monkeypatch):
    def build():
        builder = getattr(em.models, name)
        if name == "mlp":
            return builder(64, (32, 16), 10, batch_norm=True)
        return builder()

    model = build()
    state = model.state_dict()
    fresh = build()
    if name in _SHARED_CLASSIFIER:  # the classifier is vgg11's (checked there)
        assert {k: v.shape for k, v in state.items() if k.startswith("classifier.")} == \
            _CLASSIFIER_SHAPES
        model, fresh = model.features, fresh.features
        state = model.state_dict()
    back = _round_trip(state, tmp_path, monkeypatch)
    if not any(v.ndim == 0 for v in state.values()):
        return  # nothing 0-d: the reload into a model is covered by the others
    fresh.load_state_dict(back)  # raised for every model with BatchNorm (0-d counters)
    for (key, a), b in zip(fresh.state_dict().items(), state.values(), strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype, key
        assert np.array_equal(a.numpy(), b.numpy(), equal_nan=True), key


def test_the_issue_example_resnet18_reloads(tmp_path):
    model = em.models.resnet18()
    em.save(model.state_dict(), tmp_path / "r.safetensors")
    em.models.resnet18().load_state_dict(em.load(tmp_path / "r.safetensors"))
    assert em.load(tmp_path / "r.safetensors")["bn1.num_batches_tracked"].shape == ()


def test_file_objects_as_in_pytorch(tmp_path):
    obj = {"w": em.randn(3, 2), "step": em.tensor(4), "meta": {"lr": 0.1}}
    buffer = io.BytesIO()
    em.save(obj, buffer)
    buffer.seek(0)
    assert_same(em.load(buffer), obj)
    with open(tmp_path / "f.safetensors", "wb") as handle:
        em.save(obj, handle)
    with open(tmp_path / "f.safetensors", "rb") as handle:
        assert_same(em.load(handle), obj)
    assert_same(em.load(tmp_path / "f.safetensors"), obj)  # the same bytes as a path
    with open(tmp_path / "f.safetensors") as text, pytest.raises(TypeError, match="binary"):
        em.load(text)


def test_load_options_weights_only_and_map_location(tmp_path):
    path = tmp_path / "c.safetensors"
    em.save({"w": em.ones(2)}, path)
    for options in ({}, {"weights_only": True}, {"map_location": "cpu"},
                    {"map_location": "cpu:0"}, {"map_location": {"cuda:0": "cpu"}},
                    {"map_location": lambda storage, location: storage}):
        assert em.load(path, **options)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="never unpickles"):
        em.load(path, weights_only=False)
    with pytest.raises(ValueError, match="CPU"):
        em.load(path, map_location="cuda")
    with pytest.raises(TypeError, match="unexpected"):
        em.load(path, pickle_module=None)


def test_checkpoints_get_the_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        em.save({"w": em.ones(1)}, tmp_path / "a.safetensors")
        os.umask(0o027)
        em.save({"w": em.ones(1)}, tmp_path / "b.safetensors")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "a.safetensors").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "b.safetensors").st_mode) == 0o640
