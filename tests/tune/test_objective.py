"""TrainingObjective: validation scoring, k-fold cross-validation, repeatable trials, a
diverged run, and the one test evaluation."""

import math

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("sklearn")

from ember.data import KFold  # noqa: E402
from ember.tune import TrainingObjective  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
SMALL = {"epochs": 2, "train_size": 300, "width": 16}


def test_k_fold_cross_validation_scores_the_mean_over_the_folds():
    objective = TrainingObjective("mlp", "digits", cv=3, **SMALL)
    expected = list(KFold(3, shuffle=True, seed=0).split_indices(np.arange(300)))
    assert len(objective.folds) == 3
    for (train, val), (want_train, want_val) in zip(objective.folds, expected, strict=True):
        np.testing.assert_array_equal(train, want_train)
        np.testing.assert_array_equal(val, want_val)
    validation = np.sort(np.concatenate([val for _, val in objective.folds]))
    np.testing.assert_array_equal(validation, np.arange(300))  # each sample validates once
    study = optuna.create_study()
    trial = study.ask()
    value = objective({"lr": 3e-3}, trial)
    folds = study.trials[0].user_attrs["folds"]
    assert len(folds) == 3 and value == pytest.approx(np.mean(folds))
    # the three folds report on one axis, epoch after epoch
    assert sorted(study.trials[0].intermediate_values) == [1, 2, 3, 4, 5, 6]


def test_a_trial_is_repeatable_and_the_split_follows_the_seed():
    objective = TrainingObjective("mlp", "digits", **SMALL)
    first, second = objective({"lr": 3e-3}), objective({"lr": 3e-3})
    assert first == second  # bit for bit: every trial starts from manual_seed(seed)
    assert objective({"lr": 3e-2}) != first
    other = TrainingObjective("mlp", "digits", seed=1, **SMALL)
    assert not np.array_equal(other.folds[0][1], objective.folds[0][1])
    assert len(objective.folds[0][1]) == 30  # 10% of 300 for validation


def test_recipes_fill_in_defaults_and_refuse_unknown_names():
    objective = TrainingObjective("mlp", "digits", **SMALL)
    recipe = objective.recipe({"optimizer": "sgd"})
    assert recipe["lr"] == 0.1 and recipe["epochs"] == 2 and recipe["batch_size"] == 32
    assert objective.build_model(recipe)[1].out_features == 16  # width 16, then 8
    with pytest.raises(ValueError, match="unknown hyperparameter 'learning_rate'"):
        objective({"learning_rate": 0.1})
    with pytest.raises(ValueError, match="width applies to the mlp only"):
        TrainingObjective("lenet5", "digits", width=32)
    with pytest.raises(ValueError, match="metric must be"):
        TrainingObjective("mlp", "digits", metric="loss")
    with pytest.raises(ValueError, match="cv must be at least 2"):
        TrainingObjective("mlp", "digits", cv=1)


def test_a_diverged_run_scores_worst_and_says_why():
    objective = TrainingObjective("mlp", "digits", optimizer="sgd", scheduler="none", **SMALL)
    study = optuna.create_study()
    study.optimize(lambda t: objective({"lr": 1e30}, t), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE and trial.value == math.inf
    assert "the loss became nan" in trial.user_attrs["diverged"]
    accuracy = TrainingObjective("mlp", "digits", metric="val_accuracy", optimizer="sgd",
                                 scheduler="none", **SMALL)
    assert accuracy.direction == "maximize" and accuracy({"lr": 1e30}) == -math.inf


def test_final_retrains_on_everything_and_reads_the_test_split_once(monkeypatch):
    from ember.cli import recipes

    reads = []
    real = recipes.load_split
    monkeypatch.setattr(recipes, "load_split",
                        lambda name, train, data_dir: reads.append(train) or real(
                            name, train, data_dir))
    objective = TrainingObjective("mlp", "digits", **SMALL)
    objective({"lr": 3e-2})
    assert reads == [True] and objective.test_evaluations == 0  # trials never see the test
    result = objective.final({"lr": 3e-2})
    assert reads == [True, False] and objective.test_evaluations == 1
    assert result.test_size == 359 and result.test_accuracy > 0.5
    # the accuracy is the returned model's on the test images, prepared as for training
    test = real("digits", False, None)
    x = recipes.prepare(test.images, (8, 8), objective.mean, objective.std)
    result.model.eval()
    predicted = result.model(x).detach().numpy().argmax(axis=1)
    assert result.test_accuracy == pytest.approx(np.mean(predicted == test.labels))
    assert result.meta["architecture"] == {"hidden": [16, 8]}
    assert len(result.history["loss"]) == 2 and "val_loss" not in result.history
