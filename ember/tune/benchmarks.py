"""Standard test functions for global optimisers, and a seeded sampler comparison.

Each function comes with its box and its known minimum (Surjanovic and Bingham, *Virtual
Library of Simulation Experiments*, www.sfu.ca/~ssurjano):

* **Branin** (2-d): :math:`a(x_2 - b x_1^2 + c x_1 - r)^2 + s(1 - t)\\cos x_1 + s` with
  :math:`a = 1, b = 5.1/(4\\pi^2), c = 5/\\pi, r = 6, s = 10, t = 1/(8\\pi)` on
  :math:`[-5, 10] \\times [0, 15]`; three global minima of 0.397887.
* **Hartmann-6** (6-d): :math:`-\\sum_{i=1}^4 \\alpha_i \\exp(-\\sum_j A_{ij}(x_j -
  P_{ij})^2)` on :math:`[0, 1]^6`; minimum -3.32237.
* **Styblinski-Tang** (d-d): :math:`\\tfrac12 \\sum_i (x_i^4 - 16 x_i^2 + 5 x_i)` on
  :math:`[-5, 5]^d`; minimum :math:`-39.16617 d` at :math:`x_i = -2.903534`.

:func:`compare` runs Optuna studies with several samplers on one function over several
seeds and reports the best value each reached.

>>> round(branin(np.array([np.pi, 2.275])), 6)
0.397887
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def branin(x: np.ndarray) -> float:
    x1, x2 = float(x[0]), float(x[1])
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN_A = np.array([[10, 3, 17, 3.5, 1.7, 8],
                        [0.05, 10, 17, 0.1, 8, 14],
                        [3, 3.5, 1.7, 10, 17, 8],
                        [17, 8, 0.05, 10, 0.1, 14]])
_HARTMANN_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                               [2329, 4135, 8307, 3736, 1004, 9991],
                               [2348, 1451, 3522, 2883, 3047, 6650],
                               [4047, 8828, 8732, 5743, 1091, 381]])


def hartmann6(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(-(_HARTMANN_ALPHA * np.exp(-(_HARTMANN_A * (x - _HARTMANN_P) ** 2)
                                            .sum(axis=1))).sum())


def styblinski_tang(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(0.5 * (x ** 4 - 16 * x ** 2 + 5 * x).sum())


@dataclass(frozen=True)
class TestFunction:
    """A function to minimise on a box, with its known minimum."""

    __test__ = False  # not a pytest test class

    name: str
    function: Callable[[np.ndarray], float]
    bounds: tuple[tuple[float, float], ...]
    minimum: float

    @property
    def dimensions(self) -> int:
        return len(self.bounds)

    def objective(self) -> Callable:
        """An Optuna objective: ``x0, x1, ...`` suggested in the box."""
        def objective(trial) -> float:
            x = np.array([trial.suggest_float(f"x{i}", low, high)
                          for i, (low, high) in enumerate(self.bounds)])
            return self.function(x)

        return objective


STYBLINSKI_TANG_DIMENSIONS = 4
FUNCTIONS = {
    "branin": TestFunction("Branin", branin, ((-5.0, 10.0), (0.0, 15.0)), 0.397887),
    "hartmann6": TestFunction("Hartmann-6", hartmann6, ((0.0, 1.0),) * 6, -3.32237),
    "styblinski_tang": TestFunction(
        f"Styblinski-Tang {STYBLINSKI_TANG_DIMENSIONS}-d", styblinski_tang,
        ((-5.0, 5.0),) * STYBLINSKI_TANG_DIMENSIONS,
        -39.16617 * STYBLINSKI_TANG_DIMENSIONS),
}


@dataclass
class Comparison:
    """The best value each sampler reached on one function, per seed."""

    function: TestFunction
    best: dict[str, np.ndarray]  # sampler -> (seeds,) best values
    curves: dict[str, np.ndarray]  # sampler -> (seeds, trials) best so far
    seconds: dict[str, float]

    def wins(self, sampler: str, against: str) -> int:
        """Seeds on which ``sampler`` reached a strictly lower best value."""
        return int((self.best[sampler] < self.best[against]).sum())


def compare(function: TestFunction, samplers: dict[str, Callable[[int], object]],
            seeds: Sequence[int], n_trials: int) -> Comparison:
    """Minimise ``function`` with each sampler (``make_sampler(seed)``) for ``n_trials``
    trials from every seed, in memory."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    best, curves, seconds = {}, {}, {}
    objective = function.objective()
    for name, make_sampler in samplers.items():
        runs = []
        started = time.perf_counter()
        for seed in seeds:
            study = optuna.create_study(sampler=make_sampler(seed))
            study.optimize(objective, n_trials=n_trials)
            values = np.array([t.value for t in study.trials])
            runs.append(np.minimum.accumulate(values))
        seconds[name] = time.perf_counter() - started
        curves[name] = np.array(runs)
        best[name] = curves[name][:, -1]
    return Comparison(function, best, curves, seconds)
