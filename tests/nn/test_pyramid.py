"""SpatialPyramidPooling (fixed length at any size) and ASPP (torchvision's DeepLab
form), against PyTorch in float64, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from tests.vision.torchvision_oracle import import_torchvision


def _spp_reference(x: np.ndarray, levels, mode: str) -> np.ndarray:
    """NumPy: for each level n, each (row bin, column bin) with PyTorch's adaptive bounds."""
    n_batch, channels, h, w = x.shape
    parts = []
    for n in levels:
        out = np.empty((n_batch, channels, n, n))
        for i in range(n):
            r0, r1 = i * h // n, -(-(i + 1) * h // n)
            for j in range(n):
                c0, c1 = j * w // n, -(-(j + 1) * w // n)
                window = x[:, :, r0:r1, c0:c1]
                out[:, :, i, j] = window.max(axis=(2, 3)) if mode == "max" else \
                    window.mean(axis=(2, 3))
        parts.append(out.reshape(n_batch, -1))
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (4, 4), (7, 7), (13, 9), (32, 31)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spp_has_a_fixed_length_at_any_size(size, mode):
    x = np.random.default_rng(0).standard_normal((2, 3, *size))
    spp = nn.SpatialPyramidPooling(mode=mode)
    out = spp(em.tensor(x))
    assert out.shape == (2, 3 * 21) == (2, spp.output_length(3))
    np.testing.assert_allclose(out.numpy(), _spp_reference(x, (4, 2, 1), mode), rtol=1e-12)


def test_spp_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 4, 11, 6))
    weights = np.random.default_rng(2).standard_normal((2, 4 * (9 + 4 + 1)))
    xt = torch.tensor(x, requires_grad=True)
    expected = torch.cat([torch.nn.functional.adaptive_max_pool2d(xt, n).flatten(1)
                          for n in (3, 2, 1)], dim=1)
    (expected * torch.from_numpy(weights)).sum().backward()
    xe = em.tensor(x, requires_grad=True)
    got = F.spatial_pyramid_pool(xe, levels=(3, 2, 1))
    (got * em.tensor(weights)).sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_spp_unbatched_and_errors():
    assert F.spatial_pyramid_pool(em.zeros(5, 8, 8), levels=(2,)).shape == (20,)
    with pytest.raises(ValueError, match="mode"):
        nn.SpatialPyramidPooling(mode="median")
    with pytest.raises(ValueError, match="levels"):
        F.spatial_pyramid_pool(em.zeros(1, 1, 4, 4), levels=(2, 0))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.spatial_pyramid_pool(em.zeros(4, 4))


def test_spp_makes_a_classifier_size_independent():
    em.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.SpatialPyramidPooling(),
                          nn.Linear(4 * 21, 3))
    for size in (9, 16, 27):
        assert model(em.zeros(2, 1, size, size + 3)).shape == (2, 3)


def test_aspp_matches_torchvision_in_training_mode(torchvision_aspp):
    """Float64, batch statistics, forward and every gradient (dropout off on both)."""
    torch, reference_class = torchvision_aspp
    torch.manual_seed(0)
    reference = reference_class(6, [2, 3], out_channels=4).double()
    reference.project[3].p = 0.0
    aspp = nn.ASPP(6, atrous_rates=(2, 3), out_channels=4, dropout=0.0).double()
    assert list(aspp.state_dict()) == list(reference.state_dict())
    aspp.load_state_dict(reference.state_dict())
    x = np.random.default_rng(3).standard_normal((2, 6, 9, 7))
    weights = np.random.default_rng(4).standard_normal((2, 4, 9, 7))
    xt = torch.tensor(x, requires_grad=True)
    expected = reference(xt)
    (expected * torch.from_numpy(weights)).sum().backward()
    xe = em.tensor(x, requires_grad=True)
    got = aspp(xe)
    (got * em.tensor(weights)).sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    grads = dict(reference.named_parameters())
    for name, p in aspp.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-10, err_msg=name)


@pytest.fixture
def torchvision_aspp():
    torch = pytest.importorskip("torch")
    deeplabv3 = import_torchvision("torchvision.models.segmentation.deeplabv3")
    return torch, deeplabv3.ASPP


def test_aspp_defaults_and_structure():
    aspp = nn.ASPP(32)
    assert aspp.atrous_rates == (6, 12, 18)  # output stride 16
    assert len(aspp.convs) == 5  # 1x1, three atrous, image pooling
    assert [b[0].dilation for b in list(aspp.convs)[1:4]] == [(6, 6), (12, 12), (18, 18)]
    assert aspp.project[0].in_channels == 5 * 256
    # the image-pooling branch is constant over the map
    with em.no_grad():
        pooled = aspp.convs[4].eval()(em.randn(1, 32, 5, 6)).numpy()
    np.testing.assert_allclose(pooled, np.broadcast_to(pooled[:, :, :1, :1], pooled.shape))
    with pytest.raises(ValueError, match="positive"):
        nn.ASPP(8, atrous_rates=(0, 2))
