"""Module and containers: registration, names, state_dict (PyTorch's keys), freezing, modes."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.testing import assert_close


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.register_buffer("running", em.zeros(4))
        self.register_buffer("scratch", em.ones(2), persistent=False)
        self.scale = nn.Parameter(em.ones(1))

    def forward(self, x):
        return self.fc(x) * self.scale + self.running


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(2, 3), Block())
        self.heads = nn.ModuleList([nn.Linear(4, 1), nn.Linear(4, 2)])

    def forward(self, x):
        h = self.features(x)
        return [head(h) for head in self.heads]


def test_parameters_buffers_and_children_are_registered_with_dotted_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "features.0.weight", "features.0.bias", "features.1.scale",
        "features.1.fc.weight", "features.1.fc.bias",
        "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == ["features.1.running", "features.1.scratch"]
    assert list(net.state_dict()) == [
        "features.0.weight", "features.0.bias", "features.1.scale", "features.1.running",
        "features.1.fc.weight", "features.1.fc.bias",
        "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias",
    ]  # non-persistent buffers are not saved
    assert [n for n, _ in net.named_children()] == ["features", "heads"]
    assert len(list(net.modules())) == 8  # Net, Sequential, Linear, Block, fc, ModuleList, 2 heads
    assert net.get_submodule("features.1.fc") is net.features[1].fc
    assert net.get_parameter("heads.1.bias") is net.heads[1].bias


def test_state_dict_keys_match_pytorch(torch):
    ours = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3),
                                 torch.nn.Sequential(torch.nn.Linear(3, 2),
                                                     torch.nn.Linear(2, 1)))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_load_state_dict_from_pytorch_copies_into_the_same_parameters(torch):
    ours = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)).double()
    weight = ours[0].weight
    result = ours.load_state_dict(theirs.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert ours[0].weight is weight  # the same Parameter object, new values
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert_close(ours(em.tensor(x)), theirs(torch.tensor(x)).detach())


def test_load_state_dict_errors_and_non_strict():
    net = nn.Sequential(nn.Linear(2, 2))
    state = net.state_dict()
    with pytest.raises(KeyError, match="missing keys 0.bias"):
        net.load_state_dict({"0.weight": state["0.weight"]})
    with pytest.raises(KeyError, match="unexpected keys extra"):
        net.load_state_dict({**state, "extra": em.zeros(1)})
    result = net.load_state_dict({"0.weight": em.zeros(2, 2), "extra": em.zeros(1)},
                                 strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]
    assert net[0].weight.abs().sum().item() == 0
    before = net[0].bias.detach().clone()
    with pytest.raises(ValueError, match=r"0.weight has shape \(3, 2\).*\(2, 2\)"):
        net.load_state_dict({"0.weight": em.zeros(3, 2), "0.bias": em.ones(2)})
    assert_close(net[0].bias, before)  # a failed load changes nothing


def test_load_state_dict_casts_to_the_parameter_dtype():
    net = nn.Linear(2, 1)
    net.load_state_dict({"weight": np.ones((1, 2)), "bias": np.zeros(1)})
    assert net.weight.dtype == em.float32 and net.weight.sum().item() == 2.0


def test_state_dict_values_are_detached_and_share_memory():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert not state["weight"].requires_grad
    with em.no_grad():
        layer.weight.fill_(3.0)
    assert state["weight"][0, 0].item() == 3.0


def test_train_and_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert net.heads[1].training


def test_freezing_part_of_a_model():
    net = Net()
    net.features.requires_grad_(False)
    outputs = net(em.randn(5, 2))
    (outputs[0].sum() + outputs[1].sum()).backward()
    assert all(p.grad is None for p in net.features.parameters())
    assert all(p.grad is not None for p in net.heads.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(True)
    assert all(p.requires_grad for p in net.parameters())


def test_zero_grad_to_zeros():
    layer = nn.Linear(2, 1)
    layer(em.ones(1, 2)).sum().backward()
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum().item() == 0


def test_shared_parameters_appear_once():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, shared)
    assert len(list(net.parameters())) == 2


def test_to_double_converts_in_place():
    net = Net()
    weight = net.heads[0].weight
    net.double()
    assert net.heads[0].weight is weight and weight.dtype == em.float64
    assert net.features[1].running.dtype == em.float64
    out = net(em.randn(3, 2, dtype=em.float64))
    assert out[0].dtype == em.float64


def test_repr_is_nested_like_pytorch():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 1)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Parameter(em.ones(1))).startswith("Parameter containing:\ntensor([1.]")


def test_forward_hooks():
    layer = nn.Linear(2, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append(out.shape))
    pre = layer.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 0,))
    out = layer(em.ones(3, 2))
    assert seen == [(3, 2)]
    assert_close(out, layer.bias.detach().expand(3, 2))
    handle.remove()
    pre.remove()
    layer(em.ones(1, 2))
    assert seen == [(3, 2)]


def test_registration_errors():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter or None"):
        layer.weight = em.zeros(2, 2)
    with pytest.raises(KeyError, match="contain no '.'"):
        layer.register_buffer("a.b", em.zeros(1))
    with pytest.raises(TypeError, match="defines no forward"):
        nn.Module()(1)
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(em.tensor([1, 2]))


def test_apply_initialises_every_submodule():
    net = Net()

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(zero_linear)
    assert all(m.weight.abs().sum().item() == 0 for m in net.modules()
               if isinstance(m, nn.Linear))


def test_sequential_indexing_slicing_and_editing():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 4), nn.Linear(4, 5))
    assert len(net) == 3 and net[-1].out_features == 5
    head = net[:2]
    assert isinstance(head, nn.Sequential) and head(em.zeros(1, 2)).shape == (1, 4)
    net.append(nn.Linear(5, 1))
    del net[0]
    assert [k for k, _ in net.named_children()] == ["0", "1", "2"]
    assert net(em.zeros(1, 3)).shape == (1, 1)
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict(hidden=nn.Linear(2, 2), out=nn.Linear(2, 1)))
    assert list(named.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight",
                                        "out.bias"]
    with pytest.raises(IndexError, match="out of range"):
        net[10]


def test_module_dict_and_parameter_list():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1)})
    heads["b"] = nn.Linear(2, 3)
    assert list(heads.keys()) == ["a", "b"] and "b" in heads
    assert [n for n, _ in heads.named_parameters()][:2] == ["a.weight", "a.bias"]
    plist = nn.ParameterList([em.ones(2), nn.Parameter(em.zeros(3))])
    assert [n for n, _ in plist.named_parameters()] == ["0", "1"]
    assert plist[1].shape == (3,)


def test_identity_and_flatten():
    x = em.randn(2, 3, 4)
    assert nn.Identity(54, unused=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Unflatten(1, (3, 1))(em.zeros(2, 3)).shape == (2, 3, 1)
