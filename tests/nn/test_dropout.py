"""Dropout: masks are random (not PyTorch's), so the checks are statistical and structural:
kept fraction, scaling, unbiasedness, gradient = mask / (1 - p), channel structure,
repeatability under manual_seed, identity in evaluation; plus PyTorch's output values."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close

SELU_SATURATION = 1.7580993408473766


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_one_minus_p_and_scales_by_its_inverse(p):
    x = em.ones(200_000, dtype=em.float64)
    y = F.dropout(x, p).numpy()
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    assert_close(y[kept], np.full(kept.sum(), 1 / (1 - p)), rtol=1e-15, atol=0)


def test_dropout_is_unbiased(rng):
    x = em.tensor(rng.standard_normal(20), dtype=em.float64)
    outputs = np.stack([F.dropout(x, 0.3).numpy() for _ in range(4000)])
    # the mean of 4000 draws of x m / 0.7 has standard deviation |x| sqrt(0.3 / 0.7 / 4000)
    tolerance = 5 * np.abs(x.numpy()) * np.sqrt(0.3 / 0.7 / 4000)
    assert np.all(np.abs(outputs.mean(0) - x.numpy()) <= tolerance)


@pytest.mark.parametrize("function,shape", [(F.dropout, (6, 7)), (F.dropout2d, (3, 4, 2, 2))])
def test_gradient_is_the_scaled_mask(rng, function, shape):
    x = em.tensor(rng.uniform(1, 2, shape), dtype=em.float64, requires_grad=True)
    y = function(x, 0.4)
    g = rng.standard_normal(shape)
    y.backward(em.tensor(g, dtype=em.float64))
    mask = y.detach().numpy() / x.detach().numpy()  # 0 or 1 / (1 - p)
    assert set(np.round(np.unique(mask), 12)) <= {0.0, round(1 / 0.6, 12)}
    assert_close(x.grad, g * mask, rtol=1e-12, atol=1e-12)


def test_identity_when_not_training_or_p_zero():
    x = em.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(x.reshape(2, 2, 5, 1), 0.5, training=False).shape == (2, 2, 5, 1)
    layer = nn.Dropout(0.5).eval()
    assert np.array_equal(layer(x).detach().numpy(), x.detach().numpy())


def test_p_one_gives_zeros_and_zero_gradients():
    x = em.randn(3, 4, requires_grad=True)
    y = F.dropout(x, 1.0)
    assert np.all(y.detach().numpy() == 0)
    y.sum().backward()
    assert np.all(x.grad.numpy() == 0)
    assert np.all(F.dropout2d(em.ones(2, 3, 2, 2), 1.0).numpy() == 0)


def test_masks_repeat_under_manual_seed_and_differ_between_calls():
    em.manual_seed(7)
    a = F.dropout(em.ones(1000)).numpy()
    b = F.dropout(em.ones(1000)).numpy()
    em.manual_seed(7)
    assert np.array_equal(F.dropout(em.ones(1000)).numpy(), a)
    assert not np.array_equal(a, b)
    em.manual_seed(7)
    layer = nn.Dropout2d(0.5)
    c = layer(em.ones(4, 8, 2, 2)).numpy()
    em.manual_seed(7)
    assert np.array_equal(layer(em.ones(4, 8, 2, 2)).numpy(), c)


@pytest.mark.parametrize("function,shape,batched", [
    (F.dropout1d, (40, 50, 6), True), (F.dropout1d, (500, 6), False),
    (F.dropout2d, (40, 50, 3, 2), True),
    (F.dropout3d, (20, 50, 2, 2, 2), True), (F.dropout3d, (500, 2, 1, 3), False),
])
def test_channel_dropout_zeroes_whole_channels(function, shape, batched):
    p = 0.3
    y = function(em.ones(*shape, dtype=em.float64), p).numpy()
    spatial = tuple(range(2 if batched else 1, y.ndim))
    dropped, kept = (y == 0).all(spatial), (y == 1 / (1 - p)).all(spatial)
    assert np.all(dropped | kept), "a channel is partly dropped"
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / kept.size)  # 5 sigma


def test_channel_dropout_shape_errors():
    with pytest.raises(RuntimeError, match=r"dropout1d: expected a 2D or 3D input"):
        F.dropout1d(em.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.dropout2d(em.ones(3))


def test_dropout2d_and_3d_on_other_inputs_warn_and_behave_as_pytorch(torch):
    p = 0.3
    for shape, spatial, warnings_expected in (((2000, 3), (), 1), ((400, 30, 4), (2,), 1),
                                              ((200, 3, 2, 2, 2), (2, 3, 4), 1)):
        for framework in (torch, em):
            x = framework.ones(*shape, dtype=framework.float64)
            with pytest.warns(UserWarning, match="dropout2d") as record:
                y = framework.nn.Dropout2d(p)(x).numpy()
            assert len(record) >= warnings_expected
            dropped, kept = (y == 0).all(spatial), (y == 1 / (1 - p)).all(spatial)
            assert np.all(dropped | kept)
            assert dropped.shape == shape[:2]
    for framework in (torch, em):
        with pytest.warns(UserWarning, match="dropout3d"):
            y = framework.nn.Dropout3d(p)(framework.ones(5, 30, 4, dtype=framework.float64))
        y = y.numpy()
        assert np.all((y == 0).all((1, 2)) | (y == 1 / (1 - p)).all((1, 2)))  # (C, D, H)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_is_validated(p):
    for function in (F.dropout, F.dropout1d, F.dropout2d, F.alpha_dropout):
        with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1"):
            function(em.ones(2, 3, 4), p, training=True)
    for cls in (nn.Dropout, nn.Dropout2d, nn.AlphaDropout):
        with pytest.raises(ValueError, match=rf"{cls.__name__}: dropout probability.*{p}"):
            cls(p)


def test_float32_stays_float32():
    x = em.ones(10, 4, 3, requires_grad=True)
    for function in (F.dropout, F.dropout1d, F.alpha_dropout, F.feature_alpha_dropout):
        y = function(x, 0.3, training=True)
        assert y.dtype == em.float32
        y.sum().backward()
        assert x.grad.dtype == em.float32
        x.grad = None


def test_input_is_never_modified():
    x = em.ones(5, 5)
    F.dropout(x, 0.5, inplace=True)
    nn.Dropout(0.5, inplace=True)(x)
    assert np.all(x.numpy() == 1)


def test_same_values_as_pytorch(torch):
    """The masks differ, but each output element takes one of the same two values."""
    x = np.full(5000, 0.7)
    for p in (0.2, 0.6):
        ours = np.unique(np.round(F.dropout(em.tensor(x), p).numpy(), 12))
        theirs = np.unique(np.round(torch.nn.functional.dropout(torch.tensor(x), p).numpy(), 12))
        assert_close(ours, theirs, rtol=1e-12, atol=1e-12, name=f"dropout values p={p}")
        ours = np.unique(np.round(F.alpha_dropout(em.tensor(x), p, True).numpy(), 12))
        theirs = torch.nn.functional.alpha_dropout(torch.tensor(x), p, True).numpy()
        assert_close(ours, np.unique(np.round(theirs, 12)), rtol=1e-12, atol=1e-12,
                     name=f"alpha dropout values p={p}")


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance(p):
    x = em.randn(400_000, dtype=em.float64)
    y = F.alpha_dropout(x, p, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01


def test_alpha_dropout_values_and_gradient(rng):
    p = 0.25
    a = 1 / np.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    x = em.tensor(rng.uniform(1, 2, 1000), dtype=em.float64, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    y.sum().backward()
    values, inputs = y.detach().numpy(), x.detach().numpy()
    kept = np.isclose(values, a * inputs + SELU_SATURATION * a * p, rtol=0, atol=1e-12)
    dropped = np.isclose(values, -SELU_SATURATION * a * (1 - p), rtol=0, atol=1e-12)
    assert np.all(kept ^ dropped) and abs(kept.mean() - (1 - p)) < 0.06
    assert_close(x.grad, np.where(kept, a, 0.0), rtol=1e-12, atol=1e-12)


def test_alpha_dropout_is_off_by_default_and_in_eval():
    x = em.randn(10)
    assert F.alpha_dropout(x) is x and F.feature_alpha_dropout(x.reshape(2, 5)).shape == (2, 5)
    assert nn.AlphaDropout(0.5).eval()(x) is x


def test_feature_alpha_dropout_is_channel_wise():
    y = F.feature_alpha_dropout(em.ones(30, 40, 3, dtype=em.float64), 0.5, training=True)
    y = y.numpy()
    assert np.all(np.ptp(y, axis=2) == 0)  # one value per channel
    assert len(np.unique(np.round(y, 12))) == 2


@pytest.mark.parametrize("cls,args", [("Dropout", ()), ("Dropout", (0.2, True)),
                                      ("Dropout1d", (0.3,)), ("Dropout2d", (0.1,)),
                                      ("Dropout3d", ()), ("AlphaDropout", (0.2,)),
                                      ("FeatureAlphaDropout", (0.4,))])
def test_layers_match_pytorch_repr_and_have_no_state(torch, cls, args):
    ours = getattr(nn, cls)(*args)
    assert repr(ours) == repr(getattr(torch.nn, cls)(*args))
    assert list(ours.parameters()) == [] and list(ours.state_dict()) == []


def test_layers_follow_train_and_eval():
    layer = nn.Dropout1d(0.5)
    x = em.ones(8, 16, 3)
    assert np.any(layer(x).numpy() == 0)
    layer.eval()
    assert np.all(layer(x).numpy() == 1)
    layer.train()
    assert np.any(layer(x).numpy() == 0)
