"""Smoke run of ember.experiments.initialization."""

import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

from ember.experiments import initialization


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("initialization", tmp_path_factory)


def test_result_has_the_statistics_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "initialization")
    depth, width = (initialization.SIZES["smoke"][k] for k in ("depth", "width"))
    stds = result.data["activation_std"]
    assert len(stds) == len(initialization.ACTIVATIONS) * len(initialization.INITS)
    assert all(std.shape == (depth,) for std in stds.values())
    rows = {(r["network"], r["init"]): r for r in result.table}
    for activation in initialization.ACTIVATIONS:
        # zero weights: no signal, and every unit stays the same unit, even after training
        assert not stds[f"{activation}/zeros"].any()
        assert rows[(activation, "zeros")]["distinct units"] == 1
        assert rows[(activation, "He")]["distinct units"] == width
        small = stds[f"{activation}/N(0, 0.01)"]
        assert small[-1] < 1e-2 * small[0]  # too small: vanishes layer by layer


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["activation_std"], runs[1].data["activation_std"])


def test_xavier_keeps_tanh_and_he_keeps_relu_activations_alive():
    import ember as em

    em.manual_seed(0)
    x = em.randn(256, 64)
    for activation, init in (("tanh", "Xavier"), ("ReLU", "He")):
        model = initialization.network(activation, init, depth=8, width=64)
        std = [a.std() for a in initialization.activations(model, x)]
        assert 0.1 < std[-1] / std[0] < 10, (activation, std)
