"""em.onnx.load on hostile and broken files: nothing is executed, nothing outside the
model's folder is read, and every failure is an OnnxError naming the file (never an
untyped exception, a crash or a huge allocation)."""

from __future__ import annotations

import io
import os
import sys

import numpy as np
import pytest
from onnx_checks import export_bytes, onnx

import ember as em
from ember.onnx import OnnxError

helper, TensorProto = onnx.helper, onnx.TensorProto


def _model(nodes, inputs, outputs, initializers=(), opset=17, **options):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              **options)
    return model.SerializeToString()


def _value(name, shape=(1, 3)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _refused(data, match=""):
    with pytest.raises(OnnxError) as caught:
        em.onnx.load(data)
    assert match in str(caught.value), str(caught.value)
    return caught.value


def test_garbage_and_truncated_files_are_refused_naming_the_file(tmp_path):
    good = export_bytes(em.nn.Sequential(em.nn.Linear(3, 2), em.nn.ReLU()), em.zeros(1, 3))
    for data in (b"", b"\x00" * 10, b"not an onnx file at all", good[: len(good) // 2],
                 os.urandom(300)):
        path = tmp_path / "model.onnx"
        path.write_bytes(data)
        with pytest.raises(OnnxError) as caught:
            em.onnx.load(path)
        assert str(path) in str(caught.value)


def test_a_pickle_is_not_unpickled(tmp_path):
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    data = pickle.dumps(Payload())
    _refused(data)
    assert not (tmp_path / "pwned").exists()


def test_unknown_and_foreign_operators_are_refused():
    x, y = _value("x"), _value("y")
    _refused(_model([helper.make_node("SuperEvil", ["x"], ["y"])], [x], [y]),
             "operator SuperEvil is not supported")
    _refused(_model([helper.make_node("Relu", ["x"], ["y"], domain="com.evil")], [x], [y]),
             "domain 'com.evil'")
    _refused(_model([helper.make_node("Relu", ["x"], ["y"])], [x], [y], opset=99),
             "opset 99")


def test_subgraphs_and_functions_are_refused():
    x, y = _value("x"), _value("y")
    branch = helper.make_graph([helper.make_node("Relu", ["x"], ["z"])], "b", [], [_value("z")])
    condition = helper.make_tensor("c", TensorProto.BOOL, [], [True])
    node = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)
    _refused(_model([node], [x], [y], initializers=[condition]), "subgraphs")


def test_use_before_definition_cycles_and_redefinitions_are_refused():
    x, y = _value("x"), _value("y")
    cycle = [helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])]
    _refused(_model(cycle + [helper.make_node("Relu", ["a"], ["y"])], [x], [y]),
             "used before it is defined")
    twice = [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])]
    _refused(_model(twice, [x], [y]), "defined twice")
    _refused(_model([helper.make_node("Relu", ["x"], ["z"])], [x], [y]), "computed by no node")


def test_tensors_whose_bytes_do_not_match_their_shape_are_refused():
    x, y = _value("x"), _value("y")
    node = helper.make_node("Add", ["x", "w"], ["y"])
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[10**6, 10**6])
    _refused(_model([node], [x], [y], [huge]), "elements is more than ember reads")
    short = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1000], raw_data=b"1234")
    _refused(_model([node], [x], [y], [short]), "holds 4 bytes")
    negative = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-3])
    _refused(_model([node], [x], [y], [negative]), "negative dimension")
    strings = TensorProto(name="w", data_type=TensorProto.STRING, dims=[1], string_data=[b"a"])
    _refused(_model([node], [x], [y], [strings]), "string")


def _external(location, offset=0, length=12):
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[3],
                         data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", str(offset)),
                       ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def test_external_data_is_read_only_inside_the_model_folder(tmp_path):
    x, y = _value("x"), _value("y")
    node = helper.make_node("Add", ["x", "w"], ["y"])
    folder = tmp_path / "model"
    folder.mkdir()
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(3, dtype=np.float32).tobytes())
    (folder / "link.bin").symlink_to(secret)
    (folder / "weights.bin").write_bytes(np.ones(3, np.float32).tobytes())
    for location, match in (("../secret.bin", "not a file name inside"),
                            (str(secret), "not a file name inside"),
                            ("link.bin", "not a regular file inside"),
                            ("missing.bin", "does not exist")):
        path = folder / "m.onnx"
        path.write_bytes(_model([node], [x], [y], [_external(location)]))
        with pytest.raises(OnnxError, match=match):
            em.onnx.load(path)
    path.write_bytes(_model([node], [x], [y], [_external("weights.bin", offset=8)]))
    with pytest.raises(OnnxError, match="does not hold"):
        em.onnx.load(path)
    path.write_bytes(_model([node], [x], [y], [_external("weights.bin")]))
    np.testing.assert_array_equal(em.onnx.load(path)(np.zeros((1, 3), np.float32)).detach().numpy(),
                                  np.ones((1, 3)))
    _refused(_model([node], [x], [y], [_external("weights.bin")]), "needs the model loaded")


def test_bad_attributes_are_refused_at_load():
    x, y = _value("x", (1, 1, 4, 4)), _value("y", (1, 1, 4, 4))
    w = onnx.numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], strides=[0, 0])
    _refused(_model([conv], [x], [y], [w]), "strides")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5])
    _refused(_model([conv], [x], [y], [w]), "kernel_shape")
    resize = helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic",
                              coordinate_transformation_mode="tf_crop_and_resize")
    scales = onnx.numpy_helper.from_array(np.ones(4, np.float32), "s")
    _refused(_model([resize], [x], [y], [scales]), "Resize")


def test_huge_sizes_at_run_time_are_refused_not_allocated():
    shape = onnx.numpy_helper.from_array(np.asarray([10**6, 10**6], np.int64), "s")
    node = helper.make_node("ConstantOfShape", ["s"], ["y"])
    model = em.onnx.load(_model([node], [], [_value("y", (10**6, 10**6))], [shape]))
    with pytest.raises(OnnxError, match="refusing to create"):
        model()


def test_mutated_files_load_or_fail_with_onnx_error():
    """1,000 random byte changes of a small model: each either loads (and runs, or fails
    with an OnnxError) or is refused with an OnnxError; never anything else."""
    model = em.nn.Sequential(em.nn.Conv2d(1, 2, 3), em.nn.BatchNorm2d(2), em.nn.ReLU(),
                             em.nn.Flatten(), em.nn.Linear(8, 2))
    good = bytearray(export_bytes(model, em.zeros(1, 1, 4, 4)))
    rng = np.random.default_rng(0)
    x = np.zeros((1, 1, 4, 4), np.float32)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(1000):
        data = bytearray(good)
        for _ in range(rng.integers(1, 4)):
            data[rng.integers(len(data))] = rng.integers(256)
        try:
            loaded = em.onnx.load(bytes(data))
        except OnnxError:
            outcomes["refused"] += 1
            continue
        outcomes["loaded"] += 1
        try:
            loaded.eval()(x)
        except (OnnxError, TypeError, ValueError):
            pass  # a typed, explained failure
    assert outcomes["loaded"] and outcomes["refused"], outcomes


def test_load_reads_paths_file_objects_bytes_and_protos(tmp_path):
    model = em.nn.Linear(3, 2)
    data = export_bytes(model, em.zeros(1, 3))
    (tmp_path / "m.onnx").write_bytes(data)
    x = em.randn(2, 3)
    with em.no_grad():
        want = model(x).numpy()
    for source in (tmp_path / "m.onnx", str(tmp_path / "m.onnx"), io.BytesIO(data), data,
                   onnx.load_from_string(data)):
        with em.no_grad():
            np.testing.assert_allclose(em.onnx.load(source)(x).numpy(), want, rtol=1e-6)
    with pytest.raises(FileNotFoundError):
        em.onnx.load(tmp_path / "missing.onnx")
    with open(tmp_path / "m.onnx") as text, pytest.raises(TypeError, match="binary"):
        em.onnx.load(text)
    assert "ember.onnx" in sys.modules
