"""Fixtures for ember.vision's tests: OpenCV as the oracle, scikit-image's bundled photos
(they ship inside its wheel, so the tests run offline), cropped to keep the suite quick."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def cv2():
    return pytest.importorskip("cv2", reason="OpenCV (opencv-python-headless) is the oracle")


@pytest.fixture(scope="session")
def photos():
    """Grey and colour photos from scikit-image, cropped (full size where a test says)."""
    data = pytest.importorskip("skimage.data", reason="scikit-image ships the test photos")
    camera, coins, moon, astronaut = data.camera(), data.coins(), data.moon(), data.astronaut()
    return {
        "camera": camera[160:256, 192:320],       # the photographer's head and coat
        "coins": coins[40:136, 60:188],
        "moon": moon[200:296, 200:328],
        "astronaut": astronaut[30:126, 150:278],  # colour (H, W, 3)
        "camera_full": camera,
        "coins_full": coins,
        "astronaut_full": astronaut,
    }


@pytest.fixture(scope="session")
def grey_photos(photos):
    return [photos["camera"], photos["coins"], photos["moon"]]
