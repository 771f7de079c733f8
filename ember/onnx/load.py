"""``ember.onnx.load``: an ONNX file as an ember Module that runs, trains and saves.

The file is parsed as data (protobuf), never executed: no operator, name or string in it
selects code beyond ember's own table of ONNX operators. Before any module is built the
whole graph is checked: the opset, every operator (ember's table; nodes of other domains,
subgraphs and functions are refused), every tensor (its bytes against its shape; external
data only from the model's folder), and that every value is defined before it is used.
Anything else is an :class:`~ember.onnx.tensors.OnnxError` naming the file and the part.

Nodes with constant weights become ember layers (``Conv`` -> ``Conv2d``, ``Gemm`` ->
``Linear``, ``BatchNormalization`` -> batch norm, ``LSTM`` -> a recurrent layer), placed
at the path their weights' names give (``features.0.weight`` -> ``features.0``), so that
a model exported by ember loads back with the same ``state_dict`` keys. Other nodes are
:class:`~ember.onnx.import_ops.OnnxOp` modules, their floating-point constants of more
than one element trainable.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ember.nn.module import Module, Parameter
from ember.onnx.graph import require_onnx
from ember.onnx.import_layers import LAYERS, check_resize
from ember.onnx.import_ops import OPS, OnnxOp
from ember.onnx.tensors import OnnxError, to_array
from ember.tensor import Tensor

MIN_OPSET, MAX_OPSET = 7, 23
MAX_FILE_BYTES = 2**31  # protobuf's own limit
_ATTRIBUTE_KINDS = {1: "f", 2: "i", 3: "s", 4: "t", 6: "floats", 7: "ints", 8: "strings"}
_COMPONENT = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass
class NodeInfo:
    """A checked node: its operator, attributes (Python values) and input slots."""

    name: str
    op_type: str
    inputs: list
    outputs: list
    attributes: dict
    runtime: set = field(default_factory=set)  # slots fed by values computed at run time
    slots_present: set = field(default_factory=set)  # slots with an input at all


class _Scope(Module):
    """A folder of the module tree (``features`` in ``features.0``); no computation."""

    def forward(self, *args):
        raise TypeError("a scope of an ONNX model is not callable on its own")


class OnnxModule(Module):
    """A model read from an ONNX file: call it with the graph's inputs (tensors or
    arrays) in order; it returns the output, or a tuple of them.

    Attributes:
        input_names, output_names: the graph's inputs and outputs.
        opset: the file's operator set version.
        producer: the program that wrote the file (``pytorch 2.13``, ``ember 0.1.0``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.input_names: list[str] = []
        self.output_names: list[str] = []
        self.input_shapes: list[list] = []
        self.opset = 0
        self.producer = ""
        self.source = ""
        self._plan: list = []
        self._constants: dict = {}

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise TypeError(f"{self.source}: the model takes {len(self.input_names)} input(s) "
                            f"{self.input_names}, got {len(inputs)}")
        env = dict(self._constants)
        for name, shape, x in zip(self.input_names, self.input_shapes, inputs, strict=True):
            x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
            # the rank must match; sizes may differ from the file's (a batch exported
            # as 1 trains in batches of 32 wherever the graph computes its shapes)
            if shape and len(shape) != x.ndim:
                raise ValueError(f"{self.source}: input '{name}' must have "
                                 f"{len(shape)} dimensions {tuple(shape)}, got shape "
                                 f"{tuple(x.shape)}")
            env[name] = x
        for node, module, args, outputs in self._plan:
            values = [env[a] if isinstance(a, str) else a for a in args]
            try:
                result = module(*values)
            except Exception as error:
                raise OnnxError(f"{self.source}: node '{node}' ({getattr(module, 'op_type', '')}"
                                f"{type(module).__name__}) failed: {error}") from error
            results = result if isinstance(result, tuple) else (result,)
            for name, value in zip(outputs, results, strict=False):
                if name:
                    env[name] = value
        outputs = [env[name] for name in self.output_names]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def extra_repr(self) -> str:
        return (f"inputs={self.input_names}, outputs={self.output_names}, opset={self.opset}, "
                f"producer={self.producer!r}")


# ----------------------------------------------------------------------------- reading


def load(f) -> OnnxModule:
    """Read an ONNX model into an :class:`OnnxModule` (in training mode, as a new model).

    Args:
        f: a path, a binary file object, the file's bytes, or an ``onnx.ModelProto``.

    Raises:
        OnnxError: naming the file, for anything malformed, unsafe or unsupported.

    >>> import io, ember as em
    >>> buffer = io.BytesIO()
    >>> _ = em.onnx.export(em.nn.Sequential(em.nn.Linear(3, 2), em.nn.ReLU()),
    ...                    em.zeros(1, 3), buffer)
    >>> em.onnx.load(buffer.getvalue())
    OnnxModule(
      inputs=['input'], outputs=['output'], opset=17, producer='ember 0.1.0'
      (0): Linear(in_features=3, out_features=2, bias=True)
      (1): OnnxOp(Relu)
    )
    """
    onnx = require_onnx()
    proto, source, folder = _read(onnx, f)
    try:
        return _Builder(proto, source, folder).build()
    except OnnxError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        raise OnnxError(f"{source}: {error}") from None


def _read(onnx, f):
    if isinstance(f, onnx.ModelProto):
        return f, "<ModelProto>", None
    if isinstance(f, (bytes, bytearray, memoryview)):
        data, source, folder = bytes(f), "<bytes>", None
    elif hasattr(f, "read"):
        source = str(getattr(f, "name", "<file object>"))
        if isinstance(f, io.TextIOBase):
            raise TypeError(f"onnx.load: {source} must be opened in binary mode ('rb')")
        data, folder = f.read(MAX_FILE_BYTES + 1), None
    else:
        path = Path(os.fspath(f))
        if not path.is_file():
            raise FileNotFoundError(f"no ONNX file at {path}")
        source, folder = str(path), path.parent
        if path.stat().st_size > MAX_FILE_BYTES:
            raise OnnxError(f"{source}: larger than 2 GB (protobuf's limit)")
        data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise OnnxError(f"{source}: larger than 2 GB (protobuf's limit)")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as error:  # protobuf's DecodeError, or a RuntimeError from upb
        raise OnnxError(f"{source}: not a readable ONNX file ({type(error).__name__}: "
                        f"{' '.join(str(error).split())[:200]})") from None
    if not proto.HasField("graph"):
        raise OnnxError(f"{source}: not an ONNX model (no graph)")
    return proto, source, folder


def _attribute(attribute, where: str):
    kind = _ATTRIBUTE_KINDS.get(attribute.type)
    if attribute.ref_attr_name or kind is None:
        raise OnnxError(f"{where}: attribute '{attribute.name}' of type {attribute.type} "
                        "(subgraphs, sparse tensors, types and function references are not "
                        "supported)")
    if kind == "f":
        return float(attribute.f)
    if kind == "i":
        return int(attribute.i)
    if kind == "floats":
        return [float(v) for v in attribute.floats]
    if kind == "ints":
        return [int(v) for v in attribute.ints]
    try:
        if kind == "s":
            return attribute.s.decode("utf-8")
        if kind == "strings":
            return [s.decode("utf-8") for s in attribute.strings]
    except UnicodeDecodeError:
        raise OnnxError(f"{where}: attribute '{attribute.name}' is not UTF-8 text") from None
    return attribute.t  # a TensorProto, decoded by its user


class _Builder:
    def __init__(self, proto, source: str, folder) -> None:
        self.proto, self.source, self.folder = proto, source, folder
        self.model = OnnxModule()
        self.model.source = source
        self.constants: dict[str, np.ndarray] = {}
        self.shared: dict[str, Tensor] = {}
        self.defined: set[str] = set()
        self.counts: dict[str, int] = {}
        self.pending: list = []  # (module, node) to place in the module tree
        self.registered: set[int] = set()  # ids of tensors registered in the tree

    def fail(self, message: str) -> OnnxError:
        return OnnxError(f"{self.source}: {message}")

    def build(self) -> OnnxModule:
        graph = self.proto.graph
        self._opset()
        if len(self.proto.functions):
            raise self.fail("model-local functions are not supported")
        for tensor in graph.initializer:
            if tensor.name in self.constants:
                raise self.fail(f"initializer '{tensor.name}' is defined twice")
            self.constants[tensor.name] = to_array(tensor, f"{self.source}: initializer "
                                                           f"'{tensor.name}'", self.folder)
        if len(graph.sparse_initializer):
            raise self.fail("sparse initializers are not supported")
        model = self.model
        for value in graph.input:
            if value.name in self.constants:
                continue  # an initializer listed as an input (older files): a constant
            if not value.name or value.name in self.defined:
                raise self.fail(f"graph input '{value.name}' is unnamed or repeated")
            self.defined.add(value.name)
            model.input_names.append(value.name)
            model.input_shapes.append(self._shape(value))
        for index, node in enumerate(graph.node):
            self._node(node, index)
        for value in graph.output:
            if value.name not in self.defined and value.name not in self.constants:
                raise self.fail(f"graph output '{value.name}' is computed by no node")
            model.output_names.append(value.name)
        if not model.output_names:
            raise self.fail("the graph has no outputs")
        self._place_all()
        model._constants = {name: Tensor(array) for name, array in self.constants.items()
                            if name in set(model.output_names)}
        model.producer = " ".join(s for s in (self.proto.producer_name,
                                              self.proto.producer_version) if s)
        return model

    def _opset(self) -> None:
        versions = {}
        for entry in self.proto.opset_import:
            versions[entry.domain or "ai.onnx"] = int(entry.version)
        opset = versions.get("ai.onnx")
        if opset is None:
            raise self.fail("no opset for the default ONNX domain")
        if not MIN_OPSET <= opset <= MAX_OPSET:
            raise self.fail(f"opset {opset} is not supported (ember reads {MIN_OPSET} to "
                            f"{MAX_OPSET})")
        self.model.opset = opset

    def _shape(self, value) -> list:
        shape = []
        kind = value.type.WhichOneof("value") if value.HasField("type") else None
        if kind != "tensor_type":
            raise self.fail(f"graph input '{value.name}' is not a tensor")
        dims = value.type.tensor_type.shape.dim if value.type.tensor_type.HasField(
            "shape") else []
        for dim in dims:
            shape.append(int(dim.dim_value) if dim.HasField("dim_value") else
                         (dim.dim_param or "?"))
        return shape

    # ------------------------------------------------------------------ nodes

    def _node(self, node, index: int) -> None:
        where = f"node '{node.name or index}' ({node.op_type})"
        if node.domain not in ("", "ai.onnx"):
            raise self.fail(f"{where}: operators of domain '{node.domain}' are not supported")
        attributes = {}
        for attribute in node.attribute:
            attributes[attribute.name] = _attribute(attribute, f"{self.source}: {where}")
        if node.op_type == "Constant":
            self._constant(node, attributes, where)
            return
        if node.op_type not in OPS and node.op_type not in LAYERS:
            raise self.fail(f"{where}: the operator {node.op_type} is not supported by "
                            "ember's ONNX reader")
        if node.op_type == "Resize":
            check_resize(attributes)
        info = NodeInfo(node.name or f"{node.op_type}_{index}", node.op_type,
                        list(node.input), list(node.output), attributes)
        constants = {}
        for slot, name in enumerate(node.input):
            if not name:
                continue
            info.slots_present.add(slot)
            if name in self.defined:
                info.runtime.add(slot)
            elif name in self.constants:
                constants[slot] = self.constants[name]
            else:
                raise self.fail(f"{where}: input '{name}' is used before it is defined")
        for name in node.output:
            if name and (name in self.defined or name in self.constants):
                raise self.fail(f"{where}: output '{name}' is defined twice")
        module, args = self._module(info, constants, where)
        self.pending.append((module, info))
        self.model._plan.append([info.name, module, args, list(node.output)])
        self.defined.update(name for name in node.output if name)

    def _constant(self, node, attributes: dict, where: str) -> None:
        if len(node.output) != 1 or not node.output[0]:
            raise self.fail(f"{where}: a Constant has one output")
        if "value" in attributes:
            value = to_array(attributes["value"], f"{self.source}: {where}", self.folder)
        elif "value_float" in attributes:
            value = np.asarray(attributes["value_float"], np.float32)
        elif "value_floats" in attributes:
            value = np.asarray(attributes["value_floats"], np.float32)
        elif "value_int" in attributes:
            value = np.asarray(attributes["value_int"], np.int64)
        elif "value_ints" in attributes:
            value = np.asarray(attributes["value_ints"], np.int64)
        else:
            raise self.fail(f"{where}: a Constant without a supported value")
        name = node.output[0]
        if name in self.defined or name in self.constants:
            raise self.fail(f"{where}: output '{name}' is defined twice")
        self.constants[name] = value

    def _module(self, info: NodeInfo, constants: dict, where: str):
        """The module that computes a node, and its call arguments (value names, or
        constant tensors)."""
        for key in ("value",):  # tensor attributes (ConstantOfShape's value)
            if hasattr(info.attributes.get(key), "data_type"):
                info.attributes[key] = to_array(info.attributes[key], f"{self.source}: {where}",
                                                self.folder)
        build = LAYERS.get(info.op_type)

        def share(slot: int, array: np.ndarray) -> Tensor:
            return self._shared(info.inputs[slot], array, trainable=True)

        try:
            built = build(info, constants, share) if build else None
            if built is not None and info.op_type in OPS and not self._names_fit(built[0],
                                                                                 info):
                built = None  # weights named otherwise (c3.weight3): keep their names
            if built is not None:
                module, slots = built
                args = [info.inputs[i] if i in info.runtime else
                        Tensor(constants[i]) if i in constants else None for i in slots]
                return module, args
            if info.op_type not in OPS:
                raise ValueError(f"{info.op_type} with these inputs (weights computed in "
                                 "the graph?) is not supported")
            slots, owned = [], {}
            for slot in range(len(info.inputs)):
                if slot not in info.slots_present:
                    slots.append(None)
                elif slot in info.runtime:
                    slots.append("input")
                else:
                    array = constants[slot]
                    held = self._shared(info.inputs[slot], array,
                                        trainable=array.dtype.kind == "f" and array.size > 1)
                    if isinstance(held, Parameter) and self._register(info.inputs[slot],
                                                                      held):
                        slots.append(held)  # kept in the tree under its own name
                        continue
                    name = self._slot_name(info.inputs[slot], slot, owned)
                    # a parameter stays trainable; any other constant is not state
                    owned[name] = held if isinstance(held, Parameter) else (held, False)
                    slots.append(name)
            module = OnnxOp(info.op_type, info.attributes, self.model.opset, slots, owned)
            module.n_outputs = len(info.outputs)
            return module, [info.inputs[i] for i in sorted(info.runtime)]
        except OnnxError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
            raise self.fail(f"{where}: {error}") from None

    def _names_fit(self, module: Module, info: NodeInfo) -> bool:
        """Whether the layer names each weight it shares as the weight's initializer
        does (``features.0.weight`` -> ``weight``); names without a dot always fit."""
        own = {id(p): name for name, p in module.named_parameters()}
        for slot in info.slots_present - info.runtime:
            initializer = info.inputs[slot]
            held = self.shared.get(initializer)
            if held is not None and id(held) in own and "." in initializer and \
                    initializer.rsplit(".", 1)[1] != own[id(held)]:
                return False
        return True

    def _register(self, name: str, tensor: Parameter) -> bool:
        """Register a parameter of a plain operator in the tree at its initializer's
        name (``s2.weight``), once; False where that name cannot be used."""
        if id(tensor) in self.registered:
            return True
        parts = name.split(".")
        if not all(_COMPONENT.match(p) and not hasattr(Module, p) for p in parts):
            return False
        parent = self.model
        for part in parts[:-1]:
            child = parent._modules.get(part)
            if child is None:
                if part in parent.__dict__ or part in parent._parameters or \
                        part in parent._buffers:
                    return False
                child = _Scope()
                parent.add_module(part, child)
            elif not isinstance(child, _Scope):
                return False
            parent = child
        last = parts[-1]
        if last in parent.__dict__ or last in parent._modules or last in parent._parameters \
                or last in parent._buffers:
            return False
        parent.register_parameter(last, tensor)
        self.registered.add(id(tensor))
        return True

    @staticmethod
    def _slot_name(initializer: str, slot: int, owned: dict) -> str:
        last = initializer.rsplit(".", 1)[-1]
        if _COMPONENT.match(last) and not last[0].isdigit() and last not in owned \
                and not hasattr(Module, last):
            return last
        return f"input{slot}"

    def _shared(self, name: str, array: np.ndarray, trainable: bool) -> Tensor:
        """One tensor per initializer, shared by every node that reads it."""
        held = self.shared.get(name)
        if held is None:
            held = Parameter(Tensor(array)) if trainable and array.dtype.kind == "f" \
                else Tensor(array)
            self.shared[name] = held
        return held

    # ------------------------------------------------------------------ placing modules

    def _place_all(self) -> None:
        """Put every node's module in the tree: first those whose weights' names give a
        path (``features.0.weight`` -> ``features.0``, when the module names its weight
        the same), then the others at their node name's module path (PyTorch's and
        ember's ``/features/features.1/Relu``), then at a name made from the operator."""
        paths = {}
        for module, _ in self.pending:
            states = dict(module.named_parameters()) | {
                name: t for name, t in module.named_buffers()
                if name.rsplit(".", 1)[-1] not in module._non_persistent_buffers}
            own = {id(t): name for name, t in states.items()}
            prefixes = set()
            for name, held in self.shared.items():
                if id(held) in own and "." in name:
                    prefix, last = name.rsplit(".", 1)
                    if own[id(held)] == last:
                        prefixes.add(prefix)
            if len(prefixes) == 1:
                path = prefixes.pop()
                if self._try_place(module, path):
                    paths[id(module)] = path
        for module, info in self.pending:
            if id(module) in paths:
                continue
            parts = info.name.split("/")
            if len(parts) >= 3 and parts[-2] and self._try_place(module, parts[-2]):
                paths[id(module)] = parts[-2]
                continue
            base = info.op_type.lower()
            while True:
                k = self.counts.get(base, 0)
                self.counts[base] = k + 1
                if self._try_place(module, f"{base}{k}"):
                    paths[id(module)] = f"{base}{k}"
                    break
        for step in self.model._plan:
            step[0] = paths[id(step[1])]

    def _try_place(self, module: Module, path: str) -> bool:
        parts = path.split(".")
        if not all(_COMPONENT.match(p) and not hasattr(Module, p) for p in parts):
            return False
        parent, missing = self.model, None
        for depth, part in enumerate(parts):
            child = parent._modules.get(part) if parent is not None else None
            taken = parent is not None and (part in parent.__dict__ or part in
                                            parent._parameters or part in parent._buffers)
            last = depth == len(parts) - 1
            if taken or (child is not None and (last or not isinstance(child, _Scope))):
                return False
            if child is None and missing is None:
                missing = depth
            parent = child
        parent = self.model
        for depth, part in enumerate(parts[:-1]):
            if missing is not None and depth >= missing:
                parent.add_module(part, _Scope())
            parent = parent._modules[part]
        parent.add_module(parts[-1], module)
        return True
