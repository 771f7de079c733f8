"""Hough lines against cv2.HoughLines: the same (rho, theta) pairs in the same order."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V


@pytest.mark.parametrize("rho,theta,threshold,min_theta,max_theta", [
    (1, np.pi / 180, 80, 0, np.pi), (2, np.pi / 90, 30, 0, np.pi),
    (0.5, np.pi / 360, 50, 0, np.pi), (1.5, 0.013, 25, 0, np.pi), (1, np.pi / 180, 30, 0.5, 2.0)])
def test_hough_lines_equal_opencv(cv2, photos, rng, rho, theta, threshold, min_theta, max_theta):
    edge_maps = [cv2.Canny(photos["camera_full"], 100, 200), cv2.Canny(photos["coins"], 80, 160),
                 (rng.random((60, 90)) > 0.97).astype(np.uint8)]
    for edges in edge_maps:
        expected = cv2.HoughLines(edges, rho, theta, threshold, min_theta=min_theta,
                                  max_theta=max_theta)
        expected = np.zeros((0, 2), np.float32) if expected is None else expected[:, 0]
        np.testing.assert_array_equal(
            V.hough_lines(edges, rho, theta, threshold, min_theta, max_theta), expected)


def test_hough_finds_a_drawn_line(cv2):
    canvas = np.zeros((120, 160), np.uint8)
    cv2.line(canvas, (10, 100), (150, 30), 255, 1)  # rho = x cos t + y sin t
    rho, theta, votes = V.hough_lines(canvas, 1, np.pi / 180, 60, return_votes=True)[0]
    normal = np.array([np.cos(theta), np.sin(theta)])
    assert abs(np.array([10, 100]) @ normal - rho) < 1.5
    assert abs(np.array([150, 30]) @ normal - rho) < 1.5
    assert votes >= 70  # of the 141 pixels drawn, those within half a pixel of the best line
    assert isinstance(V.hough_lines(em.tensor(canvas), 1, np.pi / 180, 60), em.Tensor)


def test_hough_errors():
    with pytest.raises(ValueError, match="rho and theta must be positive"):
        V.hough_lines(np.zeros((5, 5), np.uint8), 0, 1, 1)
