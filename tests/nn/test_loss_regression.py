"""Regression losses: PyTorch parity (values, input and target gradients), the NumPy
formula and gradcheck for MSLE and MAPE, weights, dtypes, errors."""

from __future__ import annotations

import numpy as np
import pytest
from loss_parity import check_against_torch

import ember as em
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck

REDUCTIONS = ["mean", "sum", "none"]

# (name, ember call, PyTorch call (by name, same keyword arguments))
PYTORCH_LOSSES = [
    ("mse", F.mse_loss, "mse_loss", {}),
    ("l1", F.l1_loss, "l1_loss", {}),
    ("smooth_l1", F.smooth_l1_loss, "smooth_l1_loss", {}),
    ("smooth_l1_beta", F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_beta0", F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}),
    ("huber", F.huber_loss, "huber_loss", {}),
    ("huber_delta", F.huber_loss, "huber_loss", {"delta": 0.3}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("name,ours,theirs,kwargs", PYTORCH_LOSSES,
                         ids=[c[0] for c in PYTORCH_LOSSES])
def test_matches_pytorch(torch, rng, name, ours, theirs, kwargs, shape, reduction):
    x, y = rng.normal(0, 1.5, shape), rng.normal(0, 1.5, shape)  # both sides of beta/delta
    theirs = getattr(torch.nn.functional, theirs)
    check_against_torch(torch, rng, lambda a, b: ours(a, b, reduction=reduction, **kwargs),
                        lambda a, b: theirs(a, b, reduction=reduction, **kwargs),
                        [x, y], grads=(0, 1), name=name)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_matches_pytorch(torch, rng, name, reduction):
    x, y = rng.normal(0, 1.5, (4, 3)), rng.normal(0, 1.5, (4, 3))
    w = rng.uniform(0.1, 2.0, (4, 3))
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    check_against_torch(torch, rng, lambda a, b, c: ours(a, b, reduction=reduction, weight=c),
                        lambda a, b, c: theirs(a, b, reduction=reduction, weight=c),
                        [x, y, w], grads=(0, 1), name=name)


@pytest.mark.filterwarnings("ignore:size_average and reduce")
@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True)])
def test_deprecated_flags_act_as_in_pytorch(torch, rng, size_average, reduce):
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    with pytest.warns(UserWarning, match="size_average and reduce are deprecated"):
        ours = F.mse_loss(em.tensor(x), em.tensor(y), size_average, reduce)
    theirs = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y), size_average, reduce)
    assert_close(ours, theirs)


def _msle(x, y, eps=1e-5):
    return (np.log1p(np.maximum(x, eps)) - np.log1p(np.maximum(y, eps))) ** 2


def _mape(x, y, eps=1e-5):
    return 100 * np.abs(y - x) / np.maximum(np.abs(y), eps)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ours,formula", [(F.msle_loss, _msle), (F.mape_loss, _mape)],
                         ids=["msle", "mape"])
def test_against_the_formula(rng, ours, formula, reduction):
    x = rng.uniform(-0.5, 3.0, (4, 5))  # some predictions below the clip point
    y = np.abs(rng.normal(0, 2.0, (4, 5)))
    y[0, :2] = 0.0  # targets at zero: the clip keeps both finite
    expected = formula(x, y)
    expected = {"none": expected, "sum": expected.sum(), "mean": expected.mean()}[reduction]
    out = ours(em.tensor(x, dtype=em.float64), em.tensor(y, dtype=em.float64),
               reduction=reduction)
    assert_close(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ours", [F.msle_loss, F.mape_loss], ids=["msle", "mape"])
def test_gradcheck_input_and_target(rng, ours):
    x = em.tensor(rng.uniform(0.2, 3.0, (3, 4)), dtype=em.float64, requires_grad=True)
    y = em.tensor(rng.uniform(0.2, 3.0, (3, 4)), dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda a, b: ours(a, b, reduction="none"), (x, y))
    assert gradcheck(ours, (x, y))


def test_msle_gives_no_gradient_below_the_clip():
    x = em.tensor([-1.0, 0.5], dtype=em.float64, requires_grad=True)
    F.msle_loss(x, em.tensor([1.0, 1.0], dtype=em.float64)).backward()
    assert x.grad[0].item() == 0.0 and x.grad[1].item() != 0.0


def test_mape_is_a_percentage():
    out = F.mape_loss(em.tensor([110.0, 90.0]), em.tensor([100.0, 100.0]))
    assert_close(out, 10.0)


@pytest.mark.parametrize("ours", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss,
                                  F.msle_loss, F.mape_loss])
def test_float32_stays_float32(ours):
    x = em.rand(3, 4, requires_grad=True)
    loss = ours(x, em.rand(3, 4))
    assert loss.dtype == em.float32
    loss.backward()
    assert x.grad.dtype == em.float32


@pytest.mark.parametrize("ours", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss,
                                  F.msle_loss, F.mape_loss])
def test_shape_mismatch_names_the_loss_and_both_shapes(ours):
    name = ours.__name__
    with pytest.raises(ValueError, match=rf"{name}: target of shape \(3, 1\) does not match "
                                         r"input of shape \(3,\)"):
        ours(em.zeros(3), em.zeros(3, 1))


def test_bad_arguments():
    x = em.zeros(3)
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be one of 'none', 'mean', "
                                         r"'sum', got 'avg'"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match=r"mse_loss: weight of shape \(2,\) does not match"):
        F.mse_loss(x, x, weight=em.ones(2))
    with pytest.raises(TypeError, match="l1_loss: input must be a floating-point tensor"):
        F.l1_loss(em.tensor([1, 2]), em.tensor([1, 2]))
