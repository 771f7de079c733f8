"""Functional higher-order autodiff: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``.

Each takes a function of tensors and the point to differentiate at, as
``torch.autograd.functional`` does (same names, arguments, shapes and options). For
:math:`f: \\mathbb{R}^n \\to \\mathbb{R}^m` with Jacobian :math:`J` and, for scalar
:math:`f`, Hessian :math:`H`:

* ``vjp(f, x, v)``  = :math:`v^\\top J` (one backward pass);
* ``jvp(f, x, v)``  = :math:`J v`, by the *double-backward trick*: :math:`u \\mapsto u^\\top
  J` is linear in u, so its own VJP with v is :math:`J v`;
* ``jacobian(f, x)`` = :math:`J`, one VJP per output element (``"reverse-mode"``) or one
  JVP per input element (``"forward-mode"``);
* ``hessian(f, x)`` = :math:`H`, the Jacobian of the gradient;
* ``vhp(f, x, v)``  = :math:`v^\\top H`, the VJP of the gradient (two backward passes);
* ``hvp(f, x, v)``  = :math:`H v`, by the double-backward trick on the gradient (equal to
  ``vhp`` for twice continuously differentiable f, whose Hessian is symmetric).

``inputs`` is a tensor or a tuple of tensors and the results follow its structure (and
the outputs'). Unless ``create_graph=True`` the results are detached: ``True`` records
them, so that they can be differentiated again. ``strict=True`` raises when an output
does not depend on an input (instead of returning zeros).

>>> import ember as em
>>> from ember.autograd.functional import hessian, hvp
>>> f = lambda x: (x ** 3).sum()                      # H = diag(6 x)
>>> x = em.tensor([1.0, 2.0], dtype=em.float64)
>>> hessian(f, x)
tensor([[ 6.,  0.],
        [ 0., 12.]], dtype=float64)
>>> hvp(f, x, em.tensor([1.0, 1.0], dtype=em.float64))[1]
tensor([ 6., 12.], dtype=float64)
"""

from __future__ import annotations

from ember import creation, functions
from ember.autograd.engine import enable_grad, grad, is_grad_enabled, set_grad_enabled
from ember.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ----------------------------------------------------------------------------- plumbing


def _as_tuple(value, what: str, op: str) -> tuple[bool, tuple]:
    """(whether ``value`` was a tuple, ``value`` as a tuple of tensors)."""
    was_tuple = isinstance(value, tuple)
    values = value if was_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            where = f"the value at index {i}" if was_tuple else f"the given {what}"
            raise TypeError(f"{op}: the {what} must be a tensor or a tuple of tensors, but "
                            f"{where} is a {type(v).__name__}")
    return was_tuple, values


def _prepare(tensors: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """The points to differentiate at: fresh leaves, or (``create_graph``, for tensors that
    require grad) views that keep their link to the caller's graph."""
    out = []
    for t in tensors:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph) if t.is_floating_point() or
                       not need_graph else t.detach())
    return tuple(out)


def _finish(tensors: tuple, create_graph: bool) -> tuple:
    """Results detached, unless the caller wants their graph."""
    if create_graph:
        return tensors
    return tuple(t.detach() if isinstance(t, Tensor) else _finish(t, create_graph)
                 for t in tensors)


def _unpack(result, was_tuple) -> object:
    """The result with the structure of the inputs (and outputs): tuples only where the
    caller gave tuples. ``was_tuple`` is a bool, or a pair (outer, inner)."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(r[0] for r in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _check_v(v: tuple, like: tuple, like_tuple: bool, op: str) -> None:
    if len(v) != len(like):
        if like_tuple:
            raise RuntimeError(f"{op}: v is a tuple of invalid length: should be "
                               f"{len(like)} but got {len(v)}")
        raise RuntimeError(f"{op}: the given v should contain a single tensor")
    for i, (a, b) in enumerate(zip(v, like, strict=True)):
        if a.shape != b.shape:
            prefix = f"entry {i} in " if like_tuple else ""
            raise RuntimeError(f"{op}: {prefix}v has invalid size: should be {b.shape} but "
                               f"got {a.shape}")


def _require_grad(outputs: tuple, strict: bool, op: str) -> None:
    if not strict:
        return
    for i, out in enumerate(outputs):
        if out is None or not out.requires_grad:
            raise RuntimeError(f"{op}: output {i} of the function does not require "
                               "gradients; in strict mode the outputs must be computed "
                               "differentiably from the inputs")


def _grad(outputs: tuple, inputs: tuple, vectors=None, create_graph: bool = False,
          retain_graph=None, is_grads_batched: bool = False) -> tuple:
    """``grad`` over the outputs that require grad, None for unreachable inputs."""
    vectors = (None,) * len(outputs) if vectors is None else vectors
    pairs = [(o, v) for o, v in zip(outputs, vectors, strict=True)
             if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], inputs, [v for _, v in pairs], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True, is_grads_batched=is_grads_batched)


def _zeros_for(grads: tuple, like: tuple, strict: bool, create_graph: bool, what: str,
               op: str) -> tuple:
    """Zeros where no gradient arrived (strict: an error instead)."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, like, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(f"{op}: {what} is independent of input {i}; this is not "
                                   "allowed in strict mode")
            g = creation.zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(f"{op}: the result is independent of input {i} (it does not "
                               "require grad); this is not allowed in strict mode with "
                               "create_graph=True")
        out.append(g)
    return tuple(out)


def _scalar_output(outputs_tuple: bool, outputs: tuple, op: str) -> None:
    if outputs_tuple:
        raise RuntimeError(f"{op}: the function should return a single tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"{op}: the tensor returned by the function should contain a "
                           "single element")


def _vector(v, like: tuple, like_tuple: bool, create_graph: bool, op: str, what: str):
    """``v`` checked against ``like``; or, when None, 1 for a one-element ``like``."""
    if v is not None:
        _, v = _as_tuple(v, "v", op)
        v = _prepare(v, create_graph, need_graph=False)
        _check_v(v, like, like_tuple, op)
        return v
    if len(like) != 1 or like[0].numel() != 1:
        raise RuntimeError(f"{op}: v can only be None if {what} is a single tensor with a "
                           "single element")
    return None


# ----------------------------------------------------------------------------- products


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Jacobian product :math:`v^\\top J_f(x)`.

    Args:
        func: takes the tensors of ``inputs`` and returns a tensor or a tuple of them.
        inputs: a tensor or a tuple of tensors, the point x.
        v: one tensor per output (may be None for a single one-element output).
        create_graph: record the result's graph (to differentiate it again).
        strict: raise if an output does not depend on the inputs.

    Returns:
        ``(func(x), v^T J)``, the second with the structure of ``inputs``.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", "vjp")
        _require_grad(outputs, strict, "vjp")
        v = _vector(v, outputs, outputs_tuple, create_graph, "vjp", "the function's output")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for(grads, inputs, strict, create_graph, "the output", "vjp")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Jacobian-vector product :math:`J_f(x)\\, v`, by the double-backward trick.

    With u a dummy output gradient, :math:`g(u) = u^\\top J` is linear in u; its VJP with
    v is :math:`(J v)^\\top`, whatever u is (zeros here).

    Returns:
        ``(func(x), J v)``, the second with the structure of the outputs.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _vector(v, inputs, inputs_tuple, create_graph, "jvp", "the input")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", "jvp")
        _require_grad(outputs, strict, "jvp")
        dummies = tuple(creation.zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, dummies, create_graph=True)
        if strict:
            for i, g in enumerate(grad_inputs):
                if g is None or not g.requires_grad:
                    raise RuntimeError(f"jvp: the gradient with respect to input {i} is "
                                       "independent of the function's inputs; this is not "
                                       "allowed in strict mode")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(grad_inputs, dummies, v, create_graph=create_graph)
        result = _zeros_for(grads, outputs, strict, create_graph, "the gradient", "jvp")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), outputs_tuple))


def _gradient_at(func, inputs, v, create_graph: bool, strict: bool, op: str):
    """What vhp and hvp share: the points, v, func's single scalar output and its
    gradient there, recorded."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", op)
    inputs = _prepare(inputs, create_graph, need_graph=True)
    v = _vector(v, inputs, inputs_tuple, create_graph, op, "the input")
    outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", op)
    _require_grad(outputs, strict, op)
    _scalar_output(outputs_tuple, outputs, op)
    jac = _grad(outputs, inputs, create_graph=True)
    _require_grad_jacobian(jac, strict, op)
    return inputs_tuple, inputs, v, outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Hessian product :math:`v^\\top H_f(x)` of a scalar function: the VJP of
    its gradient.

    Returns:
        ``(func(x), v^T H)``, the second with the structure of ``inputs``.
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, jac = _gradient_at(
            func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(jac, inputs, v, create_graph=create_graph)
        result = _zeros_for(grads, inputs, strict, create_graph, "the Jacobian", "vhp")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Hessian-vector product :math:`H_f(x)\\, v` of a scalar function, by the
    double-backward trick on its gradient (the same as ``vhp`` when H is symmetric; ``vhp``
    is cheaper).

    Returns:
        ``(func(x), H v)``, the second with the structure of ``inputs``.
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, jac = _gradient_at(
            func, inputs, v, create_graph, strict, "hvp")
        dummies = tuple(creation.zeros_like(x, requires_grad=True) for x in inputs)
        double = _grad(jac, inputs, dummies, create_graph=True)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(double, dummies, v, create_graph=create_graph)
        result = _zeros_for(grads, inputs, strict, create_graph, "the Hessian", "hvp")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def _require_grad_jacobian(jac: tuple, strict: bool, op: str) -> None:
    if not strict:
        return
    for i, g in enumerate(jac):
        if g is None or not g.requires_grad:
            raise RuntimeError(f"{op}: the Jacobian of the function with respect to input "
                               f"{i} is independent of the input; in strict mode the "
                               "function must be twice differentiable (not linear)")


# ----------------------------------------------------------------------------- matrices


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian :math:`\\partial f_i / \\partial x_j`, shaped
    ``output.shape + input.shape`` for every (output, input) pair.

    Args:
        func: takes the tensors of ``inputs``, returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        create_graph: record the Jacobian's graph (to differentiate it again).
        strict: raise if an output does not depend on an input (not with ``vectorize``).
        vectorize: compute all rows with one batched call (``grad(...,
            is_grads_batched=True)`` over the standard basis) instead of one call per
            output element; the same numbers.
        strategy: ``"reverse-mode"``, one VJP per output element (for few outputs), or
            ``"forward-mode"``, one JVP per input element (for few inputs; needs
            ``vectorize=True`` and ``create_graph=False``, as in PyTorch).

    Returns:
        A tensor for one input and one output; a tuple over inputs (or outputs); a tuple
        of tuples ``J[i][j]`` = d output i / d input j for tuples of both.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('jacobian: strategy must be "forward-mode" or "reverse-mode" (forward '
                         'mode for functions with more outputs than inputs)')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('jacobian: create_graph=True and strategy="forward-mode" '
                                      "are not supported together")
        if strict:
            raise RuntimeError('jacobian: strict=True and strategy="forward-mode" are not '
                               "supported together")
        if not vectorize:
            raise NotImplementedError('jacobian: strategy="forward-mode" is only implemented '
                                      "with vectorize=True (as in PyTorch)")
        return _jacobian_forward(func, inputs)
    if vectorize and strict:
        raise RuntimeError("jacobian: strict=True and vectorize=True are not supported "
                           "together")
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function",
                                           "jacobian")
        _require_grad(outputs, strict, "jacobian")
        rows = []  # rows[i][j]: d output i / d input j
        for i, out in enumerate(outputs):
            if vectorize:
                per_input = _batched_rows(out, inputs, create_graph)
            else:
                per_input = _rows(i, out, inputs, create_graph, strict)
            rows.append(tuple(r.reshape(out.shape + x.shape)
                              for r, x in zip(per_input, inputs, strict=True)))
    rows = tuple(_finish(r, create_graph) for r in rows)
    return _unpack(rows, (outputs_tuple, inputs_tuple))


def _rows(i: int, out: Tensor, inputs: tuple, create_graph: bool, strict: bool) -> list:
    """d out / d input, one backward pass per element of ``out``, stacked."""
    flat = out.reshape(-1)
    per_input: list[list] = [[] for _ in inputs]
    for k in range(flat.shape[0]):
        grads = _grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (g, x) in enumerate(zip(grads, inputs, strict=True)):
            if g is None:
                if strict:
                    raise RuntimeError(f"jacobian: output {i} of the function is independent "
                                       f"of input {j}; this is not allowed in strict mode")
                g = creation.zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"jacobian: the Jacobian is independent of input {i}; this "
                                   "is not allowed in strict mode with create_graph=True")
            per_input[j].append(g)
    if flat.shape[0] == 0:
        return [creation.zeros(0, *x.shape, dtype=x.dtype) for x in inputs]
    return [functions.stack(gs) for gs in per_input]


def _batched_rows(out: Tensor, inputs: tuple, create_graph: bool) -> list:
    """d out / d input from one batched ``grad`` over the rows of the identity."""
    n = out.numel()
    if n == 0:
        return [creation.zeros(0, *x.shape, dtype=x.dtype) for x in inputs]
    basis = creation.eye(n, dtype=out.dtype)
    grads = (None,) * len(inputs)
    if out.requires_grad:
        grads = grad((out.reshape(-1),), inputs, (basis,), retain_graph=True,
                     create_graph=create_graph, allow_unused=True, is_grads_batched=True)
    return [creation.zeros((n,) + tuple(x.shape), dtype=x.dtype) if g is None else g
            for g, x in zip(grads, inputs, strict=True)]


def _jacobian_forward(func, inputs):
    """Columns of the Jacobian by JVPs along the standard basis of each input."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", "jacobian")
    columns: list[list[list]] = [[[] for _ in inputs] for _ in outputs]
    for j, x in enumerate(inputs):
        for k in range(x.numel()):
            tangent = tuple(creation.zeros_like(t) for t in inputs)
            unit = creation.zeros(x.numel(), dtype=x.dtype)
            unit[k] = 1.0
            tangent = tangent[:j] + (unit.reshape(x.shape),) + tangent[j + 1:]
            _, jv = jvp(func, inputs if inputs_tuple else inputs[0],
                        tangent if inputs_tuple else tangent[0])
            jv = jv if outputs_tuple else (jv,)
            for i, col in enumerate(jv):
                columns[i][j].append(col)
    rows = tuple(tuple(
        (functions.stack(columns[i][j], dim=-1) if columns[i][j]
         else creation.zeros(*outputs[i].shape, 0, dtype=outputs[i].dtype)
         ).reshape(outputs[i].shape + x.shape)
        for j, x in enumerate(inputs)) for i in range(len(outputs)))
    return _unpack(_finish(rows, False), (outputs_tuple, inputs_tuple))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian :math:`\\partial^2 f / \\partial x_i \\partial x_j` of a scalar function:
    the Jacobian of its gradient, shaped ``input_i.shape + input_j.shape``.

    Args:
        func: takes the tensors of ``inputs`` and returns a one-element tensor.
        inputs: a tensor or a tuple of tensors.
        create_graph, strict, vectorize: as :func:`jacobian`.
        outer_jacobian_strategy: the strategy of the outer Jacobian (the inner one, the
            gradient, is always reverse mode).

    Returns:
        A tensor for one input; a tuple of tuples ``H[i][j]`` for a tuple of inputs.
    """
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('hessian: outer_jacobian_strategy must be "forward-mode" or '
                         '"reverse-mode"')

    def scalar(*xs):
        out = func(*xs)
        was_tuple, outs = _as_tuple(out, "outputs of the function", "hessian")
        _require_grad(outs, strict, "hessian")
        _scalar_output(was_tuple, outs, "hessian")
        return out.reshape(())

    def gradient(*xs):
        if outer_jacobian_strategy == "forward-mode":
            xs = tuple(x.requires_grad_(True) for x in xs)
        jac = jacobian(scalar, xs, create_graph=True)
        _require_grad_jacobian(jac if isinstance(jac, tuple) else (jac,), strict, "hessian")
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(result, (inputs_tuple, inputs_tuple))
