"""parameters_to_vector / vector_to_parameters, against torch.nn.utils."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em


def test_round_trip_matches_pytorch(torch):
    em.manual_seed(3)
    model = em.nn.Sequential(em.nn.Linear(3, 4), em.nn.Linear(4, 2))
    vector = em.nn.utils.parameters_to_vector(model.parameters())
    arrays = [p.detach().numpy() for p in model.parameters()]
    expected = torch.nn.utils.parameters_to_vector([torch.tensor(a) for a in arrays])
    np.testing.assert_array_equal(vector.detach().numpy(), expected.numpy())
    assert vector.shape == (3 * 4 + 4 + 4 * 2 + 2,)

    new = em.arange(vector.numel(), dtype=em.float32)
    em.nn.utils.vector_to_parameters(new, model.parameters())
    theirs = [torch.zeros(a.shape) for a in arrays]
    torch.nn.utils.vector_to_parameters(torch.arange(vector.numel(), dtype=torch.float32),
                                        theirs)
    for p, tp in zip(model.parameters(), theirs, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), tp.numpy())
    new[0] = 100.0  # shares memory with the parameters, as in PyTorch
    assert model[0].weight[0, 0].item() == 100.0


def test_gradient_flows_through_parameters_to_vector():
    a = em.tensor([1.0, 2.0], requires_grad=True)
    b = em.tensor([[3.0]], requires_grad=True)
    (em.nn.utils.parameters_to_vector([a, b]) ** 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [[6.0]])


def test_vector_to_parameters_bumps_versions_and_checks_its_input():
    a = em.zeros(2, requires_grad=True)
    version = a._version
    em.nn.utils.vector_to_parameters(em.ones(2), [a])
    assert a._version > version and a.requires_grad
    with pytest.raises(TypeError, match="expected an ember Tensor"):
        em.nn.utils.vector_to_parameters(np.ones(2), [a])
    with pytest.raises(ValueError, match="vector of 2 elements"):
        em.nn.utils.vector_to_parameters(em.ones(3), [a])
