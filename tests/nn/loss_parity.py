"""Shared by the loss tests: run a loss in ember and in PyTorch (float64), compare the
forward values and the gradients of the chosen arguments."""

from __future__ import annotations

import numpy as np

import ember as em
from ember.testing import assert_close

RTOL, ATOL = 1e-7, 1e-9  # tighter than the team's 1e-6


def pair(torch, value, requires_grad: bool = False):
    """The same values as an ember and a PyTorch tensor: int64 for integer arrays,
    float64 otherwise."""
    value = np.asarray(value)
    if value.dtype.kind in "iu":
        return em.tensor(value, dtype=em.int64), torch.tensor(value, dtype=torch.int64)
    return (em.tensor(value, dtype=em.float64, requires_grad=requires_grad),
            torch.tensor(value, dtype=torch.float64, requires_grad=requires_grad))


def check_against_torch(torch, rng, ours, theirs, args, grads=(0,), name: str = "loss",
                        rtol: float = RTOL, atol: float = ATOL):
    """``ours(*args)`` equals ``theirs(*args)`` in value and in the gradient of each
    argument listed in ``grads`` (backpropagating a random cotangent)."""
    pairs = [pair(torch, a, i in grads) for i, a in enumerate(args)]
    y = ours(*(p[0] for p in pairs))
    ty = theirs(*(p[1] for p in pairs))
    assert tuple(y.shape) == tuple(ty.shape), f"{name}: shape {y.shape} != {tuple(ty.shape)}"
    assert y.dtype == em.float64, f"{name}: dtype {y.dtype}"
    assert_close(y, ty.detach(), rtol=rtol, atol=atol, name=f"{name} forward")
    cotangent = rng.uniform(0.5, 1.5, tuple(ty.shape))
    y.backward(em.tensor(cotangent, dtype=em.float64))
    ty.backward(torch.tensor(cotangent, dtype=torch.float64))
    for i in grads:
        ours_grad, theirs_grad = pairs[i][0].grad, pairs[i][1].grad
        assert ours_grad is not None, f"{name}: argument {i} got no gradient"
        assert theirs_grad is not None, f"{name}: PyTorch gave argument {i} no gradient"
        assert_close(ours_grad, theirs_grad, rtol=rtol, atol=atol,
                     name=f"{name} gradient of argument {i}")
    return y
