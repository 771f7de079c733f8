"""Smoke run of ember.experiments.perceptron (the full run is as cheap: it must hold)."""

import pytest
from experiment_checks import check_repeatable, check_result, smoke_twice


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("perceptron", tmp_path_factory)


def test_result_and_claim(runs):
    result = runs[0]
    check_result(result, "perceptron")
    assert result.held
    rows = {row["gate"]: row for row in result.table}
    assert all(rows[g]["converged"] for g in ("AND", "OR", "NAND"))
    assert not rows["XOR"]["converged"] and rows["XOR"]["cycle (from epoch, period)"]
    assert rows["XOR"]["accuracy"] < 1.0 and rows["AND"]["accuracy"] == 1.0
    assert set(result.data["mistakes"]) == {"AND", "OR", "NAND", "XOR"}


def test_repeatable(runs):
    check_repeatable(*runs)
