"""Sobel, Scharr, Laplacian and the textbook gradient operators against OpenCV (CV_64F);
magnitude and direction against cv2.magnitude / cv2.phase."""

from __future__ import annotations

import numpy as np
import pytest
from vision_oracle import cv_border

import ember as em
import ember.vision as V

OPENCV_BORDERS = ["reflect101", "reflect", "replicate", "constant"]
DERIVATIVES = [(1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1), (3, 0), (0, 3), (2, 2)]


@pytest.mark.parametrize("ksize", [1, 3, 5, 7])
@pytest.mark.parametrize("border", OPENCV_BORDERS)
def test_sobel_equals_opencv(cv2, grey_photos, ksize, border):
    code = cv_border(cv2, border)
    photo = grey_photos[0]
    for dx, dy in DERIVATIVES:
        try:
            expected = cv2.Sobel(photo, cv2.CV_64F, dx, dy, ksize=ksize, borderType=code)
        except cv2.error:
            with pytest.raises(ValueError, match="sobel: derivative order"):
                V.sobel(photo, dx, dy, ksize)
            continue
        out = V.sobel(photo, dx, dy, ksize, border=border)
        assert out.dtype == np.float32  # exact: whole numbers
        np.testing.assert_array_equal(out, expected)
    f64 = grey_photos[1] / 255.0
    np.testing.assert_allclose(
        V.sobel(f64, 1, 0, ksize, scale=0.5, delta=2.0, border=border),
        cv2.Sobel(f64, cv2.CV_64F, 1, 0, ksize=ksize, scale=0.5, delta=2.0, borderType=code),
        atol=1e-12)


def test_scharr_and_laplacian_equal_opencv(cv2, grey_photos):
    photo = grey_photos[2]
    for dx, dy in [(1, 0), (0, 1)]:
        np.testing.assert_array_equal(V.scharr(photo, dx, dy), cv2.Scharr(photo, cv2.CV_64F, dx, dy))
    for ksize in [1, 3, 5, 7]:
        for border in OPENCV_BORDERS:
            np.testing.assert_array_equal(
                V.laplacian(photo, ksize, border=border),
                cv2.Laplacian(photo, cv2.CV_64F, ksize=ksize, borderType=cv_border(cv2, border)))
    np.testing.assert_array_equal(V.deriv_kernels(2, 1, 5)[0],
                                  cv2.getDerivKernels(2, 1, 5)[0].ravel())


def test_textbook_operators_equal_their_kernels(cv2, grey_photos):
    photo = grey_photos[1].astype(np.float64)
    prewitt = np.array([[-1.0, 0, 1]] * 3)
    gx, gy = V.gradient(photo, "prewitt")
    np.testing.assert_allclose(gx, cv2.filter2D(photo, -1, prewitt), atol=1e-10)
    np.testing.assert_allclose(gy, cv2.filter2D(photo, -1, prewitt.T), atol=1e-10)
    rx, ry = V.gradient(photo, "roberts", border="replicate")
    np.testing.assert_allclose(rx, cv2.filter2D(photo, -1, np.array([[1.0, 0], [0, -1]]),
                                                borderType=cv2.BORDER_REPLICATE), atol=1e-10)
    np.testing.assert_allclose(ry, cv2.filter2D(photo, -1, np.array([[0.0, 1], [-1, 0]]),
                                                borderType=cv2.BORDER_REPLICATE), atol=1e-10)
    for name in ("sobel", "scharr"):
        gx, gy = V.gradient(photo, name)
        np.testing.assert_array_equal(gx, V.sobel(photo, 1, 0, 3 if name == "sobel" else -1))
    with pytest.raises(ValueError, match="unknown operator 'kirsch'"):
        V.gradient(photo, "kirsch")


def test_magnitude_and_direction(cv2, rng):
    gx, gy = rng.standard_normal((2, 20, 30))
    np.testing.assert_allclose(V.magnitude(gx, gy), cv2.magnitude(gx, gy), rtol=1e-15)
    np.testing.assert_allclose(V.magnitude(gx, gy, "l1"), np.abs(gx) + np.abs(gy))
    theta = V.direction(gx, gy)
    np.testing.assert_allclose(theta, np.arctan2(gy, gx), rtol=1e-15)
    difference = np.abs(np.mod(theta, 2 * np.pi) - cv2.phase(gx, gy))
    assert np.minimum(difference, 2 * np.pi - difference).max() < 1e-3  # cv2's is approximate
    np.testing.assert_allclose(V.direction(gx, gy, degrees=True), np.degrees(np.arctan2(gy, gx)))
    t = V.direction(em.tensor(gx), em.tensor(gy))
    assert isinstance(t, em.Tensor)
    with pytest.raises(ValueError, match="magnitude: gx and gy must have the same shape"):
        V.magnitude(gx, gy[:3])


def test_sobel_errors():
    with pytest.raises(ValueError, match="ksize must be 1, 3, 5 or 7"):
        V.sobel(np.zeros((5, 5)), 1, 0, 4)
    with pytest.raises(ValueError, match="scharr: needs one first derivative"):
        V.sobel(np.zeros((5, 5)), 1, 1, -1)
