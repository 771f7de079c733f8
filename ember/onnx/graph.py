"""Building an ONNX graph: nodes, initializers and unique names (used by the exporter).

:class:`GraphBuilder` holds the graph being written; :class:`Emitter` is what a
translation rule (:mod:`ember.onnx.symbolic`) sees of one recorded primitive: its
inputs as ONNX value names, their arrays and dynamic dimensions, and ``emit`` to add
nodes.
"""

from __future__ import annotations

import numpy as np

from ember.onnx.trace import ExportError
from ember.tensor import Tensor


def require_onnx():
    """The ``onnx`` package, or an ImportError saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError('ONNX export and import need the onnx package: '
                          'pip install "ember[onnx]"') from None
    return onnx


class GraphBuilder:
    """Nodes and initializers of one graph, with unique value names."""

    def __init__(self, opset: int) -> None:
        self.onnx = require_onnx()
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self.used: set[str] = set()
        self.node_counts: dict[str, int] = {}
        self.small_constants: dict = {}
        self.packed: dict = {}  # name of a packed recurrent output -> (T, parts)

    def fresh(self, hint: str) -> str:
        """A value name not used yet, built from ``hint``."""
        name, k = hint, 1
        while name in self.used:
            name = f"{hint}_{k}"
            k += 1
        self.used.add(name)
        return name

    def node(self, op_type: str, inputs: list, outputs: int | list = 1, scope: str = "",
             **attributes):
        """Add a node; returns its output name (or the list of names when several)."""
        parts = scope.split(".") if scope else []
        # PyTorch's naming: /layer1/layer1.0/conv1/Conv has the module path second to last
        prefix = "".join("/" + ".".join(parts[:i + 1]) for i in range(len(parts)))
        count = self.node_counts.get((scope, op_type), 0)
        self.node_counts[(scope, op_type)] = count + 1
        node_name = f"{prefix}/{op_type}" + (f"_{count}" if count else "")
        names = outputs if isinstance(outputs, list) else [
            self.fresh(f"{node_name}_output_{i}") for i in range(outputs)]
        attributes = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names,
                                                     name=node_name, **attributes))
        return names[0] if len(names) == 1 else names

    def initializer(self, array: np.ndarray, hint: str) -> str:
        """Add a constant tensor; small ones are shared by value."""
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            raise ExportError(f"onnx.export: cannot store an array of dtype {array.dtype}")
        key = None
        if array.size <= 16:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self.small_constants:
                return self.small_constants[key]
        name = self.fresh(hint)
        tensor = self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.initializers.append(tensor)
        if key is not None:
            self.small_constants[key] = name
        return name


def _shape_of(x):
    if isinstance(x, Tensor):
        return tuple(x.shape)
    return np.shape(x)


def array_of(x):
    """The array (or number) behind an input."""
    return x._data if isinstance(x, Tensor) else x


class Emitter:
    """A translation rule's view of one recorded primitive (``record``).

    Attributes:
        record: the :class:`~ember.onnx.trace.Record` (``params``, ``out``, ``scope``).
        params: its static parameters.
        ans: its output array.
        out_dynamic: the output dimensions whose size follows a dynamic input axis.
        other: the same call in the trace with the dynamic axes resized (or None).
    """

    def __init__(self, exporter, record, other, out_dynamic: set) -> None:
        self.exporter = exporter
        self.graph: GraphBuilder = exporter.graph
        self.record = record
        self.other = other  # the same call in the second trace (dynamic axes), or None
        self.params = record.params
        self.ans = record.out._data
        self.out_dynamic = out_dynamic
        self.opset = self.graph.opset

    # ------------------------------------------------------------------ inputs

    def array(self, i: int):
        """Input ``i``'s array (or number, or None)."""
        return array_of(self.record.inputs[i])

    def shape(self, i: int) -> tuple:
        return _shape_of(self.record.inputs[i])

    def dynamic(self, i: int) -> set:
        """The dimensions of input ``i`` that follow a dynamic input axis."""
        return self.exporter.dynamic_dims(self.record.inputs[i])

    def input(self, i: int, dtype=None) -> str:
        """The ONNX name of input ``i`` (converted to ``dtype`` when given)."""
        x = self.record.inputs[i]
        if x is None:
            return ""
        if not isinstance(x, Tensor):
            value = np.asarray(x)
            if dtype is not None:
                value = value.astype(dtype)
            elif value.dtype == np.float64 and not isinstance(x, np.ndarray):
                value = value.astype(self.ans.dtype if self.ans.dtype.kind == "f"
                                     else np.float32)
            return self.graph.initializer(value, f"{self._prefix()}const")
        name = self.exporter.value_name(x, self.record.scope)
        if dtype is not None and x.dtype != np.dtype(dtype):
            return self.cast(name, dtype)
        return name

    def inputs(self, dtype=None) -> list[str]:
        return [self.input(i, dtype) for i in range(len(self.record.inputs))]

    # ------------------------------------------------------------------ building

    def _prefix(self) -> str:
        return f"{self.record.scope}." if self.record.scope else ""

    def emit(self, op_type: str, inputs: list, outputs: int = 1, **attributes):
        """Add an ONNX node in this record's scope; returns its output name(s)."""
        return self.graph.node(op_type, inputs, outputs, self.record.scope, **attributes)

    def const(self, array, dtype=None, hint: str = "const") -> str:
        """A constant tensor (an initializer)."""
        array = np.asarray(array, dtype=dtype)
        return self.graph.initializer(array, f"{self._prefix()}{hint}")

    def ints(self, values) -> str:
        """A 1-d int64 constant (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), hint="ints")

    def cast(self, name: str, dtype) -> str:
        onnx = self.graph.onnx
        to = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        return self.emit("Cast", [name], to=to)

    def reduce(self, op_type: str, name: str, axes, keepdims: bool) -> str:
        """A Reduce* node over ``axes`` (None: all), in this opset's form (axes as an
        attribute before opset 18 (13 for ReduceSum), as an input after)."""
        as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if axes is None:
            return self.emit(op_type, [name], keepdims=int(keepdims))
        axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else [axes])]
        if as_input:
            return self.emit(op_type, [name, self.ints(axes)], keepdims=int(keepdims))
        return self.emit(op_type, [name], axes=axes, keepdims=int(keepdims))

    def squeeze(self, name: str, axes) -> str:
        return self.emit("Squeeze", [name, self.ints(axes)])

    def unsqueeze(self, name: str, axes) -> str:
        return self.emit("Unsqueeze", [name, self.ints(axes)])

    def reshape(self, name: str, shape) -> str:
        return self.emit("Reshape", [name, self.ints(shape)])

    def fail(self, reason: str) -> ExportError:
        """An error naming the primitive and the module that called it."""
        where = f" in module '{self.record.scope}'" if self.record.scope else ""
        return ExportError(f"onnx.export: {self.record.name}{where}: {reason}")
