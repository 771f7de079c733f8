"""Activations: functions and layers against PyTorch in float64 (values and gradients),
PyTorch's derivatives at the kinks, stability at large magnitudes, dtypes, reprs."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck

# (id, ember function, name of the torch.nn.functional function, keyword arguments)
CASES = [
    ("sigmoid", F.sigmoid, "sigmoid", {}),
    ("tanh", F.tanh, "tanh", {}),
    ("relu", F.relu, "relu", {}),
    ("relu6", F.relu6, "relu6", {}),
    ("leaky_relu", F.leaky_relu, "leaky_relu", {}),
    ("leaky_relu_slope", F.leaky_relu, "leaky_relu", {"negative_slope": 0.2}),
    ("elu", F.elu, "elu", {}),
    ("elu_alpha", F.elu, "elu", {"alpha": 0.5}),
    ("selu", F.selu, "selu", {}),
    ("celu", F.celu, "celu", {"alpha": 1.5}),
    ("gelu", F.gelu, "gelu", {}),
    ("gelu_tanh", F.gelu, "gelu", {"approximate": "tanh"}),
    ("silu", F.silu, "silu", {}),
    ("mish", F.mish, "mish", {}),
    ("softplus", F.softplus, "softplus", {}),
    ("softplus_beta_threshold", F.softplus, "softplus", {"beta": 2.0, "threshold": 5.0}),
    ("softsign", F.softsign, "softsign", {}),
    ("hardtanh", F.hardtanh, "hardtanh", {}),
    ("hardtanh_range", F.hardtanh, "hardtanh", {"min_val": -2.0, "max_val": 0.5}),
    ("hardsigmoid", F.hardsigmoid, "hardsigmoid", {}),
    ("hardswish", F.hardswish, "hardswish", {}),
    ("logsigmoid", F.logsigmoid, "logsigmoid", {}),
    ("tanhshrink", F.tanhshrink, "tanhshrink", {}),
    ("softshrink", F.softshrink, "softshrink", {}),
    ("softshrink_lambd", F.softshrink, "softshrink", {"lambd": 1.0}),
    ("hardshrink", F.hardshrink, "hardshrink", {}),
    ("hardshrink_lambd", F.hardshrink, "hardshrink", {"lambd": 1.0}),
    ("threshold", F.threshold, "threshold", {"threshold": 0.3, "value": -1.5}),
    ("softmax", F.softmax, "softmax", {"dim": 1}),
    ("softmax_dtype", F.softmax, "softmax", {"dim": 0, "dtype": "float64"}),
    ("log_softmax", F.log_softmax, "log_softmax", {"dim": 0}),
    ("softmin", F.softmin, "softmin", {"dim": 1}),
    ("glu", F.glu, "glu", {}),
    ("glu_dim0", F.glu, "glu", {"dim": 0}),
]
ELEMENTWISE = [c for c in CASES if c[0].split("_")[0] not in ("softmax", "log", "softmin", "glu")]


def _torch_kwargs(torch, kwargs):
    return {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}


def _ember_kwargs(kwargs):
    return {k: getattr(em, v) if k == "dtype" else v for k, v in kwargs.items()}


def _compare(torch, rng, ours, theirs, x, name, rtol=1e-6, atol=1e-6):
    """Forward values and the input gradient (random cotangent) of ours vs theirs."""
    xe = em.tensor(x, dtype=em.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y, ty = ours(xe), theirs(xt)
    assert_close(y, ty, rtol=rtol, atol=atol, name=f"{name} forward")
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(em.tensor(g, dtype=em.float64))
    ty.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad, rtol=rtol, atol=atol, name=f"{name} gradient")
    return y


@pytest.mark.parametrize("name,ours,theirs,kwargs", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradient_match_pytorch(torch, rng, name, ours, theirs, kwargs):
    x = rng.standard_normal((4, 6)) * 4  # reaches both sides of every kink (+-3, 6, ...)
    _compare(torch, rng, lambda t: ours(t, **_ember_kwargs(kwargs)),
             lambda t: getattr(torch.nn.functional, theirs)(t, **_torch_kwargs(torch, kwargs)),
             x, name)


@pytest.mark.parametrize("name,ours,theirs,kwargs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(rng, name, ours, theirs, kwargs):
    x = em.tensor(rng.standard_normal((2, 4)) * 4, dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda t: ours(t, **_ember_kwargs(kwargs)), (x,))


# every kink, the points next to them, and 0
KINKS = np.array([-6.0, -3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.3, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0,
                  6.0, 10.0, 20.0])


@pytest.mark.parametrize("name,ours,theirs,kwargs", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_derivative_at_the_kinks_is_pytorchs(torch, rng, name, ours, theirs, kwargs):
    # softplus(beta=2, threshold=5) switches to the identity at x = 2.5, exactly a kink here
    _compare(torch, rng, lambda t: ours(t, **kwargs),
             lambda t: getattr(torch.nn.functional, theirs)(t, **kwargs), KINKS, name)


def test_derivatives_at_kinks_explicitly():
    """The conventions the docstrings state, independently of PyTorch."""
    def grad(f, points):
        x = em.tensor(points, dtype=em.float64, requires_grad=True)
        f(x).sum().backward()
        return x.grad.tolist()

    assert grad(F.relu6, [0.0, 6.0]) == [0.0, 0.0]
    assert grad(F.hardtanh, [-1.0, 1.0]) == [0.0, 0.0]
    assert grad(lambda x: F.leaky_relu(x, 0.1), [0.0]) == [0.1]
    assert grad(F.hardswish, [-3.0, 3.0]) == [0.0, 1.0]
    assert grad(F.hardsigmoid, [-3.0, 3.0]) == [0.0, 0.0]
    assert grad(lambda x: F.elu(x, 2.0), [0.0]) == [2.0]
    assert grad(F.softshrink, [-0.5, 0.5]) == [0.0, 0.0]
    assert grad(F.hardshrink, [-0.5, 0.5]) == [0.0, 0.0]
    assert grad(lambda x: F.threshold(x, 1.0, 0.0), [1.0]) == [0.0]


LARGE = np.array([-1e4, -1e3, -100.0, -40.0, 40.0, 100.0, 1e3, 1e4])
STABLE = ["sigmoid", "tanh", "elu", "selu", "celu", "gelu", "gelu_tanh", "silu", "mish",
          "softplus", "softplus_beta_threshold", "softsign", "logsigmoid", "tanhshrink",
          "hardswish", "leaky_relu"]


@pytest.mark.parametrize("name", STABLE)
def test_large_magnitudes_stay_finite_and_match_pytorch(torch, rng, name):
    _, ours, theirs, kwargs = next(c for c in CASES if c[0] == name)
    y = _compare(torch, rng, lambda t: ours(t, **kwargs),
                 lambda t: getattr(torch.nn.functional, theirs)(t, **kwargs), LARGE, name)
    assert np.isfinite(y.detach().numpy()).all()


@pytest.mark.parametrize("name,ours,theirs,kwargs", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_infinities_give_pytorchs_values(torch, name, ours, theirs, kwargs):
    x = np.array([-np.inf, np.inf, np.nan, 0.0])
    with np.errstate(invalid="ignore"):
        y = ours(em.tensor(x, dtype=em.float64), **kwargs)
    expected = getattr(torch.nn.functional, theirs)(torch.tensor(x), **kwargs)
    assert_close(y, expected, rtol=0, atol=0, name=f"{name} at +-inf")  # NaN matches NaN


def test_logsigmoid_and_softplus_are_exact_in_the_tails():
    x = em.tensor([-800.0, 800.0], dtype=em.float64)
    assert F.logsigmoid(x).tolist() == [-800.0, -0.0]
    assert F.softplus(-x).tolist() == [800.0, 0.0]
    # the linear regime of softplus is exactly x, as PyTorch's (not log1p(exp(x)))
    assert F.softplus(em.tensor([25.0]), threshold=20).tolist() == [25.0]


NO_CAST = [c for c in CASES if "dtype" not in c[3]]


@pytest.mark.parametrize("name,ours,theirs,kwargs", NO_CAST, ids=[c[0] for c in NO_CAST])
def test_float32_stays_float32(rng, name, ours, theirs, kwargs):
    x = em.tensor(rng.standard_normal((2, 4)).astype(np.float32), requires_grad=True)
    y = ours(x, **kwargs)
    assert y.dtype == em.float32
    y.sum().backward()
    assert x.grad.dtype == em.float32


@pytest.mark.parametrize("num_parameters", [1, 3])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (2, 3, 2, 2)])
def test_prelu_matches_pytorch_for_input_and_weight(torch, rng, num_parameters, shape):
    ours, theirs = nn.PReLU(num_parameters).double(), torch.nn.PReLU(num_parameters).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, num_parameters)))
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # the kink: d/dx = a, d/da = 0
    xe, xt = em.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xe), theirs(xt)
    assert_close(y, ty)
    g = rng.standard_normal(shape)
    y.backward(em.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad)
    assert_close(ours.weight.grad, theirs.weight.grad)


def test_prelu_gradcheck(rng):
    x = em.tensor(rng.standard_normal((2, 3, 2)), dtype=em.float64, requires_grad=True)
    w = em.tensor([0.1, -0.2, 0.3], dtype=em.float64, requires_grad=True)
    assert gradcheck(F.prelu, (x, w))


def test_prelu_layer_defaults_and_state_dict():
    layer = nn.PReLU(4)
    assert layer.weight.shape == (4,) and layer.weight.tolist() == [0.25] * 4
    assert sum(p.numel() for p in layer.parameters()) == 4
    assert list(layer.state_dict()) == ["weight"]
    copy = nn.PReLU(4, init=0.1)
    copy.load_state_dict(layer.state_dict())
    assert copy.weight.tolist() == [0.25] * 4
    assert nn.PReLU(init=0.1).weight.tolist() == [pytest.approx(0.1)]


# (ember layer, torch layer) constructors with the same arguments
LAYERS = [
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("ReLU", (), {}), ("ReLU", (), {"inplace": True}),
    ("ReLU6", (), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {"inplace": True}),
    ("ELU", (), {}), ("ELU", (0.5,), {}), ("SELU", (), {}), ("CELU", (1.5,), {}),
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}),
    ("SiLU", (), {"inplace": True}), ("Mish", (), {}), ("Softplus", (), {}),
    ("Softplus", (2.0, 5.0), {}), ("Softsign", (), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2.0, 0.5), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
    ("LogSigmoid", (), {}), ("Tanhshrink", (), {}), ("Softshrink", (), {}),
    ("Softshrink", (1.0,), {}), ("Hardshrink", (0.3,), {}), ("Threshold", (0.1, 20.0), {}),
    ("Softmax", (), {"dim": 1}), ("LogSoftmax", (1,), {}), ("Softmin", (), {"dim": 0}),
    ("PReLU", (), {}), ("PReLU", (6,), {}), ("PReLU", (1, 0.1), {}), ("GLU", (), {}),
    ("GLU", (), {"dim": 1}),
]


@pytest.mark.parametrize("cls,args,kwargs", LAYERS,
                         ids=[f"{c}{a}{k}" for c, a, k in LAYERS])
def test_layers_match_pytorch_repr_values_and_gradients(torch, rng, cls, args, kwargs):
    ours = getattr(nn, cls)(*args, **kwargs).double()
    theirs = getattr(torch.nn, cls)(*args, **kwargs).double()
    assert repr(ours) == repr(theirs)
    ours.load_state_dict(theirs.state_dict())
    # a non-leaf copy for PyTorch, whose inplace layers refuse to modify a leaf
    _compare(torch, rng, ours, lambda t: theirs(t * 1.0), rng.standard_normal((3, 6)) * 4, cls)
    for mine, reference in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(mine.grad, reference.grad, name=f"{cls} parameter gradient")


def test_layers_never_modify_their_input():
    x = em.tensor([-1.0, 0.5, 4.0])
    for layer in (nn.ReLU(inplace=True), nn.SiLU(inplace=True), nn.Hardtanh(inplace=True),
                  nn.Threshold(0.0, 9.0, inplace=True)):
        y = layer(x)
        assert x.tolist() == [-1.0, 0.5, 4.0] and y is not x


def test_activation_layers_have_no_parameters():
    for cls, args, kwargs in LAYERS:
        if cls != "PReLU":
            assert list(getattr(nn, cls)(*args, **kwargs).parameters()) == []


def test_errors_are_clear():
    x = em.randn(3, 5)
    with pytest.raises(TypeError, match="softmax.*dim"):
        F.softmax(x)
    with pytest.raises(TypeError, match="softmin.*dim"):
        F.softmin(x)
    with pytest.raises(TypeError, match="Softmax.*dim"):
        nn.Softmax()(x)
    with pytest.raises(ValueError, match=r"glu.*dimension 1.*\(3, 5\).*size 5"):
        F.glu(x)
    with pytest.raises(ValueError, match=r"prelu: weight has 3 parameters.*\(3, 5\).*5 channels"):
        F.prelu(x, em.ones(3))
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="hardtanh: min_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="softshrink: lambd"):
        F.softshrink(x, -1.0)
    with pytest.raises(ValueError, match="celu: alpha"):
        F.celu(x, 0.0)


def test_functional_names_are_exported():
    for name in ("sigmoid", "tanh", "relu", "softmax", "log_softmax", "relu6", "leaky_relu",
                 "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign",
                 "hardtanh", "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink",
                 "softshrink", "hardshrink", "threshold", "prelu", "glu", "softmin", "erf"):
        assert callable(getattr(F, name)), name
