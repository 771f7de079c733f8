"""Helpers for the ONNX tests: export, check, run in onnxruntime, load back into ember.

The oracle is onnxruntime: the exported file must pass ``onnx.checker`` (with shape
inference) and give ember's outputs, to 1e-5 relative to the outputs' scale."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ember as em
from ember.nn.layers.norm import _BatchNorm

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def outputs_of(result) -> list[np.ndarray]:
    """A model's (nested) outputs as a flat list of arrays."""
    from ember.onnx.trace import flatten_outputs

    return [t.detach().numpy() for t in flatten_outputs(result)]


def assert_close(actual, expected, tolerance: float = 1e-5) -> None:
    """Equal to ``tolerance`` times the larger of 1 and the expected values' scale."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected)
        return
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tolerance * scale)


def export_bytes(model, inputs, **options) -> bytes:
    buffer = io.BytesIO()
    em.onnx.export(model, inputs, buffer, **options)
    return buffer.getvalue()


def check_export(model, inputs, runs=None, tolerance: float = 1e-5, full_check: bool = True,
                 **options) -> bytes:
    """Export ``model`` on ``inputs``, check the file, and compare onnxruntime's outputs
    with ember's on ``inputs`` and on every tuple of ``runs`` (other sizes, for dynamic
    axes). ``full_check`` adds ONNX's shape inference to the checker. Returns the bytes."""
    model.eval()
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    data = export_bytes(model, inputs, **options)
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=full_check)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for sample in [inputs] + list(runs or []):
        sample = sample if isinstance(sample, tuple) else (sample,)
        got = session.run(None, {n: x.numpy() for n, x in zip(names, sample, strict=True)})
        with em.no_grad():
            want = outputs_of(model(*sample))
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert_close(a, b, tolerance)
    return data


def check_round_trip(model, data: bytes, inputs, tolerance: float = 1e-5):
    """ember -> ONNX -> ember: the loaded model gives the original's outputs."""
    loaded = em.onnx.load(data).eval()
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    with em.no_grad():
        want = outputs_of(model.eval()(*inputs))
        got = loaded(*inputs)
    got = [t.numpy() for t in (got if isinstance(got, tuple) else (got,))]
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert_close(a, b, tolerance)
    return loaded


def randomise_batch_norms(model, seed: int = 0):
    """Running statistics and affine parameters away from their defaults (mean 0, var 1,
    weight 1, bias 0), so that exporting them wrongly would show."""
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(em.tensor(rng.normal(0, 0.1, n).astype(np.float32)))
            m.running_var.copy_(em.tensor(rng.uniform(0.5, 1.5, n).astype(np.float32)))
            if m.weight is not None:
                with em.no_grad():
                    m.weight.copy_(em.tensor(rng.uniform(0.5, 1.5, n).astype(np.float32)))
                    m.bias.copy_(em.tensor(rng.normal(0, 0.1, n).astype(np.float32)))
    return model
