"""LIPO: a global optimiser with no parameters to tune, as an Optuna sampler.

A function :math:`f` is *k-Lipschitz* when :math:`|f(x) - f(x')| \\le k \\lVert x - x'
\\rVert`. Then every evaluated point :math:`(x_i, f_i)` bounds :math:`f` everywhere,

.. math::
    L(x) = \\max_i \\bigl(f_i - k \\lVert x - x_i \\rVert\\bigr) \\;\\le\\; f(x)
    \\;\\le\\; U(x) = \\min_i \\bigl(f_i + k \\lVert x - x_i \\rVert\\bigr),

and only points whose lower bound is below the best value so far, :math:`L(x) <
\\min_i f_i`, can improve on it (to minimise). LIPO (Malherbe and Vayatis, 2017) evaluates
only such points. *AdaLIPO* does not need :math:`k`: it estimates it from the data as
the smallest value of the grid :math:`(1 + \\alpha)^j, j \\in \\mathbb{Z}` at or above the
steepest slope seen,

.. math:: \\hat k = \\min\\Bigl\\{(1 + \\alpha)^j \\ge \\max_{i \\ne l}
          \\frac{|f_i - f_l|}{\\lVert x_i - x_l \\rVert}\\Bigr\\},

and keeps a small probability of a purely random point so that :math:`\\hat k` keeps
growing where it is too small.

Bounds alone find the basin of the minimum but are slow to pin it down. dlib's
``find_min_global`` (King, 2017, "A Global Optimization Algorithm Worth Using")
therefore alternates two kinds of step, and so does :class:`LIPOSampler`:

1. **global (AdaLIPO)**: a point drawn uniformly from those whose lower bound is below
   the best value, :math:`L(x) < \\min_i f_i` (rejection sampling among
   ``n_candidates`` random points); with ``global_step="maxlipo"`` the candidate with the
   lowest :math:`L(x)`, as dlib. With no such candidate, and with probability
   ``random_probability``, a random point;
2. **trust region** (the local, BOBYQA-like refinement of the MITIE approach): fit a
   quadratic :math:`Q(s) = \\tfrac12 s^\\top H s + g^\\top s + c` to the best point and
   its nearest neighbours (least squares with :math:`(d+1)(d+2)/2` points or more,
   otherwise the interpolant with the smallest :math:`\\lVert H \\rVert_F`, Powell 2004),
   minimise it within a radius :math:`r` of the best point and inside the box, and
   evaluate there. The radius halves when the step gains less than a quarter of the
   predicted improvement and doubles when it gains more than three quarters; a large
   improvement found by a global step resets it to the size of the new neighbourhood.

The first point is the centre of the box; then random points until there are
:math:`\\max(3, d)` of them. Running trials of other workers count as points with the
value of their nearest finished neighbour, so parallel workers do not pile onto the same
spot. Every choice is recorded in the trial's system attributes (``lipo:step``,
``lipo:radius``, ...), and the sampler rebuilds its state from them on each call: any
number of processes sharing one storage run one search.

Coordinates: each parameter is mapped to [0, 1] (its logarithm, for log-scaled ones), so
distances weigh parameters by their range. Integer parameters (and floats with a step)
are rounded; as in dlib, the trust region keeps integers at their best values and moves
the real-valued parameters. Categorical parameters are drawn at random.

References: C. Malherbe, N. Vayatis, "Global optimization of Lipschitz functions"
(ICML 2017); D. King, "A Global Optimization Algorithm Worth Using" (dlib blog, 2017);
M. J. D. Powell, "The NEWUOA software for unconstrained optimization without derivatives"
(2004).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.search_space import IntersectionSearchSpace
from optuna.study import StudyDirection
from optuna.trial import TrialState

from ember.tune.trust_region import fit_quadratic, solve_trust_region

STEP, RADIUS, ANCHOR, PREDICTED = "lipo:step", "lipo:radius", "lipo:anchor", "lipo:predicted"
LIPSCHITZ, BOUND, POTENTIAL = "lipo:lipschitz", "lipo:lower_bound", "lipo:potential"
INITIAL, RANDOM, GLOBAL, TRUST_REGION = "initial", "random", "global", "trust_region"


# ---------------------------------------------------------------------- the bounds


def lipschitz_constant(x: np.ndarray, y: np.ndarray, alpha: float = 0.01) -> float:
    """AdaLIPO's estimate: the smallest :math:`(1 + \\alpha)^j` at or above the steepest
    slope between two evaluated points (0 with fewer than two distinct points).

    >>> lipschitz_constant(np.array([[0.0], [0.5], [1.0]]), np.array([0.3, 0.2, 0.7]))
    1.0
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return 0.0
    distance = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    rise = np.abs(y[:, None] - y[None, :])
    apart = distance > 1e-12
    if not apart.any():
        return 0.0
    slope = float((rise[apart] / distance[apart]).max())
    if slope == 0.0:
        return 0.0
    # the tolerance keeps an exact power (1 + alpha)^j from rounding up to j + 1
    j = math.ceil(math.log(slope) / math.log1p(alpha) - 1e-9)
    return float((1.0 + alpha) ** j)


def lower_bound(query: np.ndarray, x: np.ndarray, y: np.ndarray, k: float) -> np.ndarray:
    """:math:`L(q) = \\max_i (f_i - k \\lVert q - x_i \\rVert)` at each row of ``query``.

    >>> lower_bound(np.array([[0.25]]), np.array([[0.0], [0.5]]), np.array([0.3, 0.2]), 1.0)
    array([0.05])
    """
    return (np.asarray(y)[None, :] - k * _distances(query, x)).max(axis=1)


def upper_bound(query: np.ndarray, x: np.ndarray, y: np.ndarray, k: float) -> np.ndarray:
    """:math:`U(q) = \\min_i (f_i + k \\lVert q - x_i \\rVert)` at each row of ``query``."""
    return (np.asarray(y)[None, :] + k * _distances(query, x)).min(axis=1)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


# ---------------------------------------------------------------------- coordinates


class _Axis:
    """One numeric parameter mapped to [0, 1] (its log for log-scaled ones)."""

    def __init__(self, distribution: FloatDistribution | IntDistribution) -> None:
        self.distribution = distribution
        self.log = distribution.log
        self.integer = isinstance(distribution, IntDistribution)
        self.step = distribution.step
        self.discrete = self.integer or self.step is not None
        self.a, self.b = self._forward(distribution.low), self._forward(distribution.high)

    def _forward(self, value: float) -> float:
        return math.log(value) if self.log else float(value)

    def to_unit(self, value: float) -> float:
        return (self._forward(value) - self.a) / (self.b - self.a)

    def from_unit(self, u: float):
        raw = self.a + min(max(float(u), 0.0), 1.0) * (self.b - self.a)
        value = math.exp(raw) if self.log else raw
        low, high = self.distribution.low, self.distribution.high
        if self.step is not None:
            value = low + round((value - low) / self.step) * self.step
        value = min(max(value, low), high)
        return int(round(value)) if self.integer else float(value)

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Unit coordinates moved onto the values this parameter can take (as
        :meth:`from_unit` then :meth:`to_unit`, for many at once)."""
        if not self.discrete:
            return u
        raw = self.a + np.clip(u, 0.0, 1.0) * (self.b - self.a)
        value = np.exp(raw) if self.log else raw
        low, high = self.distribution.low, self.distribution.high
        value = np.clip(low + np.round((value - low) / self.step) * self.step, low, high)
        if self.integer:
            value = np.round(value)
        return ((np.log(value) if self.log else value) - self.a) / (self.b - self.a)


# ---------------------------------------------------------------------- the sampler


class LIPOSampler(optuna.samplers.BaseSampler):
    """AdaLIPO with a trust-region refinement around the best point, as dlib's
    ``find_min_global`` (see the module documentation for the algorithm).

    Args:
        seed: makes the search repeatable: each trial draws from a generator seeded with
            ``(seed, trial number)``, so the same trials give the same points in any
            process.
        n_candidates: random points a global step chooses from (dlib: 5000).
        random_probability: the chance of a purely random point instead of a global step
            (AdaLIPO's exploration probability; dlib: 0.02).
        global_step: ``"adalipo"`` (a uniform draw among the points that could improve)
            or ``"maxlipo"`` (the point with the lowest lower bound, dlib's choice).
        alpha: the grid :math:`(1 + \\alpha)^j` of Lipschitz constants (AdaLIPO).
        trust_region: alternate global steps with trust-region steps (dlib); False gives
            AdaLIPO's bounds alone.
        min_improvement: a trust-region step is taken only if it predicts a larger
            improvement than this (dlib's ``solver_epsilon``, 0).

    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=LIPOSampler(seed=0))
    >>> study.optimize(lambda t: (t.suggest_float("x", -4, 4) - 1) ** 2, n_trials=20)
    >>> round(study.best_params["x"], 2)
    1.0
    """

    def __init__(self, *, seed: int | None = None, n_candidates: int = 5000,
                 random_probability: float = 0.02, global_step: str = "adalipo",
                 alpha: float = 0.01, trust_region: bool = True,
                 min_improvement: float = 0.0) -> None:
        if n_candidates < 1:
            raise ValueError(f"LIPOSampler: n_candidates must be positive, got {n_candidates}")
        if not 0.0 <= random_probability <= 1.0:
            raise ValueError("LIPOSampler: random_probability must be in [0, 1], got "
                             f"{random_probability}")
        if global_step not in ("adalipo", "maxlipo"):
            raise ValueError("LIPOSampler: global_step must be 'adalipo' or 'maxlipo', got "
                             f"{global_step!r}")
        if not alpha > 0:
            raise ValueError(f"LIPOSampler: alpha must be positive, got {alpha}")
        self._seed = int(np.random.SeedSequence().entropy % 2**32) if seed is None else seed
        self.n_candidates = n_candidates
        self.random_probability = random_probability
        self.global_step = global_step
        self.alpha = alpha
        self.trust_region = trust_region
        self.min_improvement = min_improvement
        self._search_space = IntersectionSearchSpace()
        self._independent = optuna.samplers.RandomSampler(seed=seed)

    def reseed_rng(self) -> None:
        self._seed = int(np.random.SeedSequence().entropy % 2**32)
        self._independent.reseed_rng()

    def _rng(self, trial, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self._seed, trial.number, salt])

    # ------------------------------------------------------------------ Optuna's interface

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return {name: distribution
                for name, distribution in self._search_space.calculate(study).items()
                if not isinstance(distribution, CategoricalDistribution)
                and not distribution.single()}

    def sample_independent(self, study, trial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        """The centre of the range for the first trial (dlib starts there), otherwise a
        random value (categorical parameters always)."""
        if isinstance(param_distribution, (FloatDistribution, IntDistribution)):
            others = study.get_trials(deepcopy=False,
                                      states=(TrialState.COMPLETE, TrialState.RUNNING))
            if not any(param_name in t.params for t in others if t.number != trial.number):
                self._record(study, trial, {STEP: INITIAL})
                return _Axis(param_distribution).from_unit(0.5)
        return self._independent.sample_independent(study, trial, param_name,
                                                    param_distribution)

    def sample_relative(self, study, trial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        self._raise_error_if_multi_objective(study)
        names = list(search_space)
        axes = [_Axis(search_space[name]) for name in names]
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        trials = study.get_trials(deepcopy=False)
        done = sorted((t for t in trials if t.state == TrialState.COMPLETE
                       and all(n in t.params for n in names) and t.value is not None
                       and math.isfinite(t.value)), key=lambda t: t.number)
        running = [t for t in trials if t.state == TrialState.RUNNING
                   and t.number != trial.number and all(n in t.params for n in names)]
        x = np.array([[a.to_unit(t.params[n]) for n, a in zip(names, axes, strict=True)]
                      for t in done]).reshape(len(done), len(names))
        y = np.array([sign * t.value for t in done])
        x_running = np.array([[a.to_unit(t.params[n]) for n, a in zip(names, axes,
                                                                       strict=True)]
                              for t in running]).reshape(len(running), len(names))
        rng = self._rng(trial)
        d = len(names)

        if len(done) + len(running) < max(3, d) or len(done) == 0:
            point, record = self._random(rng, axes), {STEP: RANDOM}
        else:
            chosen = None
            if self.trust_region and self._trust_region_turn(trials, trial, running) \
                    and len(done) > d + 1:
                chosen = self._trust_region_step(x, y, axes, self._radius(done, x, y))
            if chosen is None:
                chosen = self._global_step(rng, x, y, x_running, axes)
            point, record = chosen
        self._record(study, trial, record)
        return {name: axis.from_unit(u) for name, axis, u in zip(names, axes, point,
                                                                 strict=True)}

    # ------------------------------------------------------------------ the steps

    def _random(self, rng: np.random.Generator, axes: list[_Axis]) -> np.ndarray:
        u = rng.random(len(axes))
        return np.array([axis.snap(np.array([v]))[0] for axis, v in zip(axes, u, strict=True)])

    def _global_step(self, rng, x, y, x_running, axes) -> tuple[np.ndarray, dict]:
        """A point that could improve on the best: its lower bound is below the best value.

        AdaLIPO draws it uniformly from that set (rejection sampling, here among
        ``n_candidates`` random points); MaxLIPO takes the candidate with the lowest
        lower bound. With none found, or with probability ``random_probability``, the
        point is random."""
        explore = rng.random() < self.random_probability
        candidates = rng.random((self.n_candidates, len(axes)))
        for j, axis in enumerate(axes):
            if axis.discrete:
                candidates[:, j] = axis.snap(candidates[:, j])
        if explore:
            return candidates[0], {STEP: RANDOM}
        k = lipschitz_constant(x, y, self.alpha)
        points, values = x, y
        if len(x_running):
            # running trials count with the value of their nearest finished neighbour
            nearest = _distances(x_running, x).argmin(axis=1)
            points, values = np.vstack([x, x_running]), np.concatenate([y, y[nearest]])
        bounds = lower_bound(candidates, points, values, k)
        potential = np.flatnonzero(bounds < y.min())
        record = {LIPSCHITZ: k, POTENTIAL: len(potential) / len(candidates)}
        if len(potential) == 0:
            return candidates[0], {STEP: RANDOM, **record}
        chosen = potential[0] if self.global_step == "adalipo" else int(bounds.argmin())
        return candidates[chosen], {STEP: GLOBAL, BOUND: float(bounds[chosen]), **record}

    def _trust_region_step(self, x, y, axes, radius: float) -> tuple[np.ndarray, dict] | None:
        """Minimise a quadratic fitted around the best point within the radius."""
        real = np.array([not axis.integer for axis in axes])
        d = int(real.sum())
        if d == 0:
            return None
        best = int(y.argmin())
        count = min(len(x), (d + 1) * (d + 2) // 2)
        nearest = np.argsort(_distances(x[best], x)[0], kind="stable")[:count]
        s = x[nearest][:, real] - x[best, real]
        if radius == 0.0:
            # a fresh radius: a little less than the reach of the neighbourhood
            radius = 0.95 * float(np.linalg.norm(s, axis=1).max())
        radius = min(radius, math.sqrt(d))
        if radius <= 0.0:
            return None
        H, g, _ = fit_quadratic(s, y[nearest])
        p = solve_trust_region(H, g, radius, -x[best, real], 1.0 - x[best, real])
        predicted = -float(g @ p + 0.5 * p @ H @ p)
        if not predicted > self.min_improvement:
            return None
        point = x[best].copy()
        point[real] += p
        for j, axis in enumerate(axes):
            point[j] = axis.snap(np.array([point[j]]))[0]
        if _distances(point, x).min() < 1e-12:
            return None  # nothing new to learn there
        return point, {STEP: TRUST_REGION, RADIUS: radius, ANCHOR: float(y[best]),
                       PREDICTED: predicted}

    def _trust_region_turn(self, trials, trial, running) -> bool:
        """Steps alternate: no trust-region step right after one, nor while one runs."""
        previous = [t for t in trials if t.number == trial.number - 1]
        if previous and previous[0].system_attrs.get(STEP) == TRUST_REGION:
            return False
        return not any(t.system_attrs.get(STEP) == TRUST_REGION for t in running)

    def _radius(self, done, x, y) -> float:
        """The trust-region radius, replayed from the finished trials in order."""
        radius, best, best_x = 0.0, math.inf, None
        for t, point, value in zip(done, x, y, strict=True):
            attrs = t.system_attrs
            trust = attrs.get(STEP) == TRUST_REGION
            if trust:
                radius = float(attrs[RADIUS])
                predicted = abs(float(attrs[PREDICTED])) or 1e-300
                rho = (float(attrs[ANCHOR]) - value) / predicted  # gained / predicted
                radius *= 0.5 if rho < 0.25 else 2.0 if rho > 0.75 else 1.0
            if value < best:
                if not trust and best_x is not None and \
                        float(np.linalg.norm(point - best_x)) > radius * 1.001:
                    radius = 0.0  # a big move: start afresh around the new best point
                best, best_x = value, point
        return radius

    def _record(self, study, trial, attrs: dict) -> None:
        for key, value in attrs.items():
            study._storage.set_trial_system_attr(trial._trial_id, key, value)
