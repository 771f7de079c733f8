"""Compose, Lambda, ToTensor, Normalize; Tensor-in/Tensor-out and array-in/array-out."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.data import transforms as T


def test_to_tensor_converts_hwc_uint8_to_chw_unit_floats(torch):
    pic = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    image = T.ToTensor()(pic)
    expected = torch.from_numpy(pic).permute(2, 0, 1).float().div(255)  # torchvision's rule
    assert isinstance(image, em.Tensor) and image.shape == (3, 5, 4)
    assert image.dtype == np.float32 and np.array_equal(image.numpy(), expected.numpy())
    grey = T.ToTensor()(pic[:, :, 0])
    assert grey.shape == (1, 5, 4) and grey.numpy().max() <= 1.0


def test_to_tensor_other_dtypes_tensors_and_errors():
    floats = np.full((2, 2), 3.5, dtype=np.float64)
    out = T.ToTensor()(floats)
    assert out.dtype == np.float64 and out.numpy().max() == 3.5  # not scaled, as torchvision
    ready = em.rand(1, 3, 3)
    assert T.ToTensor()(ready) is ready  # ember's datasets already give float (C, H, W)
    scaled = T.ToTensor()(em.tensor(np.full((1, 2, 2), 255, np.uint8)))
    assert scaled.dtype == np.float32 and scaled.numpy().min() == 1.0
    with pytest.raises(ValueError, match="2 or 3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 2, 3)))
    with pytest.raises(TypeError, match="NumPy array"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(TypeError, match="float or uint8 Tensor"):
        T.ToTensor()(em.tensor([[1, 2]]))


def test_normalize_matches_the_formula(torch):
    x = np.random.default_rng(1).random((3, 4, 5), dtype=np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(em.tensor(x))
    expected = (torch.from_numpy(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(
        std)[:, None, None]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    batch = T.Normalize((0.5,), (0.5,))(np.ones((2, 1, 2, 2), np.float32))
    assert isinstance(batch, np.ndarray) and batch.shape == (2, 1, 2, 2) and batch.max() == 1.0
    y = x.copy()
    T.Normalize(mean, std, inplace=True)(y)
    np.testing.assert_allclose(y, expected.numpy(), rtol=1e-6, atol=1e-6)


def test_normalize_errors():
    with pytest.raises(ValueError, match="contains a zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(TypeError, match="float image"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="has 2 values but the image has 3 channels"):
        T.Normalize((0.5, 0.5), (1.0, 1.0))(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0.5,), (0.5,))(np.zeros((2, 2), np.float32))


def test_compose_lambda_and_repr():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda x: x * 2), T.Normalize((1.0,), (1.0,))])
    out = pipeline(np.full((2, 2), 255, np.uint8))
    assert out.shape == (1, 2, 2) and out.numpy().max() == 1.0
    text = repr(pipeline)
    assert text.startswith("Compose(") and "ToTensor()" in text and "Normalize(mean=(1.0,)" in text
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="transform 1 is not callable"):
        T.Compose([T.ToTensor(), "crop"])


def test_transforms_reject_other_types():
    with pytest.raises(TypeError, match="expects an ember Tensor or a NumPy array"):
        T.RandomHorizontalFlip()([[1.0, 2.0]])
