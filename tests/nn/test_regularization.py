"""L1, L2 and elastic-net penalties: values, gradients, which parameters a Module gives,
and the weight-decay correspondence."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn.regularization import elastic_net_penalty, l1_penalty, l2_penalty
from ember.testing import assert_close, gradcheck


def _model():
    em.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _arrays(model, weights_only=True):
    return [p.detach().numpy() for n, p in model.named_parameters()
            if not weights_only or n.endswith("weight")]


@pytest.mark.parametrize("weights_only", [True, False])
def test_penalties_of_a_module(weights_only):
    model = _model()
    arrays = _arrays(model, weights_only)
    l1 = sum(np.abs(a).sum() for a in arrays)
    l2 = sum((a * a).sum() for a in arrays)
    assert_close(l1_penalty(model, weights_only=weights_only), l1, rtol=1e-6)
    assert_close(l2_penalty(model, weights_only=weights_only), l2, rtol=1e-6)
    assert_close(elastic_net_penalty(model, 0.3, weights_only=weights_only),
                 0.3 * l1 + 0.7 * l2, rtol=1e-6)


def test_module_default_leaves_the_biases_out():
    model = _model()
    l2_penalty(model).backward()
    assert model[0].bias.grad is None and model[2].bias.grad is None
    assert_close(model[0].weight.grad, 2 * model[0].weight.detach().numpy())


def test_recurrent_weight_names_count_as_weights():
    module = nn.Module()
    module.weight_ih_l0 = nn.Parameter(em.tensor([1.0, -2.0]))
    module.bias_ih_l0 = nn.Parameter(em.tensor([10.0]))
    module.gate_weight = nn.Parameter(em.tensor([3.0]))
    assert l1_penalty(module).item() == 6.0
    assert l1_penalty(module, weights_only=False).item() == 16.0


def test_gradients_of_tensors(rng):
    a = em.tensor(rng.standard_normal((2, 3)), dtype=em.float64, requires_grad=True)
    b = em.tensor(rng.standard_normal(4), dtype=em.float64, requires_grad=True)
    for penalty in (l1_penalty, l2_penalty, lambda ts: elastic_net_penalty(ts, 0.25)):
        assert gradcheck(lambda x, y, penalty=penalty: penalty([x, y]), (a, b))
    elastic_net_penalty((t for t in [a, b]), l1_ratio=0.25).backward()  # any iterable
    assert_close(a.grad, 0.25 * np.sign(a.detach().numpy()) + 0.75 * 2 * a.detach().numpy())


def test_weight_decay_is_half_lambda_times_the_l2_penalty(torch, rng):
    """SGD(weight_decay=λ) takes the same step as plain SGD on loss + (λ/2) * l2_penalty."""
    lam, lr = 0.1, 0.5
    w0 = rng.standard_normal(5)
    x = rng.standard_normal(5)
    decayed = torch.tensor(w0, requires_grad=True)
    optimizer = torch.optim.SGD([decayed], lr=lr, weight_decay=lam)
    (decayed * torch.tensor(x)).sum().backward()
    optimizer.step()
    w = em.tensor(w0, dtype=em.float64, requires_grad=True)
    ((w * em.tensor(x, dtype=em.float64)).sum() + lam / 2 * l2_penalty([w])).backward()
    assert_close(w.detach() - lr * w.grad, decayed.detach(), rtol=1e-12)


def test_float32_stays_float32_and_empty_is_zero():
    model = _model()
    assert l1_penalty(model).dtype == em.float32
    assert l2_penalty([]).item() == 0.0
    assert l1_penalty(em.tensor([-1.0, 2.0])).item() == 3.0  # one tensor


def test_errors():
    with pytest.raises(ValueError, match=r"elastic_net_penalty: l1_ratio must be in \[0, 1\]"):
        elastic_net_penalty(_model(), l1_ratio=1.5)
    with pytest.raises(TypeError, match="l1_penalty: expects a Module or an iterable of "
                                        "tensors, got float"):
        l1_penalty(3.0)
    with pytest.raises(TypeError, match="l2_penalty: expects tensors, got a list"):
        l2_penalty([[1.0, 2.0]])
