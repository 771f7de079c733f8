"""Crops, flips, Resize and RandomRotation: torchvision's rules, PyTorch's resampling,
and repeatability under em.manual_seed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember.data import transforms as T
from ember.data.transforms import functional as F


def _image(shape=(2, 6, 7), seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


# ------------------------------------------------------------------------- crops and flips


def test_random_crop_is_a_window_of_the_padded_image():
    x = _image()
    padded = np.pad(x, [(0, 0), (2, 2), (2, 2)])
    seen = set()
    for _ in range(200):
        out = T.RandomCrop((6, 7), padding=2)(x)
        assert out.shape == (2, 6, 7)
        hits = [(i, j) for i in range(5) for j in range(5)
                if np.array_equal(padded[:, i:i + 6, j:j + 7], out)]
        assert hits
        seen.update(hits)
    assert len(seen) == 25  # every offset is reachable


def test_random_crop_repeats_under_manual_seed_and_keeps_tensors():
    x = em.tensor(_image())
    em.manual_seed(4)
    a = T.RandomCrop(4)(x)
    em.manual_seed(4)
    b = T.RandomCrop(4)(x)
    assert isinstance(a, em.Tensor) and a.shape == (2, 4, 4) and em.equal(a, b)


@pytest.mark.parametrize("ours, theirs", [("edge", "replicate"), ("reflect", "reflect"),
                                          ("constant", "constant")])
def test_padding_modes_match_pytorch(torch, ours, theirs):
    x = _image((2, 5, 6))
    out = F.pad(x, (1, 2, 3, 4), padding_mode=ours)  # left, top, right, bottom
    expected = torch.nn.functional.pad(torch.from_numpy(x)[None], (1, 3, 2, 4), mode=theirs)
    assert np.array_equal(out, expected[0].numpy())
    row = np.array([[1, 2, 3]])
    assert F.pad(row, [2, 0], padding_mode="symmetric").tolist() == [[2, 1, 1, 2, 3, 3, 2]]
    assert F.pad(np.zeros((3, 1, 1)), 1, fill=(1, 2, 3))[:, 0, 0].tolist() == [1, 2, 3]


def test_random_crop_pad_if_needed_and_errors():
    out = T.RandomCrop((8, 9), pad_if_needed=True, fill=0.5)(_image((1, 6, 7)))
    assert out.shape == (1, 8, 9)
    with pytest.raises(ValueError, match=r"required crop size \(8, 8\) is larger than the "
                                         r"input image size \(6, 7\)"):
        T.RandomCrop(8)(_image())
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(4, padding=1, padding_mode="wrap")
    with pytest.raises(ValueError, match="padding must be"):
        T.RandomCrop(4, padding=(1, 2, 3))


def test_center_crop_offsets_and_padding():
    x = np.arange(5 * 6, dtype=np.float32).reshape(1, 5, 6)
    # torchvision: top = round((5 - 2) / 2) = 2 (round half to even), left = round(2.0) = 2
    assert np.array_equal(T.CenterCrop((2, 2))(x), x[:, 2:4, 2:4])
    assert np.array_equal(T.CenterCrop(3)(x), x[:, 1:4, 2:5])  # left = round(1.5) = 2
    big = T.CenterCrop((7, 8))(x)
    assert big.shape == (1, 7, 8) and np.array_equal(big[:, 1:6, 1:7], x)
    assert big[:, 0].sum() == 0 and big[:, :, 0].sum() == 0


def test_flips():
    x = _image()
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[:, :, ::-1])
    assert np.array_equal(T.RandomVerticalFlip(p=1.0)(x), x[:, ::-1, :])
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    flips = sum(not np.array_equal(T.RandomHorizontalFlip(p=0.3)(x), x) for _ in range(2000))
    assert 500 < flips < 700
    with pytest.raises(ValueError, match="probability"):
        T.RandomVerticalFlip(p=1.5)


# ------------------------------------------------------------------------- resize


@pytest.mark.parametrize("size", [(12, 14), (3, 4), (6, 7), (9, 5), (1, 1)])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_matches_pytorch_interpolate(torch, size, mode):
    x = _image((2, 6, 7))
    out = T.Resize(size, interpolation=mode)(em.tensor(x))
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    expected = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size,
                                               mode=mode, **kwargs)[0]
    assert out.shape == (2, *size) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_resize_int_matches_the_shorter_side_and_keeps_uint8():
    assert T.Resize(10)(np.zeros((1, 20, 30))).shape == (1, 10, 15)
    assert T.Resize(10)(np.zeros((1, 31, 20))).shape == (1, 15, 10)
    image = np.array([[[0, 255], [255, 0]]], dtype=np.uint8)
    up = T.Resize(4)(image)
    assert up.dtype == np.uint8 and up.min() == 0 and up.max() == 255
    with pytest.raises(ValueError, match="interpolation"):
        T.Resize(4, interpolation="bicubic")


# ------------------------------------------------------------------------- rotation


def torchvision_rotate(torch, image, angle, mode, expand=False, center=None):
    """torchvision.transforms.functional.rotate on a tensor, transcribed step by step
    (the inverse affine matrix for -angle, the pixel-centre grid, grid_sample)."""
    _, h, w = image.shape
    cx, cy = (0.0, 0.0) if center is None else (center[0] - 0.5 * w, center[1] - 0.5 * h)
    rot = math.radians(-angle)
    a, b, c, d = math.cos(rot), -math.sin(rot), math.sin(rot), math.cos(rot)
    m = [d, -b, 0.0, -c, a, 0.0]
    m[2] += m[0] * -cx + m[1] * -cy + cx
    m[5] += m[3] * -cx + m[4] * -cy + cy
    ow, oh = w, h
    if expand:
        corners = torch.tensor([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                                [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]],
                               dtype=torch.float32)
        points = corners @ torch.tensor(m, dtype=torch.float32).view(2, 3).T
        half = torch.tensor([0.5 * w, 0.5 * h], dtype=torch.float32)
        low, high = points.min(0).values + half, points.max(0).values + half
        size = torch.ceil((high / 1e-4).trunc() * 1e-4) - torch.floor((low / 1e-4).trunc()
                                                                      * 1e-4)
        ow, oh = int(size[0]), int(size[1])
    theta = torch.tensor(m).view(1, 2, 3)
    base = torch.empty(1, oh, ow, 3)
    base[..., 0] = torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow)
    base[..., 1] = torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh).unsqueeze(-1)
    base[..., 2] = 1.0
    grid = base.view(1, -1, 3).bmm(theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h]))
    return torch.nn.functional.grid_sample(torch.from_numpy(image)[None].double(),
                                           grid.view(1, oh, ow, 2), mode=mode,
                                           padding_mode="zeros", align_corners=False)[0]


@pytest.mark.parametrize("angle", [17.3, -41.0, 135.5, 200.0])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("expand", [False, True])
def test_rotate_matches_torchvision(torch, angle, mode, expand):
    x = _image((2, 9, 12)).astype(np.float64)
    out = F.rotate(x, angle, interpolation=mode, expand=expand)
    expected = torchvision_rotate(torch, x, angle, mode, expand=expand).numpy()
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, atol=1e-9)


def test_rotate_about_a_given_center_matches_torchvision(torch):
    x = _image((1, 8, 8)).astype(np.float64)
    out = F.rotate(x, 30.0, interpolation="bilinear", center=(2.0, 5.0))
    expected = torchvision_rotate(torch, x, 30.0, "bilinear", center=(2.0, 5.0))
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-9)


def test_rotate_quarter_turns_are_exact():
    x = _image((3, 28, 28))
    assert np.array_equal(F.rotate(x, 90), np.rot90(x, 1, axes=(1, 2)))
    assert np.array_equal(F.rotate(x, -90), np.rot90(x, -1, axes=(1, 2)))
    assert np.array_equal(F.rotate(x, 180, interpolation="bilinear"), x[:, ::-1, ::-1])
    assert np.array_equal(F.rotate(x, 0), x)
    assert F.rotate(x, 45, expand=True).shape == (3, 40, 40)
    assert F.rotate(np.zeros((1, 20, 30)), 90, expand=True).shape == (1, 30, 20)


def test_rotation_fill_dtype_and_batches():
    ones = np.ones((2, 10, 10), np.float32)
    out = F.rotate(ones, 45, fill=(0.25, 0.75))
    assert out.dtype == np.float32
    assert out[0, 0, 0] == 0.25 and out[1, 0, 0] == 0.75 and out[0, 5, 5] == 1.0
    image = np.full((1, 6, 6), 200, np.uint8)
    assert F.rotate(image, 30, interpolation="bilinear").dtype == np.uint8
    batch = _image((4, 1, 6, 6))
    rotated = F.rotate(batch, 90)
    assert all(np.array_equal(rotated[i], np.rot90(batch[i], 1, axes=(1, 2))) for i in range(4))
    with pytest.raises(ValueError, match="one value per channel"):
        F.rotate(ones, 10, fill=(1, 2, 3))


def test_random_rotation_draws_from_the_range_and_repeats():
    x = em.tensor(_image((1, 9, 9)))
    em.manual_seed(8)
    a = T.RandomRotation((10, 20), interpolation="bilinear")(x)
    em.manual_seed(8)
    angle = T.RandomRotation.get_params((10.0, 20.0))
    assert 10 <= angle <= 20
    expected = F.rotate(x.numpy(), angle, interpolation="bilinear")
    assert isinstance(a, em.Tensor) and np.array_equal(a.numpy(), expected)
    angles = [T.RandomRotation.get_params((-5.0, 5.0)) for _ in range(500)]
    assert -5 <= min(angles) < -4 and 4 < max(angles) <= 5


def test_random_rotation_errors():
    with pytest.raises(ValueError, match="non-negative"):
        T.RandomRotation(-10)
    with pytest.raises(ValueError, match="sequence of 2"):
        T.RandomRotation((1, 2, 3))
    with pytest.raises(ValueError, match="'nearest' or 'bilinear'"):
        T.RandomRotation(10, interpolation="bicubic")
    with pytest.raises(ValueError, match="center"):
        T.RandomRotation(10, center=5)
    assert T.RandomRotation(30).degrees == (-30.0, 30.0)
