"""Recording the primitives of one forward pass: what the ONNX exporter translates.

Every ember computation is a sequence of primitives (:mod:`ember.autograd.primitives`);
while :func:`trace` runs a model, a hook in ``Primitive.__call__`` appends one
:class:`Record` per call: the primitive, its inputs (tensors, arrays, numbers), its static
parameters, its output, and the path of the module that was running (``layer1.0.conv1``).

Tracing follows the Python control flow of *this* call: a branch on a tensor's value is
recorded as taken. It runs with gradient recording on, so that an in-place op
(``x += y``, ``x.relu_()``, ``x[i] = v``) is recorded as the out-of-place op whose result
x then holds (x takes that op's graph node, which the trace follows); an in-place change
that is not recorded (inside ``no_grad()``) would be lost, and is refused.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from ember.autograd import primitives
from ember.autograd.engine import enable_grad
from ember.nn.module import Module
from ember.tensor import Tensor


class ExportError(ValueError):
    """A model (or an argument) that ember cannot express in ONNX; the message says why."""


@dataclass
class Record:
    """One primitive call: ``out = op(*inputs, **params)`` inside module ``scope``."""

    op: object
    inputs: tuple
    params: dict
    out: Tensor
    scope: str
    version: int = 0

    @property
    def name(self) -> str:
        return self.op.name


class ModuleOp:
    """A module translated as a whole (a module rule): recorded as one call."""

    def __init__(self, module: Module, rule_class: type) -> None:
        self.module = module
        self.name = f"module:{rule_class.__name__}"


@dataclass
class Trace:
    """The records of one forward pass, and its inputs and (flattened) outputs."""

    inputs: tuple
    records: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    produced: dict = field(default_factory=dict)  # id(tensor) -> index of its record

    def signature(self) -> list:
        return [(r.name, r.scope) for r in self.records]


@contextmanager
def _grad_on_everything(model: Module, inputs: tuple):
    """Parameters and float inputs require grad while tracing (restored after), so that
    augmented assignments inside ``forward`` never change a traced value in place."""
    changed = []
    for t in list(model.parameters()) + [t for t in inputs if isinstance(t, Tensor)]:
        if not t.requires_grad and t.dtype.kind == "f" and t.grad_fn is None:
            t.requires_grad_(True)
            changed.append(t)
    try:
        with enable_grad():
            yield
    finally:
        for t in changed:
            t.requires_grad_(False)


def _scopes(model: Module, module_rules: dict, on_module):
    """Forward hooks that keep a stack of the running modules' names, and record a
    module that has a module rule as one call (``on_module``), its primitives unrecorded.

    Returns (the stack, the state ``{"inside": module or None}``, the hook handles)."""
    stack = [""]
    state = {"inside": None, "args": None}
    handles = []
    for name, module in model.named_modules():
        def enter(module, args, name=name):
            stack.append(name)
            cls = _module_rule(module_rules, module)
            if state["inside"] is None and cls is not None and module_rules[cls](module, args):
                state["inside"], state["args"], state["class"] = module, args, cls

        def leave(module, args, output, name=name):
            if state["inside"] is module:
                state["inside"] = None
                on_module(module, state["args"], output, name, state["class"])
            if len(stack) > 1:
                stack.pop()

        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    return stack, state, handles


def _module_rule(module_rules: dict, module) -> type | None:
    """The nearest class of ``module`` that has a module rule."""
    for cls in type(module).__mro__:
        if cls in module_rules:
            return cls
    return None


def flatten_outputs(output) -> list:
    """The tensors of a (nested) tuple, list or dict output, in order."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in flatten_outputs(item)]
    if isinstance(output, dict):
        return [t for item in output.values() for t in flatten_outputs(item)]
    raise ExportError(f"onnx.export: the model returned a {type(output).__name__}; only "
                      "tensors and (nested) tuples, lists and dicts of tensors can be "
                      "graph outputs")


def trace(model: Module, inputs: tuple, module_rules: dict | None = None) -> Trace:
    """Run ``model(*inputs)`` once and record every primitive it calls.

    ``module_rules`` maps module classes to ``applies(module, args)``: a module of such a
    class for which it returns True is recorded as one call (a :class:`ModuleOp`)."""
    if primitives._trace is not None:
        raise ExportError("onnx.export: already tracing (export is not re-entrant)")
    result = Trace(inputs)

    def on_module(module, args, output, name, cls):
        if not isinstance(output, Tensor):
            raise ExportError(f"onnx.export: module '{name}' returned "
                              f"{type(output).__name__}, not one tensor")
        result.produced[id(output)] = len(result.records)
        result.records.append(Record(ModuleOp(module, cls), tuple(args), {}, output, name,
                                     output._vc[0]))

    stack, state, handles = _scopes(model, module_rules or {}, on_module)

    nodes: dict[int, int] = {}  # id of a recorded output's graph node -> its record

    def current(x):
        """The traced value ``x`` holds now: itself, or, after an in-place op recorded
        for backward (``x += y`` computes ``x + y`` and writes it into x, which takes
        that op's node), the output of that op."""
        if not isinstance(x, Tensor):
            return x
        index = result.produced.get(id(x))
        if index is not None and x._vc[0] == result.records[index].version:
            return x
        follow = nodes.get(id(x._node)) if x._node is not None else None
        if follow is not None and result.records[follow].out is not x:
            return result.records[follow].out
        if index is not None:
            source = result.records[index]
            raise ExportError(
                f"onnx.export: a value computed by {source.name} (in module "
                f"'{source.scope or type(model).__name__}') was changed in place afterwards "
                "without being recorded (an in-place method inside no_grad()); ONNX graphs "
                "have no in-place updates: use the out-of-place form (y = x + z)")
        return x

    def record(op, op_inputs, params, out):
        if state["inside"] is not None:
            return
        op_inputs = [current(x) for x in op_inputs]
        result.produced[id(out)] = len(result.records)
        if out._node is not None:
            nodes[id(out._node)] = len(result.records)
        result.records.append(Record(op, tuple(op_inputs), dict(params), out, stack[-1],
                                     out._vc[0]))

    try:
        with _grad_on_everything(model, inputs):
            primitives._trace = record
            try:
                output = model(*inputs)
            finally:
                primitives._trace = None
    finally:
        for handle in handles:
            handle.remove()
    result.outputs = [current(t) for t in flatten_outputs(output)]
    return result
