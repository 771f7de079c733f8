"""VGG-11/13/16/19 and their _bn variants: torchvision's counts, keys and forward values."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.models.vgg import cfgs, make_layers

# torchvision's documented counts (1000 classes)
COUNTS = {"vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
          "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
          "vgg19": 143_667_240, "vgg19_bn": 143_678_248}
# convolutions between the max pools, as in the paper's table 1 (configurations A B D E)
CONVS = {"vgg11": [1, 1, 2, 2, 2], "vgg13": [2, 2, 2, 2, 2], "vgg16": [2, 2, 3, 3, 3],
         "vgg19": [2, 2, 4, 4, 4]}


def expected_keys(name: str) -> list[str]:
    """torchvision's vgg.py keys: features numbered conv, [bn,] relu per layer, pool per
    stage; classifier Linear layers at 0, 3, 6."""
    bn = name.endswith("_bn")
    keys, index = [], 0
    for convs in CONVS[name.removesuffix("_bn")]:
        for _ in range(convs):
            keys += [f"features.{index}.weight", f"features.{index}.bias"]
            if bn:
                keys += [f"features.{index + 1}.{n}" for n in
                         ("weight", "bias", "running_mean", "running_var",
                          "num_batches_tracked")]
            index += 3 if bn else 2
        index += 1  # the max pool
    return keys + [f"classifier.{i}.{n}" for i in (0, 3, 6) for n in ("weight", "bias")]


# torchvision's documented "GFLOPS" at 224x224, which are multiply-accumulates
GMACS = {"vgg11": 7.61, "vgg13": 11.31, "vgg16": 15.47, "vgg19": 19.63}


@pytest.mark.parametrize("name", list(COUNTS))
def test_parameter_count_keys_and_forward_at_224(name, cheap_init):
    model = getattr(em.models, name)()
    assert sum(p.numel() for p in model.parameters()) == COUNTS[name]
    assert list(model.state_dict()) == expected_keys(name)
    info = em.summary(model, (3, 224, 224))  # one forward pass
    assert info.output_shape == (1, 1000)
    assert round(info.macs / 1e9, 2) == GMACS[name.removesuffix("_bn")]


def test_vgg16_named_keys_and_shapes(cheap_init):
    state = em.models.vgg16().state_dict()
    assert state["features.0.weight"].shape == (64, 3, 3, 3)
    assert state["features.28.weight"].shape == (512, 512, 3, 3)  # the 13th convolution
    assert state["classifier.0.weight"].shape == (4096, 25088)
    assert state["classifier.6.bias"].shape == (1000,)


def test_features_stack_3x3_convolutions_and_halve_at_each_pool():
    features = make_layers(cfgs["A"])
    convs = [m for m in features if isinstance(m, em.nn.Conv2d)]
    assert len(convs) == 8 and all(c.kernel_size == (3, 3) and c.padding == (1, 1)
                                   for c in convs)
    assert features(em.zeros(1, 3, 64, 64)).shape == (1, 512, 2, 2)
    assert sum(p.numel() for p in make_layers(cfgs["D"]).parameters()) == 14_714_688


def test_num_classes_and_in_channels(cheap_init):
    model = em.models.vgg11_bn(num_classes=10, in_channels=1, dropout=0.0).eval()
    assert model.features[0].weight.shape == (64, 1, 3, 3)
    assert model.classifier[6].weight.shape == (10, 4096)
    with em.no_grad():
        assert model(em.zeros(1, 1, 32, 32)).shape == (1, 10)
    with pytest.raises(ValueError, match="no pretrained weights"):
        em.models.vgg16(weights="IMAGENET1K_V1")


def test_torchvision_initialisation(cheap_init, monkeypatch):
    """Recorded rather than drawn (drawing VGG's 123M classifier weights takes seconds):
    kaiming normal (fan_out, relu) for convolutions, N(0, 0.01) for linear layers."""
    from ember.nn import init

    calls = []
    monkeypatch.setattr(init, "kaiming_normal_", lambda t, a=0, mode="fan_in",
                        nonlinearity="leaky_relu": calls.append(
                            ("kaiming", t.shape, mode, nonlinearity)))
    monkeypatch.setattr(init, "normal_", lambda t, mean=0.0, std=1.0: calls.append(
        ("normal", t.shape, mean, std)))
    model = em.models.vgg11()
    assert calls == [("kaiming", conv.weight.shape, "fan_out", "relu")
                     for conv in model.features if isinstance(conv, em.nn.Conv2d)] + [
        ("normal", (4096, 25088), 0, 0.01), ("normal", (4096, 4096), 0, 0.01),
        ("normal", (1000, 4096), 0, 0.01)]


def test_matches_torchvision_architecture(cheap_init, torch):
    """vgg11_bn with random weights and BatchNorm statistics from the torch reference."""
    import torchvision_reference as tv

    reference = tv.vgg("A", batch_norm=True, num_classes=10).eval()
    tv.randomize_batchnorm(reference)
    model = em.models.vgg11_bn(num_classes=10).eval()
    model.load_state_dict(reference.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with em.no_grad():
        got = model(em.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
