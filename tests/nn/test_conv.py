"""Convolutions: conv1d/conv2d and their transposes against PyTorch in float64 (forward and
the gradients of input, weight and bias), gradcheck, the layers, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck


def _compare(torch, rng, ours, theirs, shapes, name):
    """Run ``ours`` and ``theirs`` on the same float64 inputs; compare the output and
    the gradient of every input for a random output gradient."""
    arrays = [rng.standard_normal(s) if s is not None else None for s in shapes]
    xs = [None if a is None else em.tensor(a, dtype=em.float64, requires_grad=True)
          for a in arrays]
    ts = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    assert_close(y, ty, rtol=1e-9, atol=1e-9, name=f"{name} forward")
    assert y.dtype == em.float64
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(em.tensor(g))
    ty.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        if x is not None:
            assert x.grad is not None, f"{name}: input {i} got no gradient"
            assert_close(x.grad, t.grad, rtol=1e-9, atol=1e-9, name=f"{name} gradient {i}")


def _tf(torch):
    return torch.nn.functional


# (id, ember kwargs, torch kwargs or a callable building the torch call, x, w, bias shape)
CONV2D = [
    ("int_padding", dict(padding=1), None, (2, 3, 6, 5), (4, 3, 3, 3), (4,)),
    ("tuple_padding", dict(padding=(2, 1)), None, (2, 3, 6, 5), (4, 3, 3, 3), (4,)),
    ("same_odd", dict(padding="same"), None, (2, 3, 6, 5), (4, 3, 3, 5), (4,)),
    ("same_even", dict(padding="same"), None, (2, 3, 6, 7), (4, 3, 4, 2), (4,)),
    ("same_even_dilated", dict(padding="same", dilation=(1, 2)), None,
     (2, 3, 6, 7), (4, 3, 4, 2), (4,)),
    ("valid", dict(padding="valid"), None, (2, 3, 6, 5), (4, 3, 3, 2), (4,)),
    ("stride", dict(stride=2, padding=1), None, (2, 3, 7, 6), (4, 3, 3, 3), (4,)),
    ("stride_tuple", dict(stride=(2, 1)), None, (2, 3, 7, 6), (4, 3, 2, 3), (4,)),
    ("dilation", dict(dilation=2, padding=2), None, (2, 3, 7, 6), (4, 3, 3, 3), (4,)),
    ("stride_dilation", dict(stride=3, dilation=(2, 1)), None, (2, 3, 9, 8), (4, 3, 3, 2),
     (4,)),
    ("groups", dict(groups=2, padding=1), None, (2, 4, 5, 5), (6, 2, 3, 3), (6,)),
    ("depthwise", dict(groups=3, padding=1), None, (2, 3, 5, 5), (3, 1, 3, 3), (3,)),
    ("depthwise_strided", dict(groups=3, stride=2), None, (2, 3, 6, 5), (3, 1, 3, 2), (3,)),
    ("depthwise_multiplier", dict(groups=3, padding=1), None, (2, 3, 5, 5), (6, 1, 3, 3),
     (6,)),
    ("no_bias", dict(padding=1), None, (2, 3, 5, 5), (4, 3, 3, 3), None),
    ("pointwise_strided", dict(stride=2), None, (2, 3, 5, 6), (4, 3, 1, 1), (4,)),
    ("large_padding", dict(padding=4), None, (1, 2, 4, 3), (3, 2, 3, 3), (3,)),
    # stride 1 input gradient: few in, many out channels -> col2im; equal -> flipped conv
    ("wide_out", dict(padding=2), None, (2, 1, 6, 6), (6, 1, 5, 5), (6,)),
    ("unbatched", dict(padding=1), None, (3, 5, 4), (2, 3, 3, 3), (2,)),
    ("asymmetric", dict(padding=(1, 2, 0, 3)),
     lambda T: lambda x, w, b: T.conv2d(T.pad(x, (0, 3, 1, 2)), w, b),
     (2, 3, 5, 4), (4, 3, 3, 3), (4,)),
    ("asymmetric_strided", dict(padding=(0, 1, 2, 0), stride=2),
     lambda T: lambda x, w, b: T.conv2d(T.pad(x, (2, 0, 0, 1)), w, b, stride=2),
     (2, 3, 6, 5), (4, 3, 3, 3), (4,)),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("name,kwargs,builder,x,w,b", CONV2D, ids=[c[0] for c in CONV2D])
def test_conv2d_matches_pytorch(torch, rng, name, kwargs, builder, x, w, b):
    theirs = (builder(_tf(torch)) if builder else
              lambda x_, w_, b_: _tf(torch).conv2d(x_, w_, b_, **kwargs))
    _compare(torch, rng, lambda x_, w_, b_: F.conv2d(x_, w_, b_, **kwargs), theirs,
             [x, w, b], name)


CONV1D = [
    ("int_padding", dict(padding=1), None, (2, 3, 7), (4, 3, 3), (4,)),
    ("same_even", dict(padding="same", dilation=3), None, (2, 3, 9), (4, 3, 4), (4,)),
    ("valid_strided", dict(padding="valid", stride=2), None, (2, 3, 9), (4, 3, 3), None),
    ("groups_dilation", dict(groups=3, dilation=2, padding=2), None, (2, 3, 8), (6, 1, 3),
     (6,)),
    ("unbatched", dict(), None, (3, 6), (2, 3, 2), (2,)),
    ("asymmetric", dict(padding=(2, 0)),
     lambda T: lambda x, w, b: T.conv1d(T.pad(x, (2, 0)), w, b), (2, 3, 5), (4, 3, 3), (4,)),
]


@pytest.mark.parametrize("name,kwargs,builder,x,w,b", CONV1D, ids=[c[0] for c in CONV1D])
def test_conv1d_matches_pytorch(torch, rng, name, kwargs, builder, x, w, b):
    theirs = (builder(_tf(torch)) if builder else
              lambda x_, w_, b_: _tf(torch).conv1d(x_, w_, b_, **kwargs))
    _compare(torch, rng, lambda x_, w_, b_: F.conv1d(x_, w_, b_, **kwargs), theirs,
             [x, w, b], name)


TRANSPOSED = [
    ("plain", dict(), (2, 3, 4, 5), (3, 2, 3, 2), (2,)),
    ("stride_padding", dict(stride=2, padding=1), (2, 3, 4, 5), (3, 4, 3, 3), (4,)),
    ("output_padding", dict(stride=(2, 3), padding=1, output_padding=(1, 2)),
     (2, 3, 4, 3), (3, 2, 3, 3), (2,)),
    ("groups", dict(stride=2, groups=3), (2, 6, 3, 4), (6, 2, 2, 3), (6,)),
    ("dilation", dict(dilation=2, padding=1, stride=2, output_padding=1), (2, 3, 4, 4),
     (3, 2, 3, 3), None),
    ("stride1_dilation_output_padding", dict(dilation=2, output_padding=1), (2, 3, 4, 4),
     (3, 2, 3, 3), (2,)),
    ("large_padding", dict(padding=2), (1, 3, 5, 5), (3, 2, 3, 3), (2,)),
    ("unbatched", dict(stride=2), (3, 3, 2), (3, 2, 2, 2), (2,)),
]


@pytest.mark.parametrize("name,kwargs,x,w,b", TRANSPOSED, ids=[c[0] for c in TRANSPOSED])
def test_conv_transpose2d_matches_pytorch(torch, rng, name, kwargs, x, w, b):
    _compare(torch, rng, lambda x_, w_, b_: F.conv_transpose2d(x_, w_, b_, **kwargs),
             lambda x_, w_, b_: _tf(torch).conv_transpose2d(x_, w_, b_, **kwargs),
             [x, w, b], name)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=3, padding=1, output_padding=2),
                                    dict(groups=2, dilation=2, stride=2)])
def test_conv_transpose1d_matches_pytorch(torch, rng, kwargs):
    _compare(torch, rng, lambda x_, w_, b_: F.conv_transpose1d(x_, w_, b_, **kwargs),
             lambda x_, w_, b_: _tf(torch).conv_transpose1d(x_, w_, b_, **kwargs),
             [(2, 4, 5), (4, 3, 3), (3 * kwargs.get("groups", 1),)], str(kwargs))


@pytest.mark.parametrize("fn,shapes", [
    (lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0, 2, 1), dilation=(1, 2)),
     [(1, 2, 5, 5), (3, 2, 2, 2), (3,)]),
    (lambda x, w, b: F.conv2d(x, w, b, padding="same", groups=2), [(2, 2, 4, 4), (4, 1, 2, 3),
                                                                   (4,)]),
    (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 2, 6), (3, 2, 3), (3,)]),
    (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [(1, 2, 3, 3), (2, 3, 3, 3), (3,)]),
    (lambda x, w, b: F.conv_transpose1d(x, w, b, dilation=2, groups=2),
     [(2, 2, 4), (2, 2, 2), (4,)]),
], ids=["conv2d", "conv2d_same_groups", "conv1d", "conv_transpose2d", "conv_transpose1d"])
def test_gradcheck(rng, fn, shapes):
    inputs = tuple(em.tensor(rng.standard_normal(s), dtype=em.float64, requires_grad=True)
                   for s in shapes)
    assert gradcheck(fn, inputs)


def test_hand_worked_example():
    # the kernel detects a left-to-right increase: (2-1) + (2-5) + (5-3) + bias 1 = 1
    patch = em.tensor([[[[1.0, 0.0, 2.0], [5.0, 4.0, 2.0], [3.0, 4.0, 5.0]]]])
    kernel = em.tensor([[[[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]]])
    out = F.conv2d(patch, kernel, em.tensor([1.0]))
    assert out.shape == (1, 1, 1, 1)
    assert out.item() == 1.0


@pytest.mark.parametrize("stride,out_channels", [(1, 4), (1, 12), (2, 4)])
def test_float32_stays_float32(stride, out_channels):
    # covers the three input-gradient paths: flipped conv, col2im at stride 1 and 2
    x = em.randn(2, 2, 6, 6, requires_grad=True)
    layer = nn.Conv2d(2, out_channels, 3, stride=stride, padding=1)
    y = layer(x)
    y.sum().backward()
    assert y.dtype == em.float32
    assert x.grad.dtype == em.float32 and layer.weight.grad.dtype == em.float32
    up = nn.ConvTranspose2d(out_channels, 2, 3, stride=stride)
    z = up(y.detach().requires_grad_())
    z.sum().backward()
    assert z.dtype == up.weight.grad.dtype == em.float32


# ----------------------------------------------------------------------------- layers

LAYERS = [
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)),
    ("Conv2d", dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=2, groups=2,
                    bias=False)),
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=3, padding="same",
                    padding_mode="reflect")),
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=4, padding="same",
                    padding_mode="replicate")),
    ("Conv2d", dict(in_channels=3, out_channels=2, kernel_size=3, padding=(2, 1),
                    padding_mode="circular", dilation=2)),
    ("Conv1d", dict(in_channels=3, out_channels=4, kernel_size=3, padding=2,
                    padding_mode="reflect")),
    ("Conv1d", dict(in_channels=3, out_channels=6, kernel_size=2, stride=2, groups=3)),
    ("ConvTranspose2d", dict(in_channels=3, out_channels=4, kernel_size=3, stride=2,
                             padding=1, output_padding=1)),
    ("ConvTranspose1d", dict(in_channels=4, out_channels=2, kernel_size=3, groups=2,
                             bias=False)),
]


def _input_shape(name, kwargs):
    return (2, kwargs["in_channels"], 6, 7)[:3 if "1d" in name else 4]


@pytest.mark.parametrize("name,kwargs", LAYERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(LAYERS)])
def test_layer_loads_pytorch_state_dict_and_matches(torch, rng, name, kwargs):
    ours = getattr(nn, name)(**kwargs).double()
    theirs = getattr(torch.nn, name)(**kwargs)
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = rng.standard_normal(_input_shape(name, kwargs))
    xe, xt = em.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = ours(xe), theirs(xt)
    assert_close(ye, yt, rtol=1e-9, atol=1e-9, name=f"{name} forward")
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(em.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad, rtol=1e-9, atol=1e-9, name=f"{name} input gradient")
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-9, name=f"{name} {n} gradient")


@pytest.mark.parametrize("layer,shape,out_shape,count", [
    (lambda: nn.Conv2d(1, 6, 5, padding=2), (8, 1, 28, 28), (8, 6, 28, 28), 6 * 25 + 6),
    (lambda: nn.Conv2d(6, 16, 5), (8, 6, 14, 14), (8, 16, 10, 10), 16 * 6 * 25 + 16),
    (lambda: nn.Conv2d(8, 8, 3, groups=8, bias=False), (1, 8, 5, 5), (1, 8, 3, 3), 72),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 8), (2, 4, 4, 4), 112),
    (lambda: nn.Conv1d(2, 4, 3, stride=2), (3, 2, 9), (3, 4, 4), 28),
    (lambda: nn.ConvTranspose2d(4, 2, 2, stride=2), (1, 4, 3, 5), (1, 2, 6, 10), 34),
    (lambda: nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1), (2, 4, 5),
     (2, 2, 10), 26),
])
def test_output_shape_and_parameter_count(layer, shape, out_shape, count):
    module = layer()
    assert module(em.zeros(*shape)).shape == out_shape
    assert sum(p.numel() for p in module.parameters()) == count


@pytest.mark.parametrize("layer,fan_in", [(lambda: nn.Conv2d(16, 32, 3), 16 * 9),
                                          (lambda: nn.Conv2d(16, 32, 3, groups=4), 4 * 9),
                                          (lambda: nn.ConvTranspose2d(16, 32, 3), 32 * 9),
                                          (lambda: nn.Conv1d(8, 64, 5), 8 * 5)])
def test_default_initialisation_is_pytorchs(layer, fan_in):
    module = layer()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives U(-k, k), k = bound
    w, b = module.weight.detach().numpy(), module.bias.detach().numpy()
    assert 0.9 * bound < np.abs(w).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert np.abs(b).max() <= bound
    assert w.dtype == np.float32 and module.weight.requires_grad


def test_weight_shapes_are_pytorchs():
    assert nn.Conv2d(4, 6, (3, 2), groups=2).weight.shape == (6, 2, 3, 2)
    assert nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert nn.Conv1d(4, 6, 5).weight.shape == (6, 4, 5)
    assert nn.ConvTranspose1d(4, 6, 5).weight.shape == (4, 6, 5)
    assert nn.Conv2d(2, 3, 3, dtype=em.float64).weight.dtype == em.float64


def test_one_sgd_step_decreases_the_loss():
    em.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    x = em.randn(8, 1, 8, 8)
    target = em.randn(8, 2)
    losses = []
    for _ in range(2):
        loss = ((model(x) - target) ** 2).mean()
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with em.no_grad():
            for p in model.parameters():
                p.data -= 0.02 * p.grad
    assert losses[1] < losses[0]


def test_state_dict_round_trip():
    a, b = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)
    b.load_state_dict(a.state_dict())
    x = em.randn(1, 3, 5, 5)
    assert_close(a(x), b(x), rtol=0, atol=0)
    assert list(a.state_dict()) == ["weight", "bias"]
    a_t, b_t = nn.ConvTranspose1d(2, 3, 2, bias=False), nn.ConvTranspose1d(2, 3, 2, bias=False)
    b_t.load_state_dict(a_t.state_dict())
    assert list(b_t.state_dict()) == ["weight"]
    assert_close(a_t.weight, b_t.weight, rtol=0, atol=0)


def test_conv_transpose_output_size_picks_output_padding(torch, rng):
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((1, 2, 4, 4))
    for size in [(7, 7), (8, 7), (1, 3, 8, 8)]:
        assert_close(ours(em.tensor(x), output_size=size),
                     theirs(torch.tensor(x), output_size=size).detach())
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        ours(em.tensor(x), output_size=(9, 9))


def test_same_padding_keeps_the_size_with_the_extra_zero_on_the_right():
    for kernel in (1, 2, 3, 4, 5):
        layer = nn.Conv2d(2, 2, kernel, padding="same", padding_mode="reflect")
        assert layer(em.zeros(1, 2, 6, 7)).shape == (1, 2, 6, 7)
    # kernel 4: 3 zeros in total, 1 on the left and 2 on the right (as PyTorch)
    out = F.conv1d(em.ones(1, 1, 5), em.ones(1, 1, 4), padding="same")
    assert out.tolist() == [[[3.0, 4.0, 4.0, 3.0, 2.0]]]


def test_unfold_then_matmul_is_conv2d(rng):
    # a learner's check: convolution = weights times the unfolded (im2col) input
    x = em.tensor(rng.standard_normal((2, 3, 5, 6)))
    w = em.tensor(rng.standard_normal((4, 3, 3, 3)))
    cols = F.unfold(x, 3, padding=1)  # (2, 27, 30)
    by_hand = (w.reshape(4, -1) @ cols).reshape(2, 4, 5, 6)
    assert_close(by_hand, F.conv2d(x, w, padding=1), rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- errors


def test_wrong_channel_count_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"Conv2d: expected input with 3 channels \(weight "
                                         r"of shape \(8, 3, 3, 3\)\), got input of shape "
                                         r"\(2, 4, 5, 5\)"):
        nn.Conv2d(3, 8, 3)(em.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"ConvTranspose1d: expected input with 2 channels"):
        nn.ConvTranspose1d(2, 3, 2)(em.zeros(1, 5, 4))
    with pytest.raises(ValueError, match=r"conv2d: expected input with 6 channels \(weight "
                                         r"\(4, 3, 3, 3\), groups=2\), got input of shape "
                                         r"\(1, 3, 5, 5\)"):
        F.conv2d(em.zeros(1, 3, 5, 5), em.zeros(4, 3, 3, 3), groups=2)


@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(em.zeros(1, 1, 3, 3), em.zeros(1, 1, 5, 5)),
     r"conv2d: kernel size \(5, 5\) \(dilated \(5, 5\)\) is larger than the padded input "
     r"size \(3, 3\)"),
    (lambda: F.conv2d(em.zeros(1, 1, 4, 4), em.zeros(1, 1, 3, 3), dilation=3, padding=1),
     r"\(dilated \(7, 7\)\) is larger than the padded input size \(6, 6\)"),
    (lambda: F.conv2d(em.zeros(1, 1, 4, 4), em.zeros(1, 1, 3, 3), padding="full"),
     r"conv2d: invalid padding string 'full'"),
    (lambda: nn.Conv2d(1, 1, 3, padding="half"), r"Conv2d: invalid padding string 'half'"),
    (lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"must be divisible by groups \(2\)"),
    (lambda: nn.Conv2d(3, 3, 3, padding_mode="mirror"), r"padding_mode must be one of"),
    (lambda: nn.ConvTranspose2d(3, 3, 3, padding_mode="reflect"), r'only "zeros" padding'),
    (lambda: F.conv_transpose2d(em.zeros(1, 1, 3, 3), em.zeros(1, 1, 3, 3), stride=2,
                                output_padding=2),
     r"output_padding \(2, 2\) must be smaller than either stride"),
    (lambda: F.conv2d(em.zeros(1, 1, 3, 3), em.zeros(1, 1, 2, 2), padding=-1),
     r"padding must be non-negative"),
    (lambda: F.conv2d(em.zeros(1, 1, 3, 3, dtype=em.float64), em.zeros(1, 1, 2, 2)),
     r"conv2d: input, weight and bias must have the same floating dtype, got float64, "
     r"float32"),
    (lambda: F.conv2d(em.zeros(1, 3, 3), em.zeros(1, 1, 2)),
     r"conv2d: weight must have 4 dimensions"),
    (lambda: F.conv1d(em.zeros(3), em.zeros(1, 1, 2)), r"conv1d: expected a 2-d \(unbatched\)"),
    (lambda: F.conv2d(em.zeros(1, 2, 3, 3), em.zeros(4, 2, 2, 2), em.zeros(3)),
     r"bias of shape \(3,\) does not match the 4 output channels"),
])
def test_errors_are_clear(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
