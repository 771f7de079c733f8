"""cumsum, cumprod (gradient with zeros), cummax/cummin (ties, NaN), logcumsumexp (no
overflow) and diff against PyTorch in float64, with gradcheck for the scan primitives."""

from __future__ import annotations

import numpy as np
import pytest
from op_parity import compare, ids, values

import ember as em
from ember.testing import gradcheck


def _ties(rng):
    return rng.integers(0, 3, (3, 5)).astype(np.float64)


CASES = [
    ("cumsum", lambda a: em.cumsum(a, 1), lambda a: a.cumsum(1), [((3, 4), None)]),
    ("cumsum_dim0_method", lambda a: a.cumsum(dim=0), lambda a: a.cumsum(dim=0),
     [((3, 4, 2), None)]),
    ("cumprod", lambda a: em.cumprod(a, -1), lambda a: a.cumprod(-1), [((3, 5), None)]),
    ("cummax", lambda a: em.cummax(a, 1), lambda a: a.cummax(1), [((3, 6), "distinct")]),
    ("cummin", lambda a: a.cummin(0), lambda a: a.cummin(0), [((5, 2), "distinct")]),
    ("logcumsumexp", lambda a: em.logcumsumexp(a, 1), lambda a: a.logcumsumexp(1),
     [((3, 5), None)]),
    ("logcumsumexp_dim0", lambda a: a.logcumsumexp(0), lambda a: a.logcumsumexp(0),
     [((4, 2), None)]),
    ("diff", lambda a: em.diff(a), lambda a: a.diff(), [((3, 5), None)]),
    ("diff_n2_dim0", lambda a: em.diff(a, 2, 0), lambda a: a.diff(2, 0), [((5, 3), None)]),
    ("diff_prepend_append", lambda a, b: em.diff(a, prepend=b, append=b),
     lambda a, b: a.diff(prepend=b, append=b), [((2, 4), None), ((2, 1), None)]),
]


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, theirs, specs)


@pytest.mark.parametrize("zeros", [[], [2], [1, 3], [0], [4]], ids=["none", "one", "two",
                                                                  "first", "last"])
def test_cumprod_gradient_with_zeros(torch, rng, zeros):
    a = rng.uniform(0.5, 2.0, (2, 5)) * rng.choice([-1, 1], (2, 5))
    a[0, zeros] = 0.0
    x, t = em.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.cumprod(1), t.cumprod(1)
    g = rng.standard_normal((2, 5))
    y.backward(em.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cummax_cummin_ties_and_nan(torch, rng):
    data = [_ties(rng), np.array([[1.0, np.nan, 0.0, np.nan, 5.0]])]
    for a in data:
        for name in ("cummax", "cummin"):
            x, t = em.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
            (v, i), (tv, ti) = getattr(x, name)(1), getattr(t, name)(1)
            np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
            assert i.dtype == em.int64 and i.tolist() == ti.tolist()
            v.backward(em.ones_like(v))
            tv.backward(torch.ones_like(tv))
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_logcumsumexp_does_not_overflow(torch):
    a = np.array([-1000.0, 0.0, 1000.0, 999.0, -np.inf])
    x, t = em.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = em.logcumsumexp(x, 0), torch.logcumsumexp(t, 0)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = np.array([1.0, -2.0, 0.5, 3.0, 1.0])
    y.backward(em.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-300)


def test_integer_and_bool_scans_accumulate_in_int64(torch):
    for a in (np.array([1, 2, 3], dtype=np.int32), np.array([True, False, True])):
        for name in ("cumsum", "cumprod"):
            y, ty = getattr(em, name)(em.tensor(a), 0), getattr(torch, name)(torch.tensor(a), 0)
            assert y.dtype == em.int64 and y.tolist() == ty.tolist()
    y = em.cumsum(em.tensor([1, 2]), 0, dtype=em.float64)
    assert y.dtype == em.float64


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
def test_gradcheck(rng, name):
    x = em.tensor(values(rng, (3, 4)), dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda a: getattr(em, name)(a, 1), (x,))


def test_zero_dimensional_inputs(torch):
    x = em.tensor(2.0)
    assert em.cumsum(x, 0).item() == 2.0 and em.cumprod(x, -1).item() == 2.0
    assert em.cummax(x, 0).indices.item() == 0
