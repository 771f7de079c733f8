"""SyncBatchNorm's primitive on a group of one rank is batch norm (no MPI needed); the
two-rank case runs under mpiexec in tests/distributed."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.nn import functional as F
from ember.nn.functional.sync_batch_norm import sync_batch_norm
from ember.testing import gradcheck
from ember.testing.distributed import SingleProcessGroup


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_one_rank_equals_batch_norm_forward_backward_and_running_statistics(shape):
    rng = np.random.default_rng(0)
    values = rng.normal(size=shape) * 3 + 1
    grad_out = rng.normal(size=shape)
    gamma = rng.normal(size=3)
    results = []
    for sync in (False, True):
        x = em.tensor(values, requires_grad=True)
        weight = em.tensor(gamma, requires_grad=True)
        bias = em.tensor(np.arange(3.0), requires_grad=True)
        mean, var = em.zeros(3, dtype=em.float64), em.ones(3, dtype=em.float64)
        if sync:
            y = sync_batch_norm(x, mean, var, weight, bias, 0.1, 1e-5, SingleProcessGroup())
        else:
            y = F.batch_norm(x, mean, var, weight, bias, training=True, momentum=0.1)
        y.backward(em.tensor(grad_out))
        results.append([y.detach().numpy(), x.grad.numpy(), weight.grad.numpy(),
                        bias.grad.numpy(), mean.numpy(), var.numpy()])
    for plain, synced in zip(*results, strict=True):
        np.testing.assert_allclose(synced, plain, rtol=1e-12, atol=1e-13)


def test_one_rank_gradcheck():
    rng = np.random.default_rng(1)
    x = em.tensor(rng.normal(size=(3, 2, 3)), requires_grad=True)
    weight = em.tensor([0.5, -1.5], requires_grad=True)
    bias = em.tensor([0.1, 0.2], requires_grad=True)
    assert gradcheck(lambda x, w, b: sync_batch_norm(x, None, None, w, b, 0.1, 1e-5,
                                                     SingleProcessGroup()) ** 2, (x, weight, bias))


def test_errors_name_the_op():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        sync_batch_norm(em.ones(1, 3), None, None, None, None, 0.1, 1e-5, SingleProcessGroup())
    with pytest.raises(ValueError, match="sync_batch_norm: weight has shape"):
        sync_batch_norm(em.ones(4, 3), None, None, em.ones(2), None, 0.1, 1e-5, SingleProcessGroup())
