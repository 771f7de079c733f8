"""Parity with PyTorch for the tensor API's tests (tests/tensor_functions, test_linalg).

Run an ember function and its PyTorch twin on the same float64 inputs and compare
everything PyTorch gives: each output's values and dtype, and the gradient of every
floating input for a random output gradient (through every floating output).

A case is ``(id, ember_fn, torch_fn, specs)``; a spec is ``(shape, domain)`` for a float
input that requires grad, or a callable ``rng -> array`` for a constant input (indices,
masks), given to both as a tensor that does not require grad.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close

_DOMAINS = {
    "pos": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),
    "prob": lambda rng, shape: rng.uniform(0.05, 0.95, shape),
    "gt1": lambda rng, shape: rng.uniform(1.2, 3.0, shape),
    # no ties, so sorting and extremes have one answer
    "distinct": lambda rng, shape: rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1,
    "spd": lambda rng, shape: _spd(rng, shape),
}


def _spd(rng, shape):
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def values(rng, shape, domain=None):
    if domain is None:
        return rng.standard_normal(shape)
    return _DOMAINS[domain](rng, shape)


def inputs(torch, rng, specs):
    ours, theirs = [], []
    for spec in specs:
        if callable(spec):
            a = np.asarray(spec(rng))
            ours.append(em.tensor(a))
            theirs.append(torch.tensor(a))
        else:
            a = values(rng, *spec)
            ours.append(em.tensor(a, dtype=em.float64, requires_grad=True))
            theirs.append(torch.tensor(a, dtype=torch.float64, requires_grad=True))
    return ours, theirs


def flat_outputs(out) -> list:
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in flat_outputs(item)]
    return [out]


def dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "")


def compare(torch, rng, name, ours, theirs, specs, rtol=1e-9, atol=1e-9):
    """Outputs, dtypes and gradients of ``ours`` equal those of ``theirs``."""
    xs, ts = inputs(torch, rng, specs)
    ys, tys = flat_outputs(ours(*xs)), flat_outputs(theirs(*ts))
    assert len(ys) == len(tys), f"{name}: {len(ys)} outputs, PyTorch gives {len(tys)}"
    for i, (y, ty) in enumerate(zip(ys, tys, strict=True)):
        if not hasattr(ty, "dtype"):  # a Python number (allclose, item)
            assert y == ty, f"{name} output {i}: {y} != {ty}"
            continue
        assert_close(y, ty, rtol=rtol, atol=atol, name=f"{name} output {i}")
        assert dtype_name(y) == dtype_name(ty), f"{name} output {i}: dtype {y.dtype} != {ty.dtype}"
    graded = [(y, ty) for y, ty in zip(ys, tys, strict=True)
              if hasattr(ty, "requires_grad") and ty.requires_grad]
    if not graded:
        return
    ember_loss, torch_loss = 0, 0
    for y, ty in graded:
        g = rng.standard_normal(tuple(ty.shape))
        ember_loss = ember_loss + (y * em.tensor(g)).sum()
        torch_loss = torch_loss + (ty * torch.tensor(g)).sum()
    ember_loss.backward()
    torch_loss.backward()
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        if t.requires_grad:
            expected = torch.zeros_like(t)  # (+ grad: PyTorch may give a ZeroTensor)
            if t.grad is not None:
                expected = expected + t.grad
            got = x.grad if x.grad is not None else em.zeros_like(x)
            assert_close(got, expected, rtol=rtol, atol=atol, name=f"{name} gradient {i}")


def ids(cases) -> list:
    return [c[0] for c in cases]


def raises_as_pytorch(torch, error, call) -> None:
    """``call(torch)`` and ``call(ember)`` both raise ``error`` (PyTorch's error type)."""
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(em)
