"""sort, argsort, topk, kthvalue, median, nanmedian, mode, unique, unique_consecutive,
searchsorted, bucketize, bincount and histc against PyTorch: values, indices (PyTorch's
tie-breaking), dtypes and the gradients of the selected values."""

from __future__ import annotations

import numpy as np
import pytest
from op_parity import compare, ids

import ember as em


def ties(shape, high=3):
    """Integer-valued floats with many ties (for the tie-breaking rules)."""
    return lambda rng: rng.integers(0, high, shape).astype(np.float64)


CASES = [
    ("sort", lambda a: em.sort(a), lambda a: a.sort(), [((3, 5), "distinct")]),
    ("sort_dim0_descending", lambda a: a.sort(0, descending=True),
     lambda a: a.sort(0, descending=True), [((4, 3), "distinct")]),
    ("argsort", lambda a: em.argsort(a, 1), lambda a: a.argsort(1), [((3, 5), "distinct")]),
    ("msort", em.msort, lambda a: __import__("torch").msort(a), [((4, 3), "distinct")]),
    ("topk", lambda a: em.topk(a, 2), lambda a: a.topk(2), [((3, 5), "distinct")]),
    ("topk_smallest_dim0", lambda a: a.topk(3, dim=0, largest=False),
     lambda a: a.topk(3, dim=0, largest=False), [((5, 2), "distinct")]),
    ("kthvalue", lambda a: em.kthvalue(a, 2, 1), lambda a: a.kthvalue(2, 1),
     [((3, 5), "distinct")]),
    ("kthvalue_keepdim", lambda a: a.kthvalue(1, 0, keepdim=True),
     lambda a: a.kthvalue(1, 0, keepdim=True), [((3, 5), "distinct")]),
    ("median_all", lambda a: em.median(a), lambda a: a.median(), [((3, 4), "distinct")]),
    ("median_dim", lambda a: a.median(1), lambda a: a.median(1), [((3, 4), "distinct")]),
    ("median_dim_odd_keepdim", lambda a: em.median(a, 0, keepdim=True),
     lambda a: a.median(0, keepdim=True), [((5, 2), "distinct")]),
    ("nanmedian_dim", lambda a: em.nanmedian(a, 1), lambda a: a.nanmedian(1),
     [((3, 4), "distinct")]),
    ("mode", lambda a: em.mode(a * 0 + a.round()), lambda a: (a * 0 + a.round()).mode(),
     [((3, 6), None)]),
]


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, theirs, specs)


TIES = [
    ("sort_stable", lambda m, x: m.sort(x, stable=True)),
    ("sort_descending_stable", lambda m, x: m.sort(x, descending=True, stable=True)),
    ("argsort_descending", lambda m, x: m.argsort(x, descending=True, stable=True)),
    ("median", lambda m, x: m.median(x, 1)),
    ("mode", lambda m, x: m.mode(x, 1)),
    ("mode_dim0", lambda m, x: m.mode(x, 0)),
]


@pytest.mark.parametrize("name,call", TIES, ids=[c[0] for c in TIES])
def test_tie_breaking_as_pytorch(torch, rng, name, call):
    a = ties((4, 7))(rng)
    ours, theirs = call(em, em.tensor(a)), call(torch, torch.tensor(a))
    for o, t in zip(ours if isinstance(ours, tuple) else (ours,),
                    theirs if isinstance(theirs, tuple) else (theirs,), strict=True):
        assert o.tolist() == t.tolist(), name


def test_selections_among_ties_give_pytorch_values(torch, rng):
    """PyTorch's topk and kthvalue pick among equal values by their selection algorithm
    (documented as unspecified); ember takes the first in stable order. Values agree."""
    a = ties((4, 7))(rng)
    for call in (lambda m, x: m.topk(x, 3), lambda m, x: m.topk(x, 3, largest=False),
                 lambda m, x: m.kthvalue(x, 3)):
        ours, theirs = call(em, em.tensor(a)), call(torch, torch.tensor(a))
        assert ours.values.tolist() == theirs.values.tolist()
        picked = np.take_along_axis(a, np.asarray(ours.indices.tolist()).reshape(
            ours.values.shape[0], -1), axis=1)
        assert picked.reshape(ours.values.shape).tolist() == theirs.values.tolist()


def test_nan_sorts_as_largest(torch):
    a = np.array([2.0, np.nan, 1.0, 2.0, np.nan])
    for descending in (False, True):
        s, ts = em.sort(em.tensor(a), descending=descending), torch.tensor(a).sort(
            descending=descending, stable=True)
        np.testing.assert_array_equal(s.values.numpy(), ts.values.numpy())
        assert s.indices.tolist() == ts.indices.tolist()
    rows = np.array([[4.0, np.nan, 3.0, 2.0], [1.0, 2.0, 3.0, 4.0], [np.nan] * 4])
    for name in ("median", "nanmedian"):
        v, i = getattr(em, name)(em.tensor(rows), 1)
        tv, ti = getattr(torch, name)(torch.tensor(rows), 1)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        assert i.tolist()[:2] == ti.tolist()[:2]
    assert np.isnan(em.median(em.tensor(a)).item())
    assert em.nanmedian(em.tensor(a)).item() == torch.nanmedian(torch.tensor(a)).item()


def test_median_of_even_count_is_the_lower_middle(torch):
    a = np.array([4.0, 1.0, 3.0, 2.0])
    assert em.median(em.tensor(a)).item() == torch.median(torch.tensor(a)).item() == 2.0


UNIQUE = [
    ("plain", lambda m, x: m.unique(x)),
    ("inverse_counts", lambda m, x: m.unique(x, return_inverse=True, return_counts=True)),
    ("unsorted_flag", lambda m, x: m.unique(x, sorted=False, return_counts=True)),
    ("dim0", lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True)),
    ("dim1", lambda m, x: m.unique(x, dim=1, return_inverse=True)),
    ("consecutive", lambda m, x: m.unique_consecutive(x)),
    ("consecutive_all", lambda m, x: m.unique_consecutive(x, return_inverse=True,
                                                          return_counts=True)),
    ("consecutive_dim0", lambda m, x: m.unique_consecutive(x, return_inverse=True,
                                                           return_counts=True, dim=0)),
    ("consecutive_dim1", lambda m, x: m.unique_consecutive(x, dim=1)),
]


@pytest.mark.parametrize("name,call", UNIQUE, ids=[c[0] for c in UNIQUE])
def test_unique(torch, name, call):
    a = np.array([[1, 2, 2], [1, 2, 2], [0, 5, 5], [0, 5, 5], [1, 2, 2]])
    ours, theirs = call(em, em.tensor(a)), call(torch, torch.tensor(a))
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for o, t in zip(ours, theirs, strict=True):
        assert o.tolist() == t.tolist() and o.dtype == em.int64
    flat = em.unique(em.tensor([3.0, 1.0, 3.0]))
    assert flat.dtype == em.float32 and flat.tolist() == [1.0, 3.0]


def test_searching_and_counting(torch):
    seq = np.array([1, 3, 5, 7, 9])
    vals = np.array([[3, 6, 9], [0, 10, 5]])
    for kwargs in ({}, {"right": True}, {"side": "right"}, {"out_int32": True}):
        o = em.searchsorted(em.tensor(seq), em.tensor(vals), **kwargs)
        t = torch.searchsorted(torch.tensor(seq), torch.tensor(vals), **kwargs)
        assert o.tolist() == t.tolist() and str(o.dtype) == str(t.dtype)[6:]
    rows = np.array([[1, 3, 5], [2, 4, 6]])
    assert em.searchsorted(em.tensor(rows), em.tensor([[3], [3]])).tolist() == \
        torch.searchsorted(torch.tensor(rows), torch.tensor([[3], [3]])).tolist()
    for right in (False, True):
        assert em.bucketize(em.tensor(vals), em.tensor(seq), right=right).tolist() == \
            torch.bucketize(torch.tensor(vals), torch.tensor(seq), right=right).tolist()
    counts = np.array([0, 1, 1, 4])
    assert em.bincount(em.tensor(counts), minlength=6).tolist() == \
        torch.bincount(torch.tensor(counts), minlength=6).tolist()
    w = np.array([0.5, 1.0, 2.0, 0.25], dtype=np.float32)
    o, t = em.bincount(em.tensor(counts), em.tensor(w)), torch.bincount(torch.tensor(counts),
                                                                        torch.tensor(w))
    assert o.tolist() == t.tolist() and o.dtype == em.float32
    data = np.array([0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 7.0])
    for kwargs in ({"bins": 4}, {"bins": 3, "min": 0, "max": 3}):
        o, t = em.histc(em.tensor(data), **kwargs), torch.histc(torch.tensor(data), **kwargs)
        assert o.tolist() == t.tolist() and o.dtype == em.float64


def test_errors(torch):
    x = em.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError):
        em.topk(x, 4)
    with pytest.raises(IndexError):
        em.kthvalue(x, 0)
    with pytest.raises(RuntimeError):
        em.bincount(em.tensor([-1, 2]))
