"""Reverse-mode automatic differentiation: the graph and its backward walk.

Every op that records gradients creates a :class:`Node` that remembers the op, its inputs
and what its vector-Jacobian product (VJP) needs. ``loss.backward()`` orders the nodes
topologically without recursion (so a chain of 20,000 ops works), then walks them from
the loss back to the leaves, applying each op's VJP once:

.. math::  \\bar{x}_i = \\sum_{\\text{uses of } x_i} \\mathrm{VJP}_{op}(\\bar{y})

Gradients of leaf tensors are *accumulated* into ``.grad`` until zeroed (as in PyTorch);
a graph's saved values are freed after ``backward()`` unless ``retain_graph=True``.
``grad()`` returns gradients instead (of any tensors, leaves or not), and with
``create_graph=True`` the backward pass records its own graph: the VJPs run on tensors
(:func:`~ember.autograd.primitives.recorded_vjps`), so a gradient can be differentiated
again, to any order.

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

    def output(self):
        """The op's output as a tensor produced by this node (for recorded VJPs)."""
        from ember.tensor import Tensor

        out = Tensor._wrap(self.ans, requires_grad=True)
        out._node = self
        return out


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


_NOTHING = frozenset()


def topological_order(roots, stop=None) -> list[Node]:
    """Nodes reachable from ``roots`` (a node or a list of them), each after every node
    that consumes it (no recursion); the inputs of the nodes in ``stop`` are not explored."""
    if isinstance(roots, Node):
        roots = [roots]
    order: list[Node] = []
    visited: set = set()
    stop = stop or _NOTHING
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(() if root in stop else root.next_nodes))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(() if child in stop else child.next_nodes)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


# ----------------------------------------------------------------------------- backward


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves they come
    from (``torch.autograd.backward``; ``Tensor.backward`` for one tensor).

    Args:
        tensors: a tensor or a sequence of tensors to differentiate.
        grad_tensors: dL/d(each tensor), the "vector" of the vector-Jacobian product;
            may be None for one-element tensors (then 1).
        retain_graph: keep the graph's saved values for another backward pass; default
            ``create_graph``.
        create_graph: record the backward pass itself, so that the gradients left in
            ``.grad`` can be differentiated again (higher-order derivatives).
        inputs: accumulate only into these tensors' ``.grad`` (leaves or not), and skip
            the parts of the graph that do not lead to them; a dict's values may be given.
    """
    if inputs is None and not create_graph and hasattr(tensors, "_node"):
        # loss.backward(): one tensor, every leaf, arrays (the fast path)
        seed = _seed(tensors, grad_tensors, False, "backward", "this tensor")
        outer, _pass.callbacks = _pass.callbacks, []
        try:
            _walk((tensors,), (seed,), bool(retain_graph), False, None, True, None)
        finally:
            callbacks, _pass.callbacks = _pass.callbacks, outer
        for callback in callbacks:
            callback()
        return
    outputs = _as_tuple(tensors)
    targets = None
    if inputs is not None:
        targets = tuple(inputs.values()) if isinstance(inputs, dict) else _as_tuple(inputs)
        if not targets:
            raise RuntimeError("backward: inputs= cannot be empty")
        _check_targets(targets, "backward")
    seeds = _seeds(outputs, _as_tuple(grad_tensors, len(outputs)), create_graph, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(outputs, seeds, retain_graph, create_graph, targets=targets, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated
    into ``.grad`` (``torch.autograd.grad``).

    .. math:: \\text{grad}_j = \\sum_i v_i^\\top
              \\frac{\\partial\\, \\text{outputs}_i}{\\partial\\, \\text{inputs}_j}

    with :math:`v_i` the ``grad_outputs`` (1 for one-element outputs by default).

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: a tensor, a sequence of tensors (leaves or not), or a dict of them
            (``dict(model.named_parameters())``, then a dict is returned).
        grad_outputs: the vectors :math:`v_i`, one per output (None for one-element
            outputs).
        retain_graph: keep the graph for another backward pass; default ``create_graph``.
        create_graph: record the computation of the gradients, so that they can be
            differentiated again (Hessians, gradient penalties, meta-learning).
        only_inputs: ignored (PyTorch's deprecated argument).
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising; default ``materialize_grads``.
        is_grads_batched: the first dimension of every ``grad_outputs`` tensor indexes a
            batch of vectors; one gradient per vector is computed and stacked along a new
            first dimension.
        materialize_grads: zeros instead of None for unused inputs.

    Returns:
        A tuple with one gradient per input (or a dict, for a dict of inputs).

    >>> import ember as em
    >>> x = em.tensor(2.0, dtype=em.float64, requires_grad=True)
    >>> (dy,) = em.autograd.grad(x ** 3, x, create_graph=True)   # 3 x^2 = 12
    >>> (d2y,) = em.autograd.grad(dy, x)                          # 6 x = 12
    >>> dy.item(), d2y.item()
    (12.0, 12.0)
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: materialize_grads=True needs allow_unused to be True or None, "
                         "got allow_unused=False")
    if allow_unused is None:
        allow_unused = materialize_grads
    names = list(inputs) if isinstance(inputs, dict) else None
    targets = tuple(inputs.values()) if names is not None else _as_tuple(inputs)
    if not targets:
        raise RuntimeError("grad: inputs cannot be empty")
    _check_targets(targets, "grad")
    outputs = _as_tuple(outputs)
    vectors = _as_tuple(grad_outputs, len(outputs))
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        result = _batched_grad(outputs, targets, vectors, retain_graph, create_graph)
    else:
        seeds = _seeds(outputs, vectors, create_graph, "grad")
        result = run_backward(outputs, seeds, retain_graph, create_graph, targets=targets,
                              accumulate=False)
    for k, r in enumerate(result):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {k} (shape {tuple(targets[k].shape)}) was not used to compute "
                "the outputs, so its gradient is always zero; pass allow_unused=True to get "
                "None for it (or materialize_grads=True to get zeros)")
    if materialize_grads:
        from ember.creation import zeros_like

        result = tuple(zeros_like(t, requires_grad=create_graph) if r is None else r
                       for r, t in zip(result, targets, strict=True))
    result = tuple(result)
    return dict(zip(names, result, strict=True)) if names is not None else result


def _as_tuple(value, n: int | None = None) -> tuple:
    """A tensor (or None) as a 1-tuple, a sequence as a tuple; ``n`` copies of None."""
    from ember.tensor import Tensor

    if value is None and n is not None:
        return (None,) * n
    if isinstance(value, Tensor) or value is None or not isinstance(value, (list, tuple)):
        value = (value,)
    value = tuple(value)
    if n is not None and len(value) != n:
        raise RuntimeError(f"grad: {len(value)} gradients given for {n} outputs")
    return value


def _check_targets(targets, op: str) -> None:
    from ember.tensor import Tensor

    for k, t in enumerate(targets):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: inputs must be tensors, got {type(t).__name__} at {k}")
        if not t._requires_grad:
            raise RuntimeError(f"{op}: input {k} does not require grad, so no gradient can be "
                               "computed for it; create it with requires_grad=True")


def _seeds(outputs, vectors, create_graph: bool, op: str) -> list:
    """The starting gradient of each output: the given vector, or 1 for one-element
    outputs; arrays, or tensors when the backward pass is recorded."""
    return [_seed(out, v, create_graph, op, "this tensor" if len(outputs) == 1 else
                  f"output {k}") for k, (out, v) in enumerate(zip(outputs, vectors, strict=True))]


def _seed(out, v, create_graph: bool, op: str, which: str):
    """One output's starting gradient (see :func:`_seeds`)."""
    if not hasattr(out, "_requires_grad"):
        raise TypeError(f"{op}: outputs must be tensors, got {type(out).__name__}")
    if not out._requires_grad:
        raise RuntimeError(f"{op}: {which} does not require grad and has no grad_fn; "
                           "create its inputs with requires_grad=True")
    data = out._data
    xp = np if type(data) is np.ndarray else _xp_of(data)
    if v is None:
        if data.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implicitly created only for scalar outputs, but "
                f"{which} has shape {tuple(data.shape)}; pass a gradient of that shape "
                "(or reduce it first, e.g. loss.sum())")
        seed = xp.ones_like(data)
        return type(out)._wrap(seed) if create_graph else seed
    from ember.tensor import Tensor

    if create_graph and isinstance(v, Tensor):
        seed = v if v.dtype == data.dtype else v.type(data.dtype)
    else:
        seed = xp.array(v._data if isinstance(v, Tensor) else v, dtype=data.dtype, copy=True)
    if tuple(seed.shape) != data.shape:
        raise RuntimeError(f"{op}: gradient has shape {tuple(seed.shape)} but {which} has "
                           f"shape {tuple(data.shape)}")
    return Tensor._wrap(seed) if create_graph and not isinstance(seed, Tensor) else seed


def _batched_grad(outputs, targets, vectors, retain_graph, create_graph) -> tuple:
    """One gradient per vector of a batch (the first dimension of each ``grad_outputs``),
    stacked: ``is_grads_batched=True``."""
    from ember import functions

    sizes = {v.shape[0] for v in vectors if v is not None}
    if len(sizes) != 1:
        raise RuntimeError("grad: with is_grads_batched=True every grad_outputs tensor needs "
                           f"the same first (batch) dimension, got sizes {sorted(sizes)}")
    (size,) = sizes
    rows = []
    for b in range(size):
        seeds = _seeds(outputs, [None if v is None else v[b] for v in vectors], create_graph,
                       "grad")
        keep = retain_graph or b < size - 1
        rows.append(run_backward(outputs, seeds, keep, create_graph, targets=targets,
                                 accumulate=False))
    return tuple(None if any(r[k] is None for r in rows) else
                 functions.stack([r[k] for r in rows]) for k in range(len(targets)))


def run_backward(outputs, seeds, retain_graph: bool = False, create_graph: bool = False,
                 targets=None, accumulate: bool = True, stop=None):
    """The backward pass shared by ``backward`` and ``grad``.

    Starting from ``outputs`` with gradients ``seeds`` (arrays; tensors when
    ``create_graph``), walk the graph once in topological order, applying each node's
    VJP. With ``targets=None`` every leaf's gradient accumulates into its ``.grad``;
    otherwise only the targets' gradients are kept (accumulated into their ``.grad``, or
    returned, one per target, None where none arrived), and nodes that lead to no target
    are skipped. The graphs of the tensors in ``stop`` are not entered (the VJP of one op
    written as a composite: partial derivatives at its inputs, which may depend on each
    other, not total ones). With ``create_graph`` the VJPs run on tensors and
    record their own graph (:func:`~ember.autograd.primitives.recorded_vjps`).
    """
    previous, outer = _mode.enabled, _pass.callbacks
    if create_graph:
        _mode.enabled = True
    _pass.callbacks = []  # queue_callback's, run once the pass has finished
    try:
        result = _walk(outputs, seeds, retain_graph, create_graph, targets, accumulate,
                       None if stop is None else {t._node for t in stop if t._node is not None})
    finally:
        _mode.enabled = previous
        callbacks, _pass.callbacks = _pass.callbacks, outer
    for callback in callbacks:
        callback()
    return result


def _walk(outputs, seeds, retain_graph, create_graph, targets, accumulate, stop):
    sink = None if targets is None else _Sink(targets, accumulate, create_graph)
    owned: set[int] = set() if sink is None else sink.owned
    grads: dict = {}
    for tensor, g in zip(outputs, seeds, strict=True):
        node = tensor._node
        if node is None:  # a leaf: its gradient is the seed itself
            if sink is None:
                _accumulate_leaf(tensor, g, owned, create_graph)
                _run_post_accumulate_hooks(tensor)
            else:
                sink.leaf(tensor, g)
        else:
            previous = grads.get(node)
            grads[node] = g if previous is None else _add(previous, g)
    if not grads:
        return None if sink is None else sink.results()
    order = topological_order(list(grads), stop)
    needed = None if targets is None else sink.needed(order)
    # leaves with post-accumulate hooks: [uses still to come, got a gradient, the leaf]
    waiting = _leaf_uses(order) if _post_accumulate_hooks and accumulate else None
    if create_graph:
        from ember.autograd.primitives import recorded_vjps
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
            g = _run_hooks(node.hooks, g, create_graph)
        inputs, results = node.grad_inputs, None
        if needed is None:
            if node.retained is not None:
                _accumulate_leaf(node.retained, g, owned, create_graph)
        else:
            if node in sink.node_targets:
                sink.node(node, g)
            if node not in needed or stop is not None and node in stop:
                if waiting:
                    _uses_done(node, waiting)
                continue
            inputs = [(i, x) for i, x in inputs if
                      (x._node in needed if x._node is not None else id(x) in sink.leaves)]
        if create_graph:  # the VJPs run on tensors, recorded: {position: gradient}
            results = dict(zip([i for i, _ in inputs], recorded_vjps(node, g, inputs),
                               strict=True))
        op = node.op
        for i, x in inputs:
            gi = op.vjp(i, node, g) if results is None else results[i]
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
                if sink is None:
                    _accumulate_leaf(x, gi, owned, create_graph)
                else:
                    sink.leaf(x, gi)
                if waiting and id(x) in waiting:
                    waiting[id(x)][1] = True
            else:
                previous = grads.get(child)
                grads[child] = gi if previous is None else _add(previous, gi)
        if not retain_graph:
            node.free()
        if waiting:
            _uses_done(node, waiting)
    return None if sink is None else sink.results()


class _Sink:
    """Where gradients end: every leaf's ``.grad`` (``targets`` None), or only the targets'
    (accumulated into their ``.grad``, or captured and returned)."""

    __slots__ = ("targets", "accumulate", "create_graph", "owned", "leaves", "node_targets",
                 "captured")

    def __init__(self, targets, accumulate: bool, create_graph: bool) -> None:
        self.targets, self.accumulate, self.create_graph = targets, accumulate, create_graph
        self.owned: set[int] = set()
        self.leaves: dict = {}  # id(leaf target) -> its positions in targets
        self.node_targets: dict = {}  # node of a non-leaf target -> its positions
        if targets is not None:
            for k, t in enumerate(targets):
                key = (self.leaves, id(t)) if t._node is None else (self.node_targets, t._node)
                key[0].setdefault(key[1], []).append(k)
            self.captured: list = [None] * len(targets)

    def needed(self, order: list) -> set:
        """The nodes from which some target can be reached."""
        needed = set()
        for node in reversed(order):  # inputs before the nodes that consume them
            if node in self.node_targets or any(
                (x._node in needed) if x._node is not None else (id(x) in self.leaves)
                for _, x in node.grad_inputs
            ):
                needed.add(node)
        return needed

    def leaf(self, tensor, g) -> None:
        if self.targets is None:
            _accumulate_leaf(tensor, g, self.owned, self.create_graph)
        elif id(tensor) in self.leaves:
            self._deliver(self.leaves[id(tensor)], g)

    def node(self, node, g) -> None:
        self._deliver(self.node_targets[node], g)

    def _deliver(self, positions, g) -> None:
        if self.accumulate:
            _accumulate_leaf(self.targets[positions[0]], g, self.owned, self.create_graph)
            return
        for k in positions:
            previous = self.captured[k]
            self.captured[k] = g if previous is None else _add(previous, g)

    def results(self):
        """The captured gradients as tensors (leaf hooks applied), or None."""
        if self.targets is None or self.accumulate:
            return None
        from ember.tensor import Tensor

        out, seen = [], set()
        for t, g in zip(self.targets, self.captured, strict=True):
            if g is not None and t._node is None and t._hooks:
                g = _run_hooks(t._hooks, g, self.create_graph)
            if g is not None and not isinstance(g, Tensor):
                if id(g) in seen or not g.flags.owndata:
                    g = g.copy()
                seen.add(id(g))
                g = Tensor._wrap(g)
            out.append(g)
        return out


def _accumulate_leaf(tensor, g, owned: set[int], create_graph: bool = False) -> None:
    """``tensor.grad += g``, never letting a ``.grad`` share memory that is still in use.

    ``owned`` holds the ids of arrays made ``.grad`` during this backward pass: such an
    array may also be the pending gradient of another node (``add`` hands the same array
    to both inputs), so it is never changed in place, and never given to a second leaf.
    With ``create_graph`` the gradients are tensors, added out of place (recorded).
    """
    from ember.tensor import Tensor

    if tensor._hooks:
        g = _run_hooks(tensor._hooks, g, create_graph)
    if create_graph:
        if g._node is None and not g._requires_grad:  # a constant: never alias the caller's
            g = Tensor._wrap(g._data.copy())
        if tensor.grad is None:
            tensor.grad = g
        elif tensor.grad.shape != g.shape:
            raise RuntimeError(f"backward: cannot accumulate a gradient of shape "
                               f"{tuple(g.shape)} into .grad of shape {tuple(tensor.grad.shape)}")
        else:
            tensor.grad = tensor.grad + g
        return
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


def _run_hooks(hooks, g, create_graph: bool = False):
    """Call each hook with the gradient (a tensor); a returned tensor replaces it."""
    from ember.tensor import Tensor

    for hook in hooks:
        result = hook(g if create_graph else Tensor._wrap(g))
        if result is not None:
            if create_graph:
                g = result if isinstance(result, Tensor) else Tensor._wrap(np.asarray(result))
            else:
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

