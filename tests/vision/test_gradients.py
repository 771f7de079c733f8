"""The differentiable operations against PyTorch in float64 (values and gradients: the
same filter written with torch's conv2d and the oracle's border indices), and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
from vision_oracle import torch_pad

import ember as em
import ember.vision as V
from ember.testing import assert_close, gradcheck

BORDERS = ["reflect101", "reflect", "replicate", "constant", "circular"]


def _torch_correlate(torch, cv2, x, kernel, border):
    """x (N, 1, H, W) correlated with a 2-d kernel anchored at its centre, in torch."""
    kh, kw = kernel.shape
    padded = torch_pad(torch, cv2, x, (kh // 2, kh - 1 - kh // 2, kw // 2, kw - 1 - kw // 2),
                       border)
    return torch.nn.functional.conv2d(padded, kernel[None, None])


def _compare(torch, ours, theirs, x_np, rng, extra=()):
    """Values and every gradient of ``ours(x, *extra)`` against ``theirs`` in float64."""
    xe = em.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    ee = [em.tensor(a, requires_grad=True) for a in extra]
    et = [torch.tensor(a, requires_grad=True) for a in extra]
    ye, yt = ours(xe, *ee), theirs(xt, *et)
    assert_close(ye, yt.detach().numpy(), rtol=1e-12, atol=1e-12, name="forward")
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(em.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12, name="image gradient")
    for a, b in zip(ee, et, strict=True):
        assert_close(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12, name="kernel gradient")


@pytest.mark.parametrize("border", BORDERS)
def test_gaussian_blur_gradient(torch, cv2, rng, border):
    x = rng.standard_normal((2, 3, 9, 11))
    g = V.gaussian_kernel2d((5, 3), (1.2, 0.7)).numpy()

    def theirs(t):
        flat = t.reshape(6, 1, 9, 11)
        return _torch_correlate(torch, cv2, flat, torch.tensor(g), border).reshape(2, 3, 9, 11)

    _compare(torch, lambda t: V.gaussian_blur2d(t, (5, 3), (1.2, 0.7), border), theirs, x, rng)


@pytest.mark.parametrize("border", ["reflect101", "reflect", "circular"])
def test_filter2d_gradient_in_image_and_kernel(torch, cv2, rng, border):
    x, kernel = rng.standard_normal((8, 10)), rng.standard_normal((4, 3))

    def theirs(t, k):
        return _torch_correlate(torch, cv2, t[None, None], k, border)[0, 0]

    _compare(torch, lambda t, k: V.filter2d(t, k, border), theirs, x, rng, extra=(kernel,))
    kx, ky = rng.standard_normal(5), rng.standard_normal(3)
    _compare(torch, lambda t, a, b: V.sep_filter2d(t, a, b, border),
             lambda t, a, b: _torch_correlate(torch, cv2, t[None, None], b[:, None] * a[None, :],
                                              border)[0, 0], x, rng, extra=(kx, ky))


def test_box_sobel_laplacian_gradients(torch, cv2, rng):
    x = rng.standard_normal((9, 12))
    for ksize, dx, dy in [(3, 1, 0), (5, 0, 2), (1, 1, 1), (-1, 0, 1)]:
        kx, ky = V.deriv_kernels(dx, dy, ksize)
        kernel = torch.tensor(np.outer(ky, kx))
        _compare(torch, lambda t, a=dx, b=dy, k=ksize: V.sobel(t, a, b, k),
                 lambda t, k=kernel: _torch_correlate(torch, cv2, t[None, None], k,
                                                      "reflect101")[0, 0], x, rng)
    lap = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    _compare(torch, V.laplacian,
             lambda t: _torch_correlate(torch, cv2, t[None, None], lap, "reflect101")[0, 0],
             x, rng)
    box = torch.full((3, 4), 1 / 12)
    _compare(torch, lambda t: V.box_blur(t, (3, 4), "replicate"),
             lambda t: _torch_correlate(torch, cv2, t[None, None], box, "replicate")[0, 0], x, rng)
    roberts = torch.tensor([[1.0, 0], [0, -1]])
    _compare(torch, lambda t: V.gradient(t, "roberts")[0],
             lambda t: _torch_correlate(torch, cv2, t[None, None], roberts, "reflect101")[0, 0],
             x, rng)


def test_magnitude_direction_grey_gradients(torch, rng):
    gx, gy = rng.standard_normal((2, 6, 7))
    _compare(torch, lambda a, b: V.magnitude(a, b), lambda a, b: torch.sqrt(a * a + b * b),
             gx, rng, extra=(gy,))
    _compare(torch, lambda a, b: V.magnitude(a, b, "l1"), lambda a, b: a.abs() + b.abs(),
             gx, rng, extra=(gy,))
    _compare(torch, lambda a, b: V.direction(a, b), lambda a, b: torch.atan2(b, a),
             gx, rng, extra=(gy,))
    colour = rng.random((3, 5, 6))
    _compare(torch, V.rgb_to_grayscale,
             lambda t: (0.299 * t[0] + 0.587 * t[1] + 0.114 * t[2])[None], colour, rng)
    zero = em.zeros(3, dtype=em.float64, requires_grad=True)  # |g| = 0: gradient 0, not nan
    V.magnitude(zero, zero).sum().backward()
    assert np.all(zero.grad.numpy() == 0)


def test_gaussian_sigma_gradient(torch, rng):
    sigma_e = em.tensor(1.3, dtype=em.float64, requires_grad=True)
    sigma_t = torch.tensor(1.3, requires_grad=True)
    kernel_e = V.gaussian_kernel(7, sigma_e)
    offsets = torch.arange(7, dtype=torch.float64) - 3
    weights = torch.exp(-offsets**2 / (2 * sigma_t**2))
    kernel_t = weights / weights.sum()
    assert_close(kernel_e, kernel_t.detach().numpy(), rtol=1e-14, atol=1e-15)
    g = rng.standard_normal(7)
    kernel_e.backward(em.tensor(g))
    kernel_t.backward(torch.tensor(g))
    assert np.isclose(sigma_e.grad.item(), sigma_t.grad.item(), rtol=1e-12)
    x = em.tensor(rng.standard_normal((6, 7)))
    assert gradcheck(lambda s: V.gaussian_blur2d(x, 5, s), (em.tensor(0.9, dtype=em.float64,
                                                                      requires_grad=True),))


def test_gradcheck_filters(rng):
    x = em.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    assert gradcheck(lambda t: V.gaussian_blur2d(t, 3, 0.8, "reflect"), (x,))
    assert gradcheck(lambda t: V.box_blur(t, 2, "circular"), (x,))
    assert gradcheck(lambda t: V.magnitude(*V.gradient(t, "prewitt")), (x,))
    assert gradcheck(lambda t: V.direction(*V.gradient(t, "sobel")), (x,))
