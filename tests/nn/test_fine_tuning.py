"""Transfer-learning helpers: freeze/unfreeze, frozen batch norms kept in evaluation mode,
replace_head, param_groups and discriminative_lr; a few steps of training checked against
PyTorch doing the same by hand (requires_grad=False, bn.eval(), per-group learning rates),
in float64."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import utils


def _net(dtype=None):
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, dtype=dtype),
                         nn.BatchNorm2d(3, dtype=dtype), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 4 * 4, 5, dtype=dtype), nn.ReLU(),
                         nn.Linear(5, 2, dtype=dtype))


def test_freeze_keeps_only_the_named_parts_trainable():
    model = _net()
    assert utils.freeze(model, except_="6") is model
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["6.weight", "6.bias"]
    utils.freeze(model, except_=[model[4], "6.bias"])
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "4.weight", "4.bias", "6.bias"]
    utils.unfreeze(model, only="4")
    utils.unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="no submodule or parameter 'head'"):
        utils.freeze(model, except_="head")


def test_frozen_batch_norm_stays_in_evaluation_mode_and_keeps_its_statistics():
    model = _net()
    utils.freeze(model, except_=["4", "6"])
    model.train()
    assert not model[1].training and model[4].training
    assert utils.frozen_batch_norms(model) == ["1"]
    before = model[1].running_mean.numpy().copy()
    optimizer = em.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(em.randn(4, 2, 4, 4)).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    np.testing.assert_array_equal(model[1].running_mean.numpy(), before)
    assert model[0].weight.grad is None and model[6].weight.grad is not None
    utils.unfreeze(model)
    model.train()
    assert model[1].training and utils.frozen_batch_norms(model) == []
    summary = em.summary(utils.freeze(model, except_="6"), (2, 4, 4))
    assert summary.trainable_params == 12 and summary.frozen_params == 57 + 6 + 245


def test_freeze_can_leave_batch_norms_training():
    model = utils.freeze(_net(), batch_norm_eval=False)
    model.train()
    assert model[1].training and not any(p.requires_grad for p in model.parameters())


def test_replace_head_finds_the_zoo_models_heads():
    cases = {"lenet5": "classifier.5", "small_cnn": "classifier.2", "resnet18": "fc"}
    for name, head in cases.items():
        model = getattr(em.models, name)()
        new = utils.replace_head(model, 3)
        assert model.get_submodule(head) is new and new.out_features == 3
    model = em.models.lenet5()
    utils.replace_head(model, 4, name="classifier.3")
    assert model.classifier[3].out_features == 4
    with pytest.raises(ValueError, match="not a Linear"):
        utils.replace_head(model, 4, name="features.0")
    with pytest.raises(ValueError, match="positive int"):
        utils.replace_head(model, 0)


def test_param_groups_and_discriminative_rates():
    model = _net()
    groups = utils.param_groups(model, {"": 0.01, "6": 0.1}, weight_decay=1e-4)
    assert [(g["name"], g["lr"], len(g["params"])) for g in groups] == [
        ("(rest)", 0.01, 6), ("6", 0.1, 2)]
    assert all(g["weight_decay"] == 1e-4 for g in groups)
    utils.freeze(model, except_=["4", "6"])
    groups = utils.discriminative_lr(model, lr=1.0, decay=2.0)
    assert [(g["name"], g["lr"]) for g in groups] == [("4", 0.5), ("6", 1.0)]
    groups = utils.discriminative_lr(utils.unfreeze(model), 1.0, 10.0, groups=["0", "4", "6"])
    assert [(g["name"], g["lr"]) for g in groups] == [("0", 0.01), ("4", 0.1), ("6", 1.0)]
    em.optim.Adam(groups)  # usable as they are


def test_feature_extraction_and_discriminative_fine_tuning_match_pytorch(torch):
    """Three steps of SGD with momentum on the same data: a frozen convolution and batch
    norm (eval), the first Linear at lr/10 and the head at lr, in ember and in PyTorch."""
    tnn = torch.nn
    ours = _net(em.float64)
    theirs = tnn.Sequential(tnn.Conv2d(2, 3, 3, padding=1), tnn.BatchNorm2d(3), tnn.ReLU(),
                            tnn.Flatten(), tnn.Linear(48, 5), tnn.ReLU(), tnn.Linear(5, 2))
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            q.copy_(torch.from_numpy(p.detach().numpy()))
        theirs[1].running_mean.copy_(torch.from_numpy(rng.normal(size=3)))
        theirs[1].running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2, 3)))
    ours[1].running_mean.copy_(em.tensor(theirs[1].running_mean.numpy()))
    ours[1].running_var.copy_(em.tensor(theirs[1].running_var.numpy()))

    utils.freeze(ours, except_=["4", "6"])
    ours.train()
    opt = em.optim.SGD(utils.discriminative_lr(ours, lr=0.1, decay=10), lr=0.1, momentum=0.9)
    for p in list(theirs[0].parameters()) + list(theirs[1].parameters()):
        p.requires_grad_(False)
    theirs.train()
    theirs[1].eval()
    topt = torch.optim.SGD([{"params": theirs[4].parameters(), "lr": 0.01},
                            {"params": theirs[6].parameters(), "lr": 0.1}], lr=0.1,
                           momentum=0.9)
    for _ in range(3):
        x = rng.normal(size=(4, 2, 4, 4))
        y = rng.integers(0, 2, 4)
        loss = nn.functional.cross_entropy(ours(em.tensor(x)), em.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)),
                                                  torch.from_numpy(y))
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for (name, p), q in zip(ours.state_dict().items(), theirs.state_dict().values(),
                            strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)
