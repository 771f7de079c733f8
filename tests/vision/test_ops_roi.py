"""roi_align against torchvision's Python RoIAlign (float64, forward and input gradient),
and roi_align / roi_pool against direct transcriptions of torchvision's CPU kernels
(boxes partly outside the map, empty bins, ties), which the C++ extension would run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from torchvision_oracle import roi_align_python

import ember as em
from ember.testing import assert_close, gradcheck
from ember.vision import ops


def random_rois(rng, k, n, size, margin=0.0):
    """(K, 5) rows (batch index, x1, y1, x2, y2): inside a size x size field, or with
    ``margin`` reaching that far beyond it."""
    xy = rng.uniform(-margin, size - 2, (k, 2))
    wh = rng.uniform(0.3, size / 1.5, (k, 2))
    far = np.minimum(xy + wh, size) if margin == 0 else xy + wh
    return np.concatenate([rng.integers(0, n, (k, 1)), xy, far], axis=1)


def kernel_roi_align(x, rois, out_h, out_w, scale, sampling, aligned):
    """torchvision's roi_align CPU kernel, sample by sample."""
    _, c, h, w = x.shape
    out = np.zeros((len(rois), c, out_h, out_w))

    def bilinear(image, y, xx):
        if y < -1.0 or y > h or xx < -1.0 or xx > w:
            return np.zeros(c)
        y, xx = max(y, 0.0), max(xx, 0.0)
        y0, x0 = int(y), int(xx)
        if y0 >= h - 1:
            y0 = y1 = h - 1
            y = float(y0)
        else:
            y1 = y0 + 1
        if x0 >= w - 1:
            x0 = x1 = w - 1
            xx = float(x0)
        else:
            x1 = x0 + 1
        ly, lx = y - y0, xx - x0
        return ((1 - ly) * (1 - lx) * image[:, y0, x0] + (1 - ly) * lx * image[:, y0, x1]
                + ly * (1 - lx) * image[:, y1, x0] + ly * lx * image[:, y1, x1])

    offset = 0.5 if aligned else 0.0
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sw, sh = x1 * scale - offset, y1 * scale - offset
        rw, rh = x2 * scale - offset - sw, y2 * scale - offset - sh
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / out_h, rw / out_w
        gh = sampling if sampling > 0 else math.ceil(rh / out_h)
        gw = sampling if sampling > 0 else math.ceil(rw / out_w)
        count = max(gh * gw, 1)
        for ph in range(out_h):
            for pw in range(out_w):
                total = np.zeros(c)
                for iy in range(gh):
                    y = sh + ph * bh + (iy + 0.5) * bh / gh
                    for ix in range(gw):
                        xx = sw + pw * bw + (ix + 0.5) * bw / gw
                        total += bilinear(x[int(b)], y, xx)
                out[k, :, ph, pw] = total / count
    return out


def kernel_roi_pool(x, rois, out_h, out_w, scale):
    """torchvision's roi_pool CPU kernel: (output, argmax) with argmax = h * W + w."""
    _, c, h, w = x.shape
    out = np.zeros((len(rois), c, out_h, out_w))
    argmax = -np.ones(out.shape, dtype=np.int64)

    def c_round(v):
        return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)

    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sw, sh, ew, eh = (c_round(v * scale) for v in (x1, y1, x2, y2))
        bh, bw = max(eh - sh + 1, 1) / out_h, max(ew - sw + 1, 1) / out_w
        for ph in range(out_h):
            h0 = min(max(math.floor(ph * bh) + sh, 0), h)
            h1 = min(max(math.ceil((ph + 1) * bh) + sh, 0), h)
            for pw in range(out_w):
                w0 = min(max(math.floor(pw * bw) + sw, 0), w)
                w1 = min(max(math.ceil((pw + 1) * bw) + sw, 0), w)
                if h1 <= h0 or w1 <= w0:
                    continue
                for ch in range(c):
                    best, where = -np.inf, -1
                    for yy in range(h0, h1):
                        for xx in range(w0, w1):
                            if x[int(b), ch, yy, xx] > best:
                                best, where = x[int(b), ch, yy, xx], yy * w + xx
                    out[k, ch, ph, pw], argmax[k, ch, ph, pw] = best, where
    return out, argmax


ALIGN_CASES = [
    dict(output_size=(3, 2), spatial_scale=1.0, sampling_ratio=-1, aligned=False),
    dict(output_size=(3, 2), spatial_scale=1.0, sampling_ratio=-1, aligned=True),
    dict(output_size=2, spatial_scale=0.5, sampling_ratio=2, aligned=False),
    dict(output_size=(2, 4), spatial_scale=0.5, sampling_ratio=3, aligned=True),
]


@pytest.mark.parametrize("kwargs", ALIGN_CASES, ids=[str(k) for k in ALIGN_CASES])
def test_roi_align_matches_torchvision(torch, rng, kwargs):
    reference = roi_align_python()
    x = rng.standard_normal((2, 3, 9, 10))
    rois = random_rois(rng, 6, 2, 9 / kwargs["spatial_scale"])  # inside the map
    xe, xt = em.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye = ops.roi_align(xe, em.tensor(rois), **kwargs)
    size = kwargs["output_size"]
    size = (size, size) if isinstance(size, int) else size
    yt = reference(xt, torch.tensor(rois), kwargs["spatial_scale"], size[0], size[1],
                   kwargs["sampling_ratio"], kwargs["aligned"])
    assert_close(ye, yt, rtol=1e-12, atol=1e-12, name="forward")
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(em.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad, rtol=1e-12, atol=1e-12, name="input gradient")


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling", [-1, 2])
def test_roi_align_follows_the_kernel_outside_the_map(rng, aligned, sampling):
    x = rng.standard_normal((2, 2, 6, 7))
    rois = random_rois(rng, 8, 2, 8, margin=3)  # some samples fall outside [-1, H]
    rois[0, 1:] = [2.0, 2.0, 2.0, 2.0]  # an empty box
    got = ops.roi_align(em.tensor(x), em.tensor(rois), (2, 3), 0.9, sampling, aligned)
    expected = kernel_roi_align(x, rois, 2, 3, 0.9, sampling, aligned)
    assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_roi_pool_matches_the_kernel_values_and_gradient(rng):
    x = rng.standard_normal((2, 3, 8, 9))
    x[0, 0, 2:4, 2:4] = 5.0  # ties: the first in row-major order wins
    rois = random_rois(rng, 7, 2, 12, margin=2)
    rois[0] = [0, 1.5, 1.5, 4.5, 4.5]  # .5 rounds away from zero
    rois[1] = [1, 7.6, 6.6, 20, 20]  # mostly outside: empty bins
    expected, argmax = kernel_roi_pool(x, rois, 3, 2, 0.75)
    xe = em.tensor(x, requires_grad=True)
    got = ops.roi_pool(xe, em.tensor(rois), (3, 2), 0.75)
    assert_close(got, expected, rtol=0, atol=0)
    g = rng.standard_normal(expected.shape)
    got.backward(em.tensor(g))
    grad = np.zeros_like(x)  # the kernel's backward: each bin's gradient to its argmax
    for k, b in enumerate(rois[:, 0].astype(int)):
        for ch, ph, pw in np.ndindex(3, 3, 2):
            if argmax[k, ch, ph, pw] >= 0:
                yy, xx = divmod(argmax[k, ch, ph, pw], 9)
                grad[b, ch, yy, xx] += g[k, ch, ph, pw]
    assert_close(xe.grad, grad, rtol=1e-12, atol=1e-12)


def test_box_lists_modules_and_gradcheck(rng):
    x = rng.standard_normal((2, 2, 5, 6))
    boxes = [em.tensor([[0.5, 0.5, 3.0, 4.0]]), em.tensor([[1.0, 0.0, 5.0, 2.5],
                                                          [0.0, 1.0, 2.0, 3.0]])]
    rows = np.array([[0, 0.5, 0.5, 3.0, 4.0], [1, 1.0, 0.0, 5.0, 2.5], [1, 0.0, 1.0, 2.0, 3.0]])
    align = ops.RoIAlign((2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=True)
    pool = ops.RoIPool(2, spatial_scale=1.0)
    assert_close(align(em.tensor(x), boxes), ops.roi_align(em.tensor(x), rows, 2, 1.0, 2, True))
    assert_close(pool(em.tensor(x), boxes), ops.roi_pool(em.tensor(x), rows, 2))
    assert "sampling_ratio=2" in repr(align)
    xe = em.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: ops.roi_align(t, boxes, 2, 1.0, -1, False), (xe,))
    empty = ops.roi_align(em.tensor(x), em.zeros(0, 5), 3)
    assert empty.shape == (0, 2, 3, 3)


def test_roi_errors():
    x = em.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"roi_align: boxes must be a \(K, 5\)"):
        ops.roi_align(x, em.zeros(2, 4), 2)
    with pytest.raises(ValueError, match=r"roi_pool: box batch indices must be in \[0, 0\]"):
        ops.roi_pool(x, em.tensor([[1.0, 0, 0, 1, 1]]), 2)
    with pytest.raises(ValueError, match=r"roi_align: input must be \(N, C, H, W\)"):
        ops.roi_align(em.zeros(4, 4), em.zeros(0, 5), 2)
