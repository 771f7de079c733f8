"""Learning-rate schedules: the sequences (and cycled momenta) equal PyTorch's over 40
steps; state dicts round-trip through a checkpoint; invalid arguments raise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember as em

STEPS = 40


def sgd(framework, momentum=0.9):
    """An optimiser with two groups (lr 0.1 and 0.05) and nothing to train."""
    tensor = framework.zeros(2, requires_grad=True), framework.zeros(3, requires_grad=True)
    return framework.optim.SGD([{"params": [tensor[0]]}, {"params": [tensor[1]], "lr": 0.05}],
                               lr=0.1, momentum=momentum)


def adam(framework):
    tensor = framework.zeros(2, requires_grad=True), framework.zeros(3, requires_grad=True)
    return framework.optim.Adam([{"params": [tensor[0]]}, {"params": [tensor[1]], "lr": 0.05}],
                                lr=0.1)


def sequential(m, opt, first, second, milestones):
    return m.SequentialLR(opt, [first, second], milestones=milestones)


# name -> (optimiser factory, scheduler factory taking the lr_scheduler module)
SCHEDULES = {
    "StepLR": (sgd, lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": (sgd, lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3)),
    "ExponentialLR": (sgd, lambda m, o: m.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": (sgd, lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "CosineAnnealingLR-odd": (sgd, lambda m, o: m.CosineAnnealingLR(o, T_max=7)),
    "LinearLR": (sgd, lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9,
                                              total_iters=15)),
    "LinearLR-default": (sgd, lambda m, o: m.LinearLR(o)),
    "ConstantLR": (sgd, lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=6)),
    "LambdaLR": (sgd, lambda m, o: m.LambdaLR(o, lambda epoch: 0.95**epoch)),
    "LambdaLR-list": (sgd, lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1),
                                                       lambda e: 0.9**e])),
    "MultiplicativeLR": (sgd, lambda m, o: m.MultiplicativeLR(
        o, lambda epoch: 0.97 if epoch % 2 else 0.9)),
    "PolynomialLR": (sgd, lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0)),
    "CosineAnnealingWarmRestarts": (sgd, lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.01)),
    "CosineAnnealingWarmRestarts-T_mult1": (sgd, lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=7)),
    "OneCycleLR": (sgd, lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=40)),
    "OneCycleLR-Adam": (adam, lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=45,
                                                        base_momentum=0.8)),
    "OneCycleLR-linear-three-phase": (sgd, lambda m, o: m.OneCycleLR(
        o, max_lr=1.0, epochs=4, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", three_phase=True)),
    "OneCycleLR-no-momentum": (sgd, lambda m, o: m.OneCycleLR(
        o, max_lr=0.5, total_steps=50, cycle_momentum=False, div_factor=10.0,
        final_div_factor=100.0)),
    "CyclicLR": (sgd, lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5)),
    "CyclicLR-triangular2": (sgd, lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.2], step_size_up=4, step_size_down=6,
        mode="triangular2")),
    "CyclicLR-exp_range-Adam": (adam, lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.95,
        base_momentum=0.7, max_momentum=0.95)),
    "CyclicLR-scale_fn": (sgd, lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.5**x,
        scale_mode="iterations", cycle_momentum=False)),
    "SequentialLR": (sgd, lambda m, o: sequential(
        m, o, m.ConstantLR(o, factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9), [8])),
    "SequentialLR-three": (sgd, lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=10),
            m.StepLR(o, step_size=5)], milestones=[5, 20])),
    "ChainedScheduler": (sgd, lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.95)])),
}


def trace(framework, name, steps=STEPS, scheduler=None, optimizer=None):
    """Per step: get_last_lr() and each group's lr and momentum (or beta1)."""
    make_optimizer, make_scheduler = SCHEDULES[name]
    optimizer = optimizer or make_optimizer(framework)
    scheduler = scheduler or make_scheduler(framework.optim.lr_scheduler, optimizer)
    rows = []
    for _ in range(steps):
        optimizer.step()
        rows.append(_row(scheduler, optimizer))
        scheduler.step()
    return rows, optimizer, scheduler


def _row(scheduler, optimizer):
    groups = optimizer.param_groups
    momenta = [g["betas"][0] if "betas" in g else g["momentum"] for g in groups]
    return [float(x) for x in scheduler.get_last_lr()] + [g["lr"] for g in groups] + momenta


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_sequence_matches_pytorch(torch, name):
    ours, _, _ = trace(em, name)
    theirs, _, _ = trace(torch, name)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len({tuple(row) for row in ours}) > 1  # the schedule does change the rates


def plateau(m, optimizer, case):
    return m.ReduceLROnPlateau(optimizer, **case)


METRICS = [1.0 / (1 + i) if i < 8 else 0.12 + 0.01 * ((i * 7) % 5) for i in range(STEPS)]
PLATEAU_CASES = [
    {"factor": 0.5, "patience": 2},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "cooldown": 2, "patience": 1,
     "min_lr": [0.01, 0.02], "factor": 0.3},
    {"patience": 0, "eps": 0.003, "min_lr": 0.004, "threshold": 0.2},
    {"mode": "max", "patience": 3, "cooldown": 1},
]


@pytest.mark.parametrize("case", PLATEAU_CASES, ids=[str(c) for c in PLATEAU_CASES])
def test_reduce_lr_on_plateau_matches_pytorch(torch, case):
    sequences = []
    for framework in (em, torch):
        optimizer = sgd(framework)
        scheduler = plateau(framework.optim.lr_scheduler, optimizer, case)
        rates = []
        for metric in METRICS:
            optimizer.step()
            scheduler.step(metric)
            rates.append([float(x) for x in scheduler.get_last_lr()])
        sequences.append(rates)
    np.testing.assert_allclose(sequences[0], sequences[1], rtol=1e-12, atol=1e-15)
    assert sequences[0][0] != sequences[0][-1]


def _through_checkpoint(value, where=""):
    """A copy of ``value`` as a checkpoint would give it back: plain dicts, lists, tuples,
    numbers, strings and tensors (anything else fails: a checkpoint never pickles)."""
    if isinstance(value, dict):
        assert all(isinstance(k, (str, int, float)) for k in value), f"keys at {where}"
        return {k: _through_checkpoint(v, f"{where}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_through_checkpoint(v, f"{where}/{i}") for i, v in enumerate(value))
    if isinstance(value, em.Tensor):
        return em.tensor(value)
    assert value is None or isinstance(value, (bool, int, float, str)), (
        f"{type(value).__name__} at {where}")
    return value


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_dict_round_trip(name):
    straight, _, _ = trace(em, name)
    first, optimizer, scheduler = trace(em, name, steps=15)
    saved = _through_checkpoint({"optimizer": optimizer.state_dict(),
                                 "scheduler": scheduler.state_dict()})
    make_optimizer, make_scheduler = SCHEDULES[name]
    fresh_optimizer = make_optimizer(em)
    fresh = make_scheduler(em.optim.lr_scheduler, fresh_optimizer)  # before loading (PyTorch)
    fresh_optimizer.load_state_dict(saved["optimizer"])
    fresh.load_state_dict(saved["scheduler"])
    rest, _, _ = trace(em, name, steps=STEPS - 15, scheduler=fresh, optimizer=fresh_optimizer)
    np.testing.assert_allclose(first + rest, straight, rtol=1e-15)


def test_reduce_lr_on_plateau_state_dict_round_trip():
    optimizer = sgd(em)
    scheduler = em.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=1, cooldown=1)
    for metric in METRICS[:10]:
        scheduler.step(metric)
    saved = _through_checkpoint({"o": optimizer.state_dict(), "s": scheduler.state_dict()})
    fresh_optimizer = sgd(em)
    fresh = em.optim.lr_scheduler.ReduceLROnPlateau(fresh_optimizer)
    fresh_optimizer.load_state_dict(saved["o"])
    fresh.load_state_dict(saved["s"])
    for metric in METRICS[10:]:
        scheduler.step(metric)
        fresh.step(metric)
        assert fresh.get_last_lr() == scheduler.get_last_lr()
    assert fresh.best == scheduler.best and fresh.patience == 1


def test_base_lrs_initial_lr_and_last_epoch():
    optimizer = sgd(em)
    scheduler = em.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    assert scheduler.last_epoch == 0 and scheduler.base_lrs == [0.1, 0.05]
    assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.05]
    optimizer.step()
    scheduler.step()
    assert scheduler.last_epoch == 1
    lrs = scheduler.get_last_lr()
    lrs[0] = 99.0  # a copy: changing it changes nothing
    assert scheduler.get_last_lr()[0] == 0.1


def test_step_with_an_epoch_uses_the_closed_form(torch):
    results = []
    for framework in (em, torch):
        optimizer = sgd(framework)
        scheduler = framework.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
        optimizer.step()
        with pytest.warns(UserWarning, match="deprecated"):
            scheduler.step(7)
        results.append(scheduler.get_last_lr())
    assert results[0] == pytest.approx(results[1], rel=1e-15)
    assert results[0] == pytest.approx([0.025, 0.0125])


def test_warns_when_the_scheduler_steps_before_the_optimizer():
    optimizer = sgd(em)
    scheduler = em.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        scheduler.step()
    optimizer = sgd(em)
    scheduler = em.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def test_one_cycle_refuses_to_step_past_the_end():
    optimizer = sgd(em)
    scheduler = em.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    optimizer.step()
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


INVALID = [
    (lambda m, o: m.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda m, o: m.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda m, o: m.LinearLR(o, end_factor=2.0), ValueError, "Ending multiplicative"),
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode"),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0), ValueError, "either total_steps OR"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "total_steps"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1), ValueError,
     "pct_start"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="exp"),
     ValueError, "anneal_strategy"),
    (lambda m, o: m.OneCycleLR(o, max_lr=[1.0], total_steps=9), ValueError,
     "one value per parameter group"),
    (lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="sawtooth"), ValueError, "mode is invalid"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), ValueError, "T_mult"),
    (lambda m, o: m.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
    (lambda m, o: m.MultiplicativeLR(o, 0.9), TypeError, "should be a function"),
    (lambda m, o: m.StepLR(o, step_size=2, last_epoch=5), KeyError, "initial_lr"),
    (lambda m, o: m.StepLR("optimizer", step_size=2), TypeError, "is not an Optimizer"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], milestones=[]),
     ValueError, "one milestone fewer"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)], milestones=[3]),
     ValueError, "does not support ReduceLROnPlateau"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(sgd(em), 2)], milestones=[]), ValueError,
     "same optimizer"),
    (lambda m, o: m.ChainedScheduler([]), ValueError, "at least one scheduler"),
]


@pytest.mark.parametrize("make, error, message", INVALID, ids=[c[2] for c in INVALID])
def test_invalid_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make(em.optim.lr_scheduler, sgd(em))


def test_cycle_momentum_needs_a_momentum():
    optimizer = em.optim.Adagrad([em.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        em.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        em.optim.lr_scheduler.CyclicLR(optimizer, 0.1, 1.0)
