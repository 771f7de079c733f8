"""Experiments that turn textbook claims into measured results, each with a plot.

Each experiment is one module with a ``NAME``, the ``CLAIM`` it tests, and
``run(out, size, seed)``: it seeds ``ember.manual_seed``, trains and measures, writes
``out/NAME.png``, and returns a :class:`~ember.experiments.common.Result` whose
``finding`` says, from this run's numbers, whether the claim held. ``size="smoke"`` is a
reduced run of a second or less, for tests; its claims are not expected to hold.

From the command line: ``ember experiment --list`` and ``ember experiment NAME [--out DIR]``.

>>> from ember import experiments
>>> experiments.names()[:3]
['loss_choice', 'optimizers', 'batch_size']
>>> result = experiments.run("xor", out="runs/experiments", size="full")  # doctest: +SKIP
>>> print(result.finding)                                                  # doctest: +SKIP
held: logistic regression fitted 58% of the XOR points, the network with 2 hidden units ...
"""

from __future__ import annotations

import builtins
import importlib
import os
import time
from types import ModuleType

from ember.experiments.common import Result, check_size

__all__ = ["Result", "describe", "get", "list", "names", "run"]

_MODULES = (
    "loss_choice", "optimizers", "batch_size", "vanishing_gradients", "initialization",
    "dying_relu", "overfitting", "sparsity", "batch_norm", "xor",
    "perceptron", "canny_vs_sobel", "search",
    "newton",
)
_MODULES += ("transfer",)
_MODULES += ("skip_connections",)  # segmentation (issue 17)
DEFAULT_OUT = os.path.join("runs", "experiments")


def names() -> builtins.list[str]:
    """The experiments' names, in the order of the notes they come from."""
    return builtins.list(_MODULES)


def get(name: str) -> ModuleType:
    """The module of experiment ``name`` (``-`` may stand for ``_``).

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
    """
    key = str(name).replace("-", "_")
    if key not in _MODULES:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(_MODULES)} "
                         "(or run 'ember experiment --list')")
    return importlib.import_module(f"ember.experiments.{key}")


def list() -> builtins.list[tuple[str, str]]:  # noqa: A001  (the registry's listing)
    """``(name, claim)`` for every experiment."""
    return [(name, get(name).CLAIM) for name in _MODULES]


def describe(name: str) -> str:
    """The first paragraph of an experiment's docstring: what it shows and why."""
    doc = get(name).__doc__ or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def run(name: str, out: str | os.PathLike = DEFAULT_OUT, size: str = "full",
        seed: int = 0) -> Result:
    """Run experiment ``name``: measure, write ``out/NAME.png``, judge the claim.

    Args:
        name: one of :func:`names`.
        out: the folder for the plot (created if missing).
        size: ``"full"`` (the claim's real test, under two minutes on 2 cores) or
            ``"smoke"`` (a second or so, for the test suite).
        seed: passed to ``ember.manual_seed``; the same seed gives the same numbers
            (except the wall-clock columns, whose names end in ``(s)``).

    Returns:
        The :class:`Result`, with ``seconds`` set to the run's wall-clock time.
    """
    module = get(name)
    check_size(size)
    started = time.perf_counter()
    result = module.run(out, size=size, seed=seed)
    result.seconds = time.perf_counter() - started
    return result
