"""Post-accumulate-grad hooks and end-of-backward callbacks, as PyTorch's."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import ember as em
from ember.autograd import engine


def _calls_in(framework, torch=None):
    """The (name, grad) pairs seen by post-accumulate hooks in one scenario: a leaf used
    three times (its hook must see the summed gradient once), an unused leaf (no call), a
    second and third pass accumulating onto the first."""
    make = (lambda v: em.tensor(v, dtype=em.float64, requires_grad=True)) if framework == "em" \
        else (lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    w, b, unused = make([1.0, 2.0]), make([0.5, -0.5]), make([3.0])
    seen = []
    for name, t in (("w", w), ("b", b), ("unused", unused)):
        t.register_post_accumulate_grad_hook(
            lambda t, name=name: seen.append((name, t.grad.detach().numpy().copy())))
    x = w * w
    (x * b + w * 3.0 + w.exp()).sum().backward()
    (w * 2.0).sum().backward()
    w.sum().backward()  # one more use, through a sum
    return seen


def test_post_accumulate_hooks_run_once_with_the_final_gradient(torch):
    ours, theirs = _calls_in("em"), _calls_in("torch", torch)
    assert [name for name, _ in ours] == [name for name, _ in theirs]
    for (_, a), (_, b) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-15)


def test_post_accumulate_hook_on_a_root_leaf_and_removal():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    w.backward(em.tensor([1.0, 1.0]))
    assert seen == [[1.0, 1.0]]
    handle.remove()
    (w * 2).sum().backward()
    assert seen == [[1.0, 1.0]]


def test_post_accumulate_hook_errors_and_cleanup():
    x = em.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        em.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    y = em.ones(2, requires_grad=True)
    y.register_post_accumulate_grad_hook(lambda t: None)
    key = id(y)
    del y
    gc.collect()
    assert key not in engine._post_accumulate_hooks


def test_queue_callback_runs_after_every_gradient_is_final():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    events = []

    def hook(t):
        events.append("hook")
        engine.queue_callback(lambda: events.append(("done", w.grad.tolist())))

    w.register_post_accumulate_grad_hook(hook)
    (w * w).sum().backward()
    assert events == ["hook", ("done", [2.0, 4.0])]
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        engine.queue_callback(lambda: None)


def test_a_failed_backward_drops_its_callbacks():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    ran = []

    def hook(t):
        engine.queue_callback(lambda: ran.append(1))
        raise ValueError("boom")

    w.register_post_accumulate_grad_hook(hook)
    with pytest.raises(ValueError, match="boom"):
        (w * 3).sum().backward()
    assert ran == [] and engine._pass.callbacks is None
