"""Image layouts in and out, and OpenCV's border modes (against cv2.borderInterpolate and
cv2.copyMakeBorder)."""

from __future__ import annotations

import numpy as np
import pytest
from vision_oracle import BORDERS, cv_border

import ember as em
import ember.vision as V
from ember.vision.border import border_mode, pad2d, pad2d_array
from ember.vision.layout import Planes


@pytest.mark.parametrize("border", list(BORDERS))
@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_border_index_equals_opencv(cv2, border, size):
    positions = np.arange(-13, size + 13)
    expected = [cv2.borderInterpolate(int(p), size, cv_border(cv2, border)) for p in positions]
    assert V.border_index(positions, size, border).tolist() == expected


@pytest.mark.parametrize("border", list(BORDERS))
def test_pad_equals_copy_make_border(cv2, rng, border):
    x = rng.integers(0, 256, (5, 7)).astype(np.uint8)
    pads = (3, 6, 9, 2)  # wider than the image on purpose: the border keeps reflecting
    expected = cv2.copyMakeBorder(x, *pads, cv_border(cv2, border), value=17)
    np.testing.assert_array_equal(pad2d_array(x, pads, border, 17), expected)
    padded = pad2d(em.tensor(x.astype(np.float64)), pads, border, 17)
    np.testing.assert_array_equal(padded.numpy(), expected)


def test_border_aliases_and_errors():
    assert border_mode("default") == "reflect101"
    assert border_mode("BORDER_WRAP".removeprefix("BORDER_")) == "circular"
    assert border_mode("symmetric") == "reflect"
    with pytest.raises(ValueError, match="unknown border 'mirror'.*reflect101"):
        V.gaussian_blur2d(np.zeros((4, 4)), 3, 1.0, border="mirror")


@pytest.mark.parametrize("shape", [(6, 7), (6, 7, 3)])
def test_arrays_come_back_as_arrays(shape, rng):
    x = rng.random(shape)
    planes = Planes(x, "demo")
    assert planes.array.shape == (1, 1 if len(shape) == 2 else 3, 6, 7)
    np.testing.assert_array_equal(planes.back(planes.array), x)
    y = V.box_blur(x, 3)
    assert isinstance(y, np.ndarray) and y.shape == shape and y.dtype == x.dtype


@pytest.mark.parametrize("shape", [(6, 7), (3, 6, 7), (2, 3, 6, 7)])
def test_tensors_come_back_as_tensors(shape, rng):
    x = em.tensor(rng.random(shape))
    y = V.gaussian_blur2d(x, 3, 1.0)
    assert isinstance(y, em.Tensor) and y.shape == shape and y.dtype == em.float64
    flat = x.numpy().reshape((-1,) + shape[-2:])
    for plane, out in zip(flat, y.numpy().reshape(flat.shape), strict=True):
        np.testing.assert_allclose(out, V.gaussian_blur2d(plane, 3, 1.0), atol=1e-15)


def test_channels_last_array_equals_channels_first_tensor(photos):
    colour = photos["astronaut"]
    from_array = V.gaussian_blur2d(colour, 5, 1.2)
    from_tensor = V.gaussian_blur2d(em.tensor(colour.transpose(2, 0, 1)), 5, 1.2)
    np.testing.assert_array_equal(from_array, from_tensor.numpy().transpose(1, 2, 0))


def test_bad_images_are_named():
    with pytest.raises(ValueError, match=r"sobel: expected an array .* \(H, W\) or \(H, W, C\)"):
        V.sobel(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="box_blur: the image is empty"):
        V.box_blur(np.zeros((0, 4)), 3)
    with pytest.raises(ValueError, match=r"median_blur: expected a tensor of shape"):
        V.median_blur(em.zeros(5))


@pytest.mark.parametrize("border", list(BORDERS))
def test_graph_and_plain_paths_agree(rng, border):
    """Filters take conv2d when a graph is recorded, shifted sums otherwise: the same."""
    x = rng.standard_normal((2, 7, 9))
    kernel = rng.standard_normal((4, 3))
    ops = [lambda t: V.filter2d(t, kernel, border), lambda t: V.gaussian_blur2d(t, 5, 1.1, border),
           lambda t: V.sobel(t, 1, 1, 5, border=border), lambda t: V.laplacian(t, 5, border=border),
           lambda t: V.box_blur(t, (2, 4), border)]
    for op in ops:
        plain = op(em.tensor(x)).numpy()
        graph = op(em.tensor(x, requires_grad=True)).detach().numpy()
        np.testing.assert_allclose(plain, graph, atol=1e-12)
    one_side = pad2d(em.tensor(x, requires_grad=True), (0, 2, 3, 0), border, 1.5)
    np.testing.assert_array_equal(one_side.detach().numpy(), pad2d_array(x, (0, 2, 3, 0), border, 1.5))
