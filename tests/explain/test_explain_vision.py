"""The image-processing worked calculations: each number shown equals ember.vision's and
the oracle's (OpenCV, the textbook formulas)."""

from __future__ import annotations

import numpy as np
import pytest

import ember.vision as V
from ember.cli import main
from ember.explain import canny_at, gaussian_kernel_weights, morphology, otsu, sobel_at


def test_gaussian_kernel_working():
    cv2 = pytest.importorskip("cv2")
    e = gaussian_kernel_weights(5, 1.3)
    np.testing.assert_allclose(e.kernel, cv2.getGaussianKernel(5, 1.3).ravel(), rtol=1e-12)
    assert "x = -2: exp(-(-2)^2 / (2*1.3^2))" in str(e)
    fixed = gaussian_kernel_weights(5, 0)
    assert fixed.kernel.tolist() == [0.0625, 0.25, 0.375, 0.25, 0.0625]
    assert "sigma = 0.3 ((k - 1)/2 - 1) + 0.8 = 1.1" in str(fixed)


def test_sobel_working_at_a_pixel(rng):
    x = rng.integers(0, 256, (5, 6)).astype(float)
    for row, col in [(2, 3), (0, 0), (4, 5)]:
        e = sobel_at(x, row, col)
        assert e.gx == V.sobel(x, 1, 0)[row, col] and e.gy == V.sobel(x, 0, 1)[row, col]
        assert e.magnitude == pytest.approx(np.hypot(e.gx, e.gy))
        assert e.angle == pytest.approx(np.degrees(np.arctan2(e.gy, e.gx)))
    text = str(sobel_at("10 10 80; 10 10 80; 10 10 80"))
    assert "= -10 + 80 - 20 + 160 - 10 + 80 = 280" in text
    with pytest.raises(ValueError, match="outside the 3x3 input"):
        sobel_at("1 2 3; 4 5 6; 7 8 9", row=3)


def test_canny_working_at_a_pixel():
    image = "0 0 90 90 90; 0 0 90 90 90; 0 0 90 90 90"
    kept = canny_at(image, 1, 1)
    assert kept.kept and kept.result == "strong" and kept.magnitude == 360
    assert "keep if m > 0 and m >= 360" in str(kept)
    suppressed = canny_at(image, 1, 2)  # equal to its left neighbour: the first one stays
    assert not suppressed.kept and suppressed.result == "not an edge"
    weak = canny_at(image, 1, 1, low=100, high=400)
    assert weak.result == "weak"
    assert canny_at(image, 1, 4).result == "not an edge"
    np.testing.assert_array_equal(kept.edges, V.canny(np.array([[0, 0, 90, 90, 90]] * 3,
                                                               np.float64), 50, 100))


def test_otsu_table_working(rng):
    cv2 = pytest.importorskip("cv2")
    image = rng.integers(0, 8, (6, 7))
    e = otsu(image)
    expected, _ = cv2.threshold(image.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert e.result == expected
    assert "<- maximum" in str(e) and e.between == e.table.between.max()
    by_counts = otsu(histogram=np.bincount(image.ravel()))
    assert by_counts.result == e.result
    with pytest.raises(ValueError, match="give either --input"):
        otsu()


def test_morphology_working():
    image = "0 0 0 0 0; 0 1 1 1 0; 0 1 1 1 0; 0 1 1 1 0; 0 0 0 0 1"
    e = morphology(image)
    x = np.array([[int(v) for v in row.split()] for row in image.split(";")], np.uint8)
    np.testing.assert_array_equal(e.erosion, V.erosion(x, 3))
    np.testing.assert_array_equal(e.dilation, V.dilation(x, 3))
    assert "(4, 4): 1 -> 0, because (3, 4) is 0" in str(e)
    cross = morphology(image, shape="cross")
    assert cross.element.tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    with pytest.raises(ValueError, match="a binary image holds 0s and 1s"):
        morphology("0 2; 1 1")


def test_command_line(capsys):
    assert main(["explain", "otsu", "--histogram", "2 3 1 0 0 2 4 2"]) == 0
    assert "threshold t* = 2" in capsys.readouterr().out
    assert main(["explain", "sobel", "--input", "1 2 3; 4 5 6; 7 8 9", "--row", "1"]) == 0
    assert "gx =" in capsys.readouterr().out
    assert main(["explain", "canny", "--input", "0 9 9; 0 9 9; 0 9 9", "--l2"]) == 0
    assert main(["explain", "morphology", "--input", "0 1; 1 1", "--shape", "cross"]) == 0
    assert main(["explain", "gaussian-kernel", "--size", "3", "--sigma", "0.8"]) == 0
    assert main(["explain", "otsu"]) == 1
    assert "ember: error: otsu: give either" in capsys.readouterr().err
