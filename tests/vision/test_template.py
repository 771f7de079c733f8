"""Template matching against cv2.matchTemplate, all six methods."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V

METHODS = {"sqdiff": "TM_SQDIFF", "sqdiff_normed": "TM_SQDIFF_NORMED", "ccorr": "TM_CCORR",
           "ccorr_normed": "TM_CCORR_NORMED", "ccoeff": "TM_CCOEFF",
           "ccoeff_normed": "TM_CCOEFF_NORMED"}


def _textured(image, shape):
    """Windows with a standard deviation of at least 4 grey levels: on flatter windows
    OpenCV's float32 sums cancel and its normalised scores are off by more than 1e-4
    (ours are float64; see test_scores_equal_the_definition)."""
    windows = np.lib.stride_tricks.sliding_window_view(image.astype(np.float64), shape[:2],
                                                       axis=(0, 1))
    return windows.std(axis=tuple(range(2, windows.ndim))) >= 4.0


@pytest.mark.parametrize("method", list(METHODS))
def test_match_template_equals_opencv(cv2, photos, rng, method):
    camera, coins, colour = photos["camera"], photos["coins"], photos["astronaut"]
    cases = [(camera, camera[30:54, 40:70]),
             (coins, rng.integers(0, 256, (15, 21), dtype=np.uint8)),
             (colour, colour[20:44, 60:90]),
             (coins.astype(np.float32) / 255, coins[10:30, 40:50].astype(np.float32) / 255)]
    for image, template in cases:
        expected = cv2.matchTemplate(image, template, getattr(cv2, METHODS[method]))
        out = V.match_template(image, template, method)
        assert out.shape == expected.shape and out.dtype == np.float32
        if method.endswith("normed"):
            grey = image * 255 if image.dtype == np.float32 else image
            keep = _textured(grey, template.shape)
            np.testing.assert_allclose(out[keep], expected[keep], atol=1e-4)
        else:
            scale = max(1.0, float(np.abs(expected).max()))
            np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * scale)


def test_scores_equal_the_definition(photos):
    image = photos["camera_full"][:90, :120] / 255.0  # the flat sky: a hard case
    template = image[30:45, 50:61].copy()
    windows = np.lib.stride_tricks.sliding_window_view(image, template.shape)
    t, w = template - template.mean(), windows - windows.mean(axis=(2, 3), keepdims=True)
    expected = {
        "sqdiff": ((windows - template) ** 2).sum(axis=(2, 3)),
        "ccorr": (windows * template).sum(axis=(2, 3)),
        "ccoeff": (w * t).sum(axis=(2, 3)),
        "ccoeff_normed": (w * t).sum(axis=(2, 3))
        / np.sqrt((w * w).sum(axis=(2, 3)) * (t * t).sum()),
        "ccorr_normed": (windows * template).sum(axis=(2, 3))
        / np.sqrt((windows ** 2).sum(axis=(2, 3)) * (template ** 2).sum()),
    }
    for method, value in expected.items():
        np.testing.assert_allclose(V.match_template(image, template, method), value,
                                   atol=1e-9, err_msg=method)


def test_best_match_is_where_the_template_was_cut(photos):
    image = photos["camera_full"].astype(np.float64)
    template = image[300:340, 200:232]
    for method in ("sqdiff", "sqdiff_normed", "ccoeff_normed", "ccorr_normed"):  # not ccoeff:
        # an unnormalised score favours bright windows, not only matching ones
        scores = V.match_template(image, template, method)
        best = scores.argmin() if method.startswith("sqdiff") else scores.argmax()
        assert np.unravel_index(best, scores.shape) == (300, 200), method
        assert scores.dtype == np.float64
    assert isinstance(V.match_template(em.tensor(image), em.tensor(template)), em.Tensor)


def test_flat_template_and_errors(cv2):
    flat_image, flat = np.full((20, 30), 7, np.uint8), np.full((5, 5), 7, np.uint8)
    for method, code in METHODS.items():
        np.testing.assert_allclose(V.match_template(flat_image, flat, method),
                                   cv2.matchTemplate(flat_image, flat, getattr(cv2, code)),
                                   atol=2e-4)
    with pytest.raises(ValueError, match="template .* is larger than the image"):
        V.match_template(np.zeros((5, 5)), np.zeros((6, 2)))
    with pytest.raises(ValueError, match="unknown method 'sad'"):
        V.match_template(np.zeros((5, 5)), np.zeros((2, 2)), "sad")
