"""3-d convolution, pooling, unpooling and 5-d interpolation against PyTorch in float64
(forward, every gradient, indices), gradcheck, the layers (state_dict key for key,
repr), and uint8 interpolation byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck


def _compare(torch, rng, ours, theirs, shapes, name, constants=()):
    """Same float64 inputs (and integer ``constants``) to both; compare the outputs and
    the gradient of every float input for a random output gradient."""
    arrays = [None if s is None else rng.standard_normal(s) for s in shapes]
    xs = [None if a is None else em.tensor(a, requires_grad=True) for a in arrays]
    ts = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y = ours(*xs, *[em.tensor(c) for c in constants])
    ty = theirs(*ts, *[torch.tensor(c) for c in constants])
    y, ty = (y, ty) if isinstance(y, tuple) else ((y,), (ty,))
    assert_close(y[0], ty[0], rtol=1e-9, atol=1e-9, name=f"{name} forward")
    for extra, textra in zip(y[1:], ty[1:], strict=True):
        assert extra.tolist() == textra.tolist(), f"{name}: indices differ"
    assert y[0].dtype == em.float64 and y[0].is_contiguous()
    g = rng.standard_normal(tuple(ty[0].shape))
    y[0].backward(em.tensor(g))
    ty[0].backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        if x is not None:
            assert_close(x.grad, t.grad, rtol=1e-9, atol=1e-9, name=f"{name} gradient {i}")


CONV3D = [
    ("plain", dict(), (2, 3, 4, 5, 6), (4, 3, 2, 3, 2), (4,)),
    ("stride_padding", dict(stride=2, padding=1), (1, 2, 5, 6, 5), (3, 2, 3, 3, 3), (3,)),
    ("tuple_args", dict(stride=(1, 2, 1), padding=(2, 0, 1), dilation=(2, 1, 2)),
     (2, 2, 6, 5, 6), (3, 2, 2, 2, 3), None),
    ("groups", dict(groups=2, padding=1), (1, 4, 3, 4, 4), (6, 2, 3, 3, 3), (6,)),
    ("depthwise", dict(groups=3), (1, 3, 4, 4, 4), (3, 1, 2, 2, 2), (3,)),
    ("same", dict(padding="same"), (1, 2, 4, 5, 4), (2, 2, 2, 3, 4), (2,)),
    ("valid", dict(padding="valid"), (1, 2, 4, 5, 4), (2, 2, 3, 3, 3), (2,)),
    ("unbatched", dict(padding=1), (2, 3, 3, 3), (2, 2, 2, 2, 2), (2,)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name,kwargs,x,w,b", CONV3D, ids=[c[0] for c in CONV3D])
def test_conv3d_matches_pytorch(torch, rng, name, kwargs, x, w, b):
    _compare(torch, rng, lambda x_, w_, b_: F.conv3d(x_, w_, b_, **kwargs),
             lambda x_, w_, b_: torch.nn.functional.conv3d(x_, w_, b_, **kwargs),
             [x, w, b], name)


TRANSPOSED3D = [
    ("plain", dict(), (2, 3, 3, 4, 3), (3, 2, 2, 3, 2), (2,)),
    ("stride_padding_output_padding", dict(stride=2, padding=1, output_padding=1),
     (1, 2, 3, 3, 4), (2, 3, 3, 3, 3), (3,)),
    ("tuples_dilation", dict(stride=(1, 2, 3), padding=(2, 0, 1), dilation=(2, 1, 1)),
     (1, 2, 3, 3, 3), (2, 2, 3, 2, 3), None),
    ("groups", dict(groups=2, stride=2), (1, 4, 2, 3, 2), (4, 3, 2, 2, 2), (6,)),
    ("unbatched", dict(stride=2), (2, 2, 2, 2), (2, 1, 2, 2, 2), (1,)),
]


@pytest.mark.parametrize("name,kwargs,x,w,b", TRANSPOSED3D, ids=[c[0] for c in TRANSPOSED3D])
def test_conv_transpose3d_matches_pytorch(torch, rng, name, kwargs, x, w, b):
    _compare(torch, rng, lambda x_, w_, b_: F.conv_transpose3d(x_, w_, b_, **kwargs),
             lambda x_, w_, b_: torch.nn.functional.conv_transpose3d(x_, w_, b_, **kwargs),
             [x, w, b], name)


def _distinct(rng, shape):
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 11.0


POOLS = [
    ("max_kernel2", lambda m, x: m.max_pool3d(x, 2, return_indices=True)),
    ("max_stride_padding", lambda m, x: m.max_pool3d(x, 3, 2, 1, return_indices=True)),
    ("max_dilation_ceil", lambda m, x: m.max_pool3d(x, (3, 2, 2), (2, 1, 2), 0, (2, 1, 1),
                                                    True, True)),
    ("max_ceil_padding", lambda m, x: m.max_pool3d(x, 2, padding=1, ceil_mode=True,
                                                   return_indices=True)),
    ("avg_kernel2", lambda m, x: m.avg_pool3d(x, 2)),
    ("avg_stride_padding", lambda m, x: m.avg_pool3d(x, 3, 2, 1)),
    ("avg_exclude_pad_ceil", lambda m, x: m.avg_pool3d(x, 3, 2, 1, True, False)),
    ("avg_divisor", lambda m, x: m.avg_pool3d(x, (1, 2, 3), divisor_override=4)),
    ("adaptive_avg", lambda m, x: m.adaptive_avg_pool3d(x, (3, 2, 4))),
    ("adaptive_avg_none", lambda m, x: m.adaptive_avg_pool3d(x, (None, 4, 3))),
    ("adaptive_avg_global", lambda m, x: m.adaptive_avg_pool3d(x, 1)),
    ("adaptive_max", lambda m, x: m.adaptive_max_pool3d(x, (3, 2, 4), True)),
    ("adaptive_max_dividing", lambda m, x: m.adaptive_max_pool3d(x, (7, 3, 2), True)),
]


@pytest.mark.parametrize("name,call", POOLS, ids=[p[0] for p in POOLS])
def test_pooling3d_matches_pytorch(torch, rng, name, call):
    a = _distinct(rng, (2, 2, 7, 6, 8))
    x, t = em.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = call(F, x), call(torch.nn.functional, t)
    out, tout = (out, tout) if isinstance(out, tuple) else ((out,), (tout,))
    assert_close(out[0], tout[0], rtol=1e-12, atol=1e-12, name=name)
    if len(out) > 1:
        assert out[1].dtype == em.int64 and out[1].tolist() == tout[1].tolist()
    g = rng.standard_normal(tuple(tout[0].shape))
    out[0].backward(em.tensor(g))
    tout[0].backward(torch.tensor(g))
    assert_close(x.grad, t.grad, rtol=1e-12, atol=1e-12, name=f"{name} gradient")


def test_max_pool3d_ties_send_the_gradient_to_the_first_maximum(torch):
    a = np.zeros((1, 1, 4, 4, 4))
    a[0, 0, 1:3, 1:3, 1:3] = 1.0  # a block of equal maxima across the windows
    x, t = em.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.max_pool3d(x, 2, 1).sum().backward()
    torch.nn.functional.max_pool3d(t, 2, 1).sum().backward()
    assert x.grad.tolist() == t.grad.tolist()


UNPOOL = [
    ("1d", 1, dict()), ("2d", 2, dict(stride=1)), ("2d_output_size", 2,
                                                     dict(output_size=(7, 9))),
    ("3d", 3, dict()), ("3d_padding", 3, dict(stride=2, padding=1)),
]


@pytest.mark.parametrize("name,dims,kwargs", UNPOOL, ids=[u[0] for u in UNPOOL])
def test_max_unpool_matches_pytorch(torch, rng, name, dims, kwargs):
    shape = (2, 3) + (6, 8, 4)[:dims]
    pool = getattr(torch.nn.functional, f"max_pool{dims}d")
    pool_kwargs = {k: v for k, v in kwargs.items() if k != "output_size"}
    _, index = pool(torch.tensor(_distinct(rng, shape)), 2, return_indices=True, **pool_kwargs)
    index = index.numpy()
    _compare(torch, rng,
             lambda y, i: getattr(F, f"max_unpool{dims}d")(y, i, 2, **kwargs),
             lambda y, i: getattr(torch.nn.functional, f"max_unpool{dims}d")(y, i, 2, **kwargs),
             [index.shape], name, constants=[index])


@pytest.mark.parametrize("fn,shapes", [
    (lambda x, w, b: F.conv3d(x, w, b, stride=(2, 1, 1), padding=(1, 0, 1), groups=2),
     [(1, 2, 3, 3, 3), (2, 1, 2, 2, 2), (2,)]),
    (lambda x, w, b: F.conv_transpose3d(x, w, b, stride=2, padding=1, output_padding=1),
     [(1, 2, 2, 2, 2), (2, 1, 2, 2, 2), (1,)]),
], ids=["conv3d", "conv_transpose3d"])
def test_gradcheck(rng, fn, shapes):
    inputs = tuple(em.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert gradcheck(fn, inputs)


LAYERS = [
    ("Conv3d", dict(in_channels=2, out_channels=3, kernel_size=(2, 3, 2), padding=1)),
    ("Conv3d", dict(in_channels=4, out_channels=2, kernel_size=3, stride=2, groups=2,
                    bias=False)),
    ("Conv3d", dict(in_channels=2, out_channels=2, kernel_size=3, padding="same",
                    padding_mode="reflect")),
    ("Conv3d", dict(in_channels=2, out_channels=3, kernel_size=2, padding=1,
                    padding_mode="circular")),
    ("ConvTranspose3d", dict(in_channels=2, out_channels=4, kernel_size=3, stride=2,
                             padding=1, output_padding=1)),
]


@pytest.mark.parametrize("name,kwargs", LAYERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(LAYERS)])
def test_layer_loads_pytorch_state_dict_and_matches(torch, rng, name, kwargs):
    ours = getattr(nn, name)(**kwargs).double()
    theirs = getattr(torch.nn, name)(**kwargs)
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    shape = (2, kwargs["in_channels"], 4, 5, 4)
    _compare(torch, rng, ours, theirs, [shape], name)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-9, name=f"{name} {n} gradient")


@pytest.mark.parametrize("name,kwargs", [
    ("MaxPool3d", dict(kernel_size=2, stride=2, return_indices=True)),
    ("AvgPool3d", dict(kernel_size=3, stride=2, padding=1)),
    ("AdaptiveAvgPool3d", dict(output_size=(2, 3, 1))),
    ("AdaptiveMaxPool3d", dict(output_size=2)),
])
def test_pooling_layers(torch, rng, name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    a = _distinct(rng, (1, 2, 4, 6, 5))
    out, tout = ours(em.tensor(a)), theirs(torch.tensor(a))
    out, tout = (out, tout) if isinstance(out, tuple) else ((out,), (tout,))
    for o, t in zip(out, tout, strict=True):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)


def test_unpool_layers_and_repr(torch):
    for dims in (1, 2, 3):
        ours = getattr(nn, f"MaxUnpool{dims}d")(2, stride=2)
        theirs = getattr(torch.nn, f"MaxUnpool{dims}d")(2, stride=2)
        assert repr(ours) == repr(theirs)
    x = em.arange(16.0).reshape(1, 1, 4, 4)
    y, i = nn.MaxPool2d(2, return_indices=True)(x)
    assert nn.MaxUnpool2d(2)(y, i, output_size=(1, 1, 5, 5)).shape == (1, 1, 5, 5)


def test_conv3d_parameters_and_initialisation():
    layer = nn.Conv3d(4, 8, (3, 2, 2), groups=2)
    assert layer.weight.shape == (8, 2, 3, 2, 2)
    bound = 1 / np.sqrt(2 * 3 * 2 * 2)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert nn.ConvTranspose3d(4, 6, 2, groups=2).weight.shape == (4, 3, 2, 2, 2)


INTERPOLATE5D = [
    ("nearest_scale", dict(scale_factor=2)),
    ("nearest_size", dict(size=(5, 7, 3))),
    ("nearest_exact", dict(size=(7, 9, 8), mode="nearest-exact")),
    ("trilinear", dict(size=(6, 9, 11), mode="trilinear")),
    ("trilinear_align", dict(size=(3, 4, 5), mode="trilinear", align_corners=True)),
    ("trilinear_scales", dict(scale_factor=(1.5, 2, 0.5), mode="trilinear")),
    ("area", dict(size=(2, 3, 4), mode="area")),
]


@pytest.mark.parametrize("name,kwargs", INTERPOLATE5D, ids=[c[0] for c in INTERPOLATE5D])
def test_interpolate_5d_matches_pytorch(torch, rng, name, kwargs):
    _compare(torch, rng, lambda x: F.interpolate(x, **kwargs),
             lambda x: torch.nn.functional.interpolate(x, **kwargs), [(2, 2, 4, 5, 6)], name)
    ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kwargs", [
    dict(scale_factor=2), dict(size=(7, 3), mode="nearest-exact"),
    dict(size=(9, 11), mode="bilinear"), dict(size=(3, 14), mode="bilinear",
                                              align_corners=True),
    dict(size=(9, 5), mode="bicubic"), dict(scale_factor=1.7, mode="bicubic",
                                            align_corners=True),
])
def test_uint8_interpolation_gives_pytorchs_bytes(torch, rng, kwargs):
    x = rng.integers(0, 256, (2, 3, 6, 7)).astype(np.uint8)
    ours = F.interpolate(em.tensor(x), **kwargs)
    theirs = torch.nn.functional.interpolate(torch.tensor(x), **kwargs)
    assert ours.dtype == em.uint8
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_uint8_volumes_nearest_only(torch):
    x = np.arange(24, dtype=np.uint8).reshape(1, 1, 2, 3, 4)
    np.testing.assert_array_equal(F.interpolate(em.tensor(x), scale_factor=2).numpy(),
                                  torch.nn.functional.interpolate(torch.tensor(x),
                                                                  scale_factor=2).numpy())
    for call in (lambda m: m.nn.functional.interpolate(m.tensor(x), scale_factor=2,
                                                       mode="trilinear"),):
        with pytest.raises(NotImplementedError):
            call(torch)
        with pytest.raises(NotImplementedError):
            call(em)
