"""Focal losses and Dice: focal (gamma = 0) is cross-entropy; the focal formula in NumPy;
torchvision's sigmoid_focal_loss re-implemented in PyTorch; Dice against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from loss_parity import check_against_torch

import ember as em
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def _classification(rng, shape, ignored=False):
    logits = rng.normal(0, 2, shape)
    axis = 0 if len(shape) == 1 else 1
    target = np.asarray(rng.integers(0, shape[axis], shape[:axis] + shape[axis + 1:]))
    if ignored and target.ndim:
        target.flat[::3] = -100
    return logits, target.astype(np.int64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignored", [False, True])
@pytest.mark.parametrize("shape", [(4,), (6, 4), (2, 4, 3, 2)])
def test_focal_loss_with_gamma_zero_is_cross_entropy(rng, shape, ignored, reduction):
    logits, target = _classification(rng, shape, ignored)
    x1 = em.tensor(logits, dtype=em.float64, requires_grad=True)
    x2 = em.tensor(logits, dtype=em.float64, requires_grad=True)
    focal = F.focal_loss(x1, em.tensor(target), gamma=0.0, reduction=reduction)
    ce = F.cross_entropy(x2, em.tensor(target), reduction=reduction)
    assert_close(focal, ce, rtol=1e-13, atol=1e-13)
    focal.sum().backward()
    ce.sum().backward()
    assert_close(x1.grad, x2.grad, rtol=1e-12, atol=1e-13)


def _focal_numpy(logits, target, alpha, gamma, ignore_index=-100):
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    log_pt = np.take_along_axis(log_p, safe[:, None], axis=1)[:, 0]
    loss = -((1 - np.exp(log_pt)) ** gamma) * log_pt
    if alpha is not None:
        loss = loss * (alpha if np.isscalar(alpha) else alpha[safe])
    return np.where(valid, loss, 0.0), valid


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha", [None, 0.25, "per_class"])
@pytest.mark.parametrize("gamma", [0.5, 2.0, 3])
def test_focal_loss_against_the_formula(rng, gamma, alpha, reduction):
    logits, target = _classification(rng, (7, 5), ignored=True)
    alpha = rng.uniform(0.1, 1.0, 5) if alpha == "per_class" else alpha
    loss, valid = _focal_numpy(logits, target, alpha, gamma)
    expected = {"none": loss, "sum": loss.sum(), "mean": loss.sum() / valid.sum()}[reduction]
    out = F.focal_loss(em.tensor(logits, dtype=em.float64), em.tensor(target),
                       alpha=None if alpha is None else (alpha if np.isscalar(alpha)
                                                         else em.tensor(alpha)),
                       gamma=gamma, reduction=reduction)
    assert_close(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_focal_loss_gradcheck(rng, gamma):
    logits, target = _classification(rng, (2, 3, 2, 2), ignored=True)
    x = em.tensor(logits, dtype=em.float64, requires_grad=True)
    alpha = em.tensor([0.2, 0.5, 1.0], dtype=em.float64)
    assert gradcheck(lambda a: F.focal_loss(a, em.tensor(target), alpha=alpha, gamma=gamma,
                                            reduction="none"), (x,))


def test_focal_loss_errors():
    with pytest.raises(ValueError, match=r"focal_loss: alpha of shape \(2,\) must be a float or "
                                         r"hold one weight per class, shape \(3,\)"):
        F.focal_loss(em.zeros(2, 3), em.tensor([0, 1]), alpha=em.ones(2))
    with pytest.raises(ValueError, match="focal_loss: gamma must be non-negative"):
        F.focal_loss(em.zeros(2, 3), em.tensor([0, 1]), gamma=-1.0)
    with pytest.raises(IndexError, match="focal_loss: target 3 is out of bounds"):
        F.focal_loss(em.zeros(2, 3), em.tensor([0, 3]))


def _torchvision_sigmoid_focal_loss(torch, inputs, targets, alpha=0.25, gamma=2,
                                    reduction="none"):
    """torchvision.ops.sigmoid_focal_loss, line for line."""
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets,
                                                                   reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2), (-1.0, 2), (0.6, 0), (0.25, 1.5)])
def test_sigmoid_focal_loss_matches_torchvision(torch, rng, alpha, gamma, reduction):
    x = rng.normal(0, 3, (4, 5))
    y = rng.uniform(0, 1, (4, 5))
    y[:2] = np.round(y[:2])
    check_against_torch(
        torch, rng,
        lambda a, b: F.sigmoid_focal_loss(a, b, alpha=alpha, gamma=gamma, reduction=reduction),
        lambda a, b: _torchvision_sigmoid_focal_loss(torch, a, b, alpha, gamma, reduction),
        [x, y], grads=(0, 1), name="sigmoid_focal_loss")


def test_sigmoid_focal_loss_defaults_are_torchvisions(torch, rng):
    x, y = rng.normal(0, 2, (3, 2)), rng.integers(0, 2, (3, 2)).astype(float)
    ours = F.sigmoid_focal_loss(em.tensor(x, dtype=em.float64), em.tensor(y, dtype=em.float64))
    assert ours.shape == (3, 2)  # reduction='none'
    assert_close(ours, _torchvision_sigmoid_focal_loss(torch, torch.tensor(x), torch.tensor(y)))


def _dice_numpy(p, t, smooth, axes):
    overlap = (p * t).sum(axis=axes)
    return 1 - (2 * overlap + smooth) / (p.sum(axis=axes) + t.sum(axis=axes) + smooth)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smooth", [1.0, 1e-3])
@pytest.mark.parametrize("shape", [(3, 4, 5), (3, 1, 4, 5), (4, 6)])
def test_binary_dice_against_the_formula(rng, shape, smooth, reduction):
    p = rng.uniform(0, 1, shape)
    t = (rng.uniform(0, 1, shape) > 0.6).astype(float)
    loss = _dice_numpy(p, t, smooth, tuple(range(1, len(shape))))
    expected = {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]
    out = F.dice_loss(em.tensor(p, dtype=em.float64), em.tensor(t, dtype=em.float64),
                      smooth=smooth, reduction=reduction)
    assert_close(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 6)])
def test_multiclass_dice_per_class_then_averaged(rng, shape, reduction):
    logits = rng.normal(0, 1, shape)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    target = rng.integers(0, shape[1], shape[:1] + shape[2:])
    one_hot = np.moveaxis(np.eye(shape[1])[target], -1, 1)
    loss = _dice_numpy(probs, one_hot, 1.0, tuple(range(2, len(shape)))).mean(axis=1)
    expected = {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]
    p = em.tensor(probs, dtype=em.float64)
    from_indices = F.dice_loss(p, em.tensor(target), reduction=reduction)
    from_one_hot = F.dice_loss(p, em.tensor(one_hot, dtype=em.float64), reduction=reduction,
                               mode="multiclass")
    assert_close(from_indices, expected, rtol=1e-12, atol=1e-12)
    assert_close(from_one_hot, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["binary", "multiclass"])
def test_dice_gradcheck(rng, mode):
    p = em.tensor(rng.uniform(0.05, 0.95, (2, 3, 3, 2)), dtype=em.float64, requires_grad=True)
    if mode == "binary":
        t = em.tensor((rng.uniform(0, 1, (2, 3, 3, 2)) > 0.5).astype(float), dtype=em.float64)
    else:
        t = em.tensor(rng.integers(0, 3, (2, 3, 2)))
    assert gradcheck(lambda a: F.dice_loss(a, t, reduction="none"), (p,))


def test_dice_of_a_perfect_prediction_is_zero_even_for_empty_masks():
    masks = em.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    assert_close(F.dice_loss(masks, masks, reduction="none"), [0.0, 0.0])


def test_dice_errors():
    with pytest.raises(ValueError, match="dice_loss: mode must be 'binary', 'multiclass'"):
        F.dice_loss(em.zeros(2, 3), em.zeros(2, 3), mode="multilabel")
    with pytest.raises(ValueError, match=r"dice_loss: input must be a batch \(N, ...\)"):
        F.dice_loss(em.zeros(3), em.zeros(3))
    with pytest.raises(ValueError, match=r"dice_loss: target of shape \(2, 4\) does not match "
                                         r"input of shape \(2, 3\)"):
        F.dice_loss(em.zeros(2, 3), em.zeros(2, 4))
    with pytest.raises(IndexError, match="dice_loss: target 3 is out of bounds for 3 classes"):
        F.dice_loss(em.zeros(2, 3, 4), em.tensor([[0, 1, 2, 3], [0, 0, 0, 0]]))
