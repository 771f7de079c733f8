"""Normalisation against PyTorch in float64: values, every gradient, running statistics
over several steps, train/eval behaviour, state dicts, reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck


def _pair(torch, array, requires_grad=True):
    return (em.tensor(array, dtype=em.float64, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def _backward_both(torch, rng, y, ty):
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(em.tensor(g, dtype=em.float64))
    ty.backward(torch.tensor(g))


def _check_module_step(torch, rng, ours, theirs, shape, scale=3.0, shift=1.5):
    """One forward and backward of both modules; compares output and every gradient."""
    x = rng.standard_normal(shape) * scale + shift
    xe, xt = _pair(torch, x)
    y, ty = ours(xe), theirs(xt)
    assert_close(y, ty, name="output")
    _backward_both(torch, rng, y, ty)
    assert_close(xe.grad, xt.grad, name="input gradient")
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert_close(p.grad, tp.grad, name=f"{name} gradient")
        p.grad = None
    theirs.zero_grad()


def _check_buffers(ours, theirs):
    mine = ours.state_dict()
    for key, value in theirs.state_dict().items():
        assert_close(mine[key], value, rtol=1e-12, atol=1e-12, name=key)
        assert mine[key].dtype == (em.int64 if key.endswith("num_batches_tracked")
                                   else em.float64)


# ---------------------------------------------------------------------------- batch norm

BN_SHAPES = [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
             ("BatchNorm2d", (4, 3, 3, 2)), ("BatchNorm3d", (2, 3, 2, 3, 2))]


@pytest.mark.parametrize("cls,shape", BN_SHAPES, ids=[f"{c}{s}" for c, s in BN_SHAPES])
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batch_norm_trains_then_evaluates_like_pytorch(torch, rng, cls, shape, momentum):
    ours = getattr(nn, cls)(3, momentum=momentum).double()
    theirs = getattr(torch.nn, cls)(3, momentum=momentum).double()
    with torch.no_grad():  # non-trivial affine parameters
        theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, 3)))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(3)))
    ours.load_state_dict(theirs.state_dict())
    for _ in range(3):
        _check_module_step(torch, rng, ours, theirs, shape)
        _check_buffers(ours, theirs)
    assert int(ours.num_batches_tracked) == 3
    ours.eval(), theirs.eval()
    _check_module_step(torch, rng, ours, theirs, shape)
    _check_buffers(ours, theirs)  # evaluation leaves the running statistics alone
    assert int(ours.num_batches_tracked) == 3


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_batch_norm_options_match_pytorch(torch, rng, affine, track):
    ours = nn.BatchNorm2d(3, affine=affine, track_running_stats=track).double()
    theirs = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for training in (True, False):  # without running stats, eval uses batch statistics
        ours.train(training), theirs.train(training)
        _check_module_step(torch, rng, ours, theirs, (4, 3, 2, 2))
        _check_buffers(ours, theirs)


def test_batch_norm_without_bias_matches_pytorch(torch, rng):
    ours, theirs = nn.BatchNorm1d(3, bias=False).double(), torch.nn.BatchNorm1d(3, bias=False)
    theirs.double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    _check_module_step(torch, rng, ours, theirs, (5, 3))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (3, 3, 4), (2, 3, 2, 3)])
def test_functional_batch_norm_matches_pytorch(torch, rng, training, shape):
    x, w, b = rng.standard_normal(shape) * 2 + 1, rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    (xe, xt), (we, wt), (be, bt) = _pair(torch, x), _pair(torch, w), _pair(torch, b)
    (me, mt), (ve, vt) = _pair(torch, mean, False), _pair(torch, var, False)
    y = F.batch_norm(xe, me, ve, we, be, training=training, momentum=0.2, eps=1e-3)
    ty = torch.nn.functional.batch_norm(xt, mt, vt, wt, bt, training=training, momentum=0.2,
                                        eps=1e-3)
    assert_close(y, ty)
    assert_close(me, mt, rtol=1e-12, atol=1e-12, name="running_mean")
    assert_close(ve, vt, rtol=1e-12, atol=1e-12, name="running_var")
    _backward_both(torch, rng, y, ty)
    for ours, theirs, name in ((xe, xt, "input"), (we, wt, "weight"), (be, bt, "bias")):
        assert_close(ours.grad, theirs.grad, name=f"{name} gradient")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(rng, training):
    x = em.tensor(rng.standard_normal((4, 3, 2)), dtype=em.float64, requires_grad=True)
    w = em.tensor(rng.uniform(0.5, 2, 3), dtype=em.float64, requires_grad=True)
    b = em.tensor(rng.standard_normal(3), dtype=em.float64, requires_grad=True)
    mean = em.tensor(rng.standard_normal(3), dtype=em.float64)
    var = em.tensor(rng.uniform(0.5, 2, 3), dtype=em.float64)

    def f(x, w, b):  # fresh running statistics each call, so every evaluation is the same
        return F.batch_norm(x, mean.clone(), var.clone(), w, b, training=training)

    assert gradcheck(f, (x, w, b))


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (40, 4, 1000)),
                                       ("LayerNorm", (300, 512)),
                                       ("GroupNorm", (10, 4, 50, 40))])
def test_inputs_larger_than_one_block_match_pytorch(torch, rng, cls, shape):
    """Inputs of more than 65536 elements are processed in several cache-sized blocks."""
    args = {"BatchNorm1d": (4,), "LayerNorm": (512,), "GroupNorm": (2, 4)}[cls]
    ours, theirs = getattr(nn, cls)(*args).double(), getattr(torch.nn, cls)(*args).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, theirs.weight.shape)))
    ours.load_state_dict(theirs.state_dict())
    _check_module_step(torch, rng, ours, theirs, shape)
    _check_buffers(ours, theirs)


def test_batch_norm_state_dict_and_parameters():
    bn = nn.BatchNorm2d(5)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert sum(p.numel() for p in bn.parameters()) == 10
    assert bn.num_batches_tracked.dtype == em.int64 and bn.num_batches_tracked.shape == ()
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.running_var.tolist() == [1.0] * 5
    bn(em.randn(4, 5, 3, 3) * 2 + 1)
    copy = nn.BatchNorm2d(5)
    copy.load_state_dict(bn.state_dict())
    for key, value in bn.state_dict().items():
        assert np.array_equal(copy.state_dict()[key].numpy(), value.numpy()), key
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked) == 0 and bn.running_var.tolist() == [1.0] * 5


def test_batch_norm_loads_a_pytorch_state_dict(torch, rng):
    theirs = torch.nn.BatchNorm1d(4, dtype=torch.float32)
    theirs(torch.tensor(rng.standard_normal((6, 4)), dtype=torch.float32))  # non-default stats
    theirs.eval()
    ours = nn.BatchNorm1d(4)
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    x = rng.standard_normal((3, 4)).astype(np.float32)
    assert_close(ours(em.tensor(x)), theirs(torch.tensor(x)), rtol=1e-5, atol=1e-6)
    assert int(ours.num_batches_tracked) == 1


def test_batch_norm_keeps_float32(rng):
    bn = nn.BatchNorm2d(3)
    x = em.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32), requires_grad=True)
    y = bn(x)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == bn.weight.grad.dtype == bn.running_var.dtype == em.float32


def test_batch_norm_reprs_match_pytorch(torch):
    for args, kwargs in [((3,), {}), ((4, 1e-3, None, False, False), {})]:
        assert repr(nn.BatchNorm2d(*args, **kwargs)) == repr(torch.nn.BatchNorm2d(*args,
                                                                                  **kwargs))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        nn.BatchNorm1d(3)(em.randn(1, 3))
    nn.BatchNorm1d(3).eval()(em.randn(1, 3))  # fine in evaluation
    nn.BatchNorm1d(3)(em.randn(1, 3, 2))  # two values per channel: fine
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input.*4D"):
        nn.BatchNorm1d(3)(em.randn(2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D"):
        nn.BatchNorm2d(3)(em.randn(2, 3, 2))
    with pytest.raises(ValueError, match=r"running_mean has shape \(4,\).*\(2, 3\) has 3"):
        F.batch_norm(em.randn(2, 3), em.zeros(4), em.ones(4))
    with pytest.raises(TypeError, match="momentum must be a number"):
        F.batch_norm(em.randn(2, 3), em.zeros(3), em.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match="running_mean and running_var must be given"):
        F.batch_norm(em.randn(2, 3), None, None, training=False)


# ---------------------------------------------------------------------------- layer norm

LN_CASES = [((4, 5), 5), ((4, 5), (5,)), ((2, 3, 4), [3, 4]), ((2, 3, 2, 2), (3, 2, 2)),
            ((6,), 6)]


@pytest.mark.parametrize("shape,normalized", LN_CASES, ids=[str(c) for c in LN_CASES])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)])
def test_layer_norm_matches_pytorch(torch, rng, shape, normalized, affine, bias):
    ours = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias).double()
    theirs = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias).double()
    assert repr(ours) == repr(theirs)
    if affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, theirs.weight.shape)))
            if bias:
                theirs.bias.copy_(torch.tensor(rng.standard_normal(theirs.bias.shape)))
    ours.load_state_dict(theirs.state_dict())
    _check_module_step(torch, rng, ours, theirs, shape)


def test_layer_norm_gradcheck(rng):
    x = em.tensor(rng.standard_normal((3, 2, 3)), dtype=em.float64, requires_grad=True)
    w = em.tensor(rng.uniform(0.5, 2, (2, 3)), dtype=em.float64, requires_grad=True)
    b = em.tensor(rng.standard_normal((2, 3)), dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b, eps=1e-3), (x, w, b))


def test_layer_norm_state_dict_and_float32(rng):
    ln = nn.LayerNorm((2, 3))
    assert list(ln.state_dict()) == ["weight", "bias"] and ln.weight.shape == (2, 3)
    assert sum(p.numel() for p in ln.parameters()) == 12
    x = em.tensor(rng.standard_normal((4, 2, 3)).astype(np.float32), requires_grad=True)
    y = ln(x)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == ln.weight.grad.dtype == em.float32


def test_layer_norm_shape_errors():
    with pytest.raises(ValueError, match=r"normalized_shape \(4,\).*\(2, 5\)"):
        F.layer_norm(em.randn(2, 5), (4,))
    with pytest.raises(ValueError, match=r"normalized_shape \(2, 3, 4\).*\(3, 4\)"):
        F.layer_norm(em.randn(3, 4), (2, 3, 4))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\).*\(5,\)"):
        F.layer_norm(em.randn(2, 5), (5,), weight=em.ones(3))


# ---------------------------------------------------------------------------- group norm

GN_CASES = [(1, (2, 4)), (2, (2, 4, 3)), (4, (2, 4, 2, 2)), (2, (3, 6, 2, 1, 2))]


@pytest.mark.parametrize("groups,shape", GN_CASES, ids=[str(c) for c in GN_CASES])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_pytorch(torch, rng, groups, shape, affine):
    ours = nn.GroupNorm(groups, shape[1], affine=affine).double()
    theirs = torch.nn.GroupNorm(groups, shape[1], affine=affine).double()
    assert repr(ours) == repr(theirs)
    if affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, shape[1])))
            theirs.bias.copy_(torch.tensor(rng.standard_normal(shape[1])))
    ours.load_state_dict(theirs.state_dict())
    _check_module_step(torch, rng, ours, theirs, shape)


def test_group_norm_gradcheck(rng):
    x = em.tensor(rng.standard_normal((2, 4, 3)), dtype=em.float64, requires_grad=True)
    w = em.tensor(rng.uniform(0.5, 2, 4), dtype=em.float64, requires_grad=True)
    b = em.tensor(rng.standard_normal(4), dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"4 channels.*\(2, 4, 3\).*3 groups"):
        F.group_norm(em.randn(2, 4, 3), 3)


# ---------------------------------------------------------------------------- instance norm

IN_CASES = [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)),
            ("InstanceNorm2d", (2, 3, 3, 2)), ("InstanceNorm2d", (3, 2, 4)),
            ("InstanceNorm3d", (2, 3, 2, 2, 2))]


@pytest.mark.parametrize("cls,shape", IN_CASES, ids=[f"{c}{s}" for c, s in IN_CASES])
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (True, True)])
def test_instance_norm_matches_pytorch(torch, rng, cls, shape, affine, track):
    ours = getattr(nn, cls)(3, affine=affine, track_running_stats=track).double()
    theirs = getattr(torch.nn, cls)(3, affine=affine, track_running_stats=track).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, 3)))
            theirs.bias.copy_(torch.tensor(rng.standard_normal(3)))
        ours.load_state_dict(theirs.state_dict())
    for _ in range(2):
        _check_module_step(torch, rng, ours, theirs, shape)
        _check_buffers(ours, theirs)
    ours.eval(), theirs.eval()
    _check_module_step(torch, rng, ours, theirs, shape)


def test_instance_norm_functional_gradcheck(rng):
    x = em.tensor(rng.standard_normal((2, 3, 4)), dtype=em.float64, requires_grad=True)
    w = em.tensor(rng.uniform(0.5, 2, 3), dtype=em.float64, requires_grad=True)
    b = em.tensor(rng.standard_normal(3), dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))


def test_instance_norm_defaults_and_errors():
    layer = nn.InstanceNorm2d(3)
    assert list(layer.parameters()) == [] and list(layer.state_dict()) == []
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        layer(em.randn(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D or 4D input"):
        layer(em.randn(2, 3))


# ---------------------------------------------------------------------------- local response

LRN_CASES = [(1, (2, 4, 3)), (2, (2, 4, 3)), (3, (2, 5, 2, 2)), (5, (1, 6, 2, 3)),
             (4, (2, 3, 2, 1, 2))]


@pytest.mark.parametrize("size,shape", LRN_CASES, ids=[str(c) for c in LRN_CASES])
def test_local_response_norm_matches_pytorch(torch, rng, size, shape):
    ours = nn.LocalResponseNorm(size, alpha=0.5, beta=0.6, k=1.5)
    theirs = torch.nn.LocalResponseNorm(size, alpha=0.5, beta=0.6, k=1.5)
    assert repr(ours) == repr(theirs)
    _check_module_step(torch, rng, ours, theirs, shape, shift=0.0)


def test_local_response_norm_gradcheck_and_errors(rng):
    x = em.tensor(rng.standard_normal((2, 5, 3)), dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.3), (x,))
    with pytest.raises(ValueError, match=r"at least 3 dimensions.*\(2, 5\)"):
        F.local_response_norm(em.randn(2, 5), 3)
    assert repr(nn.LocalResponseNorm(5)) == "LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=1.0)"
