"""CombinedLoss and DeepSupervisionLoss (each term against its own loss), Dice from logits."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F


def _data():
    rng = np.random.default_rng(0)
    return (em.tensor(rng.standard_normal((2, 3, 4, 5))), em.tensor(rng.integers(0, 3, (2, 4, 5))))


def test_combined_loss_is_the_weighted_sum():
    logits, target = _data()
    loss = nn.CombinedLoss(nn.CrossEntropyLoss(), nn.DiceLoss(from_logits=True),
                           weights=(1.0, 0.3))
    expected = F.cross_entropy(logits, target) + 0.3 * F.dice_loss(logits.softmax(1), target)
    np.testing.assert_allclose(loss(logits, target).item(), expected.item(), rtol=1e-12)
    assert "weights=(1.0, 0.3)" in repr(loss)
    with pytest.raises(ValueError, match="2 weights for 1 losses"):
        nn.CombinedLoss(nn.CrossEntropyLoss(), weights=(1, 2))
    with pytest.raises(ValueError, match="at least one"):
        nn.CombinedLoss()


def test_dice_from_logits_binary_and_multiclass():
    logits, target = _data()
    np.testing.assert_allclose(
        F.dice_loss(logits, target, from_logits=True).item(),
        F.dice_loss(logits.softmax(1), target).item(), rtol=1e-12)
    binary = em.tensor(np.random.default_rng(1).standard_normal((3, 4, 4)))
    mask = (binary > 0.2).double()
    np.testing.assert_allclose(
        nn.DiceLoss(from_logits=True)(binary, mask).item(),
        F.dice_loss(binary.sigmoid(), mask).item(), rtol=1e-12)


def test_deep_supervision_on_lists_dicts_and_tensors():
    logits, target = _data()
    other = logits * 0.5
    ce = nn.CrossEntropyLoss()
    loss = nn.DeepSupervisionLoss(ce)
    np.testing.assert_allclose(loss(logits, target).item(), ce(logits, target).item())
    mean = (ce(logits, target) + ce(other, target)) / 2
    np.testing.assert_allclose(loss([logits, other], target).item(), mean.item(), rtol=1e-12)
    weighted = nn.DeepSupervisionLoss(ce, weights=(0.2, 1.0))([logits, other], target)
    np.testing.assert_allclose(weighted.item(),
                               (0.2 * ce(logits, target) + ce(other, target)).item(), rtol=1e-12)
    torchvision_style = loss({"out": logits, "aux": other}, target)
    np.testing.assert_allclose(torchvision_style.item(),
                               (ce(logits, target) + 0.5 * ce(other, target)).item(), rtol=1e-12)
    np.testing.assert_allclose(loss({"out": logits}, target).item(), ce(logits, target).item())
    with pytest.raises(ValueError, match="'out'"):
        loss({"main": logits}, target)
    with pytest.raises(ValueError, match="3 weights for 2 outputs"):
        nn.DeepSupervisionLoss(ce, weights=(1, 1, 1))([logits, other], target)
    with pytest.raises(TypeError, match="expected a Tensor"):
        loss(3.0, target)


def test_deep_supervision_gradients_reach_every_output():
    logits, target = _data()
    a = em.tensor(logits.numpy(), requires_grad=True)
    b = em.tensor(logits.numpy() * 2, requires_grad=True)
    nn.DeepSupervisionLoss()([a, b], target).backward()
    assert np.abs(a.grad.numpy()).sum() > 0 and np.abs(b.grad.numpy()).sum() > 0


def test_batch_dice_sums_over_the_whole_batch():
    """batch=True: one Dice per class from the sums over all images and pixels."""
    logits, target = _data()
    p = logits.softmax(1).numpy()
    onehot = np.eye(3)[target.numpy()].transpose(0, 3, 1, 2)
    overlap = (p * onehot).sum(axis=(0, 2, 3))
    total = p.sum(axis=(0, 2, 3)) + onehot.sum(axis=(0, 2, 3))
    expected = np.mean(1 - (2 * overlap + 1) / (total + 1))
    got = nn.DiceLoss(from_logits=True, batch=True)(logits, target)
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)
    binary = em.tensor(np.random.default_rng(2).random((3, 4, 4)))
    mask = (binary > 0.5).double()
    b, m = binary.numpy(), mask.numpy()
    np.testing.assert_allclose(F.dice_loss(binary, mask, batch=True).item(),
                               1 - (2 * (b * m).sum() + 1) / (b.sum() + m.sum() + 1), rtol=1e-12)
