"""AlexNet: torchvision's parameter count, keys and forward values."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em

# (key, shape, parameters) of torchvision's alexnet.py, in state_dict order
LAYERS = [("features.0", (64, 3, 11, 11), 23_296), ("features.3", (192, 64, 5, 5), 307_392),
          ("features.6", (384, 192, 3, 3), 663_936), ("features.8", (256, 384, 3, 3), 884_992),
          ("features.10", (256, 256, 3, 3), 590_080), ("classifier.1", (4096, 9216), 37_752_832),
          ("classifier.4", (4096, 4096), 16_781_312), ("classifier.6", (1000, 4096), 4_097_000)]


def test_parameter_count_and_keys_match_torchvision(cheap_init):
    model = em.models.alexnet()
    assert sum(p.numel() for p in model.parameters()) == 61_100_840
    state = model.state_dict()
    assert list(state) == [f"{name}.{p}" for name, _, _ in LAYERS for p in ("weight", "bias")]
    for name, shape, count in LAYERS:
        assert state[f"{name}.weight"].shape == shape
        assert state[f"{name}.weight"].numel() + state[f"{name}.bias"].numel() == count


def test_forward_at_224_and_the_sizes_on_the_way(cheap_init):
    info = em.summary(em.models.alexnet(), (3, 224, 224))
    shapes = {layer.name: layer.output_shape for layer in info.layers}
    assert shapes["features.0"] == (1, 64, 55, 55)  # floor((224 + 4 - 11) / 4) + 1
    assert shapes["features.2"] == (1, 64, 27, 27)  # (55 - 3) / 2 + 1
    assert shapes["features.12"] == (1, 256, 6, 6)
    assert info.output_shape == (1, 1000)
    assert round(info.macs / 1e9, 2) == 0.71  # torchvision's "GFLOPS" (MACs)


def test_arguments(cheap_init):
    model = em.models.alexnet(num_classes=10, in_channels=1, dropout=0.25).eval()
    assert model.features[0].weight.shape == (64, 1, 11, 11)
    assert model.classifier[0].p == 0.25
    with em.no_grad():
        assert model(em.zeros(2, 1, 63, 63)).shape == (2, 10)  # the smallest size
    with pytest.raises(ValueError, match="no pretrained weights"):
        em.models.alexnet(weights="DEFAULT")


def test_matches_torchvision_architecture(cheap_init, torch):
    import torchvision_reference as tv

    reference = tv.alexnet(num_classes=10).eval()
    model = em.models.alexnet(num_classes=10).eval()
    model.load_state_dict(reference.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3, 100, 100)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with em.no_grad():
        got = model(em.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
