"""Smoke run of ember.experiments.batch_norm."""

import pytest
from experiment_checks import check_repeatable, check_result, smoke_twice

import ember as em
from ember.experiments import batch_norm


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("batch_norm", tmp_path_factory)


def test_result_has_the_curves_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "batch_norm")
    lrs = batch_norm.SIZES["smoke"]["lrs"]
    assert [(r["network"], r["lr"]) for r in result.table] == [
        (network, lr) for lr in lrs for network in ("plain", "batch norm")]
    for row in result.table:
        curve = result.data["val_accuracy"][f"{row['network']}/{row['lr']:g}"]
        assert len(curve) == row["epochs run"]
        assert row["diverged"] == (row["epochs run"] < batch_norm.SIZES["smoke"]["epochs"])


def test_repeatable(runs):
    check_repeatable(*runs)
    assert runs[0].data["val_accuracy"].keys() == runs[1].data["val_accuracy"].keys()


def test_network_puts_batch_norm_after_every_hidden_linear():
    with_bn = batch_norm.network(True, depth=4, width=8)
    plain = batch_norm.network(False, depth=4, width=8)
    assert sum(isinstance(m, em.nn.BatchNorm1d) for m in with_bn.modules()) == 4
    assert not any(isinstance(m, em.nn.BatchNorm1d) for m in plain.modules())
    assert with_bn(em.randn(5, 64)).shape == plain(em.randn(5, 64)).shape == (5, 10)
