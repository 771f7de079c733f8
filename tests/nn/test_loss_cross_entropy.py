"""cross_entropy and nll_loss against PyTorch: every combination of input rank (C,),
(N, C), (N, C, d) and (N, C, H, W), class weights, ignore_index, label smoothing and
reduction; class-probability targets; gradcheck of the fused op; errors."""

from __future__ import annotations

import numpy as np
import pytest
from loss_parity import check_against_torch

import ember as em
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck

REDUCTIONS = ["mean", "sum", "none"]
SHAPES = {"1d": (4,), "2d": (5, 4), "3d": (3, 4, 6), "4d": (2, 4, 3, 2)}  # C = 4 everywhere
IGNORE = {"no_ignored": -100, "some_ignored": -100, "ignore_a_class": 1}


def _problem(rng, shape_key, ignore_key):
    """Logits, class-index targets (some set to ignore_index), and ignore_index."""
    shape = SHAPES[shape_key]
    logits = rng.normal(0, 2, shape)
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = rng.integers(0, shape[0 if len(shape) == 1 else 1], target_shape)
    ignore_index = IGNORE[ignore_key]
    if ignore_key == "some_ignored" and target.ndim:
        target.flat[::3] = -100
    return logits, np.asarray(target, dtype=np.int64), ignore_index


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore_key", list(IGNORE))
@pytest.mark.parametrize("shape_key", list(SHAPES))
def test_cross_entropy_class_indices_matches_pytorch(torch, rng, shape_key, ignore_key,
                                                     weighted, label_smoothing, reduction):
    logits, target, ignore_index = _problem(rng, shape_key, ignore_key)
    weight = rng.uniform(0.2, 2.0, 4) if weighted else None

    def call(f):
        def run(x, t, *w):
            return f(x, t, weight=w[0] if w else None, ignore_index=ignore_index,
                     reduction=reduction, label_smoothing=label_smoothing)
        return run

    args = [logits, target] + ([weight] if weighted else [])
    check_against_torch(torch, rng, call(F.cross_entropy),
                        call(torch.nn.functional.cross_entropy), args, grads=(0,),
                        name="cross_entropy")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore_key", list(IGNORE))
@pytest.mark.parametrize("shape_key", list(SHAPES))
def test_nll_loss_matches_pytorch(torch, rng, shape_key, ignore_key, weighted, reduction):
    logits, target, ignore_index = _problem(rng, shape_key, ignore_key)
    log_p = logits - np.log(np.exp(logits).sum(axis=0 if logits.ndim == 1 else 1,
                                                keepdims=True))
    weight = rng.uniform(0.2, 2.0, 4) if weighted else None

    def call(f):
        def run(x, t, *w):
            return f(x, t, weight=w[0] if w else None, ignore_index=ignore_index,
                     reduction=reduction)
        return run

    args = [log_p, target] + ([weight] if weighted else [])
    check_against_torch(torch, rng, call(F.nll_loss), call(torch.nn.functional.nll_loss),
                        args, grads=(0,), name="nll_loss")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("shape_key", ["1d", "2d", "4d"])
def test_cross_entropy_probabilities_matches_pytorch(torch, rng, shape_key, weighted,
                                                     label_smoothing, reduction):
    shape = SHAPES[shape_key]
    axis = 0 if len(shape) == 1 else 1
    logits = rng.normal(0, 2, shape)
    probs = rng.uniform(0, 1, shape)
    probs /= probs.sum(axis=axis, keepdims=True)
    weight = rng.uniform(0.2, 2.0, 4) if weighted else None

    def call(f):
        def run(x, t, *w):
            return f(x, t, weight=w[0] if w else None, reduction=reduction,
                     label_smoothing=label_smoothing)
        return run

    args = [logits, probs] + ([weight] if weighted else [])
    check_against_torch(torch, rng, call(F.cross_entropy),
                        call(torch.nn.functional.cross_entropy), args, grads=(0, 1),
                        name="cross_entropy with probabilities")


@pytest.mark.filterwarnings("error")  # no divide-by-zero warning either
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_gives_nan_and_zero_gradient_as_pytorch(torch, rng, name):
    x = rng.standard_normal((3, 4))
    target = np.full(3, -100)
    xe = em.tensor(x, dtype=em.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ours = getattr(F, name)(xe, em.tensor(target))
    ours.backward()
    theirs = getattr(torch.nn.functional, name)(xt, torch.tensor(target))
    theirs.backward()
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    assert_close(xe.grad, xt.grad)
    assert not xe.grad.numpy().any()


def test_cross_entropy_is_log_softmax_then_nll(rng):
    x = em.tensor(rng.normal(0, 3, (6, 5)), dtype=em.float64)
    y = em.tensor(rng.integers(0, 5, 6))
    assert_close(F.cross_entropy(x, y), F.nll_loss(x.log_softmax(dim=1), y),
                 rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape_key", ["2d", "4d"])
def test_fused_cross_entropy_gradcheck(rng, shape_key, reduction):
    logits, target, _ = _problem(rng, shape_key, "some_ignored")
    x = em.tensor(logits, dtype=em.float64, requires_grad=True)
    weight = em.tensor(rng.uniform(0.2, 2.0, 4), dtype=em.float64)
    assert gradcheck(lambda a: F.cross_entropy(a, em.tensor(target), weight=weight,
                                               reduction=reduction, label_smoothing=0.15),
                     (x,))


def test_cross_entropy_is_one_node_and_keeps_float32():
    x = em.randn(8, 10, requires_grad=True)
    loss = F.cross_entropy(x, em.randint(0, 10, (8,)), label_smoothing=0.1)
    assert loss.grad_fn.name() == "NllLossBackward0"  # PyTorch's name
    assert loss.grad_fn.next_nodes == []  # straight from the leaf: a single fused node
    loss.backward()
    assert loss.dtype == em.float32 and x.grad.dtype == em.float32
    probs = em.rand(8, 10)
    loss = F.cross_entropy(x, probs / probs.sum(1, keepdim=True))
    assert loss.dtype == em.float32


def test_int32_targets_are_accepted(rng):
    x = em.tensor(rng.standard_normal((4, 3)))
    y = rng.integers(0, 3, 4)
    assert_close(F.cross_entropy(x, em.tensor(y, dtype=em.int32)), F.cross_entropy(x, em.tensor(y)))


def test_class_index_errors():
    x = em.zeros(3, 4)
    with pytest.raises(IndexError, match=r"cross_entropy: target 5 is out of bounds for 4 "
                                         r"classes \(expected 0 <= target < 4 or "
                                         r"ignore_index=-100\)"):
        F.cross_entropy(x, em.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match="nll_loss: target -1 is out of bounds"):
        F.nll_loss(x, em.tensor([-1, 1, 2]))
    with pytest.raises(TypeError, match=r"nll_loss: target must hold integer class indices "
                                        r"\(int64\), got float32 of shape \(3,\)"):
        F.nll_loss(x, em.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="cross_entropy: target must hold integer class"):
        F.cross_entropy(x, em.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(2,\) does not "
                                         r"match input of shape \(3, 4\); expected class "
                                         r"indices of shape \(3,\)"):
        F.cross_entropy(x, em.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"nll_loss: target of shape \(3, 6\) does not match "
                                         r"input of shape \(3, 4, 5\)"):
        F.nll_loss(em.zeros(3, 4, 5), em.zeros(3, 6, dtype=em.int64))


def test_argument_errors():
    x = em.zeros(3, 4)
    y = em.tensor([0, 1, 2])
    with pytest.raises(ValueError, match=r"cross_entropy: weight of shape \(3,\) must hold one "
                                         r"value per class, i.e. have shape \(4,\)"):
        F.cross_entropy(x, y, weight=em.ones(3))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(x, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported with class-probability"):
        F.cross_entropy(x, em.zeros(3, 4), ignore_index=1)
    with pytest.raises(TypeError, match="holds class probabilities and must be floating"):
        F.cross_entropy(x, em.zeros(3, 4, dtype=em.int64))
    with pytest.raises(ValueError, match="cross_entropy: input must have a class dimension"):
        F.cross_entropy(em.tensor(1.0), em.tensor(0))
    with pytest.raises(RuntimeError, match="not differentiable with respect to the class "
                                           "weight"):
        F.nll_loss(x, y, weight=em.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match="nll_loss: reduction must be one of"):
        F.nll_loss(x, y, reduction="batchmean")
