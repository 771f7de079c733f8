"""Custom autograd functions: ``em.autograd.Function`` with your own forward and backward.

Subclass :class:`Function` and write both passes as static methods, exactly as for
``torch.autograd.Function``; call it with ``.apply``:

>>> import ember as em
>>> class Exp(em.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         y = x.exp()
...         ctx.save_for_backward(y)       # keep what backward needs
...         return y
...     @staticmethod
...     def backward(ctx, grad_output):    # dL/dx = dL/dy * e^x
...         y, = ctx.saved_tensors
...         return grad_output * y
>>> x = em.tensor([0.0, 1.0], requires_grad=True)
>>> y = Exp.apply(x)
>>> y.grad_fn.name()
'ExpBackward'
>>> y.sum().backward()
>>> x.grad
tensor([1.0000, 2.7183])

``forward`` runs without recording (its ops are not in the graph); its result joins the
graph as one node, whose gradient is what ``backward`` returns: one gradient per input of
``forward`` (``None`` for inputs that are not tensors or need none), given one incoming
gradient per output. A gradient of a broadcast shape is summed to its input's shape.
``ctx`` carries what backward needs: ``save_for_backward``/``saved_tensors`` (checked for
in-place changes), ``needs_input_grad``, ``mark_non_differentiable``, ``mark_dirty`` (for
an input changed in place by forward) and ``set_materialize_grads``; other attributes
(``ctx.scale = 2``) are kept as they are. The newer form, a ``forward(*args)`` without
``ctx`` plus ``setup_context(ctx, inputs, output)``, works too.

Backward runs user code on tensors: today with recording off, on the gradient as a
tensor. When the engine passes gradients as tensors that require grad (higher-order
gradients), backward runs with recording on and its result stays in the graph.
"""

from __future__ import annotations

import functools

import numpy as np

from ember.autograd.engine import Node, enable_grad, no_grad, set_grad_enabled
from ember.autograd.primitives import unbroadcast
from ember.tensor import Tensor

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` of a custom Function: what forward leaves for backward."""

    def __init__(self) -> None:
        self._saved = ()
        self._saved_outputs = ()
        self._non_differentiable = set()
        self._dirty = set()
        self._freed = False
        self.materialize_grads = True
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (inputs, outputs or intermediates, or None) for backward."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), got "
                                f"{type(t).__name__}; keep other values as ctx attributes")
        self._saved = tuple((t, None if t is None else t._vc[0]) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``; an error if one was changed in place
        since, or if the graph was freed by a backward() without ``retain_graph``."""
        if self._freed:
            raise RuntimeError("Trying to backward through the graph a second time (or "
                               "directly access saved tensors after they have already been "
                               "freed); pass retain_graph=True to the first backward()")
        tensors = []
        for t, version in self._saved:
            if t is not None and t._vc[0] != version:
                raise RuntimeError(
                    f"one of the tensors saved for backward (shape {tuple(t.shape)}) has been "
                    f"modified by an inplace operation (version {t._vc[0]}, expected "
                    f"{version}); clone() it before changing it")
            tensors.append(t)
        return tuple(tensors)

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (e.g. indices): they do not require grad, and their
        incoming gradient in backward is zeros."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        """Inputs that forward changed in place (and returns): they join the graph as this
        Function's outputs."""
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs with no gradient."""
        self.materialize_grads = bool(value)


class _FunctionOp:
    """The op of a custom Function's node (what the engine calls for the gradients)."""

    saves_inputs = saves_ans = False
    view = False

    def __init__(self, function: type, ctx: FunctionCtx, n_args: int, outputs: list) -> None:
        self.function = function
        self.name = function.__name__
        self.backward_name = function.__name__ + "Backward"
        self.ctx = ctx
        self.n_args = n_args
        self.outputs = outputs  # [(shape, dtype, differentiable)] in forward's output order
        self.pending: dict = {}
        self.reached: set = set()  # packed outputs whose gradient arrived (several outputs)

    def vjp(self, argnum: int, node: Node, g):
        if not self.pending:
            self.pending = self._run_backward(node, g)
        return self.pending.pop(argnum, None)

    def _run_backward(self, node: Node, g) -> dict:
        """Call the user's backward once with every output's gradient; return the input
        gradients by position, as arrays summed to their inputs' shapes."""
        as_tensors = isinstance(g, Tensor)  # higher-order gradients: stay in the graph
        grads = self._output_grads(g)  # tensors keep their graph (their VJPs depend on g)
        self.reached = set()
        wrapped = [v if v is None or isinstance(v, Tensor) else Tensor._wrap(v) for v in grads]
        record = as_tensors  # tensors only while create_graph records the backward pass
        with set_grad_enabled(record):
            result = self.function.backward(self.ctx, *wrapped)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) > self.n_args and all(r is None for r in result[self.n_args:]):
            result = result[:self.n_args]
        if len(result) != self.n_args:
            raise RuntimeError(f"function {self.backward_name} returned an incorrect number "
                               f"of gradients (expected {self.n_args}, got {len(result)})")
        found = {}
        for i, x in node.grad_inputs:
            grad = result[i]
            if grad is None:
                continue
            if not isinstance(grad, Tensor):
                raise TypeError(f"function {self.backward_name} returned a "
                                f"{type(grad).__name__} as the gradient of input {i}; expected "
                                "a tensor or None")
            array = _sum_to(grad._data, x._data.shape, self.backward_name, i)
            found[i] = grad if as_tensors and array is grad._data else array
        return found

    def _output_grads(self, g) -> list:
        """One gradient per output of forward, from the node's gradient ``g`` (the packed
        gradients when forward had several differentiable outputs)."""
        grads, start = [], 0
        packed = sum(1 for *_, differentiable in self.outputs if differentiable) > 1
        for shape, dtype, differentiable in self.outputs:
            if not differentiable:
                grads.append(np.zeros(shape, dtype if dtype.kind == "f" else g.dtype)
                             if self.ctx.materialize_grads else None)
            elif not packed:
                grads.append(g)
            else:
                size = int(np.prod(shape))
                if start in self.reached or self.ctx.materialize_grads:
                    piece = g[start:start + size].reshape(shape)
                    grads.append(piece if piece.dtype == dtype else piece.astype(dtype))
                else:  # an unused output, with set_materialize_grads(False): None
                    grads.append(None)
                start += size
        return grads


def _sum_to(grad, shape: tuple, name: str, index: int):
    """``grad`` summed over broadcast dimensions to ``shape``, or a RuntimeError when the
    input's shape does not broadcast to the gradient's (as PyTorch checks)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0 or not all(n in (1, m) for n, m in zip(shape, grad.shape[lead:], strict=True)):
        raise RuntimeError(f"Function {name} returned an invalid gradient at index {index} - "
                           f"got {list(grad.shape)} but expected shape compatible with "
                           f"{list(shape)}")
    return unbroadcast(grad, shape)


class _FunctionNode(Node):
    """A custom Function's node: freeing it also frees the tensors ctx saved."""

    __slots__ = ()

    def free(self) -> None:
        super().free()
        ctx = self.op.ctx
        ctx._saved, ctx._freed = (), True


class _FunctionMeta(type):
    def __init__(cls, name, bases, namespace) -> None:
        super().__init__(name, bases, namespace)
        forward = namespace.get("forward")
        if forward is not None and not isinstance(forward, staticmethod):
            raise TypeError(f"{name}.forward must be a @staticmethod (forward(ctx, ...)), as "
                            "in PyTorch; the legacy non-static form is not supported")


class Function(metaclass=_FunctionMeta):
    """Base class of custom autograd functions: define static ``forward`` and ``backward``
    and call ``YourFunction.apply(*inputs)`` (never instantiate it)."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError(f"{type(self).__name__}: custom Functions are not instantiated; "
                           f"call {type(self).__name__}.apply(...)")

    @classmethod
    def apply(cls, *args):
        """Run forward on ``args`` and, when an input requires grad, record one node whose
        gradient is backward's."""
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        aliases = {id(a): _alias(a) for a in args if isinstance(a, Tensor) and a._node is not None}
        with no_grad():
            if cls.setup_context is Function.setup_context:
                output = cls.forward(ctx, *args)
            else:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
        if not (_grad_enabled() and any(ctx.needs_input_grad)):
            return output
        return _record(cls, ctx, args, aliases, output)


def _grad_enabled() -> bool:
    from ember.autograd.engine import is_grad_enabled

    return is_grad_enabled()


def _alias(t: Tensor) -> Tensor:
    """Another tensor object standing for ``t`` as it is now (its array, node and version
    counter), so the graph keeps pointing there if forward gives ``t`` a new node."""
    alias = Tensor._wrap(t._data, t._requires_grad)
    alias._node, alias._vc = t._node, t._vc
    return alias


def _record(cls, ctx: FunctionCtx, args: tuple, aliases: dict, output):
    single = not isinstance(output, tuple)
    outputs = [output] if single else list(output)
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    for k, t in enumerate(outputs):
        if isinstance(t, Tensor) and id(t) in input_ids and id(t) not in ctx._dirty:
            # forward returned an input unchanged: the output is a new tensor on its memory
            outputs[k] = t.detach()
    meta, differentiable = [], []
    for t in outputs:
        ok = (isinstance(t, Tensor) and t.dtype.kind == "f"
              and id(t) not in ctx._non_differentiable)
        if isinstance(t, Tensor):
            meta.append((t._data.shape, t._data.dtype, ok))
        if ok:
            differentiable.append(t)
        elif isinstance(t, Tensor) and id(t) not in ctx._dirty:
            t._requires_grad = False
    if not differentiable:
        return output
    for t in differentiable:
        if id(t) in ctx._dirty and t._node is None and t._requires_grad:
            raise RuntimeError(f"{cls.__name__}: a leaf tensor that requires grad was changed "
                               "in place by forward (mark_dirty)")
    # an input that forward changed in place is about to get this node: the graph refers
    # to its alias, which keeps the node it had
    grad_inputs = [(i, aliases.get(id(a), a) if id(a) in ctx._dirty else a)
                   for i, a in enumerate(args) if isinstance(a, Tensor) and a._requires_grad]
    op = _FunctionOp(cls, ctx, len(args), meta)
    if len(differentiable) == 1:
        target = differentiable[0]
        target._node = _FunctionNode(op, grad_inputs, args, [], None, {}, np, target._vc)
        target._requires_grad = True
        return outputs[0] if single else tuple(outputs)
    return _record_several(cls, op, grad_inputs, args, outputs, differentiable, single)


def _record_several(cls, op, grad_inputs, args, outputs, differentiable, single):
    """Several differentiable outputs: one node over their values packed end to end, and
    each output a slice of it, so backward runs once with every output's gradient."""
    from ember.autograd.primitives import Primitive

    dtype = np.result_type(*(t._data.dtype for t in differentiable))
    packed = Tensor._wrap(np.concatenate([t._data.ravel().astype(dtype) for t in differentiable]))
    packed._node = _FunctionNode(op, grad_inputs, args, [], None, {}, np, packed._vc)
    packed._requires_grad = True
    select = Primitive(_output_slice, saves="none", view=True)

    def select_vjp(xp, g, ans, packed, start, stop, shape, dtype):
        op.reached.add(start)  # this output's gradient arrived
        return _output_slice_vjp(xp, g, ans, packed, start, stop, shape, dtype)

    select.vjps = (select_vjp,)
    select.backward_name = op.backward_name
    start = 0
    for t in differentiable:
        size = t._data.size
        with enable_grad():
            part = select(packed, start=start, stop=start + size, shape=t._data.shape,
                          dtype=t._data.dtype)
        t._data, t._node, t._requires_grad = part._data, part._node, True
        start += size
    return outputs[0] if single else tuple(outputs)


def _output_slice(xp, packed, start, stop, shape, dtype):
    """One output's values out of the packed outputs of a custom Function."""
    return packed[start:stop].reshape(shape).astype(dtype, copy=False)


def _output_slice_vjp(xp, g, ans, packed, start, stop, shape, dtype):
    grad = xp.zeros(packed.shape, dtype=packed.dtype)
    grad[start:stop] = g.reshape(-1)
    return grad


def once_differentiable(backward):
    """Decorator for a backward that cannot itself be differentiated: it runs without
    recording (as ``torch.autograd.function.once_differentiable``)."""

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            return backward(ctx, *grad_outputs)

    return wrapper
