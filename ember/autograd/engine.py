"""Reverse-mode automatic differentiation: the graph and its backward walk.

Every op that records gradients creates a :class:`Node` that remembers the op, its inputs
and what its vector-Jacobian product (VJP) needs. ``loss.backward()`` orders the nodes
topologically without recursion (so a chain of 20,000 ops works), then walks them from
the loss back to the leaves, applying each op's VJP once:

.. math::  \\bar{x}_i = \\sum_{\\text{uses of } x_i} \\mathrm{VJP}_{op}(\\bar{y})

Gradients of leaf tensors are *accumulated* into ``.grad`` until zeroed (as in PyTorch);
a graph's saved values are freed after ``backward()`` unless ``retain_graph=True``.

In-place safety: every tensor carries a version counter shared with its views; an in-place
op bumps it. A node remembers the versions of the tensors it saved, and ``backward()``
refuses to use a tensor changed since, instead of returning a silently wrong gradient.
"""

from __future__ import annotations

import threading
from contextlib import ContextDecorator

import numpy as np

# ----------------------------------------------------------------------------- grad mode


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether ops record a graph (False inside ``no_grad()``)."""
    return _mode.enabled


class set_grad_enabled:
    """Turn gradient recording on or off, as a call or as a context manager.

    >>> import ember as em
    >>> with em.set_grad_enabled(False):
    ...     em.is_grad_enabled()
    False
    >>> em.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self.previous = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        _mode.enabled = self.previous


class _SwitchGrad(ContextDecorator):
    _mode_value = True

    def __new__(cls, function=None):
        self = super().__new__(cls)
        self._previous = []
        # `@no_grad` without parentheses decorates at once, as in PyTorch
        return self(function) if callable(function) else self

    def __init__(self, function=None) -> None:
        pass

    def __enter__(self):
        self._previous.append(_mode.enabled)
        _mode.enabled = self._mode_value
        return self

    def __exit__(self, *exc) -> None:
        _mode.enabled = self._previous.pop()


class no_grad(_SwitchGrad):
    """Context manager and decorator: ops inside record no graph (inference, updates).

    >>> import ember as em
    >>> w = em.ones(2, requires_grad=True)
    >>> with em.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    _mode_value = False


class enable_grad(_SwitchGrad):
    """Context manager and decorator: turn recording back on inside ``no_grad()``."""

    _mode_value = True


# ----------------------------------------------------------------------------- the graph


class Node:
    """One recorded op: the op, its inputs, and the values its VJP needs.

    ``name`` is the op's name with ``Backward`` appended (``MulBackward``), as the
    ``grad_fn`` of the tensor it produced.
    """

    __slots__ = ("op", "arrays", "ans", "params", "xp", "grad_inputs", "next_nodes",
                 "versions", "hooks", "retained", "n_inputs")

    def __init__(self, op, grad_inputs, inputs, arrays, ans, params, xp, output_version):
        self.op = op
        self.grad_inputs = grad_inputs  # [(position, tensor)] of the inputs needing grad
        self.arrays = arrays
        self.ans = ans
        self.params = params
        self.xp = xp
        self.next_nodes = [x._node for _, x in grad_inputs if x._node is not None]
        versions = []
        if op.saves_inputs:
            for x in inputs:
                counter = getattr(x, "_vc", None)
                if counter is not None:
                    versions.append((counter, counter[0]))
        if op.saves_ans:
            versions.append((output_version, output_version[0]))
        self.versions = versions
        self.hooks = None
        self.retained = None
        # the inputs PyTorch lists in next_functions: a Python-number exponent of pow is not
        self.n_inputs = len(inputs) if op.name != "pow" or hasattr(inputs[1], "shape") else 1

    @property
    def name(self) -> str:
        """PyTorch's name for this node: ``MulBackward0``; ``grad_fn.name()`` also works."""
        return _Name(pytorch_name(self))

    @property
    def next_functions(self) -> tuple:
        """``((node, 0), ...)``, one pair per input of the op, as PyTorch shows them: the
        input's node, an :class:`AccumulateGrad` for a leaf that requires grad, else None."""
        found = dict(self.grad_inputs)
        pairs = []
        for i in range(self.n_inputs):
            x = found.get(i)
            if x is None:
                pairs.append((None, 0))
            elif x._node is None:
                pairs.append((AccumulateGrad(x), 0))
            else:
                pairs.append((x._node, 0))
        return tuple(pairs)

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def check_versions(self) -> None:
        for counter, seen in self.versions:
            if counter[0] != seen:
                raise RuntimeError(
                    f"{self.name}: a tensor it saved for the gradient was modified in place "
                    f"after it was used (version {counter[0]}, expected {seen}); "
                    "clone() it before modifying it, or modify it before using it"
                )

    def free(self) -> None:
        self.arrays = None
        self.ans = None


class _Name(str):
    """A node's name: a string that can also be called (PyTorch's ``grad_fn.name()``)."""

    def __call__(self) -> str:
        return str(self)


class AccumulateGrad:
    """What PyTorch shows in ``next_functions`` for a leaf that requires grad: the step that
    accumulates its gradient into ``variable.grad``."""

    def __init__(self, variable) -> None:
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


# ember op names whose PyTorch grad_fn is named differently (the rest: log_softmax ->
# LogSoftmaxBackward0)
_PYTORCH_NAMES = {
    "reshape": "View", "getitem_advanced": "Index", "broadcast_to": "Expand",
    "astype": "ToCopy", "tile": "Repeat", "max_along": "Max", "min_along": "Min",
    "linear": "Addmm", "convolution": "Convolution",
    "conv_transpose": "Convolution", "cross_entropy": "NllLoss", "batch_norm": "NativeBatchNorm",
    "layer_norm": "NativeLayerNorm", "max_pool": "MaxPool2DWithIndices", "avg_pool": "AvgPool2D",
    "adaptive_max_pool": "AdaptiveMaxPool2D", "logsigmoid": "LogSigmoid",
    "unfold": "Im2Col", "fold": "Col2Im", "pad": "ConstantPadNd",
}


def pytorch_name(node: Node) -> str:
    """The name PyTorch gives the ``grad_fn`` of the op ``node`` recorded (``AddBackward0``;
    ``SumBackward1`` for a sum over some dimensions; a custom Function's own name)."""
    op = node.op
    custom = getattr(op, "backward_name", None)
    if custom is not None:
        return custom
    name = _PYTORCH_NAMES.get(op.name)
    if name is None:
        if op.name == "getitem_basic":
            key = (node.params or {}).get("key")
            name = "Select" if isinstance(key, int) else "Slice"
        elif op.name == "matmul" and node.arrays:
            ranks = tuple(getattr(a, "ndim", 0) for a in node.arrays)
            name = {(1, 1): "Dot", (2, 1): "Mv", (2, 2): "Mm"}.get(ranks, "Bmm")
        else:
            name = "".join(part.capitalize() for part in op.name.split("_"))
    overload = 1 if op.name in ("sum", "mean") and (node.params or {}).get("axis") is not None \
        else 0
    if op.name == "pow" and node.n_inputs == 2:  # a tensor exponent: PowBackward1
        overload = 1
    return f"{name}Backward{overload}"


def topological_order(root: Node) -> list[Node]:
    """Nodes reachable from ``root``, each after every node that consumes it (no recursion)."""
    order: list[Node] = []
    visited = {root}
    stack = [(root, iter(root.next_nodes))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child.next_nodes)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


# ----------------------------------------------------------------------------- backward


def backward(tensor, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``)."""
    from ember.tensor import Tensor

    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn; "
            "create its inputs with requires_grad=True"
        )
    data = tensor._data
    xp = np if type(data) is np.ndarray else _xp_of(data)
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but this "
                f"tensor has shape {tuple(data.shape)}; pass gradient= of that shape "
                "(or reduce it first, e.g. loss.sum())"
            )
        g = xp.ones_like(data)
    else:
        g = gradient._data if isinstance(gradient, Tensor) else gradient
        g = xp.array(g, dtype=data.dtype, copy=True)
        if g.shape != data.shape:
            raise RuntimeError(
                f"backward: gradient has shape {tuple(g.shape)} but the tensor has shape "
                f"{tuple(data.shape)}"
            )
    root = tensor._node
    owned: set[int] = set()
    outer, _pass.callbacks = _pass.callbacks, []
    try:
        if root is None:  # a leaf: its gradient is the seed itself
            _accumulate_leaf(tensor, g, owned)
            _run_post_accumulate_hooks(tensor)
        else:
            _walk(root, g, retain_graph, owned)
    finally:
        callbacks, _pass.callbacks = _pass.callbacks, outer
    for callback in callbacks:
        callback()


def _walk(root: Node, g, retain_graph: bool, owned: set[int]) -> None:
    """Apply every node's VJP from ``root`` back to the leaves, in topological order."""
    order = topological_order(root)
    # leaves with post-accumulate hooks: [uses still to come, got a gradient, the leaf]
    waiting = _leaf_uses(order) if _post_accumulate_hooks else None
    grads = {root: g}
    for node in order:
        g = grads.pop(node, None)
        if g is None:  # no gradient reached this node (e.g. every path was non-differentiable)
            if waiting:
                _uses_done(node, waiting)
            continue
        if node.arrays is None:
            raise RuntimeError(
                f"{node.name}: trying to backward through the graph a second time, after its "
                "saved values were freed; pass retain_graph=True to the first backward()"
            )
        if node.versions:
            node.check_versions()
        if node.hooks is not None:
            g = _run_hooks(node.hooks, g)
        if node.retained is not None:
            _accumulate_leaf(node.retained, g, owned)
        op = node.op
        for i, x in node.grad_inputs:
            gi = op.vjp(i, node, g)
            if gi is None:
                continue
            if isinstance(gi, np.generic):  # 0-d arithmetic gives NumPy scalars
                gi = node.xp.asarray(gi)
            if gi.shape != x._data.shape:
                raise RuntimeError(
                    f"{node.name}: internal error, the gradient for input {i} has shape "
                    f"{tuple(gi.shape)} but the input has shape {tuple(x._data.shape)}"
                )
            if gi.dtype != x._data.dtype:
                gi = gi.astype(x._data.dtype)
            child = x._node
            if child is None:
                _accumulate_leaf(x, gi, owned)
                if waiting and id(x) in waiting:
                    waiting[id(x)][1] = True
            else:
                previous = grads.get(child)
                grads[child] = gi if previous is None else _add(previous, gi)
        if not retain_graph:
            node.free()
        if waiting:
            _uses_done(node, waiting)


def _accumulate_leaf(tensor, g, owned: set[int]) -> None:
    """``tensor.grad += g``, never letting a ``.grad`` share memory that is still in use.

    ``owned`` holds the ids of arrays made ``.grad`` during this backward pass: such an
    array may also be the pending gradient of another node (``add`` hands the same array
    to both inputs), so it is never changed in place, and never given to a second leaf.
    """
    from ember.tensor import Tensor

    if tensor._hooks:
        g = _run_hooks(tensor._hooks, g)
    if tensor.grad is None:
        if not isinstance(g, np.ndarray) or not g.flags.owndata or id(g) in owned:
            xp = np if isinstance(g, np.ndarray) else _xp_of(g)
            g = xp.array(g, dtype=tensor._data.dtype, copy=True)
        owned.add(id(g))
        tensor.grad = Tensor._wrap(g)
        return
    current = tensor.grad._data
    if current.shape != g.shape:
        raise RuntimeError(
            f"backward: cannot accumulate a gradient of shape {tuple(g.shape)} into "
            f".grad of shape {tuple(current.shape)}"
        )
    if id(current) in owned or not current.flags.writeable:
        tensor.grad._data = _add(current, g)
    else:
        current += g


def _add(a, b):
    """``a + b`` as an array, also for 0-d arrays (whose sum NumPy gives as a scalar)."""
    total = a + b
    return np.asarray(total) if isinstance(total, np.generic) else total


def _run_hooks(hooks, g):
    from ember.tensor import Tensor

    for hook in hooks:
        result = hook(Tensor._wrap(g))
        if result is not None:
            g = result._data if isinstance(result, Tensor) else result
    return g


def _xp_of(array):
    from ember.backend import get_array_module

    return get_array_module(array)


# ----------------------------------------------------------------------------- after backward


class _PassState(threading.local):
    callbacks = None  # the running backward pass's queued callbacks (None outside one)


_pass = _PassState()


def queue_callback(callback) -> None:
    """Call ``callback()`` when the running backward pass has finished, every ``.grad``
    final (as PyTorch's ``Variable._execution_engine.queue_callback``); callable only
    during a backward pass, e.g. from a hook. DistributedDataParallel waits for its last
    gradient reductions there."""
    if _pass.callbacks is None:
        raise RuntimeError("queue_callback: no backward pass is running (call it from a "
                           "hook during backward())")
    _pass.callbacks.append(callback)


# hooks that run once a leaf's .grad holds all of a backward pass's contributions, by id of
# the leaf (Tensor's == is elementwise, which rules out a WeakKeyDictionary); an entry is
# dropped with its leaf
_post_accumulate_hooks: dict[int, list] = {}


def post_accumulate_grad_hooks(tensor) -> list:
    """The (mutable) list of ``tensor``'s post-accumulate-grad hooks (see
    ``Tensor.register_post_accumulate_grad_hook``)."""
    import weakref

    hooks = _post_accumulate_hooks.get(id(tensor))
    if hooks is None:
        hooks = _post_accumulate_hooks[id(tensor)] = []
        weakref.finalize(tensor, _post_accumulate_hooks.pop, id(tensor), None)
    return hooks


def _leaf_uses(order: list[Node]) -> dict[int, list]:
    """For each leaf with post-accumulate hooks: how many nodes of this pass feed it."""
    uses: dict[int, list] = {}
    for node in order:
        for _, x in node.grad_inputs:
            if x._node is None and _post_accumulate_hooks.get(id(x)):
                entry = uses.get(id(x))
                if entry is None:
                    uses[id(x)] = [1, False, x]
                else:
                    entry[0] += 1
    return uses


def _uses_done(node: Node, waiting: dict[int, list]) -> None:
    """``node`` has been applied (or skipped): a leaf none of whose uses remain, and that
    got a gradient, has its final ``.grad``: run its post-accumulate hooks."""
    for _, x in node.grad_inputs:
        entry = waiting.get(id(x)) if x._node is None else None
        if entry is None:
            continue
        entry[0] -= 1
        if entry[0] == 0 and entry[1]:
            _run_post_accumulate_hooks(x)


def _run_post_accumulate_hooks(tensor) -> None:
    for hook in list(_post_accumulate_hooks.get(id(tensor), ())):
        hook(tensor)

