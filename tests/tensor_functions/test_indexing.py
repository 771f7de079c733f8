"""Indexing against PyTorch in float64: ``x[key]`` in PyTorch's dimension order (values
and gradients) and ``x[key] = v``; gather/scatter (every reduction, with ties and
zeros), the index_* family, masks, take and take_along_dim; and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from op_parity import compare, ids, raises_as_pytorch

import ember as em

# keys built for either library: m is ember or torch
KEYS = [
    ("int_slice_tensor", lambda m: (1, slice(None), m.tensor([0, 2, 2]))),
    ("issue_example", lambda m: (1, slice(None), slice(3, 11, 2), m.tensor([0, 4, 4]),
                                 slice(0, 2))),
    ("tensor_int", lambda m: (m.tensor([1, 0]), 1)),
    ("tensor_slice_int", lambda m: (m.tensor([1, 0]), slice(None), 1)),
    ("separated_tensors", lambda m: (m.tensor([0, 1]), slice(None), m.tensor([1, 3]))),
    ("adjacent_tensors", lambda m: (slice(None), m.tensor([0, 1]), m.tensor([1, 3]))),
    ("broadcast_tensors", lambda m: (m.tensor([[0], [1]]), 1, m.tensor([0, 2, 3]))),
    ("none_int_tensor", lambda m: (None, 1, m.tensor([2, 0]))),
    ("ellipsis_tensor_int", lambda m: (Ellipsis, m.tensor([1, 1]), 0)),
    ("ellipsis_tensors", lambda m: (m.tensor([0, 1]), Ellipsis, m.tensor([3, 0]))),
    ("zero_dim_tensor_int", lambda m: (m.tensor(1), slice(None), m.tensor([0, 2]))),
    ("bool_mask_after_int", lambda m: (1, m.tensor([[True, False, True, False],
                                                    [False, True, True, False],
                                                    [True, True, False, False]]))),
    ("list_index", lambda m: ([0, 1, 1],)),
    ("negative_indices", lambda m: (-1, slice(None), m.tensor([-1, 0]))),
]


def _shape(name):
    return (2, 3, 12, 5, 4) if name == "issue_example" else (2, 3, 4)


@pytest.mark.parametrize("name,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_matches_pytorch(torch, rng, name, key):
    compare(torch, rng, name, lambda a: a[key(em)], lambda a: a[key(torch)],
            [(_shape(name), None)])


@pytest.mark.parametrize("name,key", KEYS, ids=[k[0] for k in KEYS])
def test_setitem_matches_pytorch(torch, rng, name, key):
    a = rng.standard_normal(_shape(name))
    x, t = em.tensor(a), torch.tensor(a)
    shape = tuple(t[key(torch)].shape)
    value = rng.standard_normal(shape[1:])  # broadcast over the first dimension
    x[key(em)] = em.tensor(value)
    t[key(torch)] = torch.tensor(value)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def idx(*values):
    return lambda rng: np.array(values)


def index_like(shape, high):
    return lambda rng: rng.integers(0, high, shape)


CASES = [
    ("gather", lambda a, i: a.gather(1, i), None, [((3, 4), None), index_like((3, 2), 4)]),
    ("gather_smaller_index", lambda a, i: em.gather(a, 0, i), lambda a, i: a.gather(0, i),
     [((4, 5), None), index_like((2, 3), 4)]),
    ("gather_3d", lambda a, i: a.gather(2, i), None,
     [((2, 3, 4), None), index_like((1, 2, 6), 4)]),
    ("scatter", lambda a, i, s: a.scatter(1, i, s), None,
     [((3, 5), None), lambda rng: np.array([[0, 2], [4, 1], [3, 3]]), ((3, 2), None)]),
    ("scatter_value", lambda a, i: em.scatter(a, 0, i, 1.5), lambda a, i: a.scatter(0, i, 1.5),
     [((3, 4), None), lambda rng: np.array([[0, 1, 2, 0]])]),
    ("scatter_add", lambda a, i, s: a.scatter_add(0, i, s), None,
     [((3, 4), None), index_like((5, 2), 3), ((5, 2), None)]),
    ("index_select", lambda a, i: em.index_select(a, 1, i), lambda a, i: a.index_select(1, i),
     [((3, 4), None), idx(3, 0, 3, 1)]),
    ("index_select_scalar_index", lambda a, i: a.index_select(0, i), None,
     [((3, 4), None), lambda rng: np.array(2)]),
    ("index_add", lambda a, i, s: a.index_add(0, i, s, alpha=2.0),
     lambda a, i, s: a.index_add(0, i, s, alpha=2.0), [((4, 3), None), idx(1, 3, 1),
                                                        ((3, 3), None)]),
    ("index_copy", lambda a, i, s: a.index_copy(1, i, s), None,
     [((3, 4), None), idx(2, 0), ((3, 2), None)]),
    ("index_fill_tensor_value", lambda a, v: a.index_fill(1, em.tensor([0, 2]), v.sum()),
     lambda a, v: a.index_fill(1, __import__("torch").tensor([0, 2]), v.sum()),
     [((3, 4), None), ((2,), None)]),
    ("index_fill_number", lambda a, i: em.index_fill(a, 0, i, -1.0),
     lambda a, i: a.index_fill(0, i, -1.0), [((3, 4), None), idx(2)]),
    ("index_put_accumulate",
     lambda a, i, j, v: a.index_put((i, j), v, accumulate=True),
     lambda a, i, j, v: a.index_put((i, j), v, accumulate=True),
     [((3, 4), None), idx(0, 2, 0), idx(1, 3, 1), ((3,), None)]),
    ("index_put_replace", lambda a, i, v: a.index_put((i,), v),
     lambda a, i, v: a.index_put((i,), v), [((3, 4), None), idx(2, 0), ((4,), None)]),
    ("put", lambda a, i, s: a.put(i, s), lambda a, i, s: a.put(i, s),
     [((3, 4), None), idx(0, 11, 5), ((3,), None)]),
    ("put_accumulate", lambda a, i, s: a.put(i, s, accumulate=True),
     lambda a, i, s: a.put(i, s, accumulate=True), [((2, 3), None), idx(1, 1, 4), ((3,), None)]),
    ("masked_select_broadcast", lambda a, m: em.masked_select(a, m),
     lambda a, m: a.masked_select(m), [((3, 4), None), lambda rng: rng.random(4) > 0.5]),
    ("masked_fill", lambda a, m: a.masked_fill(m, -2.0), None,
     [((3, 4), None), lambda rng: rng.random((3, 4)) > 0.5]),
    ("masked_fill_tensor_value", lambda a, v, m: a.masked_fill(m, v.sum()),
     lambda a, v, m: a.masked_fill(m, v.sum()),
     [((3, 4), None), ((2,), None), lambda rng: rng.random((1, 4)) > 0.5]),
    ("masked_scatter", lambda a, m, s: a.masked_scatter(m, s), None,
     [((3, 4), None), lambda rng: np.arange(12).reshape(3, 4) % 3 == 0, ((2, 5), None)]),
    ("take", lambda a, i: em.take(a, i), lambda a, i: a.take(i),
     [((3, 4), None), lambda rng: np.array([[0, 11], [-1, 5]])]),
    ("take_along_dim", lambda a, i: a.take_along_dim(i, 1), None,
     [((3, 4), None), index_like((3, 2), 4)]),
    ("take_along_dim_broadcast", lambda a, i: em.take_along_dim(a, i, 0),
     lambda a, i: a.take_along_dim(i, 0), [((4, 1), None), index_like((2, 3), 4)]),
    ("take_along_dim_flat", lambda a, i: em.take_along_dim(a, i),
     lambda a, i: a.take_along_dim(i), [((3, 4), None), index_like((5,), 12)]),
    ("take_along_dim_sorts", lambda a: a.take_along_dim(a.argsort(1), 1),
     lambda a: a.take_along_dim(a.argsort(1), 1), [((3, 4), "distinct")]),
    ("select", lambda a: a.select(1, -1), None, [((3, 4), None)]),
    ("where_tensor", lambda a, b: em.where(a > 0, a, b), lambda a, b: a.where(a > 0, b),
     [((3, 4), None), ((4,), None)]),
    ("where_method", lambda a, b: a.where(a > 0, b), lambda a, b: a.where(a > 0, b),
     [((3, 4), None), ((4,), None)]),
    ("where_scalar_branch", lambda a: em.where(a > 0, a, 0.0),
     lambda a: __import__("torch").where(a > 0, a, 0.0), [((3, 4), None)]),
]


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, theirs or ours, specs)


# The data of a scatter_reduce with ties (amax/amin) and zeros (prod) at shared places.
SELF = np.array([[1.0, 0.0, 2.0, 3.0], [2.0, 0.0, 0.0, 1.0]])
SRC = np.array([[2.0, 3.0, 0.0, 5.0], [1.0, 4.0, 2.0, 0.0]])
INDEX = np.array([[0, 0, 1, 1], [1, 2, 2, 3]])


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reads_the_leading_block_of_a_larger_src(torch):
    """PyTorch reads only index.shape of src (forward; its backward refuses a larger
    src, ember's gives the unread elements a zero gradient)."""
    a, src, index = np.zeros((3, 4)), np.arange(12.0).reshape(3, 4), np.array([[0, 2],
                                                                             [3, 1]])
    for name in ("scatter", "scatter_add"):
        ours = getattr(em.tensor(a), name)(1, em.tensor(index), em.tensor(src))
        theirs = getattr(torch.tensor(a), name)(1, torch.tensor(index), torch.tensor(src))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for reduce in ("add", "multiply"):
        theirs = torch.tensor(a + 1).scatter(1, torch.tensor(index), torch.tensor(src),
                                             reduce=reduce)
        ours = em.tensor(a + 1).scatter(1, em.tensor(index), em.tensor(src), reduce=reduce)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce(torch, rng, reduce, include_self):
    """As PyTorch's, except one of its quirks: without include_self PyTorch still counts
    input's own value among the ties that share the gradient of amax/amin (then gives
    input none of it, so the gradients do not add up); ember shares it among the
    scattered values only. SRC's element (0, 2) is such a tie for amin."""
    x, s = em.tensor(SELF, requires_grad=True), em.tensor(SRC, requires_grad=True)
    tx, ts = torch.tensor(SELF, requires_grad=True), torch.tensor(SRC, requires_grad=True)
    y = x.scatter_reduce(1, em.tensor(INDEX), s, reduce, include_self=include_self)
    ty = tx.scatter_reduce(1, torch.tensor(INDEX), ts, reduce, include_self=include_self)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(SELF.shape)
    y.backward(em.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    expected = ts.grad.numpy().copy()
    if reduce == "amin" and not include_self:
        assert expected[0, 2] == g[0, 1] / 2  # PyTorch's quirk
        expected[0, 2] = g[0, 1]  # the only scattered value equal to the minimum
    np.testing.assert_allclose(s.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_scatter_reduce_mean_of_integers_floors(torch):
    a, src, index = np.array([5, 1, 2]), np.array([2, 2, 7]), np.array([0, 0, 2])
    y = em.tensor(a).scatter_reduce(0, em.tensor(index), em.tensor(src), "mean")
    ty = torch.tensor(a).scatter_reduce(0, torch.tensor(index), torch.tensor(src), "mean")
    assert y.tolist() == ty.tolist() and y.dtype == em.int64


def test_nonzero_argwhere_and_single_argument_where(torch):
    a = np.array([[0, 1, 0], [2, 0, 3]])
    x, t = em.tensor(a), torch.tensor(a)
    assert em.nonzero(x).tolist() == torch.nonzero(t).tolist()
    assert em.argwhere(x).tolist() == torch.argwhere(t).tolist()
    assert [i.tolist() for i in x.nonzero(as_tuple=True)] == \
        [i.tolist() for i in t.nonzero(as_tuple=True)]
    assert [i.tolist() for i in em.where(x > 0)] == [i.tolist() for i in torch.where(t > 0)]


def test_results_are_contiguous_as_in_pytorch():
    x = em.arange(24.0).reshape(2, 3, 4)
    assert x[:, [0, 2]].is_contiguous() and x[..., em.tensor([1, 0])].is_contiguous()
    assert x.gather(2, em.zeros(2, 3, 1, dtype=em.int64)).is_contiguous()


ERRORS = [
    ("gather_out_of_bounds", RuntimeError,
     lambda m: m.zeros(2, 3).gather(1, m.tensor([[0, 3], [0, 0]]))),
    ("gather_wrong_ndim", RuntimeError, lambda m: m.zeros(2, 3).gather(1, m.tensor([0]))),
    ("gather_index_too_large", RuntimeError,
     lambda m: m.zeros(2, 3).gather(1, m.zeros(3, 1, dtype=m.int64))),
    ("gather_float_index", RuntimeError, lambda m: m.zeros(2, 3).gather(1, m.zeros(2, 1))),
    ("scatter_dtype_mismatch", RuntimeError,
     lambda m: m.zeros(2, 3, dtype=m.float32).scatter(1, m.zeros(2, 1, dtype=m.int64),
                                     m.ones(2, 1, dtype=m.float64))),
    ("scatter_reduce_unknown", RuntimeError,
     lambda m: m.zeros(3).scatter_reduce(0, m.tensor([0]), m.ones(1), "maximum")),
    ("index_select_out_of_range", IndexError,
     lambda m: m.zeros(2, 3).index_select(0, m.tensor([2]))),
    ("index_select_matrix_index", IndexError,
     lambda m: m.zeros(2, 3).index_select(0, m.tensor([[0]]))),
    ("index_add_wrong_source", RuntimeError,
     lambda m: m.zeros(2, 3).index_add(0, m.tensor([0]), m.ones(2, 3))),
    ("masked_fill_float_mask", RuntimeError,
     lambda m: m.zeros(2, 3).masked_fill(m.ones(2, 3), 1.0)),
    ("masked_fill_vector_value", RuntimeError,
     lambda m: m.zeros(2, 3).masked_fill(m.ones(2, 3) > 0, m.ones(3))),
    ("getitem_out_of_bounds", IndexError, lambda m: m.zeros(2, 3)[m.tensor([0, 2])]),
    ("take_out_of_range", IndexError, lambda m: m.zeros(2, 3).take(m.tensor([6]))),
    ("select_out_of_range", IndexError, lambda m: m.zeros(2, 3).select(1, 3)),
]


@pytest.mark.parametrize("name,error,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_as_pytorch(torch, name, error, call):
    raises_as_pytorch(torch, error, call)
