"""multi_margin_loss and kl_div against PyTorch (values, input and target gradients)."""

from __future__ import annotations

import numpy as np
import pytest
from loss_parity import check_against_torch

import ember as em
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("p,margin", [(1, 1.0), (2, 1.0), (1, 0.3), (2, 2.0)])
@pytest.mark.parametrize("shape", [(6, 4), (4,)], ids=["2d", "1d"])
def test_multi_margin_loss_matches_pytorch(torch, rng, shape, p, margin, weighted, reduction):
    x = rng.normal(0, 1, shape)
    target = np.asarray(rng.integers(0, 4, shape[:-1]), dtype=np.int64)
    weight = rng.uniform(0.2, 2.0, 4) if weighted else None

    def call(f):
        def run(a, t, *w):
            return f(a, t, p=p, margin=margin, weight=w[0] if w else None, reduction=reduction)
        return run

    args = [x, target] + ([weight] if weighted else [])
    check_against_torch(torch, rng, call(F.multi_margin_loss),
                        call(torch.nn.functional.multi_margin_loss), args, grads=(0,),
                        name="multi_margin_loss")


def test_multi_margin_loss_gradcheck(rng):
    x = em.tensor(rng.normal(0, 1, (5, 4)), dtype=em.float64, requires_grad=True)
    target = em.tensor(rng.integers(0, 4, 5))
    assert gradcheck(lambda a: F.multi_margin_loss(a, target, p=2, reduction="none"), (x,))


def test_multi_margin_loss_errors():
    with pytest.raises(ValueError, match="multi_margin_loss: p must be 1 or 2, got 3"):
        F.multi_margin_loss(em.zeros(2, 3), em.tensor([0, 1]), p=3)
    with pytest.raises(ValueError, match=r"multi_margin_loss: input must be \(N, C\) or \(C,\)"):
        F.multi_margin_loss(em.zeros(2, 3, 4), em.zeros(2, 4, dtype=em.int64))
    with pytest.raises(IndexError, match="multi_margin_loss: target 3 is out of bounds"):
        F.multi_margin_loss(em.zeros(2, 3), em.tensor([0, 3]))


@pytest.mark.filterwarnings("ignore::UserWarning")  # both warn about 'mean'
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_kl_div_matches_pytorch(torch, rng, shape, log_target, reduction):
    log_q = np.log(rng.dirichlet(np.ones(shape[-1]), shape[:-1]))
    t = rng.dirichlet(np.ones(shape[-1]), shape[:-1])
    if log_target:
        t = np.log(t)
    check_against_torch(
        torch, rng,
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction,
                                                log_target=log_target),
        [log_q, t], grads=(0, 1), name="kl_div")


def test_kl_div_zero_target_probability_contributes_nothing(torch):
    log_q = np.log([[0.2, 0.3, 0.5]])
    t = [[0.0, 0.4, 0.6]]
    ours = F.kl_div(em.tensor(log_q, dtype=em.float64), em.tensor(t, dtype=em.float64),
                    reduction="none")
    theirs = torch.nn.functional.kl_div(torch.tensor(log_q), torch.tensor(t), reduction="none")
    assert_close(ours, theirs)
    assert ours[0, 0].item() == 0.0


def test_kl_div_mean_warns_and_rejects_unknown_reductions():
    x = em.zeros(2, 3)
    with pytest.warns(UserWarning, match="'batchmean' gives the KL divergence per sample"):
        F.kl_div(x, x.exp())
    with pytest.raises(ValueError, match="kl_div: reduction must be one of 'none', 'mean', "
                                         "'sum', 'batchmean'"):
        F.kl_div(x, x, reduction="avg")
