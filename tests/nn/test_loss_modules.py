"""Loss modules: each equals its PyTorch module (or its function), holds class weights as
buffers, checks ``reduction`` when built, and trains a model."""

from __future__ import annotations

import numpy as np
import pytest
from loss_parity import check_against_torch

import ember as em
from ember import nn
from ember.testing import assert_close


def _targets(rng, kind):
    if kind == "indices":
        return rng.integers(0, 4, 5).astype(np.int64)
    if kind == "pm1":
        return rng.choice([-1.0, 1.0], (5, 4))
    if kind == "probabilities":
        return rng.uniform(0.05, 0.95, (5, 4))
    return rng.normal(0, 1, (5, 4))


def _log_probabilities(rng):
    x = rng.normal(0, 1, (5, 4))
    return x - np.log(np.exp(x).sum(1, keepdims=True))


# (name, ember module, PyTorch module (same arguments), input kind, target kind)
WITH_PYTORCH = [
    ("MSELoss", {}, "values"),
    ("L1Loss", {"reduction": "sum"}, "values"),
    ("SmoothL1Loss", {"beta": 0.5}, "values"),
    ("HuberLoss", {"delta": 0.7, "reduction": "none"}, "values"),
    ("BCELoss", {"weight": [0.5, 1.0, 2.0, 1.5]}, "probabilities"),
    ("BCEWithLogitsLoss", {"pos_weight": [0.5, 1.0, 2.0, 1.5]}, "probabilities"),
    ("SoftMarginLoss", {}, "pm1"),
    ("NLLLoss", {"weight": [0.5, 1.0, 2.0, 1.5], "ignore_index": 2}, "indices"),
    ("CrossEntropyLoss", {"weight": [0.5, 1.0, 2.0, 1.5], "label_smoothing": 0.1},
     "indices"),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, "indices"),
    ("KLDivLoss", {"reduction": "batchmean"}, "probabilities"),
]


@pytest.mark.parametrize("name,kwargs,target_kind", WITH_PYTORCH,
                         ids=[c[0] for c in WITH_PYTORCH])
def test_module_matches_pytorchs(torch, rng, name, kwargs, target_kind):
    ours_kwargs = {k: (em.tensor(v, dtype=em.float64) if isinstance(v, list) else v)
                   for k, v in kwargs.items()}
    theirs_kwargs = {k: (torch.tensor(v) if isinstance(v, list) else v)
                     for k, v in kwargs.items()}
    ours, theirs = getattr(nn, name)(**ours_kwargs), getattr(torch.nn, name)(**theirs_kwargs)
    if name in ("BCELoss",):
        x = rng.uniform(0.05, 0.95, (5, 4))
    elif name in ("NLLLoss", "KLDivLoss"):
        x = _log_probabilities(rng)
    else:
        x = rng.normal(0, 1, (5, 4))
    check_against_torch(torch, rng, ours, theirs, [x, _targets(rng, target_kind)], grads=(0,),
                        name=name)


# modules PyTorch lacks: (name, kwargs, the function and its arguments, target kind)
WITHOUT_PYTORCH = [
    ("MSLELoss", {"eps": 1e-3}, "msle_loss", "probabilities"),
    ("MAPELoss", {"reduction": "sum"}, "mape_loss", "probabilities"),
    ("LogisticLoss", {}, "logistic_loss", "pm1"),
    ("HingeLoss", {"margin": 0.5}, "hinge_loss", "pm1"),
    ("ExponentialLoss", {"reduction": "none"}, "exponential_loss", "pm1"),
    ("FocalLoss", {"gamma": 1.5, "alpha": 0.3}, "focal_loss", "indices"),
    ("DiceLoss", {"smooth": 0.5}, "dice_loss", "probabilities"),
]


@pytest.mark.parametrize("name,kwargs,function,target_kind", WITHOUT_PYTORCH,
                         ids=[c[0] for c in WITHOUT_PYTORCH])
def test_module_calls_its_function(rng, name, kwargs, function, target_kind):
    x = em.tensor(rng.uniform(0.05, 0.95, (5, 4)), dtype=em.float64)
    target = em.tensor(_targets(rng, target_kind))
    assert_close(getattr(nn, name)(**kwargs)(x, target),
                 getattr(nn.functional, function)(x, target, **kwargs), rtol=0, atol=0)


def test_focal_loss_alpha_tensor_is_a_buffer(rng):
    loss = nn.FocalLoss(alpha=em.tensor([0.1, 0.2, 0.3, 0.4]))
    assert list(loss.state_dict()) == ["alpha"]
    loss.double()
    assert loss.alpha.dtype == em.float64
    x = em.tensor(rng.normal(0, 1, (5, 4)), dtype=em.float64)
    y = em.tensor(_targets(rng, "indices"))
    assert_close(loss(x, y), nn.functional.focal_loss(x, y, alpha=loss.alpha))


def test_class_weights_are_buffers_loaded_from_pytorch(torch):
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 3.0]))
    ours = nn.CrossEntropyLoss(weight=em.zeros(3))
    ours.load_state_dict(theirs.state_dict())
    assert ours.weight.tolist() == [1.0, 2.0, 3.0]
    bce = nn.BCEWithLogitsLoss(weight=em.ones(3), pos_weight=em.ones(3))
    assert list(bce.state_dict()) == ["weight", "pos_weight"]
    bce.double()
    assert bce.weight.dtype == em.float64 and bce.pos_weight.dtype == em.float64
    assert list(nn.NLLLoss().state_dict()) == []
    assert nn.NLLLoss(weight=[1.0, 2.0]).weight.tolist() == [1.0, 2.0]  # a list is accepted


@pytest.mark.parametrize("name", ["MSELoss", "CrossEntropyLoss", "FocalLoss", "DiceLoss",
                                  "HingeLoss"])
def test_reduction_is_checked_when_built(name):
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of 'none', 'mean', "
                                         r"'sum', got 'avg'"):
        getattr(nn, name)(reduction="avg")


def test_other_settings_are_checked_when_built():
    with pytest.raises(ValueError, match="MultiMarginLoss: p must be 1 or 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="DiceLoss: mode must be"):
        nn.DiceLoss(mode="soft")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.warns(UserWarning, match="size_average and reduce are deprecated"):
        assert nn.MSELoss(size_average=False).reduction == "sum"


def test_repr_shows_the_settings():
    assert repr(nn.MSELoss()) == "MSELoss(reduction='mean')"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == (
        "CrossEntropyLoss(reduction='mean', ignore_index=-100, label_smoothing=0.1)")
    assert repr(nn.HuberLoss(delta=2.0, reduction="sum")) == "HuberLoss(reduction='sum', delta=2.0)"


def test_every_loss_is_exported():
    names = ["MSELoss", "L1Loss", "MSLELoss", "MAPELoss", "SmoothL1Loss", "HuberLoss",
             "BCELoss", "BCEWithLogitsLoss", "LogisticLoss", "NLLLoss", "CrossEntropyLoss",
             "HingeLoss", "MultiMarginLoss", "ExponentialLoss", "KLDivLoss", "FocalLoss",
             "DiceLoss", "SoftMarginLoss"]
    for name in names:
        assert issubclass(getattr(nn, name), nn.Module)
    functions = ["mse_loss", "l1_loss", "msle_loss", "mape_loss", "smooth_l1_loss",
                 "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                 "logistic_loss", "nll_loss", "cross_entropy", "hinge_loss",
                 "multi_margin_loss", "exponential_loss", "kl_div", "soft_margin_loss",
                 "focal_loss", "sigmoid_focal_loss", "dice_loss"]
    for name in functions:
        assert callable(getattr(nn.functional, name))


@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss(), nn.FocalLoss(),
                                  nn.MultiMarginLoss(), nn.CrossEntropyLoss(label_smoothing=0.1)],
                         ids=["cross_entropy", "focal", "multi_margin", "smoothed"])
def test_a_few_steps_of_gradient_descent_reduce_the_loss(loss):
    em.manual_seed(0)
    model = nn.Linear(4, 3)
    x = em.randn(32, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    losses = []
    for _ in range(5):
        value = loss(model(x), y)
        losses.append(value.item())
        model.zero_grad()
        value.backward()
        with em.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    assert losses[-1] < losses[0]
