"""Pruning from per-epoch validation reports: a diverging trial is stopped early."""

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("sklearn")

import ember as em  # noqa: E402
from ember.tune import PruningCallback, TrainingObjective, make_pruner  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(scope="module")
def objective():
    # plain SGD without a schedule: lr 30 makes the validation loss climb epoch after epoch
    return TrainingObjective("mlp", "digits", epochs=4, train_size=400, width=32,
                             scheduler="none", optimizer="sgd")


def _search(objective, pruner, learning_rates):
    # a fixed name: Hyperband puts trials in brackets by a hash of the study's name
    study = optuna.create_study(pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0),
                                study_name="pruning")
    for lr in learning_rates:
        study.enqueue_trial({"lr": lr})
    study.optimize(lambda t: objective({"lr": t.suggest_float("lr", 0.01, 100, log=True)}, t),
                   n_trials=len(learning_rates))
    return study


@pytest.mark.parametrize("pruner", [
    optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2),
    make_pruner("hyperband", max_epochs=4),
], ids=["median", "hyperband"])
def test_pruning_stops_a_diverging_trial(objective, pruner):
    study = _search(objective, pruner, [0.2, 0.3, 30.0])
    good, also_good, diverging = study.trials
    assert good.state == also_good.state == optuna.trial.TrialState.COMPLETE
    assert sorted(good.intermediate_values) == [1, 2, 3, 4]  # one report per epoch
    assert good.value == pytest.approx(good.intermediate_values[4])
    assert diverging.state == optuna.trial.TrialState.PRUNED
    losses = [diverging.intermediate_values[k] for k in sorted(diverging.intermediate_values)]
    assert len(losses) < 4  # stopped before its last epoch
    assert losses[0] > 2 * good.intermediate_values[1]  # far worse from the first epoch
    assert losses == sorted(losses)  # and climbing


def test_without_a_pruner_every_epoch_runs(objective):
    study = _search(objective, make_pruner("none"), [0.2, 0.3, 30.0])
    assert all(len(t.intermediate_values) == 4 for t in study.trials)
    assert study.trials[2].state == optuna.trial.TrialState.COMPLETE


def test_the_callback_reports_each_epoch_and_needs_the_metric():
    study = optuna.create_study()
    trial = study.ask()
    callback = PruningCallback(trial, "val_loss", step_offset=10)
    model = em.nn.Linear(2, 2)
    trainer = em.train.Trainer(model, em.nn.CrossEntropyLoss(),
                               em.optim.SGD(model.parameters(), lr=0.1), progress=False)
    callback.on_epoch_end(trainer, 1, {"val_loss": 0.5})
    assert study.trials[0].intermediate_values == {11: 0.5}
    with pytest.raises(KeyError, match="'val_loss' is not logged"):
        callback.on_epoch_end(trainer, 2, {"loss": 0.4})
    with pytest.raises(optuna.TrialPruned, match="pruned at epoch 3"):
        callback.on_epoch_end(trainer, 3, {"val_loss": float("nan")})  # diverged: stop
    assert trainer.stop_training and callback.pruned_epoch == 3


def test_pruners_by_name():
    assert isinstance(make_pruner("median", n_trials=20), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner("hyperband", 5), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner("none"), optuna.pruners.NopPruner)
    with pytest.raises(ValueError, match="unknown pruner 'asha'"):
        make_pruner("asha")
