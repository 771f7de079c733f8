"""The LIPO sampler: its bounds against a hand computation, the trust-region pieces against
SciPy, the step rules, and a search that beats random search."""

import math

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from optuna.distributions import FloatDistribution, IntDistribution  # noqa: E402
from optuna.trial import TrialState, create_trial  # noqa: E402

from ember.tune import lipo  # noqa: E402
from ember.tune.benchmarks import FUNCTIONS, compare  # noqa: E402
from ember.tune.lipo import (  # noqa: E402
    LIPOSampler,
    lipschitz_constant,
    lower_bound,
    upper_bound,
)
from ember.tune.trust_region import fit_quadratic, solve_trust_region  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

# f(x) = |x - 0.3| on [0, 1], evaluated at 0, 0.5 and 1
X = np.array([[0.0], [0.5], [1.0]])
Y = np.array([0.3, 0.2, 0.7])


def test_bounds_by_hand_on_a_one_dimensional_function():
    # slopes: |0.3 - 0.2| / 0.5 = 0.2, |0.2 - 0.7| / 0.5 = 1.0, |0.3 - 0.7| / 1 = 0.4;
    # the steepest is 1.0 = 1.01^0, so AdaLIPO's k is 1 exactly
    assert lipschitz_constant(X, Y, alpha=0.01) == 1.0
    # L(q) = max_i (f_i - |q - x_i|), U(q) = min_i (f_i + |q - x_i|):
    #   q = 0.25: L = max(0.05, -0.05, -0.05) = 0.05   U = min(0.55, 0.45, 1.45) = 0.45
    #   q = 0.3:  L = max(0, 0, 0) = 0                  U = min(0.6, 0.4, 1.4) = 0.4
    #   q = 0.4:  L = max(-0.1, 0.1, 0.1) = 0.1         U = min(0.7, 0.3, 1.3) = 0.3
    #   q = 0.75: L = max(-0.45, -0.05, 0.45) = 0.45    U = min(1.05, 0.45, 0.95) = 0.45
    q = np.array([[0.25], [0.3], [0.4], [0.75]])
    np.testing.assert_allclose(lower_bound(q, X, Y, 1.0), [0.05, 0.0, 0.1, 0.45], atol=1e-12)
    np.testing.assert_allclose(upper_bound(q, X, Y, 1.0), [0.45, 0.4, 0.3, 0.45], atol=1e-12)
    # f = |x - 0.3| is 1-Lipschitz, so the bounds hold everywhere
    grid = np.linspace(0, 1, 101)[:, None]
    f = np.abs(grid[:, 0] - 0.3)
    assert np.all(lower_bound(grid, X, Y, 1.0) <= f + 1e-12)
    assert np.all(f <= upper_bound(grid, X, Y, 1.0) + 1e-12)


def test_the_lipschitz_estimate_rounds_up_to_the_grid():
    # steepest slope 0.8: ceil(ln 0.8 / ln 1.01) = ceil(-22.43) = -22, k = 1.01^-22
    k = lipschitz_constant(np.array([[0.0], [0.5]]), np.array([0.0, 0.4]), alpha=0.01)
    assert k == pytest.approx(1.01 ** -22) and 0.8 <= k < 0.8 * 1.01
    assert lipschitz_constant(np.array([[0.0], [0.5]]), np.array([1.0, 1.0])) == 0.0
    assert lipschitz_constant(np.array([[0.2]]), np.array([1.0])) == 0.0


def _study_with_three_points(distribution, values, **options):
    """A study holding x at the bottom, middle and top of its range (unit coordinates 0,
    0.5 and 1) with the values Y, and a LIPO sampler without trust-region steps."""
    axis = lipo._Axis(distribution)
    study = optuna.create_study(sampler=LIPOSampler(seed=0, trust_region=False, **options))
    for u, value in zip((0.0, 0.5, 1.0), values, strict=True):
        study.add_trial(create_trial(params={"x": axis.from_unit(u)},
                                     distributions={"x": distribution}, value=value))
    return study, axis


@pytest.mark.parametrize("distribution, expected_x", [
    (FloatDistribution(0.0, 1.0), 0.3),
    (FloatDistribution(-1.0, 3.0), -1.0 + 4 * 0.3),              # ranges map to [0, 1]
    (FloatDistribution(1e-3, 10.0, log=True), 10 ** (-3 + 4 * 0.3)),  # log10: -3 .. 1
    (IntDistribution(0, 10), 3),                                  # candidates on integers
])
def test_the_global_step_follows_the_hand_computed_bound(distribution, expected_x):
    # k = 1 in unit coordinates; L(u) = |u - 0.3| below 0.5, so the points that could beat
    # the best value 0.2 (L < 0.2) are u in (0.1, 0.5), 40% of the range, and the lowest
    # bound, 0, is at u = 0.3 (MaxLIPO's choice)
    study, axis = _study_with_three_points(distribution, Y, global_step="maxlipo")
    trial = study.ask({"x": distribution})
    attrs = study.trials[-1].system_attrs
    assert attrs[lipo.STEP] == lipo.GLOBAL and attrs[lipo.LIPSCHITZ] == 1.0
    assert attrs[lipo.POTENTIAL] == pytest.approx(0.4, abs=0.03)
    assert attrs[lipo.BOUND] == pytest.approx(0.0, abs=2e-3)
    if isinstance(distribution, IntDistribution):
        assert trial.params["x"] == expected_x and attrs[lipo.BOUND] == pytest.approx(0.0)
    else:
        assert axis.to_unit(trial.params["x"]) == pytest.approx(0.3, abs=2e-3)
        assert trial.params["x"] == pytest.approx(expected_x, rel=1e-2)


def test_adalipo_draws_uniformly_among_the_points_that_could_improve():
    draws = []
    for seed in range(40):
        study, axis = _study_with_three_points(FloatDistribution(0.0, 1.0), Y)
        study.sampler._seed = seed
        draws.append(study.ask({"x": FloatDistribution(0.0, 1.0)}).params["x"])
        assert study.trials[-1].system_attrs[lipo.STEP] in (lipo.GLOBAL, lipo.RANDOM)
    draws = np.array(draws)
    inside = (draws > 0.1) & (draws < 0.5)
    assert inside.mean() >= 0.9  # outside only on the 2% purely random steps
    assert draws[inside].std() > 0.08  # spread over (0.1, 0.5), not piled on 0.3


def test_the_first_point_is_the_centre_then_random_then_alternating_steps():
    study = optuna.create_study(sampler=LIPOSampler(seed=1))
    study.optimize(lambda t: (t.suggest_float("a", -2, 2) - 0.5) ** 2
                   + (t.suggest_int("b", 0, 8) - 3) ** 2 / 10, n_trials=18)
    steps = [t.system_attrs[lipo.STEP] for t in study.trials]
    assert study.trials[0].params == {"a": 0.0, "b": 4}
    assert steps[:3] == ["initial", "random", "random"]
    for previous, step in zip(steps, steps[1:], strict=False):
        assert not (previous == step == "trust_region")  # never two in a row
    assert "trust_region" in steps and "global" in steps
    assert all(isinstance(t.params["b"], int) for t in study.trials)
    # trust-region steps keep the integer at its best value and move the real one
    for t in study.trials:
        if t.system_attrs[lipo.STEP] == "trust_region":
            assert t.params["b"] == 4
    assert abs(study.best_params["a"] - 0.5) < 0.01


def _trial(x, value, **attrs):
    return create_trial(params={"x": x}, distributions={"x": FloatDistribution(0, 1)},
                        value=value, system_attrs=attrs)


def test_the_trust_region_radius_is_replayed_from_the_stored_trials():
    tr = {lipo.STEP: lipo.TRUST_REGION}
    study = optuna.create_study()
    study.add_trial(_trial(0.5, 5.0, **{lipo.STEP: lipo.GLOBAL}))
    # gained 1.0 of a predicted 1.0 (rho = 1 > 3/4): the radius 0.2 doubles
    study.add_trial(_trial(0.6, 4.0, **tr, **{lipo.RADIUS: 0.2, lipo.ANCHOR: 5.0,
                                              lipo.PREDICTED: 1.0}))
    sampler = LIPOSampler()

    def radius():
        done = study.get_trials(states=(TrialState.COMPLETE,))
        x = np.array([[t.params["x"]] for t in done])
        return sampler._radius(done, x, np.array([t.value for t in done]))

    assert radius() == pytest.approx(0.4)
    # gained 0.1 of a predicted 2.0 (rho = 0.05 < 1/4): it halves
    study.add_trial(_trial(0.62, 3.9, **tr, **{lipo.RADIUS: 0.4, lipo.ANCHOR: 4.0,
                                               lipo.PREDICTED: 2.0}))
    assert radius() == pytest.approx(0.2)
    # a global step that improves close by keeps it; one far away resets it
    study.add_trial(_trial(0.7, 3.0, **{lipo.STEP: lipo.GLOBAL}))
    assert radius() == pytest.approx(0.2)
    study.add_trial(_trial(0.05, 1.0, **{lipo.STEP: lipo.GLOBAL}))
    assert radius() == 0.0


def test_the_sampler_keeps_no_state_of_its_own():
    """A fresh sampler continuing a study picks what the first would have picked, so any
    number of processes sharing a storage run one search."""
    def objective(trial):
        return math.sin(3 * trial.suggest_float("x", 0, 3)) + trial.suggest_float("y", -1, 1) ** 2

    whole = optuna.create_study(sampler=LIPOSampler(seed=7))
    whole.optimize(objective, n_trials=16)
    halves = optuna.create_study(sampler=LIPOSampler(seed=7))
    halves.optimize(objective, n_trials=8)
    halves.sampler = LIPOSampler(seed=7)
    halves.optimize(objective, n_trials=8)
    assert [t.params for t in halves.trials] == [t.params for t in whole.trials]


def test_maximising_is_minimising_the_negative():
    def f(trial):
        return (trial.suggest_float("x", -3, 3) - 1) ** 2 + trial.suggest_float("y", 0, 1)

    low = optuna.create_study(sampler=LIPOSampler(seed=3))
    low.optimize(f, n_trials=12)
    high = optuna.create_study(sampler=LIPOSampler(seed=3), direction="maximize")
    high.optimize(lambda t: -f(t), n_trials=12)
    assert [t.params for t in low.trials] == [t.params for t in high.trials]


def test_running_trials_are_not_proposed_again():
    study = optuna.create_study(sampler=LIPOSampler(seed=0, trust_region=False,
                                                    global_step="maxlipo"))
    distribution = FloatDistribution(0.0, 1.0)
    for u, value in zip((0.0, 0.5, 1.0), Y, strict=True):
        study.add_trial(create_trial(params={"x": u}, distributions={"x": distribution},
                                     value=value))
    first = study.ask({"x": distribution})   # still running: counts with its neighbour's 0.2
    second = study.ask({"x": distribution})
    assert first.params["x"] == pytest.approx(0.3, abs=2e-3)
    assert abs(second.params["x"] - first.params["x"]) > 0.05


def test_fit_quadratic_recovers_a_quadratic_and_interpolates_with_fewer_points(rng):
    d = 3
    A = rng.standard_normal((d, d))
    H, g, c = A + A.T, rng.standard_normal(d), 0.7
    s = rng.standard_normal((12, d))
    y = 0.5 * np.einsum("ni,ij,nj->n", s, H, s) + s @ g + c
    H_fit, g_fit, c_fit = fit_quadratic(s, y)  # 12 >= (d+1)(d+2)/2 = 10: least squares
    np.testing.assert_allclose(H_fit, H, atol=1e-9)
    np.testing.assert_allclose(g_fit, g, atol=1e-9)
    assert c_fit == pytest.approx(c)
    few = s[:6]
    H_few, g_few, c_few = fit_quadratic(few, y[:6])
    model = 0.5 * np.einsum("ni,ij,nj->n", few, H_few, few) + few @ g_few + c_few
    np.testing.assert_allclose(model, y[:6], atol=1e-9)  # it interpolates


def test_the_underdetermined_fit_has_the_smallest_hessian(rng):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    d, n = 2, 4  # 4 points, 6 coefficients: many interpolants
    s = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    H, g, c = fit_quadratic(s, y)
    # the oracle: minimise ||H||_F^2 over (H, g, c) subject to interpolation, with SLSQP
    def unpack(z):
        return np.array([[z[0], z[1]], [z[1], z[2]]]), z[3:5], z[5]

    def residual(z):
        H_, g_, c_ = unpack(z)
        return 0.5 * np.einsum("ni,ij,nj->n", s, H_, s) + s @ g_ + c_ - y

    best = scipy_optimize.minimize(lambda z: np.sum(unpack(z)[0] ** 2), np.zeros(6),
                                   constraints=[{"type": "eq", "fun": residual}],
                                   method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    assert np.sum(H ** 2) == pytest.approx(best.fun, rel=1e-6)
    np.testing.assert_allclose(H, unpack(best.x)[0], atol=1e-5)


def test_solve_trust_region_against_scipy(rng):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    for case in range(16):
        d = int(rng.integers(1, 5))
        A = rng.standard_normal((d, d))
        H, g, radius = A + A.T, rng.standard_normal(d), rng.uniform(0.1, 2.0)
        boxed = case % 2 == 0
        lower = -rng.uniform(0, 1, d) if boxed else np.full(d, -10.0)
        upper = rng.uniform(0, 1, d) if boxed else np.full(d, 10.0)
        p = solve_trust_region(H, g, radius, lower, upper)
        assert np.linalg.norm(p) <= radius * (1 + 1e-12)
        assert np.all(p >= lower) and np.all(p <= upper)

        def model(q, g=g, H=H):
            return g @ q + 0.5 * q @ H @ q

        best = 0.0
        for _ in range(8):  # SLSQP from several starts: the best local minimum it finds
            start = rng.uniform(np.maximum(lower, -radius), np.minimum(upper, radius))
            found = scipy_optimize.minimize(
                model, start, method="SLSQP", bounds=list(zip(lower, upper, strict=True)),
                constraints=[{"type": "ineq", "fun": lambda q, r=radius: r ** 2 - q @ q}]).x
            if np.linalg.norm(found) <= radius * (1 + 1e-9) and np.all(found >= lower - 1e-9) \
                    and np.all(found <= upper + 1e-9):
                best = min(best, model(found))
        assert model(p) <= best + 1e-7, case


def test_lipo_beats_random_search_on_branin():
    function = FUNCTIONS["branin"]
    result = compare(function, {"lipo": lambda s: LIPOSampler(seed=s),
                                "random": lambda s: optuna.samplers.RandomSampler(seed=s)},
                     seeds=range(4), n_trials=20)
    assert result.best["lipo"].mean() < result.best["random"].mean()
    assert result.wins("lipo", "random") >= 3
    assert result.curves["lipo"].shape == (4, 20)
    assert np.all(np.diff(result.curves["lipo"], axis=1) <= 0)  # best so far


def test_the_test_functions_at_their_known_minimisers():
    assert FUNCTIONS["branin"].function(np.array([-math.pi, 12.275])) == pytest.approx(
        0.397887, abs=1e-6)
    assert FUNCTIONS["branin"].function(np.array([9.42478, 2.475])) == pytest.approx(
        0.397887, abs=1e-6)
    x = np.array([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573])
    assert FUNCTIONS["hartmann6"].function(x) == pytest.approx(-3.32237, abs=1e-5)
    st = FUNCTIONS["styblinski_tang"]
    assert st.function(np.full(st.dimensions, -2.903534)) == pytest.approx(st.minimum,
                                                                          abs=1e-4)


def test_bad_options_are_refused():
    for options, match in [({"n_candidates": 0}, "n_candidates"),
                           ({"random_probability": 2}, "random_probability"),
                           ({"global_step": "best"}, "global_step"),
                           ({"alpha": 0}, "alpha")]:
        with pytest.raises(ValueError, match=match):
            LIPOSampler(**options)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=LIPOSampler())
    study.add_trial(create_trial(params={"x": 0.5}, distributions={"x": FloatDistribution(0, 1)},
                                 values=[1.0, 2.0]))
    with pytest.raises(ValueError, match="multi-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


@pytest.mark.parametrize("distribution", [
    IntDistribution(0, 10), IntDistribution(16, 512, log=True), IntDistribution(0, 98, step=7),
    FloatDistribution(-2.0, 3.0, step=0.25), FloatDistribution(1e-3, 1.0, log=True),
])
def test_coordinates_round_trip_and_snap_onto_allowed_values(distribution, rng):
    axis = lipo._Axis(distribution)
    assert axis.to_unit(distribution.low) == 0.0 and axis.to_unit(distribution.high) == 1.0
    u = rng.random(200)
    one_by_one = np.array([axis.to_unit(axis.from_unit(v)) for v in u])
    np.testing.assert_allclose(axis.snap(u), one_by_one, atol=1e-12)
    for v in u[:20]:
        value = axis.from_unit(v)
        assert distribution._contains(distribution.to_internal_repr(value))
