"""Smoke run of ember.experiments.vanishing_gradients."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

import ember as em
from ember.experiments import vanishing_gradients


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("vanishing_gradients", tmp_path_factory)


def test_result_has_the_norms_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "vanishing_gradients")
    depth = vanishing_gradients.SIZES["smoke"]["depth"]
    norms = result.data["gradient_norms"]
    assert set(norms) == set(vanishing_gradients.NETWORKS)
    for norm in norms.values():
        assert norm["initial"].shape == norm["trained"].shape == (depth,)
        assert np.all(norm["initial"] > 0)
    # even 6 sigmoid layers shrink the gradient far more than 6 ReLU layers
    ratio = {r["network"]: r["first/last gradient at init"] for r in result.table}
    assert ratio["sigmoid"] < 0.1 * ratio["ReLU"]


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["gradient_norms"], runs[1].data["gradient_norms"])


def test_networks_have_depth_linear_layers_and_a_residual_path():
    for kind in vanishing_gradients.NETWORKS:
        model = vanishing_gradients.network(kind, depth=5, width=4)
        assert sum(isinstance(m, em.nn.Linear) for m in model.modules()) == 5
    block = vanishing_gradients.Residual(3)
    with em.no_grad():
        block.linear.weight.fill_(0.0)
        block.linear.bias.fill_(0.0)
    x = em.randn(2, 3)
    np.testing.assert_array_equal(block(x).detach().numpy(), x.numpy())  # identity if f = 0
