"""Devices: em.device, tensor.device, .to/.cpu/.cuda, device= on factories and Module.to,
and the availability queries, each against PyTorch's behaviour."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember as em
from ember.devices import DeviceError


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:1", "mps", "meta", "xpu"])
def test_device_names_match_pytorch(torch, spec):
    ours, theirs = em.device(spec), torch.device(spec)
    assert (repr(ours), str(ours), ours.type, ours.index) == (
        repr(theirs), str(theirs), theirs.type, theirs.index)


def test_device_construction_and_equality(torch):
    assert em.device("cuda", 0) == em.device("cuda:0") and str(em.device("cuda", 0)) == "cuda:0"
    assert em.device(em.device("cpu")) == em.device("cpu")
    assert em.device("cpu") != em.device("cuda") and em.device("cpu") != "cpu"  # as PyTorch
    assert torch.device("cpu") != "cpu"
    assert len({em.device("cpu"), em.device("cpu"), em.device("cuda")}) == 2
    assert pickle.loads(pickle.dumps(em.device("cuda:2"))) == em.device("cuda:2")
    for bad in ("foo", "cpu:x"):
        with pytest.raises(RuntimeError):
            torch.device(bad)
        with pytest.raises(RuntimeError):
            em.device(bad)
    with pytest.raises(RuntimeError):
        em.device(0)  # an index alone names an accelerator


def test_tensor_device_and_conversions(torch):
    x = em.ones(2, 3)
    assert x.device == em.device("cpu") and repr(x.device) == repr(torch.ones(1).device)
    assert x.is_cpu and not x.is_cuda and not x.is_pinned()
    assert x.to("cpu") is x and x.cpu() is x and x.to(em.device("cpu")) is x
    assert x.to("cpu", copy=True) is not x
    assert x.to("cpu", em.float64).dtype == em.float64
    assert x.to(device="cpu", dtype=em.int64).dtype == em.int64
    assert x.to(em.zeros(1, dtype=em.float64)).dtype == em.float64
    for call in (lambda t: t.to("cuda"), lambda t: t.cuda(), lambda t: t.to("mps"),
                 lambda t: t.to(device="cuda:0"), lambda t: t.pin_memory()):
        with pytest.raises((RuntimeError, AssertionError)):  # AssertionError for CUDA
            call(torch.ones(2))
        with pytest.raises(DeviceError, match="CPU|accelerator"):
            call(x)


FACTORIES = [
    ("tensor", lambda m, d: m.tensor([1.0, 2.0], device=d)),
    ("as_tensor", lambda m, d: m.as_tensor(np.ones(2), device=d)),
    ("zeros", lambda m, d: m.zeros(2, 3, device=d)),
    ("ones", lambda m, d: m.ones((2,), device=d)),
    ("empty", lambda m, d: m.empty(2, device=d)),
    ("full", lambda m, d: m.full((2,), 3.0, device=d)),
    ("zeros_like", lambda m, d: m.zeros_like(m.ones(2), device=d)),
    ("ones_like", lambda m, d: m.ones_like(m.ones(2), device=d)),
    ("empty_like", lambda m, d: m.empty_like(m.ones(2), device=d)),
    ("full_like", lambda m, d: m.full_like(m.ones(2), 7, device=d)),
    ("rand_like", lambda m, d: m.rand_like(m.ones(2), device=d)),
    ("randn_like", lambda m, d: m.randn_like(m.ones(2), device=d)),
    ("arange", lambda m, d: m.arange(5, device=d)),
    ("linspace", lambda m, d: m.linspace(0, 1, 5, device=d)),
    ("eye", lambda m, d: m.eye(3, device=d)),
    ("rand", lambda m, d: m.rand(2, device=d)),
    ("randn", lambda m, d: m.randn(2, device=d)),
    ("randint", lambda m, d: m.randint(0, 5, (3,), device=d)),
    ("randperm", lambda m, d: m.randperm(4, device=d)),
    ("normal", lambda m, d: m.normal(0.0, 1.0, (2,), device=d)),
    ("FloatTensor", lambda m, d: m.FloatTensor([1.0], device=d)),
]


@pytest.mark.parametrize("name, make", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_every_factory_takes_device(torch, name, make):
    for device in ("cpu", em.device("cpu"), None):
        assert make(em, device).device == em.device("cpu")
    assert make(torch, "cpu").device == torch.device("cpu")
    with pytest.raises(DeviceError, match=name):
        make(em, "cuda")


def test_randint_accepts_requires_grad_false(torch):
    a = torch.randint(0, 5, (3,), requires_grad=False)
    b = em.randint(0, 5, (3,), requires_grad=False)
    assert str(a.dtype).split(".")[1] == str(b.dtype) and not b.requires_grad
    assert em.randint(5, size=(4,)).shape == torch.randint(5, size=(4,)).shape
    for framework in (torch, em):
        with pytest.raises(RuntimeError):
            framework.randint(0, 5, (3,), requires_grad=True)


def test_module_to_device_and_dtype(torch):
    model = em.nn.Linear(2, 3)
    assert model.to("cpu") is model and model.to(em.device("cpu")) is model
    model.to("cpu", em.float64)
    assert model.weight.dtype == em.float64
    model.to(em.zeros(1, dtype=em.float32))
    assert model.weight.dtype == em.float32 and model.cpu() is model
    for framework in (torch, em):
        with pytest.raises(TypeError, match="floating point"):
            framework.nn.Linear(2, 3).to(framework.int64)
        with pytest.raises((RuntimeError, AssertionError)):
            framework.nn.Linear(2, 3).cuda()
    with pytest.raises(DeviceError):
        model.to("cuda")


def test_availability_queries_follow_the_common_idiom(torch):
    for name in ("is_available", "device_count"):
        assert getattr(em.cuda, name)() == getattr(torch.cuda, name)()
    assert em.backends.mps.is_available() == torch.backends.mps.is_available() is False
    assert em.backends.mps.is_built() is False and em.backends.cudnn.is_available() is False
    assert em.accelerator.is_available() is False and em.accelerator.device_count() == 0
    assert em.accelerator.current_accelerator() is torch.accelerator.current_accelerator()
    device = em.device("cuda" if em.cuda.is_available() else "cpu")
    assert em.randn(2, device=device).to(device).device == device
    em.cuda.manual_seed_all(0)  # no-ops without CUDA, as in PyTorch
    em.cuda.manual_seed(0)
    em.cuda.empty_cache()
    em.backends.cudnn.deterministic, em.backends.cudnn.benchmark = True, False
    with pytest.raises(DeviceError):
        em.cuda.synchronize()
    with pytest.raises(DeviceError):
        em.cuda.current_device()


LAYERS = [
    lambda nn, d: nn.Linear(2, 3, device=d),
    lambda nn, d: nn.Conv2d(1, 2, 3, device=d),
    lambda nn, d: nn.BatchNorm1d(3, device=d),
    lambda nn, d: nn.InstanceNorm1d(3, device=d),
    lambda nn, d: nn.LayerNorm(3, device=d),
    lambda nn, d: nn.GroupNorm(1, 3, device=d),
    lambda nn, d: nn.Embedding(5, 3, device=d),
    lambda nn, d: nn.LSTM(3, 4, device=d),
    lambda nn, d: nn.GRU(3, 4, device=d),
    lambda nn, d: nn.RNN(3, 4, device=d),
    lambda nn, d: nn.LSTMCell(3, 4, device=d),
    lambda nn, d: nn.RNNCell(3, 4, device=d),
    lambda nn, d: nn.PReLU(device=d),
]


@pytest.mark.parametrize("make", LAYERS)
def test_layers_take_device_and_dtype(torch, make):
    ours = make(em.nn, "cpu")
    theirs = make(torch.nn, "cpu")
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    with pytest.raises(DeviceError):
        make(em.nn, "cuda")
    lstm = em.nn.LSTM(3, 4, 1, True, False, 0.0, False, 0, "cpu", em.float64)  # positional
    assert lstm.weight_ih_l0.dtype == em.float64


def test_new_tensors_and_the_default_device(torch):
    x = em.ones(2, dtype=em.float64)
    for make in (lambda t: t.new_zeros(2, 3, device="cpu"), lambda t: t.new_ones(2, device="cpu"),
                 lambda t: t.new_full((2,), 7.0, device="cpu"),
                 lambda t: t.new_empty(3, device="cpu"),
                 lambda t: t.new_tensor([1.0, 2.0], device="cpu")):
        ours, theirs = make(x), make(torch.ones(2, dtype=torch.float64))
        assert ours.dtype == em.float64 and tuple(ours.shape) == tuple(theirs.shape)
        with pytest.raises(DeviceError):
            make.__call__(x).new_zeros(1, device="cuda")
    assert em.get_default_device() == em.device("cpu") and repr(torch.get_default_device()) \
        == repr(em.get_default_device())
    em.set_default_device("cpu")
    with pytest.raises(DeviceError):
        em.set_default_device("cuda")
