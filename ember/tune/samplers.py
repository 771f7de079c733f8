"""The samplers by name: grid, random, TPE, Gaussian process, CMA-ES and LIPO.

=========  ===================================================================  ==========
name       how the next trial's hyperparameters are chosen                      needs
=========  ===================================================================  ==========
grid       every combination of a few values per parameter, in random order     --
random     independently at random from each distribution (Bergstra, Bengio)   --
tpe        Bayesian: where a density model of good trials beats one of bad      --
           trials (Optuna's default, Bergstra et al. 2011)
gp         Bayesian: Gaussian-process surrogate, expected improvement          torch, scipy
cmaes      evolution strategy adapting a Gaussian search distribution           cmaes
lipo       AdaLIPO bounds + trust-region refinement (:mod:`ember.tune.lipo`)    --
=========  ===================================================================  ==========

Model-based samplers first draw ``n_startup_trials`` random trials; with a small budget
the number is cut to a quarter of the trials (at least 2, at most Optuna's default), so
that a 12-trial search still spends most trials on the model.

``gp`` needs PyTorch, which ember never installs as a runtime dependency (it is in the
``test`` extra): install the CPU build yourself to use it.
"""

from __future__ import annotations

import optuna

from ember.tune.lipo import LIPOSampler
from ember.tune.space import Space

SAMPLERS = ("grid", "random", "tpe", "gp", "cmaes", "lipo")


def make_sampler(name: str, space: Space | None = None, seed: int | None = None,
                 n_trials: int | None = None, grid_points: int = 5
                 ) -> optuna.samplers.BaseSampler:
    """The Optuna sampler called ``name`` (see the module table), seeded with ``seed``.

    Args:
        name: one of :data:`SAMPLERS`.
        space: the search space (grid search needs it, to list the grid).
        seed: makes the sampler's choices repeatable.
        n_trials: the budget, to size the random start of model-based samplers.
        grid_points: values per range for grid search (choices are taken whole).
    """
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(SAMPLERS)}")
    if name == "grid":
        if space is None or not len(space):
            raise ValueError("grid search needs a search space with at least one parameter")
        return optuna.samplers.GridSampler(space.grid(grid_points), seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "lipo":
        return LIPOSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=_startup(10, n_trials))
    if name == "cmaes":
        _require("cmaes", "the cmaes sampler needs the cmaes package")
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=_startup(1, n_trials),
                                            warn_independent_sampling=False)
    _require("torch", "the gp sampler needs PyTorch (pip install torch; ember does not "
             "install it for you)")
    _require("scipy", "the gp sampler needs scipy")
    return optuna.samplers.GPSampler(seed=seed, n_startup_trials=_startup(10, n_trials),
                                     warn_independent_sampling=False)


def _startup(default: int, n_trials: int | None) -> int:
    if n_trials is None:
        return default
    return max(1 if default == 1 else 2, min(default, n_trials // 4))


def _require(module: str, message: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(f'{message}: pip install "ember[tune]"' if module != "torch"
                          else message)
