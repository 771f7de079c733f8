"""Canny against cv2.Canny (equal on every pixel for apertures 3 and 5, on grey and colour
photos, L1 and L2), and each of its steps against its definition."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V


@pytest.mark.parametrize("aperture", [3, 5])
@pytest.mark.parametrize("l2", [False, True])
def test_canny_equals_opencv(cv2, photos, aperture, l2):
    scale = 1 if aperture == 3 else 8
    for name in ("camera", "coins", "moon", "astronaut"):
        image = photos[name]
        for low, high in [(50, 150), (20.5, 60.7), (200, 100)]:
            expected = cv2.Canny(image, low * scale, high * scale, apertureSize=aperture,
                                 L2gradient=l2)
            np.testing.assert_array_equal(
                V.canny(image, low * scale, high * scale, l2, aperture), expected)


def test_canny_on_full_photos_after_smoothing(cv2, photos):
    for name in ("camera_full", "coins_full"):
        image = photos[name]
        expected = cv2.Canny(cv2.GaussianBlur(image, (5, 5), 1.4), 40, 100)
        edges = V.canny(image, 40, 100, sigma=1.4, kernel_size=5)
        np.testing.assert_array_equal(edges, expected)


def test_canny_aperture_7_agrees_on_99_percent(cv2, photos):
    image = photos["camera_full"]
    for l2 in (False, True):
        expected = cv2.Canny(image, 2000, 6000, apertureSize=7, L2gradient=l2)
        agreement = (V.canny(image, 2000, 6000, l2, 7) == expected).mean()
        assert agreement >= 0.99, agreement


def test_canny_steps(photos):
    image = photos["camera"]
    steps = V.canny_steps(image, 50, 150)
    np.testing.assert_array_equal(steps.gx, V.sobel(image, 1, 0, border="replicate"))
    np.testing.assert_array_equal(steps.magnitude, np.abs(steps.gx) + np.abs(steps.gy))
    np.testing.assert_array_equal(steps.suppressed,
                                  V.non_maximum_suppression(steps.magnitude, steps.gx, steps.gy))
    # suppression keeps each survivor's value and never two neighbours across an edge
    kept = steps.suppressed > 0
    assert kept.sum() < (steps.magnitude > 0).sum() / 2
    strong, weak = V.double_threshold(steps.suppressed, 50, 150)
    np.testing.assert_array_equal(strong, steps.strong)
    np.testing.assert_array_equal(weak, steps.weak)
    grown = V.hysteresis_threshold(steps.suppressed, 50, 150)
    np.testing.assert_array_equal(grown, steps.edges == 255)
    assert np.all(steps.strong <= grown) and np.all(grown <= (steps.strong | steps.weak))


def test_hysteresis_equals_scikit_image(rng):
    filters = pytest.importorskip("skimage.filters")
    x = rng.random((60, 70))
    expected = filters.apply_hysteresis_threshold(x, 0.5, 0.9)  # 4-connected
    np.testing.assert_array_equal(V.hysteresis_threshold(x, 0.5, 0.9, connectivity=4), expected)
    assert V.hysteresis_threshold(x, 0.5, 0.9).sum() > expected.sum()  # corners join too


def test_sectors_and_suppression_rules():
    gx = np.array([10, 10, 0, 10, -10, 10])
    gy = np.array([0, 4, 10, 10, 10, 25])
    assert V.gradient_sectors(gx, gy).tolist() == [0, 0, 1, 2, 3, 1]
    m = np.array([[5.0, 5.0, 1.0]])  # a plateau: the first of equal maxima survives
    kept = V.non_maximum_suppression(m, np.ones((1, 3)), np.zeros((1, 3)))
    assert kept.tolist() == [[5.0, 0.0, 0.0]]


def test_canny_layouts_and_floats(photos):
    image = photos["coins"]
    edges = V.canny(em.tensor(image[None]), 50, 150)
    assert isinstance(edges, em.Tensor) and edges.shape == (1,) + image.shape
    np.testing.assert_array_equal(edges.numpy()[0], V.canny(image, 50, 150))
    soft = V.canny(image / 255.0, 50 / 255, 150 / 255)  # float images: the same edges
    assert (soft == V.canny(image, 50, 150)).mean() > 0.99
    with pytest.raises(ValueError, match="aperture_size must be 3, 5 or 7"):
        V.canny(image, 1, 2, aperture_size=4)
