"""The Optimizer base: groups, zero_grad, closures, checkpoints, dtypes, errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember as em

# One option-rich configuration per optimiser: every state entry exists.
CONFIGS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adadelta", {"lr": 0.5}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05}),
]
IDS = [name for name, _ in CONFIGS]


def steps(problem, opt, params, first, last):
    for step in range(first, last):
        problem.set_ember_grads(params, step)
        opt.step()


# ---------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_state_dict_round_trip_continues_the_same_trajectory(problem, name, kwargs):
    cls = getattr(em.optim, name)
    straight = problem.ember_params()
    steps(problem, cls(list(straight.values()), **kwargs), straight, 0, 20)

    first = problem.ember_params()
    opt = cls(list(first.values()), **kwargs)
    steps(problem, opt, first, 0, 10)
    saved = copy.deepcopy(opt.state_dict())
    resumed = {k: em.tensor(p.detach().numpy(), requires_grad=p.requires_grad)
               for k, p in first.items()}
    fresh = cls(list(resumed.values()), lr=123.0)  # the options come from the state dict
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    steps(problem, fresh, resumed, 10, 20)
    for k in straight:
        np.testing.assert_array_equal(resumed[k].detach().numpy(),
                                      straight[k].detach().numpy())
    # loading copies: stepping the new optimiser leaves the saved dict as it was
    again = {k: em.tensor(p.detach().numpy(), requires_grad=p.requires_grad)
             for k, p in first.items()}
    other = cls(list(again.values()), **kwargs)
    other.load_state_dict(saved)
    before = copy.deepcopy(saved)
    steps(problem, other, again, 10, 12)
    for index, state in saved["state"].items():
        for key, value in state.items():
            expected = before["state"][index][key]
            if isinstance(value, em.Tensor):
                np.testing.assert_array_equal(value.numpy(), expected.numpy())
            else:
                assert value == expected


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_state_dict_has_pytorchs_layout_and_values(torch, problem, name, kwargs):
    ours, theirs = problem.ember_params(), problem.torch_params(torch)
    ember_opt = getattr(em.optim, name)(list(ours.values()), **kwargs)
    torch_opt = getattr(torch.optim, name)(list(theirs.values()), **kwargs)
    for step in range(4):
        problem.set_ember_grads(ours, step)
        problem.set_torch_grads(torch, theirs, step)
        ember_opt.step()
        torch_opt.step()
    mine, reference = ember_opt.state_dict(), torch_opt.state_dict()
    assert mine["param_groups"][0]["params"] == reference["param_groups"][0]["params"]
    assert set(mine["param_groups"][0]) <= set(reference["param_groups"][0])
    assert mine["state"].keys() == reference["state"].keys()
    for index, state in reference["state"].items():
        assert mine["state"][index].keys() == state.keys()
        for key, value in state.items():
            value = value.detach().numpy()
            if value.ndim == 0:  # step, mu_product: Python numbers in ember
                assert isinstance(mine["state"][index][key], (int, float))
                np.testing.assert_allclose(mine["state"][index][key], value, rtol=1e-12)
            else:
                assert isinstance(mine["state"][index][key], em.Tensor)
                np.testing.assert_allclose(mine["state"][index][key].numpy(), value,
                                           rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_loads_a_pytorch_state_dict(torch, problem, name, kwargs):
    theirs = problem.torch_params(torch)
    torch_opt = getattr(torch.optim, name)(list(theirs.values()), **kwargs)
    for step in range(5):
        problem.set_torch_grads(torch, theirs, step)
        torch_opt.step()
    ours = {k: em.tensor(p.detach().numpy(), requires_grad=p.requires_grad)
            for k, p in theirs.items()}
    ember_opt = getattr(em.optim, name)(list(ours.values()), **kwargs)
    ember_opt.load_state_dict(torch_opt.state_dict())
    for step in range(5, 10):
        problem.set_ember_grads(ours, step)
        problem.set_torch_grads(torch, theirs, step)
        ember_opt.step()
        torch_opt.step()
        problem.assert_same(ours, theirs, step)


def test_state_dict_saves_with_a_checkpoint(problem, tmp_path):
    pytest.importorskip("safetensors")
    params = problem.ember_params()
    opt = em.optim.NAdam(list(params.values()), lr=0.05)
    steps(problem, opt, params, 0, 3)
    em.save(opt.state_dict(), tmp_path / "opt.safetensors")
    loaded = em.load(tmp_path / "opt.safetensors")
    fresh = em.optim.NAdam(list(params.values()))
    fresh.load_state_dict(loaded)
    assert fresh.state[params["W"]]["step"] == 3
    np.testing.assert_array_equal(fresh.state[params["W"]]["exp_avg"].numpy(),
                                  opt.state[params["W"]]["exp_avg"].numpy())


def test_load_state_dict_casts_to_the_parameters_dtype(problem):
    params = problem.ember_params()
    opt = em.optim.Adam(list(params.values()), lr=0.05)
    steps(problem, opt, params, 0, 3)
    single = problem.ember_params(em.float32)
    fresh = em.optim.Adam(list(single.values()))
    fresh.load_state_dict(opt.state_dict())
    assert fresh.state[single["W"]]["exp_avg"].dtype == np.float32
    assert fresh.state[single["W"]]["step"] == 3


def test_load_state_dict_errors(problem):
    params = problem.ember_params()
    opt = em.optim.SGD(list(params.values()), lr=0.1, momentum=0.9)
    steps(problem, opt, params, 0, 2)
    saved = opt.state_dict()
    two_groups = em.optim.SGD([{"params": [params["W"]]}, {"params": [params["b"]]}])
    with pytest.raises(ValueError, match="1 parameter groups but the optimizer has 2"):
        two_groups.load_state_dict(saved)
    fewer = em.optim.SGD([params["W"], params["b"]], momentum=0.9)
    with pytest.raises(ValueError, match="group 0 has 5 parameters in the state dict but 2"):
        fewer.load_state_dict(saved)
    shuffled = em.optim.SGD([params["b"], params["W"], params["v"], params["u"],
                             params["frozen"]], momentum=0.9)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(3, 4\)"):
        shuffled.load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# ---------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_float32_parameters_and_state_stay_float32(problem, name, kwargs):
    single, double = problem.ember_params(em.float32), problem.ember_params()
    opt32 = getattr(em.optim, name)(list(single.values()), **kwargs)
    opt64 = getattr(em.optim, name)(list(double.values()), **kwargs)
    steps(problem, opt32, single, 0, 10)
    steps(problem, opt64, double, 0, 10)
    for k, p in single.items():
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), double[k].detach().numpy(),
                                   rtol=1e-4, atol=1e-5)
    for state in opt32.state.values():
        for value in state.values():
            if isinstance(value, em.Tensor):
                assert value.dtype == np.float32


# ---------------------------------------------------------------------------- stepping


def test_step_bumps_the_version_so_stale_graphs_fail():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    opt = em.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    stale = (w * w).sum()            # saves w for its gradient
    version = w._version
    opt.step()
    assert w._version == version + 1
    with pytest.raises(RuntimeError, match="modified in place"):
        stale.backward()


def test_closure_is_evaluated_with_grad_enabled_and_its_loss_returned(torch):
    x = np.linspace(-1, 1, 8).reshape(4, 2)
    y = np.array([[1.0], [0.0], [2.0], [1.0]])
    w = em.tensor(np.ones((2, 1)), dtype=em.float64, requires_grad=True)
    tw = torch.tensor(np.ones((2, 1)), requires_grad=True)
    opt, topt = em.optim.SGD([w], lr=0.2, momentum=0.5), torch.optim.SGD([tw], lr=0.2,
                                                                         momentum=0.5)
    calls = []

    def closure():
        opt.zero_grad()
        loss = ((em.tensor(x) @ w - em.tensor(y)) ** 2).mean()
        loss.backward()
        calls.append(em.is_grad_enabled())
        return loss

    def torch_closure():
        topt.zero_grad()
        loss = ((torch.tensor(x) @ tw - torch.tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(5):
        with em.no_grad():
            loss = opt.step(closure)
        expected = topt.step(torch_closure)
        assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    assert calls == [True] * 5
    assert opt.step() is None


def test_zero_grad():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    opt = em.optim.SGD([w])
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and np.array_equal(grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


# ---------------------------------------------------------------------------- groups


def test_param_groups_take_defaults_and_keep_their_own_options():
    a, b = em.zeros(2, requires_grad=True), em.zeros(3, requires_grad=True)
    opt = em.optim.SGD([{"params": a}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[0]["params"][0] is a
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert "Parameter Group 1" in repr(opt) and "lr: 0.5" in repr(opt)


def test_named_parameters_are_accepted():
    model = em.nn.Linear(2, 1)
    opt = em.optim.Adam(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_add_param_group_errors():
    a, b = em.zeros(2, requires_grad=True), em.zeros(3, requires_grad=True)
    opt = em.optim.SGD([a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [b, a]})
    with pytest.raises(ValueError, match="same parameter twice"):
        opt.add_param_group({"params": [b, b]})
    with pytest.raises(ValueError, match="non-leaf"):
        opt.add_param_group({"params": [b * 2]})
    with pytest.raises(TypeError, match="not a set"):
        opt.add_param_group({"params": {b}})
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        opt.add_param_group({"params": [np.zeros(2)]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([b])
    with pytest.raises(ValueError, match="SGD: invalid learning rate -1"):
        opt.add_param_group({"params": [b], "lr": -1.0})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["params"][0] is b


def test_constructor_param_errors():
    with pytest.raises(TypeError, match="single Tensor"):
        em.optim.SGD(em.zeros(2, requires_grad=True))
    with pytest.raises(ValueError, match="empty parameter list"):
        em.optim.Adam([])


INVALID = [
    ("SGD", {"lr": -1.0}, "SGD: invalid learning rate -1.0"),
    ("SGD", {"momentum": -0.1}, "invalid momentum value"),
    ("SGD", {"weight_decay": -1e-3}, "invalid weight_decay value"),
    ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "zero dampening"),
    ("Adagrad", {"lr_decay": -1.0}, "invalid lr_decay"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "invalid initial_accumulator_value"),
    ("Adagrad", {"eps": -1.0}, "invalid epsilon"),
    ("Adadelta", {"rho": 1.5}, "invalid rho value 1.5"),
    ("RMSprop", {"alpha": -0.5}, "invalid alpha"),
    ("RMSprop", {"momentum": -0.5}, "invalid momentum"),
    ("Adam", {"betas": (1.0, 0.999)}, "invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "invalid beta parameter at index 1"),
    ("Adam", {"eps": -1e-8}, "Adam: invalid epsilon value"),
    ("AdamW", {"weight_decay": -0.1}, "AdamW: invalid weight_decay"),
    ("Adamax", {"lr": -0.1}, "Adamax: invalid learning rate"),
    ("NAdam", {"momentum_decay": -1.0}, "invalid momentum_decay"),
    ("RAdam", {"betas": (0.9, 1.0)}, "RAdam: invalid beta parameter at index 1"),
]


@pytest.mark.parametrize("name, kwargs, message", INVALID, ids=[str(c[:2]) for c in INVALID])
def test_invalid_arguments_raise_clear_errors(name, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        getattr(em.optim, name)([em.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_defaults_are_pytorchs(torch, name, kwargs):
    ours = getattr(em.optim, name)([em.zeros(2, requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
    assert ours.items() <= theirs.items()


def test_a_pytorch_style_subclass_works():
    class PlainSGD(em.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @em.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(p.grad, alpha=group["lr"])

    w = em.tensor([1.0, 2.0], requires_grad=True)
    opt = PlainSGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0])
    scheduler = em.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    scheduler.step()  # a custom step() is not tracked, so there is no order warning
    assert opt.param_groups[0]["lr"] == 0.25
