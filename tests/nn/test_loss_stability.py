"""Numerical stability: every loss on logits (or scores) of ±1e4 is finite, with finite
gradients, in float32 and float64. (The exponential loss overflows by definition.)"""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.nn import functional as F
from ember.testing import assert_close


def _logits(dtype):
    signs = np.array([[1, -1, 1, -1], [-1, 1, -1, -1], [1, 1, -1, 1]], dtype=float)
    return em.tensor(signs * 1e4, dtype=dtype, requires_grad=True)


INDICES = em.tensor([0, 1, 2])  # the 1e4 logit for rows 0 and 1, a -1e4 one for row 2
PM1 = em.tensor([[1.0, -1.0, -1.0, 1.0], [1.0, 1.0, -1.0, -1.0], [-1.0, 1.0, 1.0, 1.0]])
BINARY = (PM1 + 1) / 2

CASES = {
    "cross_entropy": lambda x: F.cross_entropy(x, INDICES),
    "cross_entropy_weighted_smoothed_ignored": lambda x: F.cross_entropy(
        x, em.tensor([0, -100, 2]), weight=em.tensor([1.0, 2.0, 0.5, 1.0], dtype=x.dtype),
        label_smoothing=0.1),
    "cross_entropy_probabilities": lambda x: F.cross_entropy(
        x, em.tensor([[0.5, 0.5, 0.0, 0.0]] * 3, dtype=x.dtype), label_smoothing=0.1),
    "cross_entropy_per_pixel": lambda x: F.cross_entropy(x.reshape(1, 3, 2, 2),
                                                         em.tensor([[[0, 1], [2, 1]]])),
    "nll_of_log_softmax": lambda x: F.nll_loss(x.log_softmax(dim=1), INDICES),
    "focal_loss": lambda x: F.focal_loss(x, INDICES, alpha=0.5),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, BINARY.type(x.dtype)),
    "bce_with_logits_pos_weight": lambda x: F.binary_cross_entropy_with_logits(
        x, BINARY.type(x.dtype), pos_weight=em.tensor([2.0, 1.0, 0.5, 3.0], dtype=x.dtype)),
    "bce_of_sigmoid": lambda x: F.binary_cross_entropy(x.sigmoid(), BINARY.type(x.dtype)),
    "sigmoid_focal_loss": lambda x: F.sigmoid_focal_loss(x, BINARY.type(x.dtype),
                                                         reduction="mean"),
    "logistic_loss": lambda x: F.logistic_loss(x, PM1.type(x.dtype)),
    "soft_margin_loss": lambda x: F.soft_margin_loss(x, PM1.type(x.dtype)),
    "hinge_loss": lambda x: F.hinge_loss(x, PM1.type(x.dtype)),
    "multi_margin_loss": lambda x: F.multi_margin_loss(x, INDICES, p=2),
}


@pytest.mark.parametrize("dtype", [em.float32, em.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(CASES))
def test_finite_loss_and_gradient_on_huge_logits(name, dtype):
    x = _logits(dtype)
    loss = CASES[name](x)
    assert loss.dtype == dtype
    assert np.isfinite(loss.item()), f"{name}: loss {loss.item()}"
    loss.backward()
    assert x.grad.dtype == dtype
    assert np.isfinite(x.grad.numpy()).all(), f"{name}: gradient {x.grad}"


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_on_huge_logits_matches_pytorch(torch, label_smoothing):
    x = _logits(em.float64)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    ours = F.cross_entropy(x, INDICES, label_smoothing=label_smoothing)
    theirs = torch.nn.functional.cross_entropy(xt, torch.tensor([0, 1, 2]),
                                               label_smoothing=label_smoothing)
    assert_close(ours, theirs.detach(), rtol=1e-12)
    ours.backward()
    theirs.backward()
    assert_close(x.grad, xt.grad, rtol=1e-12, atol=1e-15)


def test_bce_with_logits_on_huge_logits_matches_pytorch(torch):
    x = _logits(em.float64)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    ours = F.binary_cross_entropy_with_logits(x, BINARY.double())
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        xt, torch.tensor(BINARY.numpy(), dtype=torch.float64))
    assert_close(ours, theirs.detach(), rtol=1e-12)
    ours.backward()
    theirs.backward()
    assert_close(x.grad, xt.grad, rtol=1e-12, atol=1e-15)
