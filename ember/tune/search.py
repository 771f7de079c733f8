"""``search``: one call from an objective and a search space to a finished Optuna study.

>>> import ember as em
>>> study = em.tune.search(lambda p: (p["x"] - 2) ** 2, {"x": "uniform(-5,5)"},
...                        sampler="lipo", n_trials=15, seed=0)
>>> round(study.best_params["x"], 1)
2.0
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import optuna

from ember.tune.objective import TrainingObjective
from ember.tune.pruning import make_pruner
from ember.tune.samplers import make_sampler
from ember.tune.space import Space
from ember.tune.storage import create_study, open_storage


def search(objective_or_config: Callable | TrainingObjective | Mapping[str, Any],
           space: Space | Mapping[str, Any] | Iterable[str] | None = None, *,
           sampler: str | optuna.samplers.BaseSampler = "tpe", n_trials: int = 20,
           storage: str | os.PathLike | optuna.storages.BaseStorage | None = None,
           study_name: str | None = None,
           pruner: str | optuna.pruners.BasePruner = "median", n_jobs: int = 1,
           seed: int | None = None, direction: str | None = None,
           timeout: float | None = None, grid_points: int = 5,
           callbacks: Iterable[Callable] = (), verbose: bool = False) -> optuna.Study:
    """Search the hyperparameters of ``objective_or_config`` over ``space`` with Optuna.

    Args:
        objective_or_config: what to optimise:

            * a function of the parameters, ``f(params)``, returning a number; one with a
              parameter named ``trial`` also gets the Optuna trial, ``f(params,
              trial=trial)``, to report intermediate values to (for pruning);
            * without a ``space``, a plain Optuna objective ``f(trial)`` that suggests its
              own parameters;
            * a :class:`~ember.tune.TrainingObjective`, or a dict of its arguments
              (``{"model": "mlp", "dataset": "digits", "epochs": 5}``): train with the
              :class:`~ember.train.Trainer` and score on validation data.
        space: the search space: ``["lr=loguniform(1e-4,1e-1)", ...]``, a dict, or a
            :class:`Space` (see :mod:`ember.tune.space`).
        sampler: ``grid``, ``random``, ``tpe``, ``gp``, ``cmaes``, ``lipo`` (see
            :mod:`ember.tune.samplers`) or an Optuna sampler.
        n_trials: the number of trials the study should hold in the end. Trials already
            in a stored study count, so a resumed search, or several processes sharing
            one study, stop at ``n_trials`` together (a worker that finds them all done
            runs none; workers racing for the last trials may add one each).
        storage: where the study lives (see :mod:`ember.tune.storage`): None for memory,
            ``sqlite:///study.db``, a database URL shared by many machines, or an Optuna
            storage.
        study_name: the study's name in the storage; processes given the same storage
            and name share one search.
        pruner: ``median``, ``hyperband``, ``none`` or an Optuna pruner.
        n_jobs: trials run at once in threads of this process (Optuna's ``n_jobs``). ember
            records its graphs per thread, so this is safe; trials then draw from one
            random generator in turn, so a threaded search is not repeatable. For
            repeatable parallel work run processes on a shared storage.
        seed: seeds the sampler (and a training objective built from a dict), making the
            whole search repeatable with ``n_jobs=1``.
        direction: ``minimize`` or ``maximize`` (default: the objective's ``direction``
            attribute, else ``minimize``).
        timeout: stop starting trials after this many seconds.
        grid_points: values per range for grid search.
        callbacks: Optuna callbacks ``f(study, frozen_trial)`` run after each trial.
        verbose: let Optuna log every trial (otherwise it logs errors only).

    Returns:
        The ``optuna.Study``: ``study.best_params``, ``study.best_value``,
        ``study.trials``.
    """
    space = Space.parse(space)
    objective = objective_or_config
    if isinstance(objective, Mapping):
        config = dict(objective)
        if seed is not None:
            config.setdefault("seed", seed)
        objective = TrainingObjective(**config)
    if not callable(objective):
        raise TypeError(f"search: the objective must be callable or a config dict, got "
                        f"{type(objective).__name__}")
    if isinstance(objective, TrainingObjective) and not len(space) and not space.fixed:
        raise ValueError("search: a training objective needs a search space (e.g. "
                         "['lr=loguniform(1e-4,1e-1)'])")
    if n_trials < 0:
        raise ValueError(f"search: n_trials must be >= 0, got {n_trials}")
    direction = direction or getattr(objective, "direction", "minimize")
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"search: direction must be 'minimize' or 'maximize', got "
                         f"{direction!r}")
    if isinstance(sampler, str):
        sampler = make_sampler(sampler, space, seed=seed, n_trials=n_trials,
                               grid_points=grid_points)
    if isinstance(pruner, str):
        epochs = _epochs(objective, space)
        pruner = make_pruner(pruner, max_epochs=epochs, n_trials=n_trials)
    if not verbose:  # a failing trial's exception is raised, not logged with its traceback
        optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = create_study(open_storage(storage), study_name, direction, sampler, pruner)
    remaining = n_trials - len(study.get_trials(deepcopy=False))
    if remaining > 0:
        study.optimize(_wrap(objective, space), n_trials=remaining, n_jobs=n_jobs,
                       timeout=timeout, gc_after_trial=False,
                       callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=None),
                                  *callbacks])
    return study


def _wrap(objective: Callable, space: Space) -> Callable:
    """An Optuna objective ``f(trial)`` calling ``objective`` with the trial's params."""
    if not len(space) and not space.fixed:
        return objective
    takes_trial = _takes_trial(objective)

    def run(trial):
        params = space.suggest(trial)
        return objective(params, trial=trial) if takes_trial else objective(params)

    return run


def _takes_trial(function: Callable) -> bool:
    """Whether ``function`` has a parameter called ``trial`` (or takes ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "trial" and p.kind != p.POSITIONAL_ONLY or p.kind == p.VAR_KEYWORD
               for p in parameters)


def _epochs(objective, space: Space) -> int | None:
    """The most epochs a trial can train (Hyperband's largest resource)."""
    folds = len(objective.folds) if isinstance(objective, TrainingObjective) else 1
    if "epochs" in space.distributions:
        distribution = space.distributions["epochs"]
        return folds * int(max(getattr(distribution, "high", 0) or 0, *[
            c for c in getattr(distribution, "choices", []) if isinstance(c, int)], 1))
    if "epochs" in space.fixed:
        return folds * int(space.fixed["epochs"])
    if isinstance(objective, TrainingObjective):
        return int(objective.recipe({})["epochs"]) * len(objective.folds)
    return None
