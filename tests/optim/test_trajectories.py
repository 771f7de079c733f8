"""Every optimiser, every option: 25 steps in ember and PyTorch from the same start, the
parameters compared after each step (float64, rtol 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em

STEPS = 25

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {}),  # the default lr, 1e-3
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.2, "weight_decay": 0.05,
             "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.05, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-4}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("Adadelta", {"lr": 2.0, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-4}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "momentum": 0.3}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-3}),
    ("Adam", {"lr": 0.05, "maximize": True, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.2, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "maximize": True}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "betas": (0.8, 0.95)}),
    ("Adamax", {"lr": 0.05, "maximize": True, "eps": 1e-3}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.05, "maximize": True, "betas": (0.8, 0.99)}),
    ("RAdam", {"lr": 0.05}),  # rho_t > 5 from step 6 on: both branches run
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "maximize": True, "betas": (0.8, 0.9)}),
]


def run_both(torch, problem, name, ember_groups, torch_groups, ember_params, torch_params,
             kwargs, steps=STEPS):
    ember_opt = getattr(em.optim, name)(ember_groups, **kwargs)
    torch_opt = getattr(torch.optim, name)(torch_groups, **kwargs)
    for step in range(steps):
        problem.set_ember_grads(ember_params, step)
        problem.set_torch_grads(torch, torch_params, step)
        ember_opt.step()
        torch_opt.step()
        problem.assert_same(ember_params, torch_params, step)
    return ember_opt, torch_opt


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_pytorch(torch, problem, name, kwargs):
    ours, theirs = problem.ember_params(), problem.torch_params(torch)
    ember_opt, _ = run_both(torch, problem, name, list(ours.values()), list(theirs.values()),
                            ours, theirs, kwargs)
    for k in ("W", "b", "v", "u"):  # the comparison above is not vacuous: all moved
        moved = np.abs(ours[k].detach().numpy() - problem.initial[k]).max()
        assert moved > 1e-4, f"{name} {kwargs}: {k} did not move"
    assert np.array_equal(ours["frozen"].numpy(), problem.initial["frozen"])
    assert ours["frozen"] not in ember_opt.state or name == "Adagrad"  # Adagrad: eager state


GROUP_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.05, "nesterov": True, "momentum": 0.5},
     {"lr": 0.02}),
    ("Adam", {"lr": 0.05}, {"amsgrad": True, "betas": (0.5, 0.9)}, {"weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01}, {"centered": True, "momentum": 0.9}, {"alpha": 0.5}),
    ("Adagrad", {"lr": 0.1}, {"lr_decay": 0.1}, {"eps": 1e-3, "maximize": True}),
    ("NAdam", {"lr": 0.05}, {"decoupled_weight_decay": True, "weight_decay": 0.1},
     {"momentum_decay": 0.01}),
]


@pytest.mark.parametrize("name, defaults, first, second", GROUP_CASES,
                         ids=[c[0] for c in GROUP_CASES])
def test_param_groups_with_their_own_options(torch, problem, name, defaults, first, second):
    ours, theirs = problem.ember_params(), problem.torch_params(torch)

    def groups(p):
        return [{"params": [p["W"], p["b"]], **first},
                {"params": [p["v"], p["u"], p["frozen"]], **second}]

    ember_opt, _ = run_both(torch, problem, name, groups(ours), groups(theirs), ours, theirs,
                            defaults)
    assert ember_opt.param_groups[0]["lr"] == first.get("lr", defaults.get("lr"))


def test_param_group_added_later(torch, problem):
    ours, theirs = problem.ember_params(), problem.torch_params(torch)
    ember_opt = em.optim.Adam([ours["W"], ours["b"]], lr=0.05)
    torch_opt = torch.optim.Adam([theirs["W"], theirs["b"]], lr=0.05)
    for step in range(10):
        if step == 4:
            ember_opt.add_param_group({"params": [ours["v"], ours["u"]], "lr": 0.1})
            torch_opt.add_param_group({"params": [theirs["v"], theirs["u"]], "lr": 0.1})
        problem.set_ember_grads(ours, step)
        problem.set_torch_grads(torch, theirs, step)
        ember_opt.step()
        torch_opt.step()
        problem.assert_same(ours, theirs, step)
