"""Gaussian, box, filter2D and separable filters against OpenCV: every border mode, 8-bit
(bit-exact: OpenCV's fixed-point Gaussian and box division), float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
from vision_oracle import cv_border

import ember as em
import ember.vision as V

OPENCV_BORDERS = ["reflect101", "reflect", "replicate", "constant"]  # cv2 filters lack wrap


def _wrap_reference(x, kernel):
    """Correlation with a circular border, by hand (OpenCV's filters refuse BORDER_WRAP)."""
    kh, kw = kernel.shape
    p = np.pad(x, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode="wrap")
    windows = np.lib.stride_tricks.sliding_window_view(p, kernel.shape)
    return np.einsum("ijab,ab->ij", windows, kernel)


@pytest.mark.parametrize("size", [1, 3, 5, 7, 9, 11, 15])
@pytest.mark.parametrize("sigma", [0.0, 0.6, 1.3, 3.0])
def test_gaussian_kernel_equals_opencv(cv2, size, sigma):
    expected = cv2.getGaussianKernel(size, sigma).ravel()
    np.testing.assert_allclose(V.gaussian_kernel(size, sigma).numpy(), expected, rtol=1e-14)


@pytest.mark.parametrize("border", OPENCV_BORDERS)
@pytest.mark.parametrize("size,sigma", [(3, 0), (5, 1.3), (7, 0), (9, 0), (0, 1.5), (11, 2.2),
                                        ((3, 7), (0.8, 2.0))])
def test_gaussian_blur_equals_opencv(cv2, grey_photos, border, size, sigma):
    ksize = size[::-1] if isinstance(size, tuple) else (size, size)
    sx, sy = (sigma[1], sigma[0]) if isinstance(sigma, tuple) else (sigma, 0)
    code = cv_border(cv2, border)
    for photo in grey_photos:
        expected = cv2.GaussianBlur(photo, ksize, sx, sigmaY=sy, borderType=code)
        np.testing.assert_array_equal(V.gaussian_blur2d(photo, size, sigma, border), expected)
        f32 = photo.astype(np.float32) / 255
        np.testing.assert_allclose(
            V.gaussian_blur2d(f32, size, sigma, border),
            cv2.GaussianBlur(f32, ksize, sx, sigmaY=sy, borderType=code), atol=2e-6)
    f64 = grey_photos[0].astype(np.float64)
    np.testing.assert_allclose(V.gaussian_blur2d(f64, size, sigma, border),
                               cv2.GaussianBlur(f64, ksize, sx, sigmaY=sy, borderType=code),
                               atol=1e-10)


def test_gaussian_blur_colour_and_circular(cv2, photos, rng):
    colour = photos["astronaut"]
    np.testing.assert_array_equal(V.gaussian_blur2d(colour, 5, 1.1),
                                  cv2.GaussianBlur(colour, (5, 5), 1.1))
    x = rng.random((9, 11))
    kernel = np.outer(cv2.getGaussianKernel(5, 1.0), cv2.getGaussianKernel(5, 1.0))
    np.testing.assert_allclose(V.gaussian_blur2d(x, 5, 1.0, "circular"),
                               _wrap_reference(x, kernel), atol=1e-14)


@pytest.mark.parametrize("border", OPENCV_BORDERS)
@pytest.mark.parametrize("size", [2, 3, 4, 5, (3, 8), 17, 20])
def test_box_blur_equals_opencv(cv2, grey_photos, border, size):
    ksize = size[::-1] if isinstance(size, tuple) else (size, size)
    code = cv_border(cv2, border)
    for photo in grey_photos:
        np.testing.assert_array_equal(V.box_blur(photo, size, border),
                                      cv2.blur(photo, ksize, borderType=code))
    f64 = grey_photos[1].astype(np.float64)
    np.testing.assert_allclose(V.box_blur(f64, size, border),
                               cv2.blur(f64, ksize, borderType=code), atol=1e-10)
    np.testing.assert_allclose(
        V.box_blur(f64, size, border, normalized=False),
        cv2.boxFilter(f64, -1, ksize, normalize=False, borderType=code), atol=1e-8)


def test_box_blur_graph_path_equals_running_sums(rng):
    x = rng.random((2, 9, 10))
    fast = V.box_blur(em.tensor(x), (4, 3), "reflect")
    graph = V.box_blur(em.tensor(x, requires_grad=True), (4, 3), "reflect")
    np.testing.assert_allclose(graph.detach().numpy(), fast.numpy(), atol=1e-14)


@pytest.mark.parametrize("border", OPENCV_BORDERS)
def test_filter2d_and_sep_filter2d_equal_opencv(cv2, rng, grey_photos, border):
    code = cv_border(cv2, border)
    kernel = rng.standard_normal((4, 5))  # even height: anchored at (2, 2) as OpenCV
    photo = grey_photos[0]
    f64 = photo.astype(np.float64)
    np.testing.assert_allclose(V.filter2d(f64, kernel, border, delta=3.0),
                               cv2.filter2D(f64, -1, kernel, delta=3.0, borderType=code),
                               atol=1e-9)
    small = kernel / 8  # 8-bit result: rounded half to even and saturated
    np.testing.assert_array_equal(V.filter2d(photo, small, border),
                                  cv2.filter2D(photo, -1, small, borderType=code))
    kx, ky = rng.standard_normal(5), rng.standard_normal(3)
    np.testing.assert_allclose(V.sep_filter2d(f64, kx, ky, border),
                               cv2.sepFilter2D(f64, -1, kx, ky, borderType=code), atol=1e-9)


def test_filter_errors():
    with pytest.raises(ValueError, match="gaussian_blur2d: kernel_size must be odd"):
        V.gaussian_blur2d(np.zeros((5, 5)), 4, 1.0)
    with pytest.raises(ValueError, match="give a kernel_size or a positive sigma"):
        V.gaussian_blur2d(np.zeros((5, 5)), 0, 0)
    with pytest.raises(ValueError, match=r"filter2d: kernel must have shape \(kh, kw\)"):
        V.filter2d(np.zeros((5, 5)), [1.0, 2.0])
    with pytest.raises(ValueError, match="box_blur: kernel_size must be positive"):
        V.box_blur(np.zeros((5, 5)), 0)
