"""em.load reads files written by torch.save (zip and legacy formats) without PyTorch's
unpickler, and never runs what a hostile file asks for."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import ember as em
from ember.serialization import CheckpointError

torch = pytest.importorskip("torch")

FORMATS = {"zip": {}, "legacy": {"_use_new_zipfile_serialization": False}}
DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64,
          torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]


def _save(obj, path, fmt):
    torch.save(obj, path, **FORMATS[fmt])
    return path


def _tensors():
    generator = torch.Generator().manual_seed(0)
    out = {}
    for dtype in DTYPES:
        name = str(dtype).split(".")[1]
        base = torch.randn(4, 5, generator=generator, dtype=torch.float64) * 50
        out[name] = base.to(dtype)
        out[f"{name}_view"] = base.to(dtype)[1:, ::2].t()  # offset, strides, transposed
        out[f"{name}_0d"] = base.to(dtype)[2, 3]
        out[f"{name}_empty"] = torch.zeros(0, 3, dtype=dtype)
    shared = torch.arange(10.0)
    out["shares_a"], out["shares_b"] = shared[:4], shared[3:]  # one storage, two views
    return out


def _expected(tensor) -> np.ndarray:
    if tensor.dtype == torch.bfloat16:
        return tensor.float().numpy()  # exact: bfloat16 is the top half of a float32
    return tensor.numpy()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_dtype_shape_and_view_reads_exactly(tmp_path, fmt):
    tensors = _tensors()
    back = em.load(_save(tensors, tmp_path / "t.pth", fmt))
    assert list(back) == list(tensors)
    for key, tensor in tensors.items():
        expected = _expected(tensor)
        got = back[key].numpy()
        assert got.shape == expected.shape and got.dtype == expected.dtype, key
        assert np.array_equal(got, expected), key


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_plain_containers_numbers_and_strings(tmp_path, fmt):
    from collections import OrderedDict

    obj = {"epoch": 7, "loss": 0.25, "big": 2**70, "neg": -(2**40), "name": "run ü",
           "flags": [True, False, None], "pair": (1, "a"), "bytes": b"\x00\xff",
           "set": {1, 2}, "frozen": frozenset({3}), "nested": {"a": [{"b": (2.5,)}]},
           "ordered": OrderedDict([("z", 1), ("a", 2)]), "size": torch.Size([2, 3])}
    back = em.load(_save(obj, tmp_path / "c.pt", fmt))
    assert back == {**obj, "size": (2, 3)}
    assert list(back["ordered"]) == ["z", "a"]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_torchvision_state_dict_loads_and_gives_the_same_outputs(tmp_path, fmt):
    from tests.models import torchvision_reference as tv

    torch.manual_seed(0)
    reference = tv.resnet(tv.BasicBlock, [2, 2, 2, 2], num_classes=10).double().eval()
    tv.randomize_batchnorm(reference)
    path = _save(reference.state_dict(), tmp_path / "resnet18.pth", fmt)
    state = em.load(path)
    model = em.models.resnet18(num_classes=10).double().eval()
    model.load_state_dict(state)  # strict, key for key; num_batches_tracked 0-d int64
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with em.no_grad():
        got = model(em.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_a_file_object_and_parameters(tmp_path):
    buffer = io.BytesIO()
    torch.save({"w": torch.nn.Parameter(torch.ones(2, 3))}, buffer)
    back = em.load(io.BytesIO(buffer.getvalue()))
    assert isinstance(back["w"], em.nn.Parameter) and back["w"].shape == (2, 3)


class Exploit:
    """A pickle that runs a shell command when unpickled by pickle.load."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvalExploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize("fmt", ["zip", "legacy", "raw-pickle-0", "raw-pickle-2",
                                 "raw-pickle-5"])
@pytest.mark.parametrize("payload", [Exploit, EvalExploit])
def test_hostile_payloads_never_run(tmp_path, fmt, payload):
    marker = tmp_path / "pwned"
    obj = {"innocent": payload(marker), "weights": torch.ones(2)}
    path = tmp_path / "evil.pth"
    if fmt.startswith("raw-pickle"):
        path.write_bytes(pickle.dumps(obj, protocol=int(fmt[-1])))
    else:
        _save(obj, path, fmt)
    with pytest.raises(CheckpointError) as error:
        em.load(path)
    message = str(error.value)
    assert str(path) in message and "\n" not in message
    if fmt == "raw-pickle-0":  # not a torch file at all: refused as unreadable
        assert "not a readable" in message
    else:  # the offending global is named
        assert any(f"refers to {name}" in message for name in
                   ("posix.system", "builtins.eval", "__builtin__.eval")), message
    assert not marker.exists()


def test_a_whole_model_is_refused_naming_its_class(tmp_path):
    path = tmp_path / "model.pth"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(CheckpointError, match=r"model\.pth: refers to "
                                              r"torch\.nn\.modules\.linear\.Linear.*state_dict"):
        em.load(path)


def test_deep_nesting_is_no_recursion_error(tmp_path):
    depth = 100_000  # lists in lists: EMPTY_LIST x n, then APPEND x (n - 1)
    data = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    path = tmp_path / "deep.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("deep/data.pkl", data)
        archive.writestr("deep/byteorder", "little")
    back = em.load(path)
    levels = 0
    while back:
        back, levels = back[0], levels + 1
    assert levels == depth - 1 and back == []


def test_fuzzed_torch_files_load_equal_or_raise_checkpoint_errors(tmp_path):
    original = {"w": torch.arange(12.0).reshape(3, 4), "b": torch.ones(3, dtype=torch.int64),
                "step": 5}
    rng = np.random.default_rng(7)
    for fmt in sorted(FORMATS):
        data = _save(original, tmp_path / f"o.{fmt}", fmt).read_bytes()
        target = tmp_path / "mutant.pth"
        for i in range(300):
            damaged = bytearray(data)
            if i % 3 == 2:
                damaged = damaged[: int(rng.integers(0, len(data)))]
            else:
                for position in rng.integers(0, len(data), size=int(rng.integers(1, 9))):
                    damaged[position] = int(rng.integers(256))
            target.write_bytes(bytes(damaged))
            try:
                back = em.load(target)
            except CheckpointError as error:
                assert str(target) in str(error)
                continue
            if fmt == "zip":  # CRC-32 guards every member: what loads is the original
                assert list(back) == ["w", "b", "step"] and back["step"] == 5
                assert np.array_equal(back["w"].numpy(), original["w"].numpy())
                assert np.array_equal(back["b"].numpy(), original["b"].numpy())
            # the legacy format has no checksums: a flipped value can load; the point
            # there is that nothing but a CheckpointError ever escapes
