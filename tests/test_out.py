"""out=: the result written into an existing tensor, with PyTorch's dtype, resize and
autograd rules."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember as em
from ember.out import FUNCTIONS
from ember.testing import assert_close

A = np.array([[0.5, -1.2, 2.0], [0.3, 0.9, -0.4]])
B = np.array([[1.5, 0.7, -0.2], [2.0, -1.0, 0.6]])

CALLS = [
    ("add", lambda fw, a, b: dict(input=a, other=b, alpha=2)),
    ("sub", lambda fw, a, b: dict(input=a, other=b)),
    ("mul", lambda fw, a, b: dict(input=a, other=2.5)),
    ("div", lambda fw, a, b: dict(input=a, other=b)),
    ("pow", lambda fw, a, b: dict(input=a, exponent=2)),
    ("exp", lambda fw, a, b: ((a,), {})),
    ("abs", lambda fw, a, b: ((a,), {})),
    ("neg", lambda fw, a, b: ((a,), {})),
    ("tanh", lambda fw, a, b: ((a,), {})),
    ("sigmoid", lambda fw, a, b: ((a,), {})),
    ("clamp", lambda fw, a, b: dict(input=a, min=-0.5, max=0.5)),
    ("maximum", lambda fw, a, b: ((a, b), {})),
    ("matmul", lambda fw, a, b: dict(input=a, other=b.T)),
    ("mm", lambda fw, a, b: dict(input=a, mat2=b.T)),
    ("sum", lambda fw, a, b: dict(input=a, dim=1)),
    ("mean", lambda fw, a, b: dict(input=a, dim=0, keepdim=True)),
    ("amax", lambda fw, a, b: dict(input=a, dim=1)),
    ("logsumexp", lambda fw, a, b: dict(input=a, dim=1)),
    ("eq", lambda fw, a, b: ((a, b), {})),
    ("cat", lambda fw, a, b: dict(tensors=[a, b], dim=1)),
    ("stack", lambda fw, a, b: dict(tensors=[a, b])),
    ("where", lambda fw, a, b: dict(condition=a > 0, input=a, other=b)),
    ("prod", lambda fw, a, b: dict(input=a, dim=1)),
    ("cumsum", lambda fw, a, b: dict(input=a, dim=1)),
    ("tan", lambda fw, a, b: ((a,), {})),
    ("bmm", lambda fw, a, b: ((a[None], b.T[None]), {})),
]


def _arguments(spec):
    return spec if isinstance(spec, tuple) else ((), spec)


def _tensors(fw):
    return fw.tensor(A, dtype=fw.float64), fw.tensor(B, dtype=fw.float64)


@pytest.mark.parametrize("name, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_out_matches_pytorch(torch, name, kwargs):
    results = []
    for fw in (torch, em):
        args, named = _arguments(kwargs(fw, *_tensors(fw)))
        expected = getattr(fw, name)(*args, **named)
        out = fw.empty(0, dtype=expected.dtype)
        returned = getattr(fw, name)(*args, **named, out=out)
        assert returned is out
        results.append(out)
    assert_close(results[1], results[0], rtol=1e-12, atol=1e-12)
    assert str(results[1].dtype) == str(results[0].dtype).replace("torch.", "")


def test_out_with_two_results(torch):
    results = []
    for fw in (torch, em):
        values, indices = fw.empty(0, dtype=fw.float64), fw.empty(0, dtype=fw.int64)
        returned = fw.max(fw.tensor(A, dtype=fw.float64), 1, out=(values, indices))
        assert returned.values is values and returned[1] is indices
        results.append((values.tolist(), indices.tolist()))
    assert results[0] == results[1]


def test_out_keeps_its_dtype_and_refuses_unsafe_casts(torch):
    for fw in (torch, em):
        out = fw.zeros(2, dtype=fw.float32)
        fw.add(fw.tensor([1, 2]), fw.tensor([3, 4]), out=out)  # int result into float32
        assert out.dtype == fw.float32 and out.tolist() == [4.0, 6.0]
        with pytest.raises(RuntimeError, match="can't be cast"):
            fw.add(fw.tensor([1.5]), 1.0, out=fw.zeros(1, dtype=fw.int64))
        with pytest.raises(RuntimeError):
            fw.add(fw.tensor([1]), 1, out=fw.zeros(1, dtype=fw.bool))


def test_out_is_resized_with_a_warning_unless_empty(torch):
    for fw in (torch, em):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            empty = fw.empty(0)
            fw.mul(fw.ones(2, 3), 2.0, out=empty)  # an empty out is resized silently
            assert tuple(empty.shape) == (2, 3)
        with pytest.warns(UserWarning, match="resized"):
            wrong = fw.zeros(5)
            fw.mul(fw.ones(2, 3), 2.0, out=wrong)
        assert tuple(wrong.shape) == (2, 3)


def test_out_refuses_arguments_that_require_grad(torch):
    for fw in (torch, em):
        x = fw.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="out=.*automatic differentiation"):
            fw.exp(x, out=fw.empty(2))
        with fw.no_grad():
            assert fw.exp(x, out=fw.empty(2)).requires_grad is False


def test_out_may_alias_an_input():
    x = em.tensor([1.0, 2.0])
    em.add(x, x, out=x)
    assert x.tolist() == [2.0, 4.0]


def test_every_function_given_out_takes_it_in_pytorch(torch):
    import inspect

    for name in FUNCTIONS:
        if hasattr(em, name):
            assert hasattr(torch, name), name
            assert hasattr(getattr(em, name), "without_out"), name
            doc = getattr(torch, name).__doc__
            assert doc is None or "out" in doc or name in ("concat", "concatenate", "clip",
                                                           "negative"), name
    assert "out" not in inspect.signature(em.Tensor.add).parameters  # methods take no out=
