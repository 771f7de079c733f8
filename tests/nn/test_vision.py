"""interpolate / Upsample, unfold / fold and the padding layers against PyTorch in float64
(forward and gradients), gradcheck, and the errors."""

from __future__ import annotations

import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck


def _compare(torch, rng, ours, theirs, shape, tol=1e-12):
    x = rng.standard_normal(shape)
    xe, xt = em.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = ours(xe), theirs(xt)
    assert_close(ye, yt, rtol=tol, atol=tol, name="forward")
    assert ye.dtype == em.float64
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(em.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad, rtol=tol, atol=tol, name="input gradient")


INTERPOLATE_2D = [
    dict(scale_factor=2, mode="nearest"),
    dict(scale_factor=3, mode="nearest"),
    dict(size=(7, 9), mode="nearest"),  # non-integer ratios
    dict(size=(3, 2), mode="nearest"),  # downsampling
    dict(scale_factor=1.7, mode="nearest"),
    dict(scale_factor=(0.6, 2.5), mode="nearest", recompute_scale_factor=True),
    dict(size=(7, 9), mode="nearest-exact"),
    dict(scale_factor=2, mode="bilinear", align_corners=False),
    dict(scale_factor=2, mode="bilinear", align_corners=True),
    dict(size=(3, 7), mode="bilinear", align_corners=False),
    dict(size=(3, 7), mode="bilinear", align_corners=True),
    dict(scale_factor=1.5, mode="bilinear"),
    dict(size=(1, 6), mode="bilinear", align_corners=True),
    dict(size=(8, 3), mode="bicubic", align_corners=False),
    dict(size=(8, 3), mode="bicubic", align_corners=True),
    dict(size=(2, 3), mode="area"),
]


@pytest.mark.parametrize("kwargs", INTERPOLATE_2D, ids=[str(k) for k in INTERPOLATE_2D])
def test_interpolate_2d_matches_pytorch(torch, rng, kwargs):
    _compare(torch, rng, lambda x: F.interpolate(x, **kwargs),
             lambda x: torch.nn.functional.interpolate(x, **kwargs), (2, 3, 4, 5))


INTERPOLATE_1D = [
    dict(scale_factor=2, mode="nearest"),
    dict(size=7, mode="nearest"),
    dict(size=7, mode="nearest-exact"),
    dict(size=9, mode="linear", align_corners=False),
    dict(size=9, mode="linear", align_corners=True),
    dict(scale_factor=0.5, mode="linear"),
    dict(size=3, mode="area"),
]


@pytest.mark.parametrize("kwargs", INTERPOLATE_1D, ids=[str(k) for k in INTERPOLATE_1D])
def test_interpolate_1d_matches_pytorch(torch, rng, kwargs):
    _compare(torch, rng, lambda x: F.interpolate(x, **kwargs),
             lambda x: torch.nn.functional.interpolate(x, **kwargs), (2, 3, 5))


@pytest.mark.parametrize("kwargs", [dict(mode="nearest"), dict(mode="bilinear"),
                                    dict(mode="bilinear", align_corners=True),
                                    dict(mode="bicubic")])
def test_interpolate_gradcheck(rng, kwargs):
    x = em.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, size=(5, 3), **kwargs), (x,))


def test_interpolate_keeps_float32():
    x = em.randn(1, 2, 3, 3, requires_grad=True)
    for mode in ("nearest", "bilinear", "bicubic", "area"):
        y = F.interpolate(x, size=(5, 4), mode=mode)
        y.sum().backward()
        assert y.dtype == em.float32 and x.grad.dtype == em.float32


def test_interpolate_to_the_same_size_returns_a_new_tensor():
    x = em.randn(1, 2, 3, 4)
    for mode in ("nearest", "bilinear"):
        y = F.interpolate(x, size=(3, 4), mode=mode)
        assert y is not x
        assert_close(y, x, rtol=0, atol=0)


def test_upsample_aliases(torch, rng):
    x = rng.standard_normal((1, 2, 3, 4))
    T = torch.nn.functional
    assert_close(F.upsample_bilinear(em.tensor(x), scale_factor=2),
                 T.interpolate(torch.tensor(x), scale_factor=2, mode="bilinear",
                               align_corners=True))
    assert_close(F.upsample_nearest(em.tensor(x), size=(5, 5)),
                 T.interpolate(torch.tensor(x), size=(5, 5)))
    assert_close(F.upsample(em.tensor(x), scale_factor=2), F.interpolate(em.tensor(x),
                                                                         scale_factor=2))


@pytest.mark.parametrize("name,kwargs", [
    ("Upsample", dict(scale_factor=2)),
    ("Upsample", dict(size=(5, 7), mode="bilinear", align_corners=False)),
    ("Upsample", dict(scale_factor=(2, 1.5), mode="bicubic")),
    ("UpsamplingNearest2d", dict(scale_factor=3)),
    ("UpsamplingBilinear2d", dict(size=(6, 6))),
])
def test_upsampling_layers_match_pytorch(torch, rng, name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.parameters()) == []
    _compare(torch, rng, ours, theirs, (2, 3, 4, 4))


@pytest.mark.parametrize("call,message", [
    (lambda: F.interpolate(em.zeros(1, 1, 4, 4), size=2, scale_factor=2),
     r"only one of size or scale_factor"),
    (lambda: F.interpolate(em.zeros(1, 1, 4, 4)), r"either size or scale_factor"),
    (lambda: F.interpolate(em.zeros(1, 1, 4, 4), size=2, align_corners=True),
     r"align_corners option can only be set with the interpolating modes"),
    (lambda: F.interpolate(em.zeros(1, 1, 4), size=2, mode="bilinear"),
     r"mode 'bilinear' is not supported for a 3-d input of shape \(1, 1, 4\)"),
    (lambda: F.interpolate(em.zeros(1, 1, 4, 4), size=2, mode="linear"),
     r"mode 'linear' is not supported for a 4-d input"),
    (lambda: F.interpolate(em.zeros(1, 1, 4, 4), size=2, mode="cubic"), r"mode 'cubic'"),
    (lambda: F.interpolate(em.zeros(4, 4), size=2), r"expected a 3-d \(N, C, L\), 4-d"),
    (lambda: F.interpolate(em.zeros(1, 1, 4, 4), scale_factor=0.1),
     r"output size \(0, 0\) must be positive"),
])
def test_interpolate_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- unfold / fold

BLOCKS = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2),
          dict(kernel_size=3, padding=1, dilation=2), dict(kernel_size=1, stride=(1, 2))]


@pytest.mark.parametrize("kwargs", BLOCKS, ids=[str(k) for k in BLOCKS])
def test_unfold_and_fold_match_pytorch(torch, rng, kwargs):
    T = torch.nn.functional
    _compare(torch, rng, lambda x: F.unfold(x, **kwargs), lambda x: T.unfold(x, **kwargs),
             (2, 3, 6, 7))
    columns = T.unfold(torch.zeros(2, 3, 6, 7), **kwargs).shape
    _compare(torch, rng, lambda x: F.fold(x, (6, 7), **kwargs),
             lambda x: T.fold(x, (6, 7), **kwargs), tuple(columns))


def test_unfold_fold_gradcheck_and_unbatched(torch, rng):
    x = em.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, 2, padding=1, stride=2), (x,))
    cols = em.tensor(rng.standard_normal((1, 8, 9)), requires_grad=True)
    assert gradcheck(lambda t: F.fold(t, (4, 4), 2, padding=1, stride=2), (cols,))
    unbatched = rng.standard_normal((2, 4, 4))
    assert_close(F.unfold(em.tensor(unbatched), 3),
                 torch.nn.functional.unfold(torch.tensor(unbatched), 3))


def test_fold_of_unfold_counts_the_blocks_covering_each_pixel():
    counts = F.fold(F.unfold(em.ones(1, 1, 4, 4), 3), (4, 4), 3)
    assert counts.tolist() == [[[[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0],
                                 [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]]]]


def test_fold_unfold_layers(torch):
    unfold, fold = nn.Unfold(kernel_size=(2, 3), stride=2), nn.Fold((5, 6), 2, padding=1)
    assert repr(unfold) == repr(torch.nn.Unfold(kernel_size=(2, 3), stride=2))
    assert repr(fold) == repr(torch.nn.Fold((5, 6), 2, padding=1))
    assert unfold(em.zeros(2, 3, 5, 7)).shape == (2, 18, 6)
    assert fold(em.zeros(2, 12, 42)).shape == (2, 3, 5, 6)


@pytest.mark.parametrize("call,message", [
    (lambda: F.fold(em.zeros(1, 12, 10), (4, 5), 2), r"fold: input of shape \(1, 12, 10\) "
                                                     r"does not match output_size=\(4, 5\)"),
    (lambda: F.unfold(em.zeros(1, 1, 2, 2), 3), r"unfold: kernel_size=\(3, 3\)"),
    (lambda: F.unfold(em.zeros(2, 2), 1), r"unfold: expected a 3-d"),
])
def test_fold_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- padding layers

PADS = [("ZeroPad2d", (2,)), ("ZeroPad2d", ((1, 0, 2, 3),)), ("ConstantPad2d", (1, 2.5)),
        ("ReflectionPad2d", ((1, 2, 2, 0),)), ("ReplicationPad2d", (2,)),
        ("CircularPad2d", ((1, 1, 0, 2),)), ("ZeroPad1d", ((1, 2),)),
        ("ConstantPad1d", (2, -1.0)), ("ReflectionPad1d", (2,)), ("ReplicationPad1d", (3,)),
        ("CircularPad1d", ((2, 1),))]


@pytest.mark.parametrize("name,args", PADS, ids=[f"{n}{a}" for n, a in PADS])
def test_padding_layers_match_pytorch(torch, rng, name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.parameters()) == []
    _compare(torch, rng, ours, theirs, (2, 3, 4, 5) if "2d" in name else (2, 3, 5))


def test_padding_layer_errors():
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding must be an int or a tuple of 4"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match=r"ReflectionPad2d: expected a 3-d or 4-d input"):
        nn.ReflectionPad2d(1)(em.zeros(4))
    with pytest.raises(ValueError, match=r"reflect padding"):
        nn.ReflectionPad2d(3)(em.zeros(1, 1, 3, 3))

