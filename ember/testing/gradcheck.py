"""gradcheck: compare backprop's gradients with central finite differences, in float64.

For a function f and each input x that requires grad,

.. math:: \\frac{\\partial f_j}{\\partial x_i} \\approx
          \\frac{f_j(x + \\epsilon e_i) - f_j(x - \\epsilon e_i)}{2 \\epsilon}

and every analytic entry must satisfy ``|analytic - numeric| <= atol + rtol |numeric|``.
Small problems compare the full Jacobian entry by entry and report the first input and
element that disagree; large ones compare directional derivatives ``v^T J u`` along
random directions (one backward and two forwards each), as HIPS autograd's
``check_grads`` does. :func:`gradgradcheck` applies the same check to the first
derivative, computed with ``create_graph=True``: the second derivatives.

>>> import ember as em
>>> x = em.randn(3, dtype=em.float64, requires_grad=True)
>>> em.autograd.gradcheck(lambda x: (x * x.sin()).sum(), (x,))
True
"""

from __future__ import annotations

import numpy as np

from ember.autograd.engine import no_grad
from ember.tensor import Tensor

FULL_JACOBIAN_LIMIT = 4096  # entries of (input size x output size) compared one by one


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numeric one."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, *,
              raise_exception: bool = True, fast_mode: bool | None = None,
              directions: int = 3, seed: int = 0) -> bool:
    """Check ``fn``'s gradients with respect to every input that requires grad.

    Args:
        fn: takes ``*inputs`` and returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of arguments; floating tensors are checked in float64.
        eps: the finite-difference step.
        atol, rtol: tolerances, as ``|a - n| <= atol + rtol * |n|``.
        raise_exception: raise :class:`GradcheckError` naming the input and element that
            disagree (else return False).
        fast_mode: compare random directional derivatives instead of the full Jacobian
            (default: only when the Jacobian has more than 4096 entries).
        directions: how many random directions fast mode tries.
        seed: seed of fast mode's random directions (the global generator is untouched).

    Returns:
        True when every gradient agrees.
    """
    inputs, checked = _checked_inputs(inputs, "gradcheck")
    outputs = _outputs(fn, inputs)
    out_size = sum(o.numel() for o in outputs)
    in_size = sum(inputs[i].numel() for i in checked)
    if fast_mode is None:
        fast_mode = in_size * out_size > FULL_JACOBIAN_LIMIT
    check = _check_directions if fast_mode else _check_full
    failure = check(fn, inputs, checked, outputs, eps, atol, rtol, directions, seed)
    if failure is None:
        return True
    if raise_exception:
        raise GradcheckError(failure)
    return False


def _checked_inputs(inputs, op: str) -> tuple[tuple, list[int]]:
    """The inputs as a tuple (floating tensors as float64 copies), and the positions of
    those that require grad."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    inputs = tuple(_as_float64(x) for x in inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{op}: no input requires grad; create them with requires_grad=True")
    return inputs, checked


def _as_float64(x):
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        copy = Tensor._wrap(np.array(x._data, dtype=np.float64))
        copy.requires_grad = x.requires_grad
        return copy
    return x


def _outputs(fn, inputs) -> list[Tensor]:
    out = fn(*inputs)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _flat_outputs(fn, inputs) -> np.ndarray:
    with no_grad():
        outputs = _outputs(fn, inputs)
    return np.concatenate([o._data.ravel() for o in outputs]) if outputs else np.zeros(0)


def _vjp(fn, inputs, checked, cotangent) -> list[np.ndarray]:
    """The analytic (J^T v) for each checked input, by one backward pass."""
    for i in checked:
        inputs[i].grad = None
    outputs = _outputs(fn, inputs)
    total = None
    offset = 0
    for o in outputs:
        part = cotangent[offset:offset + o.numel()].reshape(o.shape)
        offset += o.numel()
        if not o.requires_grad:
            continue
        term = (o * Tensor._wrap(part)).sum()
        total = term if total is None else total + term
    grads = []
    if total is not None:
        total.backward()
    for i in checked:
        g = inputs[i].grad
        grads.append(np.zeros(inputs[i].shape) if g is None else g._data.astype(np.float64))
        inputs[i].grad = None
    return grads


def _perturbed(fn, inputs, i, direction, eps) -> np.ndarray:
    """(f(x_i + eps d) - f(x_i - eps d)) / (2 eps), flattened."""
    x = inputs[i]._data
    original = x.copy()
    x += eps * direction
    plus = _flat_outputs(fn, inputs)
    x[...] = original - eps * direction
    minus = _flat_outputs(fn, inputs)
    x[...] = original
    return (plus - minus) / (2 * eps)


def _check_full(fn, inputs, checked, outputs, eps, atol, rtol, directions, seed):
    out_size = sum(o.numel() for o in outputs)
    analytic = {i: np.zeros((out_size, inputs[i].numel())) for i in checked}
    for j in range(out_size):  # row j of each Jacobian: backward with a unit cotangent
        unit = np.zeros(out_size)
        unit[j] = 1.0
        for i, g in zip(checked, _vjp(fn, inputs, checked, unit), strict=True):
            analytic[i][j] = g.ravel()
    for i in checked:
        x = inputs[i]
        for k in range(x.numel()):
            direction = np.zeros(x.numel())
            direction[k] = 1.0
            numeric = _perturbed(fn, inputs, i, direction.reshape(x.shape), eps)
            a = analytic[i][:, k]
            bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
            if bad.any():
                j = int(np.argmax(bad))
                element = np.unravel_index(k, x.shape) if x.ndim else ()
                return (f"gradcheck: input {i}, element {tuple(int(e) for e in element)}: "
                        f"d(output[{j}])/d(input) is {a[j]:.8g} by backprop but "
                        f"{numeric[j]:.8g} by finite differences "
                        f"(tolerance {atol + rtol * abs(numeric[j]):.3g})")
    return None


def _check_directions(fn, inputs, checked, outputs, eps, atol, rtol, directions, seed):
    rng = np.random.default_rng(seed)
    out_size = sum(o.numel() for o in outputs)
    for _ in range(directions):
        cotangent = rng.standard_normal(out_size)
        grads = _vjp(fn, inputs, checked, cotangent)
        for i, g in zip(checked, grads, strict=True):
            direction = rng.standard_normal(inputs[i].shape)
            analytic = float(np.sum(g * direction))
            numeric = float(cotangent @ _perturbed(fn, inputs, i, direction, eps))
            if abs(analytic - numeric) > atol + rtol * abs(numeric):
                return (f"gradcheck: input {i}: the directional derivative v^T J u along a "
                        f"random direction is {analytic:.8g} by backprop but {numeric:.8g} "
                        f"by finite differences (tolerance {atol + rtol * abs(numeric):.3g}); "
                        "rerun with fast_mode=False on a smaller input to find the element")
    return None


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, *, raise_exception: bool = True,
                  fast_mode: bool | None = None, directions: int = 3, seed: int = 0) -> bool:
    """Check ``fn``'s second derivatives against finite differences of its first ones.

    The first derivative, as a function of the inputs and of the output gradients v,

    .. math:: (x, v) \\mapsto v^\\top \\frac{\\partial f}{\\partial x}
              \\quad(\\text{computed with } \\texttt{create\\_graph=True}),

    is itself checked with :func:`gradcheck`: backprop through it (the VJPs of the VJPs)
    must agree with its central differences, in x (the Hessian-vector products) and in v
    (the VJP is linear in v). As ``torch.autograd.gradgradcheck``.

    Args:
        fn: takes ``*inputs`` and returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of arguments; floating tensors are checked in float64.
        grad_outputs: the vectors v, one per output that requires grad (default: random
            normal, drawn with ``seed``, themselves requiring grad).
        eps, atol, rtol, raise_exception, fast_mode, directions, seed: as
            :func:`gradcheck`.

    Returns:
        True when every second derivative agrees.

    >>> import ember as em
    >>> x = em.randn(3, dtype=em.float64, requires_grad=True)
    >>> em.autograd.gradgradcheck(lambda x: (x * x.sin()).sum(), (x,))
    True
    """
    from ember.autograd.engine import enable_grad, grad

    inputs, checked = _checked_inputs(inputs, "gradgradcheck")
    n = len(inputs)

    def differentiated(xs):
        with enable_grad():
            return [o for o in _outputs(fn, xs) if o.requires_grad]

    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        vectors = tuple(Tensor._wrap(rng.standard_normal(o.shape), requires_grad=True)
                        for o in differentiated(inputs))
    else:
        vectors = grad_outputs if isinstance(grad_outputs, tuple) else (grad_outputs,)
        vectors = tuple(_as_float64(v) for v in vectors)

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        with enable_grad():
            outputs = differentiated(xs)
            if not outputs:
                return ()
            grads = grad(outputs, [xs[i] for i in checked], vs, create_graph=True,
                         allow_unused=True)
        return tuple(g for g in grads if g is not None)

    try:
        return gradcheck(first_derivative, inputs + vectors, eps, atol, rtol,
                         raise_exception=raise_exception, fast_mode=fast_mode,
                         directions=directions, seed=seed)
    except GradcheckError as error:
        raise GradcheckError(
            f"gradgradcheck: the first derivative's gradient disagrees (inputs 0..{n - 1} "
            f"are fn's inputs, {n}.. the output gradients v): {error}") from None
