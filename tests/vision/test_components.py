"""Connected components against cv2.connectedComponents(WithStats): the same labels."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
import ember.vision as V


@pytest.mark.parametrize("connectivity", [4, 8])
def test_labels_and_stats_equal_opencv(cv2, photos, rng, connectivity):
    images = [(photos["camera_full"] > 100), (photos["coins_full"] > 120),
              rng.random((97, 131)) > 0.5, rng.random((60, 50)) > 0.75,
              np.zeros((4, 5), bool), np.eye(6, dtype=bool)]
    for image in images:
        binary = image.astype(np.uint8)
        count, labels = V.connected_components(binary, connectivity)
        expected_count, expected = cv2.connectedComponents(binary, connectivity=connectivity)
        assert count == expected_count
        np.testing.assert_array_equal(labels, expected)
        _, _, stats = V.connected_components(image, connectivity, return_stats=True)
        _, _, expected_stats, centroids = cv2.connectedComponentsWithStats(
            binary, connectivity=connectivity)
        ours, our_centroids = stats.as_opencv()
        present = stats.area > 0
        np.testing.assert_array_equal(ours[present], expected_stats[present])
        np.testing.assert_allclose(our_centroids[present], centroids[present], rtol=1e-12)


def test_components_layouts():
    x = em.tensor(np.array([[1, 0, 1], [1, 0, 1]], np.uint8))
    count, labels = V.connected_components(x)
    assert count == 3 and isinstance(labels, em.Tensor)
    assert labels.numpy().tolist() == [[1, 0, 2], [1, 0, 2]]
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        V.connected_components(x, 6)
    with pytest.raises(ValueError, match="expects one image plane"):
        V.connected_components(np.zeros((3, 3, 2)))
