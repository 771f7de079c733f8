"""em.onnx.export's arguments, files and refusals: names, dynamic axes, several inputs
and outputs, atomic writes, the model's mode, and clear errors for what ONNX cannot
hold (in-place updates, graphs that depend on a dynamic size, losses)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_checks import check_export, check_round_trip, export_bytes, onnx, ort

import ember as em
from ember import nn
from ember.onnx import ExportError


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 6)
        self.a, self.b = nn.Linear(6, 2), nn.Linear(6, 3)

    def forward(self, x, y):
        h = em.tanh(self.body(x)) * y
        return {"a": self.a(h), "b": (self.b(h), h.sum(1))}


def test_several_inputs_and_nested_outputs_with_names():
    model = TwoHeads()
    x, y = em.randn(2, 4), em.randn(2, 6)
    data = check_export(model, (x, y), runs=[(em.randn(5, 4), em.randn(5, 6))],
                        input_names=["x", "y"], output_names=["a", "b", "total"],
                        dynamic_axes={"x": {0: "batch"}, "y": [0], "total": {0: "batch"}})
    proto = onnx.load_from_string(data)
    assert [i.name for i in proto.graph.input] == ["x", "y"]
    assert [o.name for o in proto.graph.output] == ["a", "b", "total"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 4
    assert proto.graph.output[2].type.tensor_type.shape.dim[0].dim_param == "batch"
    loaded = em.onnx.load(data)
    assert loaded.input_names == ["x", "y"] and loaded.output_names == ["a", "b", "total"]
    check_round_trip(model, data, (x, y))


def test_writes_a_path_atomically_and_restores_the_training_mode(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.BatchNorm1d(3))
    model.train()
    target = tmp_path / "sub" / "model.onnx"
    em.onnx.export(model, em.randn(4, 3), target)
    assert model.training and all(m.training for m in model.modules())
    assert target.is_file() and not [p for p in target.parent.iterdir() if p != target]
    session = ort.InferenceSession(str(target))
    x = em.randn(4, 3)
    with em.no_grad():
        np.testing.assert_allclose(session.run(None, {"input": x.numpy()})[0],
                                   model.eval()(x).numpy(), atol=1e-6)


def test_float64_models_export_in_float64():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = em.randn(2, 3, dtype=em.float64)
    data = check_export(model, x, tolerance=1e-12)
    assert onnx.load_from_string(data).graph.input[0].type.tensor_type.elem_type == \
        onnx.TensorProto.DOUBLE


def test_tensor_methods_in_forward_are_translated():
    class Methods(nn.Module):
        def forward(self, x):
            a = x.permute(0, 2, 1).reshape(x.shape[0], -1)
            b = em.cat([a[:, :3], a[:, -3:].flip(1)], dim=1)
            c = em.where(b > 0, b.exp(), b.abs().sqrt()) + b.clamp(-0.5, 0.5) ** 2
            d = c.max(dim=1).values + c.mean(1) - c.std(1) + c.logsumexp(1)
            e = em.stack([d, d.sigmoid()], 1).softmax(-1).log_softmax(0)
            return e, b.argmax(1), (b >= 0).all(1), a[:, [0, 2, 2]], em.gather(
                a, 1, em.tensor([[1, 0], [2, 1]]))

    check_export(Methods(), em.randn(2, 3, 4))


def test_in_place_changes_of_traced_values_are_refused():
    class InPlace(nn.Module):
        def forward(self, x):
            y = x * 2
            with em.no_grad():  # hidden from autograd, but not from the exporter
                y.add_(1)
            return y + 1

    with pytest.raises(ExportError, match="changed in place"):
        export_bytes(InPlace(), em.randn(2, 3))


def test_augmented_assignment_is_traced_out_of_place():
    class Augmented(nn.Module):
        def forward(self, x):
            y = x * 2
            y += 1
            return y

    check_export(Augmented(), em.randn(2, 3))


def test_graphs_that_depend_on_a_dynamic_size_are_refused():
    class Branches(nn.Module):
        def forward(self, x):
            return x.sum() if x.shape[0] > 2 else x.mean()

    with pytest.raises(ExportError, match="depends on the input's size"):
        export_bytes(Branches(), em.randn(2, 3), dynamic_axes={"input": {0: "n"}})

    class Squeezes(nn.Module):
        def forward(self, x):
            return x.squeeze()

    with pytest.raises(ExportError, match="larger than 1"):
        export_bytes(Squeezes(), em.randn(1, 3), dynamic_axes={"input": {0: "n"}})

    class Scales(nn.Module):
        def forward(self, x):
            return x / x.shape[0]

    with pytest.raises(ExportError, match="depends on the input's size"):
        export_bytes(Scales(), em.randn(2, 3), dynamic_axes={"input": {0: "n"}})


def test_zeros_sized_by_the_batch_follow_the_dynamic_axis():
    check_export(nn.GRUCell(3, 4), em.randn(2, 3), runs=[em.randn(6, 3)],
                 dynamic_axes={"input": {0: "n"}})


def test_losses_and_bad_arguments_are_refused():
    class WithLoss(nn.Module):
        def forward(self, x):
            return nn.functional.cross_entropy(x, em.tensor([0, 1]))

    with pytest.raises(ExportError, match="losses are not part"):
        export_bytes(WithLoss(), em.randn(2, 3))
    with pytest.raises(ValueError, match="opset_version"):
        export_bytes(nn.ReLU(), em.randn(2), opset_version=9)
    with pytest.raises(ValueError, match="neither inputs"):
        export_bytes(nn.ReLU(), em.randn(2), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="out of range"):
        export_bytes(nn.ReLU(), em.randn(2), dynamic_axes={"input": [3]})
    with pytest.raises(ValueError, match="distinct input names"):
        export_bytes(nn.ReLU(), em.randn(2), input_names=["a", "b"])
    with pytest.raises(TypeError, match="Module"):
        export_bytes(lambda x: x, em.randn(2))
    with pytest.raises(TypeError, match="tensors"):
        export_bytes(nn.ReLU(), [1.0, 2.0])


def test_more_tensor_ops_and_in_place_assignments():
    class Ops(nn.Module):
        def forward(self, x):
            a = em.expm1(x) + em.log2(x.abs() + 1) + em.log10(x.abs() + 1) + em.exp2(x)
            b = em.fmod(x * 5, 2.0) + em.hypot(x, x + 1) + em.logaddexp(x, x * 2)
            c = em.cumsum(x, 1) + em.prod(x, 1, keepdim=True) + em.roll(x, 2, 1)
            d = em.tan(x) + em.atan(x) + em.sinh(x) + em.asinh(x) + em.cosh(x) + em.trunc(3 * x)
            e = em.einsum("ij,kj->ik", x, x).sum(1, keepdim=True)
            y = x.clone()
            y[0] = 5.0  # in place, recorded: the trace follows y to its new value
            y[:, 1] = x[:, 2] * 2
            y += 1
            return a + b + c + d + e + y

    x = em.randn(3, 4) * 0.5
    data = check_export(Ops(), x, opset_version=18)
    check_round_trip(Ops(), data, x)
    with pytest.raises(ExportError, match="indexed assignment into a tensor with a dynamic"):
        export_bytes(Ops(), x, dynamic_axes={"input": {0: "n"}})
