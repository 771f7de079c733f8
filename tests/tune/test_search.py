"""ember.tune.search: objectives of every kind, the study's trial budget, directions,
threads, and a repeatable search with a training objective."""

import pytest

optuna = pytest.importorskip("optuna")

import ember as em  # noqa: E402
from ember.tune import TrainingObjective, search  # noqa: E402


def test_a_function_of_the_parameters():
    study = search(lambda p: (p["x"] - 1) ** 2 + p["k"], {"x": "uniform(-3,3)", "k": [0, 1]},
                   sampler="tpe", n_trials=15, seed=0)
    assert isinstance(study, optuna.Study) and len(study.trials) == 15
    assert study.best_params["k"] == 0 and abs(study.best_params["x"] - 1) < 0.5
    assert em.tune.search is search  # em.tune is there without importing it first


def test_a_function_may_take_the_trial_and_fixed_values_pass_through():
    seen = []

    def objective(params, trial):
        seen.append(params)
        trial.report(params["x"], 1)
        return params["x"]

    study = search(objective, ["x=uniform(0,1)", "epochs=3"], n_trials=2, pruner="none")
    assert all(p["epochs"] == 3 for p in seen)
    assert study.trials[0].intermediate_values == {1: study.trials[0].value}
    assert "epochs" not in study.trials[0].params  # fixed: not searched


def test_a_plain_optuna_objective_without_a_space():
    study = search(lambda t: t.suggest_float("y", -1, 1) ** 2, sampler="random", n_trials=5,
                   seed=0)
    assert len(study.trials) == 5 and "y" in study.best_params


def test_n_trials_counts_the_trials_already_in_a_stored_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    calls = []

    def objective(params):
        calls.append(params)
        return params["x"]

    search(objective, {"x": "uniform(0,1)"}, n_trials=3, storage=url, study_name="s", seed=0)
    study = search(objective, {"x": "uniform(0,1)"}, n_trials=5, storage=url, study_name="s",
                   seed=0)
    assert len(study.trials) == 5 and len(calls) == 5  # resumed: two more, not five
    search(objective, {"x": "uniform(0,1)"}, n_trials=4, storage=url, study_name="s")
    assert len(calls) == 5  # already has them all
    with pytest.raises(ValueError, match="created to minimize, not to maximize"):
        search(objective, {"x": "uniform(0,1)"}, n_trials=6, storage=url, study_name="s",
               direction="maximize")


def test_the_direction_comes_from_the_objective():
    class Accuracy:
        direction = "maximize"

        def __call__(self, params):
            return -((params["x"] - 0.5) ** 2)

    study = search(Accuracy(), {"x": "uniform(0,1)"}, n_trials=10, seed=0, sampler="lipo")
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert abs(study.best_params["x"] - 0.5) < 0.05


def test_threads_run_trials_side_by_side():
    study = search(lambda p: p["x"], {"x": "uniform(0,1)"}, n_trials=6, n_jobs=2,
                   sampler="random", seed=0)
    assert len(study.trials) == 6
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def test_a_training_search_is_repeatable_with_its_seed():
    pytest.importorskip("sklearn")
    config = {"model": "mlp", "dataset": "digits", "epochs": 2, "train_size": 200,
              "width": 16}
    space = ["lr=loguniform(1e-3,1e-1)", "batch_size=choice(16,32)"]
    first = search(config, space, sampler="tpe", n_trials=4, seed=3)
    second = search(config, space, sampler="tpe", n_trials=4, seed=3)
    assert [(t.params, t.value, t.intermediate_values) for t in first.trials] == \
           [(t.params, t.value, t.intermediate_values) for t in second.trials]
    other = search(config, space, sampler="tpe", n_trials=4, seed=4)
    assert [t.params for t in other.trials] != [t.params for t in first.trials]


@pytest.mark.parametrize("call, error, match", [
    (lambda: search(42, {"x": "uniform(0,1)"}), TypeError, "must be callable"),
    (lambda: search(lambda p: 0, {"x": "uniform(0,1)"}, n_trials=-1), ValueError, "n_trials"),
    (lambda: search(lambda p: 0, {"x": "uniform(0,1)"}, direction="up"), ValueError,
     "direction"),
    (lambda: search(lambda p: 0, {"x": "uniform(0,1)"}, sampler="annealing"), ValueError,
     "unknown sampler"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_training_objective_needs_a_space():
    pytest.importorskip("sklearn")
    with pytest.raises(ValueError, match="needs a search space"):
        search(TrainingObjective("mlp", "digits", epochs=1, train_size=50), None)
