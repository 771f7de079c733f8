"""Pooling: max/avg/adaptive pooling against PyTorch in float64 (values, indices and
gradients, including ties), gradcheck, the layers, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck


def _values(rng, shape, kind):
    if kind == "relu":  # many exact ties (zeros): the gradient must go to the first one
        return np.maximum(rng.standard_normal(shape), 0)
    if kind == "distinct":
        return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.0
    return rng.standard_normal(shape)


def _compare(torch, rng, ours, theirs, shape, kind="normal", indices=False):
    x = _values(rng, shape, kind)
    xe, xt = em.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = ours(xe), theirs(xt)
    if indices:
        (ye, ie), (yt, it) = ye, yt
        assert ie.dtype == em.int64
        np.testing.assert_array_equal(ie.numpy(), it.numpy())
    assert_close(ye, yt, rtol=1e-12, atol=1e-12, name="forward")
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(em.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad, rtol=1e-12, atol=1e-12, name="input gradient")


MAX_POOL = [
    dict(kernel_size=2),
    dict(kernel_size=2, stride=2),  # non-overlapping: the no-copy path
    dict(kernel_size=(2, 3)),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=2, stride=3),  # gaps between windows
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, dilation=2),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)),
]


@pytest.mark.parametrize("kind", ["normal", "relu"])
@pytest.mark.parametrize("kwargs", MAX_POOL, ids=[str(k) for k in MAX_POOL])
def test_max_pool2d_matches_pytorch(torch, rng, kwargs, kind):
    _compare(torch, rng, lambda x: F.max_pool2d(x, **kwargs, return_indices=True),
             lambda x: torch.nn.functional.max_pool2d(x, **kwargs, return_indices=True),
             (2, 3, 7, 8), kind, indices=True)


@pytest.mark.parametrize("kind", ["normal", "relu"])
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2,
                                                              padding=1, ceil_mode=True),
                                    dict(kernel_size=2, dilation=3)])
def test_max_pool1d_matches_pytorch(torch, rng, kwargs, kind):
    _compare(torch, rng, lambda x: F.max_pool1d(x, **kwargs, return_indices=True),
             lambda x: torch.nn.functional.max_pool1d(x, **kwargs, return_indices=True),
             (2, 3, 9), kind, indices=True)


def test_max_pool_gradient_goes_to_the_first_of_tied_maxima():
    x = em.zeros(1, 1, 2, 2, requires_grad=True)  # four tied zeros, as after a ReLU
    out, index = F.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]
    assert index.item() == 0


def test_max_pool_propagates_nan_and_its_gradient(torch):
    x = np.array([[[[1.0, np.nan, 3.0, 2.0], [0.0, 5.0, np.nan, 1.0]]]])
    xe, xt = em.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ye, ie), (yt, it) = (F.max_pool2d(xe, 2, return_indices=True),
                          torch.nn.functional.max_pool2d(xt, 2, return_indices=True))
    assert np.isnan(ye.detach().numpy()).all()
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    ye.sum().backward()
    yt.sum().backward()
    assert_close(xe.grad, xt.grad)


AVG_POOL = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2), stride=(2, 1)),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=3),
    dict(kernel_size=3, padding=1, divisor_override=5),
]


@pytest.mark.parametrize("kwargs", AVG_POOL, ids=[str(k) for k in AVG_POOL])
def test_avg_pool2d_matches_pytorch(torch, rng, kwargs):
    _compare(torch, rng, lambda x: F.avg_pool2d(x, **kwargs),
             lambda x: torch.nn.functional.avg_pool2d(x, **kwargs), (2, 3, 7, 8))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2,
                                                              padding=1, ceil_mode=True,
                                                              count_include_pad=False)])
def test_avg_pool1d_matches_pytorch(torch, rng, kwargs):
    _compare(torch, rng, lambda x: F.avg_pool1d(x, **kwargs),
             lambda x: torch.nn.functional.avg_pool1d(x, **kwargs), (2, 3, 8))


ADAPTIVE = [((2, 3, 7, 8), (3, 5)), ((2, 3, 5, 7), (7, 9)), ((2, 3, 8, 8), (4, 2)),
            ((2, 3, 6, 5), 1), ((3, 5, 7), (None, 3))]


@pytest.mark.parametrize("kind", ["normal", "relu"])
@pytest.mark.parametrize("shape,size", ADAPTIVE, ids=[str(a) for a in ADAPTIVE])
def test_adaptive_pool2d_matches_pytorch(torch, rng, shape, size, kind):
    T = torch.nn.functional
    _compare(torch, rng, lambda x: F.adaptive_max_pool2d(x, size, return_indices=True),
             lambda x: T.adaptive_max_pool2d(x, size, return_indices=True), shape, kind,
             indices=True)
    _compare(torch, rng, lambda x: F.adaptive_avg_pool2d(x, size),
             lambda x: T.adaptive_avg_pool2d(x, size), shape, kind)


@pytest.mark.parametrize("size", [1, 3, 4, 10])
def test_adaptive_pool1d_matches_pytorch(torch, rng, size):
    T = torch.nn.functional
    _compare(torch, rng, lambda x: F.adaptive_max_pool1d(x, size, return_indices=True),
             lambda x: T.adaptive_max_pool1d(x, size, return_indices=True), (2, 3, 7),
             "relu", indices=True)
    _compare(torch, rng, lambda x: F.adaptive_avg_pool1d(x, size),
             lambda x: T.adaptive_avg_pool1d(x, size), (2, 3, 7))


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
    lambda x: F.adaptive_max_pool2d(x, (2, 3)),
    lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    lambda x: F.max_pool1d(x.flatten(2), 2, dilation=2),
], ids=["max_pool2d", "avg_pool2d", "adaptive_max", "adaptive_avg", "max_pool1d"])
def test_gradcheck(rng, fn):
    x = em.tensor(_values(rng, (1, 2, 5, 4), "distinct"), requires_grad=True)
    assert gradcheck(fn, (x,))


def test_float32_stays_float32():
    x = em.randn(2, 3, 6, 6, requires_grad=True)
    outputs = [F.max_pool2d(x, 2), F.max_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1),
               F.adaptive_avg_pool2d(x, 4), F.adaptive_max_pool2d(x, 4)]
    sum(o.sum() for o in outputs).backward()
    assert all(o.dtype == em.float32 for o in outputs)
    assert x.grad.dtype == em.float32


# ----------------------------------------------------------------------------- layers

LAYERS = [
    ("MaxPool2d", dict(kernel_size=2), (2, 3, 8, 8), (2, 3, 4, 4)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 8),
     (2, 3, 5, 5)),
    ("MaxPool1d", dict(kernel_size=3, stride=1, dilation=2), (2, 3, 9), (2, 3, 5)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
     (2, 3, 8, 8), (2, 3, 4, 4)),
    ("AvgPool1d", dict(kernel_size=2), (2, 3, 9), (2, 3, 4)),
    ("AdaptiveAvgPool2d", dict(output_size=(5, 7)), (1, 2, 8, 9), (1, 2, 5, 7)),
    ("AdaptiveAvgPool1d", dict(output_size=3), (1, 2, 8), (1, 2, 3)),
    ("AdaptiveMaxPool2d", dict(output_size=(None, 3)), (1, 2, 8, 9), (1, 2, 8, 3)),
    ("AdaptiveMaxPool1d", dict(output_size=3), (1, 2, 8), (1, 2, 3)),
]


@pytest.mark.parametrize("name,kwargs,shape,out_shape", LAYERS,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(LAYERS)])
def test_layer_matches_pytorch(torch, rng, name, kwargs, shape, out_shape):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.parameters()) == [] and ours.state_dict() == {}
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal(shape)
    y = ours(em.tensor(x))
    assert y.shape == out_shape
    assert_close(y, theirs(torch.tensor(x)), rtol=1e-12, atol=1e-12)


def test_layer_return_indices(torch, rng):
    x = rng.standard_normal((1, 2, 6, 6))
    out, index = nn.MaxPool2d(2, return_indices=True)(em.tensor(x))
    _, expected = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(index.numpy(), expected.numpy())
    out, index = nn.AdaptiveMaxPool2d(4, return_indices=True)(em.tensor(x))
    _, expected = torch.nn.AdaptiveMaxPool2d(4, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(index.numpy(), expected.numpy())


def test_unbatched_input(torch, rng):
    x = rng.standard_normal((3, 6, 5))
    assert_close(F.max_pool2d(em.tensor(x), 2),
                 torch.nn.functional.max_pool2d(torch.tensor(x), 2))
    assert_close(F.avg_pool1d(em.tensor(x), 2),
                 torch.nn.functional.avg_pool1d(torch.tensor(x), 2))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("call,message", [
    (lambda: F.max_pool2d(em.zeros(1, 1, 4, 4), 2, padding=2),
     r"max_pool2d: pad should be at most half of kernel size"),
    (lambda: F.avg_pool2d(em.zeros(1, 1, 2, 2), 3),
     r"avg_pool2d: input of spatial size \(2, 2\) is too small for kernel_size=\(3, 3\)"),
    (lambda: F.max_pool2d(em.zeros(4, 4), 2), r"max_pool2d: expected a 3-d \(unbatched\) or "
                                              r"4-d \(batched\) input, got shape \(4, 4\)"),
    (lambda: F.max_pool2d(em.zeros(1, 1, 4, 4), 2, stride=0), r"must be positive"),
    (lambda: F.avg_pool2d(em.zeros(1, 1, 4, 4), 2, divisor_override=0), r"non-zero"),
    (lambda: F.adaptive_avg_pool2d(em.zeros(1, 1, 4, 4), (2, 3, 4)),
     r"output_size must be an int or a tuple of 2"),
    (lambda: F.adaptive_max_pool2d(em.zeros(1, 1, 4, 4), 0), r"must be positive"),
])
def test_errors_are_clear(call, message):
    with pytest.raises(ValueError, match=message):
        call()
