"""``ember.onnx.export``: a model's forward pass as an ONNX file.

The exporter runs the model once on the example input and records every primitive it
calls (:mod:`ember.onnx.trace`), then writes each primitive as one or a few ONNX
operators (the rules in :mod:`ember.onnx.symbolic` and :mod:`ember.onnx.symbolic_nn`).
Parameters and buffers become initializers named by their ``state_dict`` keys.

Dynamic axes: with ``dynamic_axes``, the model is traced a second time with those axes
resized (``n + 1`` for axis 0, ``2 n`` for the others). The two traces must call the same
primitives; an output dimension whose size changed between them is dynamic, and shapes
written into the graph (``reshape``'s target, say) get ``0`` (copy), ``-1`` (infer) or
a computed size there. A model whose graph depends on those sizes (a branch on
``x.shape``, a tensor created with ``x.shape[0]`` rows) is refused with the reason.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence

import numpy as np

from ember import serialization
from ember.nn.module import Module
from ember.onnx import symbolic, symbolic_nn  # noqa: F401  (registers the rules)
from ember.onnx.graph import Emitter, GraphBuilder, array_of, require_onnx
from ember.onnx.symbolic import MODULE_RULES, RULES
from ember.onnx.trace import ExportError, trace
from ember.tensor import Tensor

DEFAULT_OPSET = 17
MIN_OPSET = 13


def export(model: Module, args, f, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None,
           dynamic_axes: Mapping | None = None, opset_version: int | None = None, *,
           doc_string: str = ""):
    """Export ``model``'s forward pass on ``args`` to ONNX (as ``torch.onnx.export``).

    The model runs in evaluation mode (dropout off, batch norm with its running
    statistics) and is put back in its mode afterwards.

    Args:
        model: the :class:`~ember.nn.Module` to export.
        args: the example input: a tensor (or array), or a tuple of them for several.
        f: the file to write: a path (written atomically) or a binary file object.
        input_names: names of the graph inputs (default ``input`` or ``input0``, ...).
        output_names: names of the graph outputs (default ``output`` or ``output0``, ...).
        dynamic_axes: ``{name: {axis: "label"}}`` or ``{name: [axis, ...]}`` for inputs
            and outputs whose sizes may change (``{"input": {0: "batch"}}``).
        opset_version: the ONNX opset (default 17; 13 or later).
        doc_string: text stored in the model.

    Returns:
        The ``onnx.ModelProto`` written.

    >>> import io, ember as em
    >>> buffer = io.BytesIO()
    >>> proto = em.onnx.export(em.nn.Linear(3, 2), em.zeros(1, 3), buffer)
    >>> [node.op_type for node in proto.graph.node]
    ['Gemm']
    """
    onnx = require_onnx()
    if not isinstance(model, Module):
        raise TypeError(f"onnx.export: model must be an ember Module, got "
                        f"{type(model).__name__}")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(f"onnx.export: opset_version must be between {MIN_OPSET} and "
                         f"{newest} (the newest this onnx package knows), got {opset}")
    inputs = _as_inputs(args)
    input_names = _names(input_names, len(inputs), "input")
    axes = _dynamic_axes(dynamic_axes)
    was_training = model.training
    model.eval()
    try:
        first = trace(model, inputs, MODULE_RULES)
        second = None
        dynamic_inputs = {i: set(axes.get(name, {})) for i, name in enumerate(input_names)}
        if any(dynamic_inputs.values()):
            for i, dims in dynamic_inputs.items():
                for d in dims:
                    if not 0 <= d < inputs[i].ndim:
                        raise ValueError(f"onnx.export: dynamic axis {d} of input "
                                         f"'{input_names[i]}' is out of range for its "
                                         f"shape {tuple(inputs[i].shape)}")
            second = trace(model, _resized(inputs, dynamic_inputs), MODULE_RULES)
    finally:
        model.train(was_training)
    output_names = _names(output_names, len(first.outputs), "output")
    unknown = set(axes) - set(input_names) - set(output_names)
    if unknown:
        raise ValueError(f"onnx.export: dynamic_axes names {sorted(unknown)} are neither "
                         f"inputs {list(input_names)} nor outputs {list(output_names)}")
    exporter = _Exporter(model, opset, first, second, dynamic_inputs)
    proto = exporter.build(input_names, output_names, axes, doc_string)
    data = proto.SerializeToString()
    if hasattr(f, "write"):
        f.write(data)
    else:
        serialization.write_atomically(os.fspath(f), lambda path: _write(path, data))
    return proto


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _as_inputs(args) -> tuple:
    items = args if isinstance(args, (tuple, list)) else (args,)
    inputs = []
    for item in items:
        if isinstance(item, Tensor):
            inputs.append(item)
        elif isinstance(item, np.ndarray):
            inputs.append(Tensor(item))
        else:
            raise TypeError(f"onnx.export: the example input must be tensors (or arrays), "
                            f"got {type(item).__name__}")
    if not inputs:
        raise ValueError("onnx.export: give at least one example input")
    return tuple(inputs)


def _names(names, n: int, default: str) -> list[str]:
    if names is None:
        return [default] if n == 1 else [f"{default}{i}" for i in range(n)]
    names = list(names)
    if len(names) != n or len(set(names)) != n or not all(isinstance(s, str) and s
                                                          for s in names):
        raise ValueError(f"onnx.export: expected {n} distinct {default} names, got {names}")
    return names


def _dynamic_axes(spec) -> dict[str, dict[int, str]]:
    if not spec:
        return {}
    axes = {}
    for name, dims in spec.items():
        if isinstance(dims, Mapping):
            axes[name] = {int(d): str(label) for d, label in dims.items()}
        else:
            axes[name] = {int(d): f"{name}_dynamic_axes_{int(d) + 1}" for d in dims}
    return axes


def _resized(inputs: tuple, dynamic: dict) -> tuple:
    """Inputs with every dynamic axis resized (n + 1 for axis 0, 2 n for the others),
    the values tiled from the original (so that the second trace takes the same branches)."""
    out = []
    for i, x in enumerate(inputs):
        array = x._data
        for d in sorted(dynamic[i]):
            n = array.shape[d]
            size = n + 1 if d == 0 else 2 * max(n, 1)
            index = np.arange(size) % max(n, 1)
            array = np.take(array, index, axis=d)
        out.append(Tensor(np.ascontiguousarray(array)))
    return tuple(out)


def _same(a, b) -> bool:
    """Whether two parameters (numbers, tuples, arrays, slices, nested) are equal."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


class _Exporter:
    """Translates a trace (and the second trace, for dynamic axes) into a graph."""

    def __init__(self, model, opset, first, second, dynamic_inputs) -> None:
        self.graph = GraphBuilder(opset)
        self.first, self.second = first, second
        self.names: dict[int, str] = {}
        self.arrays: dict[int, str] = {}  # id of a traced value's array -> its name
        self.fills: dict[int, tuple] = {}  # constants filled with one value, sized by inputs
        self.dims: dict[int, set] = {}
        self.keep = []  # tensors whose id() names a value: kept alive
        self.states = {}
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            self.states.setdefault(id(t), (name, t))
        self.dynamic_inputs = dynamic_inputs
        if second is not None and first.signature() != second.signature():
            raise ExportError(self._divergence())

    def _divergence(self) -> str:
        for a, b in zip(self.first.signature(), self.second.signature(), strict=False):
            if a != b:
                return (f"onnx.export: with the dynamic axes resized the model calls "
                        f"{b[0]} (module '{b[1]}') where it called {a[0]} (module '{a[1]}'): "
                        "its graph depends on the input's size; export with static axes")
        return ("onnx.export: with the dynamic axes resized the model calls a different "
                "number of primitives: its graph depends on the input's size")

    # ------------------------------------------------------------------ values

    def traced_array(self, array, scope: str = "") -> str | None:
        """The name of the traced value whose array this is (an index tensor), or of a
        reshape of it (a contiguous view of one), or None."""
        name = self.arrays.get(id(array))
        base = getattr(array, "base", None)
        if name is None and base is not None and id(base) in self.arrays and \
                base.size == array.size and array.flags.c_contiguous and \
                base.flags.c_contiguous:
            shape = self.graph.initializer(np.asarray(array.shape, np.int64), "ints")
            name = self.graph.node("Reshape", [self.arrays[id(base)], shape], scope=scope)
        return name

    def dynamic_dims(self, x) -> set:
        if isinstance(x, Tensor):
            return self.dims.get(id(x), set())
        return set()

    def value_name(self, t: Tensor, scope: str) -> str:
        """The ONNX name of a tensor: a graph input, a computed value, a parameter or
        buffer (named by its state_dict key), or else a constant."""
        name = self.names.get(id(t))
        if name is not None:
            return name
        if id(t) in self.fills:
            name = self._filled(t, scope)
            self.names[id(t)] = name
            self.keep.append(t)
            return name
        state = self.states.get(id(t))
        array = t._data
        if array.dtype == np.dtype("bool") or array.dtype.kind in "iuf":
            hint = state[0] if state else (f"{scope}.const" if scope else "const")
            name = (self.graph.fresh(hint) if state else None)
            if name is not None:
                proto = self.graph.onnx.numpy_helper.from_array(
                    np.ascontiguousarray(array), name)
                self.graph.initializers.append(proto)
            else:
                name = self.graph.initializer(array, hint)
        else:
            raise ExportError(f"onnx.export: cannot store a tensor of dtype {array.dtype}")
        self.names[id(t)] = name
        self.keep.append(t)
        return name

    def _filled(self, t: Tensor, scope: str) -> str:
        """A constant filled with one value whose size follows dynamic input axes
        (``em.zeros(x.shape[0], H)``): the value expanded to a shape read from the inputs."""
        value, shape1, shape2 = self.fills[id(t)]
        graph = self.graph
        parts = []
        for a, b in zip(shape1, shape2, strict=True):
            if a == b:
                parts.append(graph.initializer(np.asarray([a], np.int64), "ints"))
                continue
            found = [(i, j) for i, (x1, x2) in enumerate(zip(self.first.inputs,
                                                            self.second.inputs, strict=True))
                     for j in range(x1.ndim) if (x1.shape[j], x2.shape[j]) == (a, b)]
            if not found:
                raise ExportError(f"onnx.export: a constant of shape {shape1} made in module "
                                  f"'{scope}' has a size that follows no input axis")
            i, j = found[0]
            shape = graph.node("Shape", [self.names[id(self.first.inputs[i])]], scope=scope)
            parts.append(graph.node("Gather", [shape, graph.initializer(
                np.asarray([j], np.int64), "ints")], scope=scope, axis=0))
        size = graph.node("Concat", parts, scope=scope, axis=0)
        return graph.node("Expand", [graph.initializer(np.asarray(value), "fill"), size],
                          scope=scope)

    # ------------------------------------------------------------------ graph

    def build(self, input_names, output_names, axes, doc_string):
        onnx = self.graph.onnx
        helper = onnx.helper
        graph_inputs = []
        for i, (t, name) in enumerate(zip(self.first.inputs, input_names, strict=True)):
            self.graph.used.add(name)
            self.names[id(t)] = name
            self.arrays[id(t._data)] = name
            self.dims[id(t)] = set(self.dynamic_inputs[i])
            labels = axes.get(name, {})
            shape = [labels.get(d, d_size) for d, d_size in enumerate(t.shape)]
            graph_inputs.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(t.dtype), shape))
        records2 = self.second.records if self.second is not None else None
        for k, record in enumerate(self.first.records):
            other = records2[k] if records2 is not None else None
            self._translate(record, other)
        graph_outputs = []
        renamed = set()
        for t, t2, name in zip(self.first.outputs,
                               self.second.outputs if self.second else self.first.outputs,
                               output_names, strict=True):
            source = self.names.get(id(t))
            if source is None:
                source = self.value_name(t, "")
            self.graph.used.add(name)
            if not self._rename(source, name, renamed):
                self.graph.node("Identity", [source], [name])
            dims = self.dims.get(id(t), set())
            if self.second is not None and t is not t2:
                dims = dims | {d for d, (a, b) in enumerate(zip(t.shape, t2.shape,
                                                                  strict=False)) if a != b}
            labels = axes.get(name, {})
            shape = [labels.get(d, f"{name}_dim{d}") if d in dims or d in labels else size
                     for d, size in enumerate(t.shape)]
            graph_outputs.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(t.dtype), shape))
        graph = helper.make_graph(self.graph.nodes, "ember", graph_inputs, graph_outputs,
                                  initializer=self.graph.initializers)
        from ember import __version__

        model = helper.make_model(graph, producer_name="ember", producer_version=__version__,
                                  opset_imports=[helper.make_opsetid("", self.graph.opset)],
                                  doc_string=doc_string)
        model.ir_version = min(model.ir_version, _ir_version(onnx, self.graph.opset))
        return model

    def _rename(self, source: str, name: str, renamed: set) -> bool:
        """Give a node's output the graph output's name (no Identity node), unless the
        value is an input or a constant, or already another output."""
        nodes = self.graph.nodes
        if source in renamed or not any(source in node.output for node in nodes):
            return False
        for node in nodes:
            for values in (node.input, node.output):
                for i, value in enumerate(values):
                    if value == source:
                        values[i] = name
        self.graph.packed = {name if k == source else k: v
                             for k, v in self.graph.packed.items()}
        for key, value in list(self.names.items()):
            if value == source:
                self.names[key] = name
        renamed.add(name)
        return True

    def _translate(self, record, other) -> None:
        rule = RULES.get(record.name)
        if rule is None:
            where = f" (in module '{record.scope}')" if record.scope else ""
            raise ExportError(f"onnx.export: the primitive {record.name}{where} has no ONNX "
                              "translation")
        out_dynamic = set()
        if other is not None:
            out_dynamic = self._compare(record, other, rule)
        emitter = Emitter(self, record, other, out_dynamic)
        name = rule.function(emitter)
        self.names[id(record.out)] = name
        self.arrays[id(record.out._data)] = name
        self.dims[id(record.out)] = out_dynamic
        self.keep.append(record.out)

    def _compare(self, record, other, rule) -> set:
        """The dynamic output dimensions of ``record``; refuses inputs or parameters that
        depend on the input size where the rule cannot express that."""
        shape, shape2 = tuple(record.out.shape), tuple(other.out.shape)
        where = f" in module '{record.scope}'" if record.scope else ""
        if len(shape) != len(shape2):
            raise ExportError(f"onnx.export: {record.name}{where} gives a {len(shape)}-d "
                              f"result for the example input but {len(shape2)}-d with the "
                              "dynamic axes resized (a squeeze of a size-1 axis?); export "
                              "with an example whose dynamic axes are larger than 1")
        for i, (a, b) in enumerate(zip(record.inputs, other.inputs, strict=True)):
            traced = isinstance(a, Tensor) and (
                id(a) in self.first.produced or id(a) in self.states
                or any(a is t for t in self.first.inputs))
            if traced:
                continue
            if not _same_value(a, b):
                if isinstance(a, Tensor) and _fill_value(a, b) is not None:
                    self.fills[id(a)] = (_fill_value(a, b), tuple(a.shape), tuple(b.shape))
                    continue
                raise ExportError(
                    f"onnx.export: {record.name}{where}: input {i} is a constant that "
                    "depends on the input's size (a tensor or number made from x.shape?); "
                    "it cannot follow a dynamic axis")
        if not rule.dynamic_params and not _same(record.params, other.params):
            raise ExportError(f"onnx.export: {record.name}{where}: its parameters depend on "
                              "the size of a dynamic axis, which its ONNX translation cannot "
                              "express; export with static axes")
        return {d for d, (a, b) in enumerate(zip(shape, shape2, strict=True)) if a != b}


def _fill_value(a: Tensor, b) -> np.ndarray | None:
    """The one value that fills both arrays (of the same dtype and rank), or None."""
    a, b = a._data, array_of(b)
    if not isinstance(b, np.ndarray) or a.dtype != b.dtype or a.ndim != b.ndim or not a.size:
        return None
    value = a.flat[0]
    if np.all(a == value) and b.size and np.all(b == value):
        return np.asarray(value, dtype=a.dtype)
    return None


def _same_value(a, b) -> bool:
    a, b = array_of(a), array_of(b)
    if a is None or b is None:
        return a is b
    if not all(isinstance(v, (np.ndarray, np.generic, int, float, bool)) for v in (a, b)):
        return True  # not data (a recurrent layer's tape): the rules never read it
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _ir_version(onnx, opset: int) -> int:
    """The IR version that goes with ``opset`` (onnxruntime refuses newer ones)."""
    table = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}
    return table.get(opset, onnx.IR_VERSION)


def to_bytes(model: Module, args, **options) -> bytes:
    """The ONNX file as bytes (``export`` into memory)."""
    buffer = io.BytesIO()
    export(model, args, buffer, **options)
    return buffer.getvalue()
