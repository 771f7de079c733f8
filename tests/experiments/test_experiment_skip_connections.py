"""Smoke run of ember.experiments.skip_connections."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

from ember.experiments import skip_connections


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("skip_connections", tmp_path_factory)


def test_result_compares_the_three_skip_forms(runs):
    result = runs[0]
    check_result(result, "skip_connections")
    assert [row["skips"] for row in result.table] == [
        skip_connections.LABELS[s] for s in skip_connections.SKIPS]
    for row in result.table:
        assert 0 <= row["mean IoU"] <= 1 and 0 <= row["pixel accuracy"] <= 1
    params = [row["parameters"] for row in result.table]
    assert params[0] > params[1] == params[2]  # concatenation widens the decoder's input
    size = skip_connections.SIZES["smoke"]
    for skip in skip_connections.SKIPS:
        assert result.data["predictions"][skip].shape == (size["n_test"], size["size"],
                                                          size["size"])


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["predictions"], runs[1].data["predictions"])


def test_judge_reads_the_table():
    bf = f"boundary F1 (@{skip_connections.TOLERANCE}px)"
    rows = [{"skips": skip_connections.LABELS[s], "mean IoU": m, bf: b}
            for s, m, b in (("concat", 0.8, 0.7), ("add", 0.805, 0.6), ("none", 0.6, 0.3))]
    held, finding = skip_connections._judge(rows)
    assert held and "0.800 with concatenated skips" in finding
    rows[1]["mean IoU"] = 0.9
    assert not skip_connections._judge(rows)[0]
    assert np.isfinite(rows[0]["mean IoU"])
