"""The sliding-window primitives (``Tensor.unfold``'s view and its adjoint ``fold``):
values against a direct loop, adjointness, and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.ops import windows
from ember.testing import gradcheck

CASES = [(1, 3, 2, 1), (0, 2, 1, 2), (2, 2, 3, 1)]  # axis, size, step, dilation


@pytest.mark.parametrize("axis,size,step,dilation", CASES)
def test_unfold_reads_every_window_and_fold_is_its_adjoint(rng, axis, size, step, dilation):
    a = rng.standard_normal((5, 7, 6))
    out = windows.unfold(em.tensor(a), axis=axis, size=size, step=step, dilation=dilation)
    count = out.shape[axis]
    for i in range(count):
        for k in range(size):
            expected = np.take(a, step * i + dilation * k, axis=axis)
            np.testing.assert_array_equal(np.take(out.numpy()[..., k], i, axis=axis), expected)
    # <unfold(x), y> = <x, fold(y)>
    y = rng.standard_normal(out.shape)
    folded = windows.fold(em.tensor(y), axis=axis, size=size, step=step, dilation=dilation,
                          length=a.shape[axis])
    assert np.isclose((out.numpy() * y).sum(), (a * folded.numpy()).sum())


@pytest.mark.parametrize("axis,size,step,dilation", CASES)
def test_gradcheck(rng, axis, size, step, dilation):
    x = em.tensor(rng.standard_normal((4, 5, 3)), requires_grad=True)
    assert gradcheck(lambda t: windows.unfold(t, axis=axis, size=size, step=step,
                                              dilation=dilation) * 1.0, (x,))
    n = (x.shape[axis] - dilation * (size - 1) - 1) // step + 1
    shape = list(x.shape)
    shape[axis] = n
    y = em.tensor(rng.standard_normal(shape + [size]), requires_grad=True)
    assert gradcheck(lambda t: windows.fold(t, axis=axis, size=size, step=step,
                                            dilation=dilation, length=x.shape[axis]), (y,))
