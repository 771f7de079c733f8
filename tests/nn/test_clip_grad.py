"""clip_grad_norm_, clip_grad_value_, get_total_norm: parity with torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def make(torch, rng, scale=1.0, with_none=True):
    """Three parameters with gradients and one without, in ember and in PyTorch."""
    grads = [scale * rng.normal(size=s) for s in SHAPES]
    ours, theirs = [], []
    for g in grads:
        p, tp = em.zeros(g.shape, dtype=em.float64, requires_grad=True), torch.zeros(
            g.shape, requires_grad=True)
        p.grad, tp.grad = em.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(tp)
    if with_none:
        ours.append(em.zeros(2, dtype=em.float64, requires_grad=True))
        theirs.append(torch.zeros(2, requires_grad=True))
    return ours, theirs


def assert_grads_equal(ours, theirs, rtol=1e-12):
    for p, tp in zip(ours, theirs, strict=True):
        if tp.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, -math.inf, 0.0, 3.5, 0.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(torch, rng, norm_type, max_norm):
    ours, theirs = make(torch, rng)
    before = [p.grad.numpy().copy() for p in ours if p.grad is not None]
    total = em.nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, em.Tensor) and total.shape == () and total.dtype == np.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    assert_grads_equal(ours, theirs)
    clipped = not np.allclose(ours[0].grad.numpy(), before[0])
    assert clipped == (expected.item() > max_norm)  # both branches are exercised


def test_clip_grad_norm_on_a_single_tensor_and_a_generator(torch, rng):
    ours, theirs = make(torch, rng, with_none=False)
    total = em.nn.utils.clip_grad_norm_(ours[0], 0.1)
    expected = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    assert_grads_equal(ours, theirs)
    model = em.nn.Linear(3, 2)
    (model(em.randn(4, 3)) ** 2).sum().backward()
    norm = em.nn.utils.clip_grad_norm_(model.parameters(), 1e-3)
    after = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters()))
    assert norm.item() > 1e-3 and after == pytest.approx(1e-3, rel=1e-4)
    assert norm.dtype == np.float32


def test_clip_grad_norm_float32_stays_float32(rng):
    p = em.zeros(4, requires_grad=True)
    p.grad = em.tensor(rng.normal(size=4) * 10, dtype=em.float32)
    total = em.nn.utils.clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float32 and p.grad.dtype == np.float32
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(1.0, rel=1e-5)


def test_nonfinite_norms(torch):
    for value in (math.nan, math.inf):
        p, tp = em.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
        p.grad, tp.grad = em.tensor([1.0, value]), torch.tensor([1.0, value])
        with pytest.raises(RuntimeError, match="non-finite"):
            em.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        total = em.nn.utils.clip_grad_norm_([p], 1.0)
        expected = torch.nn.utils.clip_grad_norm_([tp], 1.0)
        np.testing.assert_array_equal(total.numpy(), expected.numpy())
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())


def test_no_gradients_gives_a_zero_norm(torch):
    p = em.zeros(2, requires_grad=True)
    assert em.nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
    assert p.grad is None
    with pytest.warns(UserWarning, match="empty generator"):
        em.nn.utils.clip_grad_norm_((q for q in []), 1.0)


def test_get_total_norm_and_clip_grads_with_norm(torch, rng):
    ours, theirs = make(torch, rng)
    grads = [p.grad for p in ours if p.grad is not None]
    total = em.nn.utils.get_total_norm(grads, norm_type=3.0)
    expected = torch.nn.utils.get_total_norm([p.grad for p in theirs if p.grad is not None],
                                             norm_type=3.0)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    em.nn.utils.clip_grads_with_norm_(ours, 0.2, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.2, expected)
    assert_grads_equal(ours, theirs)


@pytest.mark.parametrize("clip_value", [0.3, 2.0, -0.5])
def test_clip_grad_value_matches_pytorch(torch, rng, clip_value):
    ours, theirs = make(torch, rng)
    version = ours[0].grad._version
    em.nn.utils.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_grads_equal(ours, theirs)
    assert ours[0].grad._version == version + 1
    assert np.abs(ours[0].grad.numpy()).max() <= abs(clip_value)


def test_clipping_records_no_graph():
    w = em.tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()
    em.nn.utils.clip_grad_norm_([w], 1.0)
    em.nn.utils.clip_grad_value_(w, 0.5)
    assert w.grad.grad_fn is None and not w.grad.requires_grad
