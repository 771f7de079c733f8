"""Every sampler runs a small seeded search end to end, repeatably."""

import math

import pytest

optuna = pytest.importorskip("optuna")

from ember.tune import SAMPLERS, LIPOSampler, Space, make_sampler, search  # noqa: E402

SPACE = ["lr=loguniform(1e-4,1e-1)", "units=int(16,128)", "activation=choice(relu,tanh)"]


def objective(params: dict) -> float:
    """Lowest at lr = 1e-2, units = 48, relu: 0."""
    return ((math.log10(params["lr"]) + 2) ** 2 + (params["units"] - 48) ** 2 / 1e3
            + (0.0 if params["activation"] == "relu" else 0.5))


def _run(name: str, seed: int, n_trials: int = 10):
    return search(objective, SPACE, sampler=name, n_trials=n_trials, seed=seed,
                  grid_points=2)


@pytest.mark.parametrize("name", [s for s in SAMPLERS if s != "grid"])
def test_each_sampler_runs_a_seeded_search_end_to_end(name):
    n_trials = 10
    if name == "gp":  # a Gaussian process fit per trial: the slowest, so fewer trials
        pytest.importorskip("torch")
        pytest.importorskip("scipy")
        n_trials = 5
    if name == "cmaes":
        pytest.importorskip("cmaes")
    study = _run(name, seed=0, n_trials=n_trials)
    assert len(study.trials) == n_trials
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        assert 1e-4 <= t.params["lr"] <= 1e-1 and 16 <= t.params["units"] <= 128
        assert isinstance(t.params["units"], int) and t.params["activation"] in ("relu", "tanh")
    assert study.best_value < 1.5
    again = _run(name, seed=0, n_trials=n_trials)
    assert [t.params for t in again.trials] == [t.params for t in study.trials]  # repeatable
    if name != "gp":
        other = _run(name, seed=1, n_trials=n_trials)
        assert [t.params for t in other.trials] != [t.params for t in study.trials]


def test_grid_search_tries_the_whole_grid_once_and_stops():
    study = _run("grid", seed=0, n_trials=20)
    tried = sorted((t.params["lr"], t.params["units"], t.params["activation"])
                   for t in study.trials)
    grid = Space.parse(SPACE).grid(2)
    assert grid == {"lr": [1e-4, 1e-1], "units": [16, 128], "activation": ["relu", "tanh"]}
    assert tried == sorted((lr, u, a) for lr in grid["lr"] for u in grid["units"]
                           for a in grid["activation"])  # 8 points: stops before 20


def test_samplers_by_name_and_their_errors():
    assert isinstance(make_sampler("lipo", seed=0), LIPOSampler)
    assert isinstance(make_sampler("tpe", n_trials=12), optuna.samplers.TPESampler)
    assert make_sampler("tpe", n_trials=12)._n_startup_trials == 3  # a quarter of 12
    assert make_sampler("tpe")._n_startup_trials == 10  # Optuna's default
    with pytest.raises(ValueError, match="unknown sampler 'bayes'.*lipo"):
        make_sampler("bayes")
    with pytest.raises(ValueError, match="grid search needs a search space"):
        make_sampler("grid")
