"""Pruning: stop a trial early when its validation curve is already losing.

Each epoch the Trainer's :class:`PruningCallback` reports the monitored validation
quantity to the trial (``trial.report(value, epoch)``) and asks the study's pruner
whether to go on:

* **median** (:class:`optuna.pruners.MedianPruner`): stop if this epoch's value is worse
  than the median of the other trials' values at the same epoch (once a few trials have
  finished, and never in the first epoch);
* **hyperband** (:class:`optuna.pruners.HyperbandPruner`, Li et al. 2018): successive
  halving in brackets: trials are compared at 1, 3, 9, ... epochs (reduction factor 3)
  and only the best third goes on to the next rung;
* **none**: every trial runs its full course.

A pruned trial ends in the ``PRUNED`` state with its reports kept, so the plots show
where it stopped.

>>> make_pruner("median")
<optuna.pruners._median.MedianPruner object at ...>
"""

from __future__ import annotations

import math

import optuna

from ember.train.callbacks import Callback

PRUNERS = ("median", "hyperband", "none")


def make_pruner(name: str, max_epochs: int | None = None,
                n_trials: int | None = None) -> optuna.pruners.BasePruner:
    """The pruner called ``name`` (see the module docs).

    Args:
        name: one of :data:`PRUNERS`.
        max_epochs: the most epochs a trial trains (Hyperband's largest resource).
        n_trials: the budget: the median pruner waits for a fifth of it (2 to 5 trials)
            to have finished before it judges a trial.
    """
    if name == "median":
        startup = 5 if n_trials is None else max(2, min(5, n_trials // 5))
        return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=2)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1,
                                              max_resource=max_epochs or "auto",
                                              reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {name!r}; choose from {', '.join(PRUNERS)}")


class PruningCallback(Callback):
    """Report ``monitor`` to an Optuna trial after every epoch; raise
    :class:`optuna.TrialPruned` when the study's pruner says stop.

    Args:
        trial: the running ``optuna.Trial``.
        monitor: a logged quantity (default ``val_loss``; validation data needed).
        step_offset: added to the epoch number in reports (k-fold runs report fold after
            fold on one axis).

    A value that is not finite (a diverged run) is reported as infinitely bad and prunes
    the trial at once.
    """

    def __init__(self, trial, monitor: str = "val_loss", step_offset: int = 0) -> None:
        self.trial, self.monitor, self.step_offset = trial, monitor, step_offset
        self.pruned_epoch: int | None = None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.monitor not in logs:
            raise KeyError(f"PruningCallback: '{self.monitor}' is not logged; available: "
                           f"{', '.join(sorted(logs))} (validation metrics need val_data)")
        value = float(logs[self.monitor])
        self.trial.report(value, self.step_offset + epoch)
        if not math.isfinite(value) or self.trial.should_prune():
            self.pruned_epoch = epoch
            trainer.stop_training = True
            raise optuna.TrialPruned(f"pruned at epoch {epoch}: {self.monitor} {value:.4g}")
