"""Binary losses: BCE (probabilities and logits) and soft margin against PyTorch; the
logistic, hinge and exponential losses against their NumPy formula and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
from loss_parity import check_against_torch

import ember as em
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck

REDUCTIONS = ["mean", "sum", "none"]
WEIGHTS = {"none": None, "full": (3, 4), "per_class": (4,), "per_row": (3, 1)}


def _weight(rng, key):
    return None if WEIGHTS[key] is None else rng.uniform(0.2, 2.0, WEIGHTS[key])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", list(WEIGHTS))
def test_binary_cross_entropy_matches_pytorch(torch, rng, reduction, weight):
    p, y = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    w = _weight(rng, weight)
    args = [p, y] if w is None else [p, y, w]
    check_against_torch(
        torch, rng,
        lambda *a: F.binary_cross_entropy(*a[:2], weight=a[2] if w is not None else None,
                                          reduction=reduction),
        lambda *a: torch.nn.functional.binary_cross_entropy(
            *a[:2], weight=a[2] if w is not None else None, reduction=reduction),
        args, grads=(0, 1), name="binary_cross_entropy")


def test_binary_cross_entropy_at_zero_and_one_is_pytorchs(torch):
    """The log is clamped at -100; the input gradient uses max(x (1 - x), 1e-12)."""
    p = [0.0, 1.0, 0.0, 1.0, 0.5]
    y = [0.0, 1.0, 0.5, 0.3, 1.0]
    xe, ye = em.tensor(p, dtype=em.float64, requires_grad=True), em.tensor(
        y, dtype=em.float64, requires_grad=True)
    xt, yt = torch.tensor(p, requires_grad=True), torch.tensor(y, requires_grad=True)
    ours = F.binary_cross_entropy(xe, ye, reduction="sum")
    theirs = torch.nn.functional.binary_cross_entropy(xt, yt, reduction="sum")
    assert_close(ours, theirs.detach())
    ours.backward()
    theirs.backward()
    assert_close(xe.grad, xt.grad, rtol=1e-7)  # PyTorch's 1e-12 is float32(1e-12)
    assert_close(ye.grad, yt.grad)  # +-inf where the probability is 0 or 1, as PyTorch
    assert np.isfinite(ours.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", list(WEIGHTS))
@pytest.mark.parametrize("pos_weight", [False, True])
def test_binary_cross_entropy_with_logits_matches_pytorch(torch, rng, reduction, weight,
                                                          pos_weight):
    x, y = rng.normal(0, 3, (3, 4)), rng.uniform(0, 1, (3, 4))
    w = _weight(rng, weight)
    pw = rng.uniform(0.5, 3.0, (4,)) if pos_weight else None
    extra = [a for a in (w, pw) if a is not None]

    def call(f):
        def run(x, y, *rest):
            rest = list(rest)
            return f(x, y, weight=rest.pop(0) if w is not None else None,
                     pos_weight=rest.pop(0) if pw is not None else None, reduction=reduction)
        return run

    check_against_torch(torch, rng, call(F.binary_cross_entropy_with_logits),
                        call(torch.nn.functional.binary_cross_entropy_with_logits),
                        [x, y, *extra], grads=(0, 1), name="bce_with_logits")


def test_binary_cross_entropy_with_logits_gradient_at_zero_logit():
    """sigmoid(0) - y: the kinks of max(x, 0) and |x| at 0 must not leak into the gradient."""
    x = em.zeros(4, dtype=em.float64, requires_grad=True)
    y = em.tensor([0.0, 1.0, 0.5, 0.25], dtype=em.float64)
    F.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    assert_close(x.grad, [0.5, -0.5, 0.0, 0.25], rtol=1e-15, atol=1e-15)


@pytest.mark.filterwarnings("ignore:size_average and reduce")
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss_matches_pytorch(torch, rng, reduction):
    x = rng.normal(0, 2, (4, 3))
    y = rng.choice([-1.0, 1.0], (4, 3))
    check_against_torch(torch, rng,
                        lambda a, b: F.soft_margin_loss(a, b, reduction=reduction),
                        lambda a, b: torch.nn.functional.soft_margin_loss(a, b,
                                                                          reduction=reduction),
                        [x, y], grads=(0,), name="soft_margin_loss")


def _labels(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


FORMULAS = [
    ("logistic_loss", lambda f, y: np.log1p(np.exp(-y * f)), {}),
    ("hinge_loss", lambda f, y: np.maximum(0, 1 - y * f), {}),
    ("hinge_loss", lambda f, y: np.maximum(0, 0.5 - y * f), {"margin": 0.5}),
    ("exponential_loss", lambda f, y: np.exp(-y * f), {}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,formula,kwargs", FORMULAS,
                         ids=["logistic", "hinge", "hinge_margin", "exponential"])
def test_margin_losses_against_the_formula(rng, name, formula, kwargs, reduction):
    f, y = rng.normal(0, 2, (5, 3)), _labels(rng, (5, 3))
    expected = formula(f, y)
    expected = {"none": expected, "sum": expected.sum(), "mean": expected.mean()}[reduction]
    out = getattr(F, name)(em.tensor(f, dtype=em.float64), em.tensor(y, dtype=em.float64),
                           reduction=reduction, **kwargs)
    assert_close(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["logistic_loss", "hinge_loss", "exponential_loss",
                                  "soft_margin_loss"])
def test_margin_losses_gradcheck(rng, name):
    f = rng.normal(0, 2, (4, 3))
    y = _labels(rng, (4, 3))
    f = np.where(np.abs(1 - y * f) < 0.05, f + 0.2, f)  # away from the hinge's kink
    x = em.tensor(f, dtype=em.float64, requires_grad=True)
    target = em.tensor(y, dtype=em.float64)
    assert gradcheck(lambda a: getattr(F, name)(a, target, reduction="none"), (x,))


def test_logistic_loss_is_bce_with_logits_on_01_labels(rng):
    f, y = rng.normal(0, 3, 8), _labels(rng, 8)
    ours = F.logistic_loss(em.tensor(f), em.tensor(y))
    bce = F.binary_cross_entropy_with_logits(em.tensor(f), em.tensor((1 + y) / 2))
    assert_close(ours, bce, rtol=1e-6)
    assert_close(F.soft_margin_loss(em.tensor(f), em.tensor(y)), ours)


def test_hinge_derivative_at_the_kink_is_zero():
    x = em.tensor([1.0, -1.0], dtype=em.float64, requires_grad=True)
    F.hinge_loss(x, em.tensor([1.0, -1.0]), reduction="sum").backward()
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", ["logistic_loss", "hinge_loss", "exponential_loss"])
def test_labels_must_be_plus_or_minus_one(name):
    with pytest.raises(ValueError, match=rf"{name}: target must hold labels -1 or \+1, "
                                         r"found 0.0"):
        getattr(F, name)(em.zeros(3), em.tensor([1.0, 0.0, -1.0]))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "logistic_loss", "soft_margin_loss", "hinge_loss",
                                  "exponential_loss"])
def test_float32_stays_float32_and_shapes_are_checked(name):
    x = em.rand(2, 3, requires_grad=True)
    target = em.ones(2, 3)
    loss = getattr(F, name)(x, target)
    loss.backward()
    assert loss.dtype == em.float32 and x.grad.dtype == em.float32
    with pytest.raises(ValueError, match=rf"{name}: target of shape \(2, 3, 1\) does not match "
                                         r"input of shape \(2, 3\)"):
        getattr(F, name)(x, em.ones(2, 3, 1))


def test_binary_errors():
    with pytest.raises(ValueError, match="binary_cross_entropy: every element of input must be "
                                         "a probability"):
        F.binary_cross_entropy(em.tensor([1.5, 0.5]), em.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"weight of shape \(5,\) does not broadcast to the "
                                         r"input's shape \(2, 3\)"):
        F.binary_cross_entropy_with_logits(em.zeros(2, 3), em.zeros(2, 3), weight=em.ones(5))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\)"):
        F.binary_cross_entropy_with_logits(em.zeros(2, 3), em.zeros(2, 3),
                                           pos_weight=em.ones(2))
