"""Structuring elements and morphology against OpenCV on grey, binary and boolean images."""

from __future__ import annotations

import numpy as np
import pytest
from vision_oracle import cv_border

import ember as em
import ember.vision as V

OPERATIONS = {"erosion": "MORPH_ERODE", "dilation": "MORPH_DILATE", "opening": "MORPH_OPEN",
              "closing": "MORPH_CLOSE", "morphological_gradient": "MORPH_GRADIENT",
              "top_hat": "MORPH_TOPHAT", "black_hat": "MORPH_BLACKHAT"}
SHAPES = {"rect": "MORPH_RECT", "ellipse": "MORPH_ELLIPSE", "cross": "MORPH_CROSS"}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_structuring_elements_equal_opencv(cv2, shape):
    for h in range(1, 12):
        for w in range(1, 12):
            expected = cv2.getStructuringElement(getattr(cv2, SHAPES[shape]), (w, h))
            np.testing.assert_array_equal(V.structuring_element(shape, (h, w)), expected)
    expected = cv2.getStructuringElement(cv2.MORPH_CROSS, (5, 5), (1, 3))
    np.testing.assert_array_equal(V.structuring_element("cross", 5, anchor=(3, 1)), expected)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_morphology_equals_opencv(cv2, grey_photos, operation):
    code = getattr(cv2, OPERATIONS[operation])
    photo = grey_photos[0]
    binary = np.where(photo > 100, 255, 0).astype(np.uint8)
    images = [photo, binary, photo.astype(np.float32) / 255]
    for shape in SHAPES:
        for size in [(3, 3), (5, 5), (4, 6), (7, 3)]:
            element = V.structuring_element(shape, size)
            for image in images:
                for iterations in (1, 2):
                    expected = cv2.morphologyEx(image, code, element, iterations=iterations)
                    out = getattr(V, operation)(image, element, iterations)
                    np.testing.assert_array_equal(out, expected)
    boolean = photo > 100
    expected = cv2.morphologyEx(boolean.astype(np.uint8), code, np.ones((3, 3), np.uint8))
    np.testing.assert_array_equal(getattr(V, operation)(boolean, 3), expected.astype(bool))


@pytest.mark.parametrize("border", ["reflect101", "replicate", "constant"])
def test_morphology_borders(cv2, grey_photos, border):
    photo = grey_photos[1]
    element = V.structuring_element("ellipse", 5)
    code = cv_border(cv2, border)
    np.testing.assert_array_equal(V.erosion(photo, element, border=border, value=7),
                                  cv2.erode(photo, element, borderType=code, borderValue=7))
    np.testing.assert_array_equal(V.dilation(photo, element, border=border, value=7),
                                  cv2.dilate(photo, element, borderType=code, borderValue=7))


def test_morphology_is_differentiable(rng):
    element = V.structuring_element("cross", 3)
    x = em.tensor(rng.standard_normal((2, 6, 7)), requires_grad=True)
    for op in (V.erosion, V.dilation, V.opening, V.morphological_gradient, V.top_hat):
        y = op(x, element)
        np.testing.assert_allclose(y.detach().numpy(),
                                   op(x.detach().numpy().transpose(1, 2, 0), element)
                                   .transpose(2, 0, 1))
        assert em.autograd.gradcheck(lambda t, op=op: op(t, element), (x,))


def test_morphology_errors():
    with pytest.raises(ValueError, match="unknown shape 'disk'"):
        V.structuring_element("disk", 3)
    with pytest.raises(ValueError, match="erosion: the structuring element must be"):
        V.erosion(np.zeros((5, 5)), np.ones(3))
