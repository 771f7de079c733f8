"""Linear: parity with PyTorch, default initialisation, a training step, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.testing import assert_close, gradcheck


@pytest.mark.parametrize("shape", [(4,), (5, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch(torch, rng, shape, bias):
    ours = nn.Linear(4, 3, bias=bias).double()
    theirs = torch.nn.Linear(4, 3, bias=bias)
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal(shape)
    xe = em.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ye, yt = ours(xe), theirs(xt)
    assert_close(ye, yt.detach())
    g = rng.standard_normal(yt.shape)
    ye.backward(em.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad)
    assert_close(ours.weight.grad, theirs.weight.grad)
    if bias:
        assert_close(ours.bias.grad, theirs.bias.grad)


def test_functional_linear_gradcheck():
    x = em.randn(3, 4, dtype=em.float64, requires_grad=True)
    w = em.randn(2, 4, dtype=em.float64, requires_grad=True)
    b = em.randn(2, dtype=em.float64, requires_grad=True)
    assert gradcheck(nn.functional.linear, (x, w, b))


def test_default_initialisation_is_pytorchs():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-k, k) has std k/sqrt(3)
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert layer.weight.dtype == em.float32 and layer.weight.requires_grad


def test_parameter_count_and_repr():
    layer = nn.Linear(784, 10)
    assert sum(p.numel() for p in layer.parameters()) == 784 * 10 + 10
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"


def test_one_training_step_decreases_the_loss():
    em.manual_seed(0)
    layer = nn.Linear(3, 1)
    x = em.randn(16, 3)
    y = x @ em.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    losses = []
    for _ in range(2):
        loss = ((layer(x) - y) ** 2).mean()
        losses.append(loss.item())
        layer.zero_grad()
        loss.backward()
        with em.no_grad():
            for p in layer.parameters():
                p -= 0.1 * p.grad
    assert losses[1] < losses[0]


def test_shape_error_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) has 5 features.*"
                                         r"\(3, 4\) expects 4"):
        nn.Linear(4, 3)(em.zeros(2, 5))
