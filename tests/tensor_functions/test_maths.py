"""Elementwise maths against PyTorch in float64: values, dtypes and gradients (and
gradcheck for the primitives), integer promotion, the NaN/inf tests."""

from __future__ import annotations

import numpy as np
import pytest
from op_parity import compare, ids

import ember as em
from ember.testing import gradcheck

N, P, U, G1 = None, "pos", "unit", "gt1"

# (id, ember fn, torch fn (None: same method name on the tensors), specs)
CASES = [
    ("tan", em.tan, None, [((3, 4), U)]),
    ("asin", em.asin, None, [((5,), U)]),
    ("acos", em.acos, None, [((5,), U)]),
    ("atan", em.atan, None, [((5,), N)]),
    ("atan2", em.atan2, None, [((3, 4), N), ((4,), N)]),
    ("arctan2_alias", em.arctan2, lambda a, b: a.arctan2(b), [((4,), N), ((4,), N)]),
    ("hypot", em.hypot, None, [((3, 1), N), ((3, 4), N)]),
    ("sinh", em.sinh, None, [((5,), N)]),
    ("cosh", em.cosh, None, [((5,), N)]),
    ("asinh", em.asinh, None, [((5,), N)]),
    ("acosh", em.acosh, None, [((5,), G1)]),
    ("atanh", em.atanh, None, [((5,), U)]),
    ("arcsinh_method", lambda a: a.arcsinh(), lambda a: a.arcsinh(), [((5,), N)]),
    ("log2", em.log2, None, [((5,), P)]),
    ("log10", em.log10, None, [((5,), P)]),
    ("exp2", em.exp2, None, [((5,), N)]),
    ("expm1", em.expm1, None, [((5,), N)]),
    ("logaddexp", em.logaddexp, None, [((2, 3), N), ((3,), N)]),
    ("logaddexp2", em.logaddexp2, None, [((3,), N), ((3,), N)]),
    ("trunc", em.trunc, None, [((6,), N)]),
    ("fix", em.fix, None, [((6,), N)]),
    ("frac", em.frac, None, [((6,), N)]),
    ("fmod", lambda a, b: em.fmod(3 * a, b), lambda a, b: (3 * a).fmod(b), [((6,), N), ((6,), P)]),
    ("fmod_negative_divisor", lambda a, b: em.fmod(3 * a, -b), lambda a, b: (3 * a).fmod(-b),
     [((6,), N), ((6,), P)]),
    ("fmod_scalar", lambda a: em.fmod(3 * a, 0.7), lambda a: (3 * a).fmod(0.7), [((6,), N)]),
    ("remainder", lambda a, b: em.remainder(3 * a, b), lambda a, b: (3 * a).remainder(b),
     [((6,), N), ((6,), P)]),
    ("remainder_operator", lambda a, b: (3 * a) % -b, lambda a, b: (3 * a) % -b,
     [((2, 3), N), ((3,), P)]),
    ("copysign", em.copysign, None, [((6,), N), ((6,), N)]),
    ("lerp_scalar", lambda a, b: em.lerp(a, b, 0.3), lambda a, b: a.lerp(b, 0.3),
     [((4,), N), ((4,), N)]),
    ("lerp_tensor", em.lerp, None, [((2, 4), N), ((4,), N), ((2, 1), N)]),
    ("reciprocal", em.reciprocal, None, [((5,), P)]),
    ("deg2rad", em.deg2rad, None, [((5,), N)]),
    ("rad2deg", em.rad2deg, None, [((5,), N)]),
    ("sinc", em.sinc, None, [((5,), N)]),
    ("logit", em.logit, None, [((5,), "prob")]),
    ("logit_eps", lambda a: em.logit(a * 1.2, eps=0.1), lambda a: (a * 1.2).logit(eps=0.1),
     [((6,), "prob")]),
    ("xlogy", em.xlogy, None, [((5,), N), ((5,), P)]),
    ("float_power", lambda a: em.float_power(a, 2.5), lambda a: a.float_power(2.5),
     [((5,), P)]),
    ("fmax", em.fmax, None, [((5,), N), ((5,), N)]),
    ("fmin", em.fmin, None, [((5,), N), ((1,), N)]),
    ("clamp_min", lambda a: em.clamp_min(a, 0.1), lambda a: a.clamp_min(0.1), [((6,), N)]),
    ("clamp_max", lambda a: a.clamp_max(0.1), lambda a: a.clamp_max(0.1), [((6,), N)]),
    ("addcmul", lambda a, b, c: em.addcmul(a, b, c, value=0.5),
     lambda a, b, c: a.addcmul(b, c, value=0.5), [((3, 4), N), ((4,), N), ((3, 1), N)]),
    ("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=2),
     lambda a, b, c: a.addcdiv(b, c, value=2), [((3, 4), N), ((3, 4), N), ((3, 4), P)]),
    ("ldexp", lambda a: em.ldexp(a, em.tensor([1, 0, 3])),
     lambda a: a.ldexp(__import__("torch").tensor([1, 0, 3])), [((3,), N)]),
    ("sgn", em.sgn, None, [((5,), N)]),
    ("positive", lambda a: em.positive(a) * 2, lambda a: a.positive() * 2, [((3,), N)]),
]


def _theirs(torch, name, fn):
    if fn is not None:
        return fn
    return getattr(torch, name.split("_")[0] if not hasattr(torch, name) else name)


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, _theirs(torch, name, theirs), specs)


PRIMITIVES = [c for c in CASES if c[0] in (
    "tan", "asin", "acos", "atan", "atan2", "hypot", "sinh", "cosh", "asinh", "acosh",
    "atanh", "log2", "log10", "exp2", "expm1", "logaddexp", "logaddexp2", "fmod",
    "remainder", "copysign", "sinc", "xlogy")]


@pytest.mark.parametrize("name,ours,theirs,specs", PRIMITIVES, ids=ids(PRIMITIVES))
def test_gradcheck(rng, name, ours, theirs, specs):
    from op_parity import values

    xs = [em.tensor(values(rng, *s), dtype=em.float64, requires_grad=True) for s in specs]
    assert gradcheck(ours, tuple(xs))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # asin(2), log2(0): NaN and -inf
@pytest.mark.parametrize("name", ["tan", "asin", "atan", "sinh", "log2", "exp2", "expm1",
                                  "atan2", "reciprocal", "sinc"])
def test_integers_give_the_default_float(torch, name):
    torch.set_default_dtype(torch.float32)  # (the fixture's float64 is restored after)
    x = np.array([0, 1, 2], dtype=np.int32)
    args = (x, x) if name in ("logaddexp", "atan2") else (x,)
    ours = getattr(em, name)(*[em.tensor(a) for a in args])
    theirs = getattr(torch, name)(*[torch.tensor(a) for a in args])
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") == "float32"
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", ["fmod", "remainder", "trunc"])
def test_integer_remainders_stay_integer(torch, op):
    x = np.array([-7, -3, 0, 5, 9])
    args = (x,) if op == "trunc" else (x, np.array(4))
    ours = getattr(em, op)(*[em.tensor(a) for a in args])
    theirs = getattr(torch, op)(*[torch.tensor(a) for a in args])
    assert ours.dtype == em.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0])


@pytest.mark.parametrize("name", ["isneginf", "isposinf", "signbit", "isreal", "isnan",
                                  "isinf", "isfinite"])
def test_predicates(torch, name):
    ours = getattr(em, name)(em.tensor(SPECIAL))
    theirs = getattr(torch, name)(torch.tensor(SPECIAL))
    assert ours.dtype == em.bool
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("kwargs", [{}, {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}])
def test_nan_to_num_values_and_gradient(torch, kwargs):
    x = em.tensor(SPECIAL, requires_grad=True)
    t = torch.tensor(SPECIAL, requires_grad=True)
    y, ty = em.nan_to_num(x, **kwargs), torch.nan_to_num(t, **kwargs)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_nan_to_num_float32_uses_its_own_limits(torch):
    x = np.array([np.inf, -np.inf], dtype=np.float32)
    np.testing.assert_array_equal(em.nan_to_num(em.tensor(x)).numpy(),
                                  torch.nan_to_num(torch.tensor(x)).numpy())


def test_fmax_fmin_ignore_nan_and_give_ties_to_input(torch):
    a = np.array([1.0, 2.0, np.nan, 3.0, np.nan])
    b = np.array([1.0, 3.0, 1.0, np.nan, np.nan])
    for name in ("fmax", "fmin"):
        x, y = em.tensor(a, requires_grad=True), em.tensor(b, requires_grad=True)
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out, tout = getattr(em, name)(x, y), getattr(torch, name)(tx, ty)
        np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
        np.testing.assert_array_equal(y.grad.numpy(), ty.grad.numpy())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the gradient 0 / 0 is NaN
def test_xlogy_at_zero(torch):
    a, b = np.array([0.0, 0.0, 1.0]), np.array([0.0, 2.0, 3.0])
    x, y = em.tensor(a, requires_grad=True), em.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = em.xlogy(x, y), torch.xlogy(tx, ty)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.numpy(), ty.grad.numpy())


def test_copysign_gradient_is_zero_at_zero(torch):
    x = em.tensor([0.0, 1.0, -2.0], requires_grad=True)
    em.copysign(x, -1.0).sum().backward()
    assert x.grad.tolist() == [0.0, -1.0, 1.0]


def test_sinc_at_zero_is_one_with_zero_gradient():
    x = em.tensor([0.0], dtype=em.float64, requires_grad=True)
    y = em.sinc(x)
    y.backward(em.ones_like(y))
    assert y.item() == 1.0 and x.grad.item() == 0.0


def test_isin_heaviside_isclose_allclose(torch):
    a, b = np.array([1, 2, 3, 4]), np.array([2, 4, 6])
    np.testing.assert_array_equal(em.isin(em.tensor(a), em.tensor(b)).numpy(),
                                  torch.isin(torch.tensor(a), torch.tensor(b)).numpy())
    x, v = np.array([-1.5, 0.0, 2.0]), np.array([0.5])
    np.testing.assert_array_equal(em.heaviside(em.tensor(x), em.tensor(v)).numpy(),
                                  torch.heaviside(torch.tensor(x), torch.tensor(v)).numpy())
    p, q = np.array([1.0, np.nan, 1e-9]), np.array([1.0 + 1e-7, np.nan, 0.0])
    for equal_nan in (False, True):
        np.testing.assert_array_equal(
            em.isclose(em.tensor(p), em.tensor(q), equal_nan=equal_nan).numpy(),
            torch.isclose(torch.tensor(p), torch.tensor(q), equal_nan=equal_nan).numpy())
    assert em.allclose(em.tensor(p[:1]), em.tensor(q[:1])) is True
    assert em.tensor(p).allclose(em.tensor(q), equal_nan=True) is True
