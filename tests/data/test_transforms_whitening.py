"""PCA and ZCA whitening: identity covariance, against scikit-learn's PCA(whiten=True),
the ZCA matrix's symmetry, truncation and the inverse."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.data import transforms as T


def _correlated(n=400, seed=0):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((5, 5))
    return rng.standard_normal((n, 5)) @ mixing + rng.standard_normal(5)


def test_whitened_data_has_identity_covariance():
    x = _correlated()
    for whitening in (T.PCAWhitening(epsilon=0), T.ZCAWhitening(epsilon=0)):
        z = whitening.fit(x)(x)
        np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(5), atol=1e-10)
        np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)


def test_pca_whitening_equals_scikit_learn():
    decomposition = pytest.importorskip("sklearn.decomposition")
    x = _correlated(seed=1)
    ours = T.PCAWhitening(epsilon=0).fit(x)(x)
    theirs = decomposition.PCA(whiten=True).fit(x).transform(x)
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), rtol=1e-8, atol=1e-10)  # signs
    kept = T.PCAWhitening(epsilon=0, n_components=2).fit(x)(x)
    np.testing.assert_allclose(np.abs(kept), np.abs(theirs[:, :2]), rtol=1e-8, atol=1e-10)


def test_zca_is_symmetric_and_closest_to_the_input():
    x = _correlated(seed=2)
    zca = T.ZCAWhitening(epsilon=0).fit(x)
    w = zca.matrix
    np.testing.assert_allclose(w, w.T, atol=1e-12)
    covariance = np.cov(x, rowvar=False)
    np.testing.assert_allclose(w @ covariance @ w, np.eye(5), atol=1e-10)
    centred = x - x.mean(axis=0)
    z_zca = zca(x)
    rotation = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 5)))[0]
    z_other = z_zca @ rotation.T  # another whitening of the same data
    assert np.linalg.norm(z_zca - centred) < np.linalg.norm(z_other - centred)


def test_images_tensors_single_samples_and_the_inverse():
    images = np.random.default_rng(3).random((300, 1, 4, 4)).astype(np.float32)
    zca = T.ZCAWhitening().fit(em.tensor(images))
    batch = zca(em.tensor(images))
    assert isinstance(batch, em.Tensor) and batch.shape == (300, 1, 4, 4)
    assert batch.dtype == em.float32
    one = zca(images[7])
    assert one.shape == (1, 4, 4)
    np.testing.assert_allclose(one, batch.numpy()[7], rtol=1e-5, atol=1e-6)
    pca = T.PCAWhitening(epsilon=0).fit(images)
    codes = pca(images)
    assert codes.shape == (300, 16)
    np.testing.assert_allclose(pca.inverse(codes), images, rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match="fit"):
        T.ZCAWhitening()(images)
    with pytest.raises(ValueError, match="zero variance"):
        T.ZCAWhitening(epsilon=0).fit(np.zeros((10, 3)))
