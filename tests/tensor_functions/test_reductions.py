"""prod (with zeros), std_mean/var_mean, nansum/nanmean, count_nonzero and aminmax
against PyTorch in float64, and the degenerate shapes: zero-size tensors through
reductions and matmul (with gradients), and the variance of one element."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from op_parity import compare, ids

import ember as em


def zeros_at(*places):
    """Values with zeros at the given flat places (for prod's gradient)."""
    def make(rng, shape, places=places):
        a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)
        a.reshape(-1)[list(places)] = 0.0
        return a
    return make


CASES = [
    ("prod_all", lambda a: a.prod(), None, [((3, 4), "pos")]),
    ("prod_dim", lambda a: em.prod(a, 1), lambda a: a.prod(1), [((3, 4), None)]),
    ("prod_dim_keepdim", lambda a: a.prod(-1, keepdim=True), lambda a: a.prod(-1, keepdim=True),
     [((2, 3, 4), None)]),
    ("std_mean", lambda a: em.std_mean(a, 1), lambda a: __import__("torch").std_mean(a, 1),
     [((3, 5), None)]),
    ("var_mean_keepdim", lambda a: em.var_mean(a, (0, 2), correction=0, keepdim=True),
     lambda a: __import__("torch").var_mean(a, (0, 2), correction=0, keepdim=True),
     [((2, 3, 4), None)]),
    ("std_mean_all_unbiased", lambda a: em.std_mean(a, unbiased=False),
     lambda a: __import__("torch").std_mean(a, unbiased=False), [((4, 3), None)]),
    ("aminmax", lambda a: em.aminmax(a), lambda a: __import__("torch").aminmax(a),
     [((3, 4), "distinct")]),
    ("aminmax_dim", lambda a: em.aminmax(a, dim=1, keepdim=True),
     lambda a: __import__("torch").aminmax(a, dim=1, keepdim=True), [((3, 4), "distinct")]),
]


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, theirs or ours, specs)


@pytest.mark.parametrize("places", [(), (5,), (1, 6), (2, 3)], ids=["none", "one", "two",
                                                                    "same_row"])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_zeros(torch, rng, places, dim):
    a = zeros_at(*places)(rng, (3, 4))
    x, t = em.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = x.prod() if dim is None else x.prod(dim)
    ty = t.prod() if dim is None else t.prod(dim)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(em.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_prod_of_integers_is_int64(torch):
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    assert em.prod(em.tensor(x)).dtype == em.int64
    assert em.tensor(x).prod(0).tolist() == torch.tensor(x).prod(0).tolist()
    assert em.prod(em.tensor(x), dtype=em.float64).dtype == em.float64


def test_nan_ignoring_reductions(torch):
    a = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan], [3.0, 4.0, -1.0]])
    for name, kwargs in [("nansum", {}), ("nansum", {"dim": 1}), ("nanmean", {}),
                         ("nanmean", {"dim": 0, "keepdim": True})]:
        x, t = em.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = getattr(em, name)(x, **kwargs), getattr(torch, name)(t, **kwargs)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_count_nonzero(torch):
    a = np.array([[0, 1, 2], [0, 0, 3]])
    for dim in (None, 0, (0, 1)):
        y = em.count_nonzero(em.tensor(a), dim)
        ty = torch.count_nonzero(torch.tensor(a), dim)
        assert y.dtype == em.int64 and y.tolist() == ty.tolist()


# ----------------------------------------------------------------------------- degenerate shapes

EMPTY = [
    ("sum", lambda a: a.sum()), ("sum_dim0", lambda a: a.sum(0)),
    ("sum_dim1", lambda a: a.sum(1)), ("mean", lambda a: a.mean()),
    ("mean_dim0", lambda a: a.mean(0)), ("prod", lambda a: a.prod()),
    ("prod_dim0", lambda a: a.prod(0)), ("amax_dim1", lambda a: a.amax(1)),
    ("max_dim1", lambda a: a.max(1).values), ("logsumexp_dim0", lambda a: a.logsumexp(0)),
    ("var_dim0", lambda a: a.var(0)), ("softmax_dim0", lambda a: a.softmax(0)),
    ("norm", lambda a: a.norm()), ("cumsum", lambda a: a.cumsum(0)),
    ("matmul_inner", lambda a: a.T @ a), ("matmul_outer", lambda a: a @ a.T),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,fn", EMPTY, ids=[c[0] for c in EMPTY])
def test_zero_size_tensors(torch, name, fn):
    x = em.zeros(0, 3, dtype=em.float64, requires_grad=True)
    t = torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warnings leak out
        y, ty = fn(x), fn(t)
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        if y.numel():
            y.sum().backward()
            ty.sum().backward()
            assert x.grad.shape == (0, 3) and t.grad.shape == (0, 3)


def test_zero_size_reduction_errors(torch):
    x = em.zeros(0, 3)
    with pytest.raises(RuntimeError):
        x.max()
    with pytest.raises(IndexError):
        em.median(x, 0)
    with pytest.raises(RuntimeError):
        em.aminmax(x)


def test_matmul_with_empty_inner_dimension_gives_zeros(torch):
    a = em.zeros(2, 0, requires_grad=True)
    b = em.zeros(0, 3, requires_grad=True)
    y = a @ b
    assert y.tolist() == [[0.0] * 3] * 2
    y.sum().backward()
    assert a.grad.shape == (2, 0) and b.grad.shape == (0, 3)


@pytest.mark.parametrize("op", ["var", "std"])
def test_spread_of_one_element_is_nan_with_a_warning(torch, op):
    x = em.tensor([[2.0], [3.0]], dtype=em.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        y = getattr(x, op)(1)
    t = torch.tensor([[2.0], [3.0]], requires_grad=True)
    with pytest.warns(UserWarning):
        ty = getattr(t, op)(1)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
