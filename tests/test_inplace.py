"""In-place ops against PyTorch in float64: the values written, the gradient through
them when recorded, the version counter, and the errors PyTorch raises."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.inplace import METHODS
from ember.testing import assert_close

A = [[0.5, -1.2, 2.0], [0.3, 0.9, -0.4]]
B = [[1.5, 0.7, -0.2], [2.0, -1.0, 0.6]]

# (method, arguments builder taking the framework, needs positive input)
CASES = [
    ("add_", lambda fw: (fw.tensor(B, dtype=fw.float64),), {"alpha": 0.5}),
    ("sub_", lambda fw: (1.5,), {}),
    ("mul_", lambda fw: (fw.tensor(B, dtype=fw.float64),), {}),
    ("div_", lambda fw: (fw.tensor(B, dtype=fw.float64),), {}),
    ("pow_", lambda fw: (2,), {}),
    ("neg_", lambda fw: (), {}),
    ("abs_", lambda fw: (), {}),
    ("exp_", lambda fw: (), {}),
    ("sin_", lambda fw: (), {}),
    ("cos_", lambda fw: (), {}),
    ("tanh_", lambda fw: (), {}),
    ("sigmoid_", lambda fw: (), {}),
    ("relu_", lambda fw: (), {}),
    ("square_", lambda fw: (), {}),
    ("erf_", lambda fw: (), {}),
    ("clamp_", lambda fw: (-0.5, 0.8), {}),
    ("clamp_min_", lambda fw: (0.1,), {}),
    ("clamp_max_", lambda fw: (0.4,), {}),
    ("clip_", lambda fw: (-0.3, 0.3), {}),
    ("masked_fill_", lambda fw: (fw.tensor(A) > 0.4, -2.0), {}),
    ("addcmul_", lambda fw: (fw.tensor(B, dtype=fw.float64), fw.tensor(A, dtype=fw.float64)),
     {"value": 0.5}),
    ("addcdiv_", lambda fw: (fw.tensor(A, dtype=fw.float64), fw.tensor(B, dtype=fw.float64)),
     {"value": 2.0}),
    ("copy_", lambda fw: (fw.tensor([1.0, 2.0, 3.0], dtype=fw.float64),), {}),
    ("fill_", lambda fw: (0.25,), {}),
    ("zero_", lambda fw: (), {}),
    ("floor_", lambda fw: (), {}),
    ("round_", lambda fw: (), {}),
    ("sign_", lambda fw: (), {}),
    # in-place forms of the indexing and maths functions (made from the functions)
    ("index_add_", lambda fw: (1, fw.tensor([2, 0, 2]), fw.tensor(B, dtype=fw.float64)), {}),
    ("index_fill_", lambda fw: (1, fw.tensor([0, 2]), -1.5), {}),
    ("scatter_", lambda fw: (1, fw.tensor([[2, 0], [1, 1]]), fw.tensor(B, dtype=fw.float64)),
     {}),
    ("scatter_add_", lambda fw: (0, fw.tensor([[1, 0, 1]]), fw.tensor(B, dtype=fw.float64)),
     {}),
    ("tril_", lambda fw: (), {}),
    ("lerp_", lambda fw: (fw.tensor(B, dtype=fw.float64), 0.3), {}),
    ("atan_", lambda fw: (), {}),
]
POSITIVE = {"log_": (), "sqrt_": (), "rsqrt_": (), "log1p_": ()}


def _run(fw, method, args, kwargs, positive=False, record=True):
    values = np.abs(np.array(A)) + 0.1 if positive else np.array(A)
    x = fw.tensor(values, dtype=fw.float64, requires_grad=record)
    h = x * 1.5 if record else x
    version = h._version
    out = getattr(h, method)(*args, **kwargs)
    assert out is h and h._version > version
    if not record:
        return h, None
    (h * h).sum().backward()
    return h, x.grad


@pytest.mark.parametrize("method, build, kwargs", CASES, ids=[c[0] for c in CASES])
def test_inplace_values_and_gradients_match_pytorch(torch, method, build, kwargs):
    theirs = _run(torch, method, build(torch), kwargs)
    ours = _run(em, method, build(em), kwargs)
    assert_close(ours[0], theirs[0], rtol=1e-12, atol=1e-12, check_dtype=False)
    assert_close(ours[1], theirs[1], rtol=1e-10, atol=1e-12)
    plain_theirs = _run(torch, method, build(torch), kwargs, record=False)
    plain_ours = _run(em, method, build(em), kwargs, record=False)
    assert_close(plain_ours[0], plain_theirs[0], rtol=1e-12, atol=1e-12)


def test_inplace_without_gradient(torch):  # ops with no gradient in ember
    for method, args in (("remainder_", (0.7,)), ("floor_divide_", (0.3,)), ("trunc_", ())):
        if not hasattr(em.Tensor, method):
            continue
        theirs = _run(torch, method, args, {}, record=False)
        ours = _run(em, method, args, {}, record=False)
        assert_close(ours[0], theirs[0], rtol=1e-12)


@pytest.mark.parametrize("method", sorted(POSITIVE))
def test_inplace_on_positive_inputs(torch, method):
    theirs = _run(torch, method, (), {}, positive=True)
    ours = _run(em, method, (), {}, positive=True)
    assert_close(ours[0], theirs[0], rtol=1e-12)
    assert_close(ours[1], theirs[1], rtol=1e-10)


def test_every_inplace_method_exists_in_pytorch(torch):
    for name in METHODS:
        assert hasattr(torch.Tensor, name), name


@pytest.mark.parametrize("name", ["iadd", "isub", "imul", "itruediv", "ipow", "ifloordiv",
                                  "imod", "iand", "ior", "ixor", "ilshift", "irshift"])
def test_augmented_assignment_is_in_place(torch, name):
    import operator

    for fw in (torch, em):
        floats = name in ("iadd", "isub", "imul", "itruediv", "ipow", "ifloordiv", "imod")
        x = fw.tensor([6.0, 3.0]) if floats else fw.tensor([6, 3])
        expected = getattr(operator, name[1:].rstrip("_") if name != "iand" and name != "ior"
                           else name[1:] + "_")(x.clone(), 2)
        result = getattr(operator, name)(x, 2)
        assert result is x or (name == "ipow" and fw is torch)  # torch's **= returns anew
        assert result.tolist() == expected.tolist()


def test_setitem_records_gradients(torch):
    results = []
    for fw in (torch, em):
        w = fw.tensor(A, dtype=fw.float64, requires_grad=True)
        v = fw.tensor([1.0, -2.0], dtype=fw.float64, requires_grad=True)
        out = fw.zeros(3, 2, 3, dtype=fw.float64)
        for t in range(3):  # the hand-written RNN idiom: fill a buffer step by step
            out[t] = (w * (t + 1)).tanh()
        out[1, :, 0] = v * 3
        out[out > 0.9] = 0.0
        h = out * 2
        h[0, 1] = w[0]
        (h ** 2).sum().backward()
        results.append((h.detach().numpy(), w.grad.numpy(), v.grad.numpy()))
    for ours, theirs in zip(results[1], results[0], strict=True):
        assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_inplace_errors_match_pytorch(torch):
    for fw in (torch, em):
        leaf = fw.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            leaf.relu_()
        with pytest.raises(RuntimeError):  # a float result into an integer tensor
            fw.tensor([1, 2]).add_(1.5)
        with pytest.raises(RuntimeError):
            fw.tensor([1, 2]).exp_()
        with pytest.raises(RuntimeError):  # the result's shape must fit
            fw.ones(3).add_(fw.ones(2, 3))
        y = leaf.exp()  # exp saves its output: changing it breaks its gradient
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified"):
            y.sum().backward()
    with em.no_grad():
        leaf = em.ones(3, requires_grad=True)
        leaf.mul_(2).add_(1)  # optimiser updates
        assert leaf.tolist() == [3.0, 3.0, 3.0] and leaf.is_leaf


def test_module_level_inplace_functions(torch):
    for name in ("relu_", "sigmoid_", "exp_", "clamp_", "zero_"):
        assert hasattr(torch, name) and hasattr(em, name)
    x = em.tensor([-1.0, 2.0])
    assert em.relu_(x) is x and x.tolist() == [0.0, 2.0]
    assert em.nn.functional.relu_(x) is x
    y = em.tensor([-1.0, 2.0])
    assert em.nn.functional.elu_(y, alpha=0.5) is y
    assert_close(y, torch.nn.functional.elu_(torch.tensor([-1.0, 2.0]), alpha=0.5))
