"""Fixed, Otsu and adaptive thresholds against OpenCV; Otsu's table against its formulas."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V

TYPES = {"binary": "THRESH_BINARY", "binary_inv": "THRESH_BINARY_INV", "trunc": "THRESH_TRUNC",
         "tozero": "THRESH_TOZERO", "tozero_inv": "THRESH_TOZERO_INV"}


@pytest.mark.parametrize("kind", list(TYPES))
def test_threshold_equals_opencv(cv2, grey_photos, kind):
    code = getattr(cv2, TYPES[kind])
    for photo in grey_photos:
        for thresh, maxval in [(100, 255), (127.5, 200), (-3, 255), (254.5, 100), (300, 255)]:
            np.testing.assert_array_equal(V.threshold(photo, thresh, maxval, kind),
                                          cv2.threshold(photo, thresh, maxval, code)[1])
            f32 = photo.astype(np.float32) / 255
            np.testing.assert_array_equal(
                V.threshold(f32, thresh / 255, maxval / 255, kind),
                cv2.threshold(f32, thresh / 255, maxval / 255, code)[1])


def test_otsu_equals_opencv(cv2, photos, rng):
    images = [photos[name] for name in ("camera_full", "coins_full", "camera", "moon")]
    images += [rng.integers(0, 256, (40, 50), dtype=np.uint8),
               rng.integers(100, 103, (40, 50), dtype=np.uint8)]
    for image in images:
        t, mask = V.otsu_threshold(image)
        expected_t, expected = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        assert t == expected_t
        np.testing.assert_array_equal(mask, expected == 255)


def test_otsu_table_is_the_textbook_search(photos):
    image = photos["coins_full"]
    counts = np.bincount(image.ravel(), minlength=256)
    table = V.otsu_table(counts)
    p = counts / counts.sum()
    levels = np.arange(256)
    w0 = np.cumsum(p)
    np.testing.assert_allclose(table.w0, w0, atol=1e-12)
    np.testing.assert_allclose(table.w0 + table.w1, 1.0, atol=1e-12)
    valid = (w0 > 1e-6) & (w0 < 1 - 1e-6)
    mu0 = np.cumsum(levels * p)[valid] / w0[valid]
    mu1 = (np.sum(levels * p) - np.cumsum(levels * p)[valid]) / (1 - w0[valid])
    np.testing.assert_allclose(table.mu0[valid], mu0, rtol=1e-9)
    np.testing.assert_allclose(table.mu1[valid], mu1, rtol=1e-9)
    between = w0[valid] * (1 - w0[valid]) * (mu0 - mu1) ** 2
    np.testing.assert_allclose(table.between[valid], between, rtol=1e-9)
    # the between-class variance plus the within-class variance is the total variance
    total = np.sum(p * (levels - np.sum(levels * p)) ** 2)
    t = int(table.threshold)
    dark, bright = levels <= t, levels > t
    within = sum(np.sum(p[m] * (levels[m] - np.sum(levels[m] * p[m]) / p[m].sum()) ** 2)
                 for m in (dark, bright))
    assert np.isclose(table.between[t] + within, total)
    assert table.threshold == levels[valid][np.argmax(between)]


def test_otsu_float_and_planes(photos):
    filters = pytest.importorskip("skimage.filters")
    image = photos["camera"] / 255.0
    t, mask = V.otsu_threshold(image)
    assert t == pytest.approx(filters.threshold_otsu(image, nbins=256), abs=1e-12)
    np.testing.assert_array_equal(mask, image > t)
    colour = photos["astronaut"]
    thresholds, masks = V.otsu_threshold(colour)
    assert thresholds.shape == (3,) and masks.shape == colour.shape
    assert thresholds[1] == V.otsu_threshold(np.ascontiguousarray(colour[:, :, 1]))[0]
    t_tensor, m_tensor = V.otsu_threshold(em.tensor(colour.transpose(2, 0, 1)))
    np.testing.assert_array_equal(t_tensor.numpy(), thresholds)


@pytest.mark.parametrize("method", ["mean", "gaussian"])
@pytest.mark.parametrize("kind", ["binary", "binary_inv"])
def test_adaptive_threshold_equals_opencv(cv2, grey_photos, method, kind):
    codes = {"mean": cv2.ADAPTIVE_THRESH_MEAN_C, "gaussian": cv2.ADAPTIVE_THRESH_GAUSSIAN_C}
    for photo in grey_photos:
        for block, c in [(3, 2), (11, 2.5), (25, -3.2)]:
            expected = cv2.adaptiveThreshold(photo, 255, codes[method],
                                             getattr(cv2, TYPES[kind]), block, c)
            out = V.adaptive_threshold(photo, 255, method, kind, block, c)
            if method == "mean":  # integer window sums: exact
                np.testing.assert_array_equal(out, expected)
            else:  # OpenCV rounds a float32 Gaussian: a mean within 1e-5 of k + 1/2 can
                assert (out != expected).sum() <= 2  # round the other way (1 in 10^4)


def test_threshold_gradients(rng):
    x = em.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    for kind in ("trunc", "tozero", "tozero_inv"):
        y = V.threshold(x, 0.1, 1.0, kind)
        (y * 2.0).sum().backward()
        values = x.detach().numpy()
        passes = {"trunc": values <= 0.1, "tozero": values > 0.1, "tozero_inv": values <= 0.1}[kind]
        np.testing.assert_array_equal(x.grad.numpy(), np.where(passes, 2.0, 0.0))
        x.grad = None


def test_threshold_errors():
    with pytest.raises(ValueError, match="unknown type 'otsu'"):
        V.threshold(np.zeros((3, 3)), 1, 2, "otsu")
    with pytest.raises(ValueError, match="block_size must be odd and >= 3"):
        V.adaptive_threshold(np.zeros((5, 5), np.uint8), block_size=4)
