"""LBFGS against PyTorch in float64: the same closure, the same start, the parameters,
returned losses and counters compared after every step."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close


def _rosenbrock(fw):
    x = fw.tensor([-1.5, 2.0], dtype=fw.float64, requires_grad=True)

    def loss():
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    return [x], loss


def _logistic(fw):
    rng = np.random.default_rng(3)
    features = fw.tensor(rng.standard_normal((40, 5)), dtype=fw.float64)
    labels = fw.tensor((rng.random(40) > 0.5).astype(np.float64))
    model = fw.nn.Linear(5, 1, dtype=fw.float64)
    with fw.no_grad():
        model.weight.copy_(fw.tensor(rng.standard_normal((1, 5)) * 0.1))
        model.bias.fill_(0.2)

    def loss():
        logits = model(features).reshape(-1)
        penalty = 0.01 * (model.weight ** 2).sum()
        return fw.nn.functional.binary_cross_entropy_with_logits(logits, labels) + penalty

    return list(model.parameters()), loss


# (id, problem, options, steps, rtol). Rosenbrock's valley is ill-conditioned: PyTorch's
# fused multiply-adds (q.add_(y, alpha=-a)) round one ulp differently from NumPy's, and
# with a short history that difference grows to ~1e-7 before both converge; the path
# (every evaluation and iteration count) stays identical.
CASES = [
    ("rosenbrock_wolfe", _rosenbrock, dict(line_search_fn="strong_wolfe"), 6, 1e-9),
    ("rosenbrock_fixed_step", _rosenbrock, dict(lr=0.01, max_iter=5), 4, 1e-9),
    ("rosenbrock_short_history", _rosenbrock,
     dict(line_search_fn="strong_wolfe", history_size=3, max_iter=8), 6, 1e-5),
    ("logistic_wolfe", _logistic, dict(line_search_fn="strong_wolfe", max_iter=10), 3, 1e-9),
    ("logistic_fixed_step", _logistic, dict(lr=0.5, max_iter=6, history_size=4), 3, 1e-9),
]


def _trajectory(fw, problem, options, steps):
    params, loss_fn = problem(fw)
    optimizer = fw.optim.LBFGS(params, **options)

    def closure():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    points = []
    for _ in range(steps):
        returned = optimizer.step(closure)
        state = optimizer.state[params[0]]
        points.append(([p.detach().numpy().copy() for p in params], returned.item(),
                       state["func_evals"], state["n_iter"]))
    return points


@pytest.mark.parametrize("name, problem, options, steps, rtol", CASES,
                         ids=[c[0] for c in CASES])
def test_lbfgs_trajectory_matches_pytorch(torch, name, problem, options, steps, rtol):
    theirs = _trajectory(torch, problem, options, steps)
    ours = _trajectory(em, problem, options, steps)
    for step, ((e_params, e_loss, e_evals, e_iter), (t_params, t_loss, t_evals, t_iter)) in \
            enumerate(zip(ours, theirs, strict=True)):
        for e, t in zip(e_params, t_params, strict=True):
            assert_close(e, t, rtol=rtol, atol=1e-12, name=f"{name} step {step}")
        assert e_loss == pytest.approx(t_loss, rel=rtol, abs=rtol * 1e-3)
        assert (e_evals, e_iter) == (t_evals, t_iter)


def test_lbfgs_state_dict_resumes_exactly():
    def run(split):
        params, loss_fn = _rosenbrock(em)
        optimizer = em.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=3)

        def closure():
            optimizer.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        for step in range(4):
            if step == split:
                saved = optimizer.state_dict()
                fresh = em.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=3)
                fresh.load_state_dict(saved)
                optimizer = fresh
            optimizer.step(closure)
        return params[0].detach().numpy()

    assert np.array_equal(run(split=None), run(split=2))


def test_lbfgs_rejects_groups_and_needs_a_closure(torch):
    for fw in (torch, em):
        a, b = fw.zeros(2, requires_grad=True), fw.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match="parameter groups"):
            fw.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(RuntimeError, match="closure"):
        em.optim.LBFGS([a]).step(None)
