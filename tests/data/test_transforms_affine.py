"""RandomAffine against Pillow's affine transform (torchvision's PIL backend), and
elastic deformation against its definition (scipy's Gaussian filter for the smoothing)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.data import transforms as T
from ember.data.transforms import functional as F
from ember.data.transforms.affine import (
    _gaussian_matrix,
    affine,
    elastic_deform,
    elastic_displacement,
    inverse_affine_matrix,
)


@pytest.mark.parametrize("angle, translate, scale, shear", [
    (20.0, (2, -1), 1.2, (10.0, 5.0)), (-45.0, (0, 0), 0.8, (0.0, 0.0)),
    (0.0, (3, 1), 1.0, (0.0, 0.0)), (130.0, (-2, 4), 1.5, (-20.0, 0.0))])
def test_affine_equals_pillow_with_torchvisions_matrix(angle, translate, scale, shear):
    from PIL import Image

    image = np.random.default_rng(0).integers(0, 256, (1, 13, 17)).astype(np.uint8)
    pil = Image.fromarray(image[0])
    matrix = inverse_affine_matrix((pil.size[0] * 0.5, pil.size[1] * 0.5), angle, translate,
                                   scale, shear)
    expected = np.asarray(pil.transform(pil.size, Image.AFFINE, matrix.ravel().tolist(),
                                        Image.NEAREST))
    assert (affine(image, angle, translate, scale, shear)[0] == expected).mean() >= 0.995


def test_affine_rotation_is_rotate_clockwise_and_translation_shifts():
    image = np.random.default_rng(1).random((2, 9, 11)).astype(np.float32)
    for angle in (15.0, -70.0):
        np.testing.assert_array_equal(affine(image, angle), F.rotate(image, -angle))
    shifted = affine(image, 0.0, translate=(2, 1))
    np.testing.assert_array_equal(shifted[:, 1:, 2:], image[:, :-1, :-2])
    assert (shifted[:, 0] == 0).all() and (shifted[:, :, :2] == 0).all()
    np.testing.assert_array_equal(affine(image, 0.0), image)


def test_random_affine_is_seeded_and_draws_in_its_ranges():
    x = em.rand(1, 16, 16)
    augment = T.RandomAffine(degrees=(5, 10), translate=(0.25, 0.0), scale=(0.8, 0.9),
                             shear=(1, 2, 3, 4))
    em.manual_seed(3)
    first = augment(x)
    em.manual_seed(3)
    assert np.array_equal(augment(x).numpy(), first.numpy())
    em.manual_seed(0)
    for _ in range(50):
        angle, (tx, ty), scale, (sx, sy) = T.RandomAffine.get_params(
            augment.degrees, augment.translate, augment.scale, augment.shear, (16, 16))
        assert 5 <= angle <= 10 and abs(tx) <= 4 and ty == 0 and 0.8 <= scale <= 0.9
        assert 1 <= sx <= 2 and 3 <= sy <= 4
    with pytest.raises(ValueError, match="translate"):
        T.RandomAffine(0, translate=(1.5, 0))
    with pytest.raises(ValueError, match="scale"):
        T.RandomAffine(0, scale=(0, 1))


@pytest.mark.parametrize("sigma", [1.0, 2.0, 4.0])
def test_elastic_smoothing_is_a_gaussian_filter(sigma):
    ndimage = pytest.importorskip("scipy.ndimage")
    field = np.random.default_rng(0).uniform(-1, 1, (28, 30))
    ours = _gaussian_matrix(28, sigma) @ field @ _gaussian_matrix(30, sigma).T
    expected = ndimage.gaussian_filter(field, sigma, mode="reflect", truncate=3.0)
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def test_elastic_deformation_by_its_definition():
    image = np.random.default_rng(2).random((1, 10, 12))
    zero = np.zeros((10, 12))
    np.testing.assert_array_equal(elastic_deform(image, zero, zero), image)  # no motion
    shifted = elastic_deform(image, zero, np.ones((10, 12)))  # read one pixel to the right
    np.testing.assert_allclose(shifted[0, :, :-1], image[0, :, 1:])
    em.manual_seed(0)
    smooth = [np.std(elastic_displacement((64, 64), 1.0, s)[0]) for s in (1.0, 4.0, 8.0)]
    assert smooth[0] > smooth[1] > smooth[2]  # a larger sigma averages more
    em.manual_seed(0)
    dy, dx = elastic_displacement((28, 28), 34.0, 4.0)
    assert abs(dy.mean()) < 2 and 0.5 < np.abs(dx).max() < 34
    digit = em.zeros(1, 28, 28)
    digit[0, 8:20, 12:16] = 1.0
    em.manual_seed(1)
    warped = T.ElasticDeformation(34.0, 4.0)(digit)
    assert warped.shape == (1, 28, 28) and not np.array_equal(warped.numpy(), digit.numpy())
    assert abs(warped.sum().item() - digit.sum().item()) < 0.5 * digit.sum().item()
    with pytest.raises(ValueError, match="sigma"):
        T.ElasticDeformation(sigma=0)
