"""Hyperparameter search on Optuna: grid, random, Bayesian and LIPO, one machine or many.

The notes' protocol: fit the weights on the training set, choose the hyperparameters on
the validation set, and touch the test set once at the end. ``ember.tune`` runs it on
Optuna, the engine people already use, and adds what Optuna lacks:

* :func:`search`: an objective (or a training recipe) and a search space
  (``"lr=loguniform(1e-4,1e-1)"``) in, a finished ``optuna.Study`` out;
* :class:`TrainingObjective`: train with the :class:`~ember.train.Trainer`, score on a
  validation split or by k-fold cross-validation, report every epoch to a pruner
  (:class:`PruningCallback`), and retrain the winner for its one test evaluation;
* :class:`LIPOSampler`: AdaLIPO with dlib's trust-region refinement, a global
  optimiser with no parameters to tune (:mod:`ember.tune.lipo`);
* storages by URL (SQLite by default, any database server to share one search between
  machines), plots of a study, and standard test functions for optimisers.

From the command line: ``ember tune --model mlp --dataset digits --space
"lr=loguniform(1e-4,1e-1)" --sampler lipo --trials 20``.

Needs Optuna: ``pip install "ember[tune]"``.
"""

try:
    import optuna as _optuna  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installation
    raise ImportError('ember.tune needs Optuna: pip install "ember[tune]"') from None

from ember.tune.benchmarks import FUNCTIONS, TestFunction, compare
from ember.tune.lipo import LIPOSampler
from ember.tune.objective import PARAMETERS, FinalResult, TrainingObjective
from ember.tune.plots import plot_study
from ember.tune.pruning import PRUNERS, PruningCallback, make_pruner
from ember.tune.report import summary, write_trials_csv
from ember.tune.samplers import SAMPLERS, make_sampler
from ember.tune.search import search
from ember.tune.space import Space, grid_values, parse_spec
from ember.tune.storage import default_url, open_storage

__all__ = [
    "FUNCTIONS", "PARAMETERS", "PRUNERS", "SAMPLERS", "FinalResult", "LIPOSampler",
    "PruningCallback", "Space", "TestFunction", "TrainingObjective", "compare", "default_url",
    "grid_values", "make_pruner", "make_sampler", "open_storage", "parse_spec", "plot_study",
    "search", "summary", "write_trials_csv",
]
