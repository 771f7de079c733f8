"""Primitives: array functions that know their vector-Jacobian products (one registry).

A primitive is written once, on raw arrays, with its VJPs right below it::

    @primitive
    def mul(xp, x, y):
        \"\"\"x * y (broadcasting).\"\"\"
        return x * y

    defvjp(mul,
           lambda xp, g, ans, x, y: unbroadcast(g * y, x.shape),   # d(xy)/dx = y
           lambda xp, g, ans, x, y: unbroadcast(g * x, y.shape))   # d(xy)/dy = x

* the forward receives ``xp`` (the inputs' array module) and the input arrays;
* each VJP receives ``xp``, the incoming gradient ``g``, the forward's output ``ans`` and
  the same inputs, and returns the gradient for its input (``None`` when it has none);
* keyword arguments are static parameters (axes, shapes), passed to forward and VJPs.

Calling a primitive on tensors runs the forward on their arrays and, when any input
requires grad (and recording is on), records a :class:`~ember.autograd.engine.Node`.
Everything else in ember is composed from primitives and needs no backward code.

Higher-order gradients reuse the same VJPs. When a gradient must itself be
differentiated (``create_graph=True``), the engine calls a VJP with ``xp`` set to
:data:`ember.autograd.namespace.tensors` and with ``g``, ``ans`` and the inputs as
tensors, so that its arithmetic records a graph (:func:`recorded_vjps`). A VJP that
needs another primitive (a transposed convolution, a scatter-add) calls it with
:meth:`Primitive.on`, which runs the forward alone on arrays and records it on tensors.
A fused primitive whose VJP works in place (batch norm, an LSTM layer) registers
instead a *composite*, the same function written with other primitives
(:func:`defcomposite`): its higher-order gradients differentiate that.
"""

from __future__ import annotations

import functools
import types
import weakref

import numpy as np

from ember import dtypes
from ember.autograd.engine import Node, _mode
from ember.backend import get_array_module
from ember.errors import OpError, ShapeError
from ember.tensor import Tensor

_ndarray = np.ndarray
_ArrayModule = types.ModuleType

REGISTRY: weakref.WeakSet = weakref.WeakSet()  # every primitive made, for the test suite

# Set while ember.onnx traces a forward pass: called as ``_trace(op, inputs, params, out)``
# after every primitive (None otherwise: one global read per call).
_trace = None


class Primitive:
    """An array function with a VJP per input; calling it on tensors records the graph.

    Args:
        forward: ``forward(xp, *arrays, **params) -> array``.
        view: the output may share memory with the first input (reshape, slicing);
            it then shares that input's version counter, so an in-place change to either
            is seen by any node that saved the other.
        promote: binary op whose result dtype follows PyTorch's promotion rules.
        saves: what the VJPs read: ``"all"`` (inputs and output), ``"inputs"``, ``"ans"``
            or ``"none"`` (only shapes). Saved tensors are checked for in-place changes.
        differentiable: ``False`` for ops with no gradient (comparisons, argmax).
    """

    def __init__(self, forward, *, view=False, promote=False, saves="all",
                 differentiable=True):
        functools.update_wrapper(self, forward)
        self.forward = forward
        self.name = forward.__name__
        self.view = view
        self.promote = promote
        self.saves_inputs = saves in ("all", "inputs")
        self.saves_ans = saves in ("all", "ans")
        self.differentiable = differentiable
        self.vjps: tuple = ()
        self.vjp_argnum = None
        self.composite = None
        REGISTRY.add(self)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __get__(self, obj, objtype=None):
        # as a Tensor method (`x.exp()`), bind the tensor as the first input
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *inputs, **params):
        arrays = []
        grad_inputs = None
        for i, x in enumerate(inputs):
            if isinstance(x, Tensor):
                arrays.append(x._data)
                if x._requires_grad:
                    if grad_inputs is None:
                        grad_inputs = []
                    grad_inputs.append((i, x))
            else:
                arrays.append(x)
        first = arrays[0]
        xp = np if type(first) is _ndarray else get_array_module(*arrays)
        try:
            ans = self.forward(xp, *arrays, **params)
        except ValueError as error:
            raise _name_error(self.name, error, arrays) from None
        if self.promote:
            ans = _promote(xp, arrays, ans)
        out = Tensor.__new__(Tensor)
        out._data = ans
        out._grad = None
        out._hooks = None
        if self.view and isinstance(inputs[0], Tensor):
            out._vc = inputs[0]._vc
        else:
            out._vc = [0]
        if grad_inputs is not None and self.differentiable and _mode.enabled:
            out._requires_grad = True
            out._node = Node(self, grad_inputs, inputs, arrays, ans, params, xp, out._vc)
        else:
            out._requires_grad = False
            out._node = None
        if _trace is not None:
            _trace(self, inputs, params, out)
        return out

    def vjp(self, argnum: int, node: Node, g):
        """The gradient for input ``argnum`` of ``node``, given the output's gradient ``g``."""
        if self.vjp_argnum is not None:
            return self.vjp_argnum(argnum, node.xp, g, node.ans, *node.arrays, **node.params)
        vjp = self.vjps[argnum] if argnum < len(self.vjps) else None
        if vjp is None:
            raise RuntimeError(f"{node.name}: the op is not differentiable in input {argnum}")
        return vjp(node.xp, g, node.ans, *node.arrays, **node.params)

    def differentiable_in(self, argnum: int) -> bool:
        """Whether the op has a gradient for input ``argnum``."""
        if self.vjp_argnum is not None:
            return True
        return argnum < len(self.vjps) and self.vjps[argnum] is not None

    def on(self, xp, *inputs, **params):
        """Run this primitive inside a VJP: on arrays (``xp`` an array module) its forward
        alone, returning an array; on tensors (``xp`` the tensor namespace, a gradient
        being recorded) as a recorded op, returning a tensor.

        Index arrays in ``params`` may arrive as tensors; they are used as arrays.
        """
        if isinstance(xp, _ArrayModule):
            return self.forward(xp, *inputs, **params)
        return self(*inputs, **{k: _static(v) for k, v in params.items()})


def _static(value):
    """A parameter with any tensors in it (index arrays) replaced by their arrays."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, tuple):
        return tuple(_static(v) for v in value)
    return value


def primitive(forward=None, **options):
    """Decorator: make an array function a :class:`Primitive` (``@primitive(view=True)``)."""
    if forward is None:
        return lambda f: Primitive(f, **options)
    return Primitive(forward, **options)


def defvjp(op: Primitive, *vjps) -> None:
    """Register one VJP per input, in input order (``None`` for a non-differentiable input)."""
    op.vjps = vjps


def defvjp_argnum(op: Primitive, vjp) -> None:
    """Register one VJP for every input: ``vjp(argnum, xp, g, ans, *arrays, **params)``.

    For ops with any number of inputs, such as ``cat`` and ``stack``.
    """
    op.vjp_argnum = vjp


def defcomposite(op: Primitive, composite) -> None:
    """Register ``op`` written with other primitives: ``composite(*inputs, **params)``
    takes and returns tensors and computes the op's output.

    For fused primitives whose VJPs work in place on arrays (batch norm, cross-entropy, the
    recurrent layers): a gradient that must itself be differentiated is then the
    composite's gradient, recorded; the fused VJP stays the fast first-order path.
    """
    op.composite = composite


def recorded_vjps(node: Node, g: Tensor, wanted: list) -> list:
    """The gradients for ``wanted`` [(position, tensor)] of ``node``'s inputs, given the
    output's gradient ``g`` (a tensor), as tensors whose own graph is recorded.

    Runs the op's VJPs with ``xp`` the tensor namespace, its output and inputs as tensors
    (the inputs that need no gradient as constants); or differentiates its composite.
    """
    from ember.autograd.namespace import tensors

    op = node.op
    if not isinstance(op, Primitive):  # a custom Function: its backward runs on tensors
        found = {i: op.vjp(i, node, g) for i, _ in node.grad_inputs}
        grads = [found.get(i) for i, _ in wanted]
        return [gi if gi is None or isinstance(gi, Tensor) else tensors.asarray(gi)
                for gi in grads]
    inputs = [Tensor._wrap(a) if isinstance(a, _ndarray) else a for a in node.arrays]
    for i, x in node.grad_inputs:
        inputs[i] = x
    if op.composite is not None:
        return _composite_vjps(op, node, g, wanted, inputs)
    ans = node.output()
    grads = []
    for i, _ in wanted:
        if op.vjp_argnum is not None:
            gi = op.vjp_argnum(i, tensors, g, ans, *inputs, **node.params)
        elif op.differentiable_in(i):
            gi = op.vjps[i](tensors, g, ans, *inputs, **node.params)
        else:
            raise RuntimeError(f"{node.name}: the op is not differentiable in input {i}")
        grads.append(gi if gi is None or isinstance(gi, Tensor) else tensors.asarray(gi))
    return grads


def _composite_vjps(op: Primitive, node: Node, g: Tensor, wanted: list, inputs: list) -> list:
    """Differentiate ``op.composite`` at the node's inputs: a backward pass confined to the
    composite's own graph (it does not enter the inputs' graphs), recorded."""
    from ember.autograd import engine

    targets, seen = [], set()
    for i, x in wanted:
        targets.append(x if op.differentiable_in(i) and id(x) not in seen else None)
        seen.add(id(x))
    with engine.enable_grad():
        out = op.composite(*inputs, **node.params)
    live = [x for x in targets if x is not None]
    if not live or not out.requires_grad:
        return [None] * len(wanted)
    boundary = [x for x in inputs if isinstance(x, Tensor) and x._node is not None]
    grads = iter(engine.run_backward([out], [g], retain_graph=True, create_graph=True,
                                     targets=live, accumulate=False, stop=boundary))
    return [None if x is None else next(grads) for x in targets]


def unbroadcast(g, shape: tuple):
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting an array of ``shape``.

    .. math:: \\bar{x}_j = \\sum_{i \\text{ broadcast from } j} \\bar{y}_i

    >>> import numpy as np
    >>> unbroadcast(np.ones((2, 3, 4)), (3, 1)).tolist()
    [[8.0], [8.0], [8.0]]
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _promote(xp, arrays, ans):
    """Cast ``ans`` to PyTorch's result dtype where NumPy's promotion differs.

    Binary ops: :func:`ember.dtypes.result_type`. A float result from integer inputs
    (``int / int``, ``exp(int)``) has the default float dtype, as in PyTorch.
    """
    a = arrays[0]
    dtype = getattr(a, "dtype", None)
    if len(arrays) == 1:
        if dtype == ans.dtype:
            return ans
        target = dtype
    else:
        b = arrays[1]
        if dtype is not None and dtype == getattr(b, "dtype", None) and dtype == ans.dtype:
            return ans
        target = dtypes.result_type(a, b)
    if ans.dtype.kind == "f" and target.kind != "f":
        target = dtypes.get_default_dtype()
    if ans.dtype == target or ans.dtype.kind == "b":
        return ans
    return xp.asarray(ans, dtype=target)


def _name_error(name: str, error: ValueError, arrays) -> ValueError:
    """Re-raise an array library's ValueError with the op's name and the input shapes, as
    an :class:`~ember.errors.OpError` (a ValueError and, as in PyTorch, a RuntimeError)."""
    message = str(error)
    if isinstance(error, OpError) or message.startswith(name + ":"):
        return error
    shapes = ", ".join(str(tuple(a.shape)) for a in arrays if hasattr(a, "shape"))
    kind = ShapeError if "shape" in message or "broadcast" in message else OpError
    return kind(f"{name}: {message} (input shapes {shapes})")
