"""ResNet-18/34/50/101: torchvision's parameter counts, state_dict keys and forward values."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.models.resnet import BasicBlock, Bottleneck, ResNet

# torchvision's documented counts (1000 classes)
COUNTS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
          "resnet101": 44_549_160}
LAYOUT = {"resnet18": ("basic", [2, 2, 2, 2]), "resnet34": ("basic", [3, 4, 6, 3]),
          "resnet50": ("bottleneck", [3, 4, 6, 3]), "resnet101": ("bottleneck", [3, 4, 23, 3])}


def _bn(prefix: str) -> list[str]:
    return [f"{prefix}.{n}" for n in ("weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked")]


def expected_keys(block: str, layers: list[int]) -> list[str]:
    """torchvision's resnet.py state_dict keys, in order, written out from its structure."""
    keys = ["conv1.weight", *_bn("bn1")]
    for stage, blocks in enumerate(layers, 1):
        for b in range(blocks):
            prefix = f"layer{stage}.{b}"
            for c in range(1, 3 if block == "basic" else 4):
                keys += [f"{prefix}.conv{c}.weight", *_bn(f"{prefix}.bn{c}")]
            if b == 0 and (stage > 1 or block == "bottleneck"):
                keys += [f"{prefix}.downsample.0.weight", *_bn(f"{prefix}.downsample.1")]
    return keys + ["fc.weight", "fc.bias"]


@pytest.mark.parametrize("name", list(COUNTS))
def test_parameter_count_and_state_dict_keys_match_torchvision(name, cheap_init):
    model = getattr(em.models, name)()
    assert sum(p.numel() for p in model.parameters()) == COUNTS[name]
    assert list(model.state_dict()) == expected_keys(*LAYOUT[name])


def test_resnet18_named_keys_and_shapes(cheap_init):
    state = em.models.resnet18().state_dict()
    assert state["conv1.weight"].shape == (64, 3, 7, 7)
    assert state["bn1.running_mean"].shape == (64,)
    assert state["layer1.0.conv1.weight"].shape == (64, 64, 3, 3)
    assert state["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    assert state["fc.bias"].shape == (1000,)
    assert "layer1.0.downsample.0.weight" not in state  # identity shortcut: same shape


@pytest.mark.parametrize("name, gmacs", [("resnet18", 1.81), ("resnet34", 3.66),
                                         ("resnet50", 4.09), ("resnet101", 7.80)])
def test_forward_at_224_gives_logits_and_torchvisions_gflops(name, gmacs, cheap_init):
    info = em.summary(getattr(em.models, name)(), (3, 224, 224))  # one forward pass
    assert info.output_shape == (1, 1000)
    assert round(info.macs / 1e9, 2) == gmacs  # torchvision's "GFLOPS" are MACs


def test_num_classes_in_channels_and_small_inputs(cheap_init):
    model = em.models.resnet50(num_classes=10, in_channels=1).eval()
    assert model.conv1.weight.shape == (64, 1, 7, 7)
    assert model.fc.weight.shape == (10, 2048)
    with em.no_grad():
        assert model(em.zeros(2, 1, 32, 32)).shape == (2, 10)


def test_blocks_and_shortcuts():
    basic = BasicBlock(64, 128, stride=2, downsample=em.nn.Sequential(
        em.nn.Conv2d(64, 128, 1, stride=2, bias=False), em.nn.BatchNorm2d(128)))
    assert basic(em.zeros(1, 64, 8, 8)).shape == (1, 128, 4, 4)
    bottleneck = Bottleneck(256, 64)
    assert bottleneck.conv2.weight.shape == (64, 64, 3, 3)
    assert bottleneck.conv3.weight.shape == (256, 64, 1, 1)
    # with the residual branch zeroed, a block is relu(x + 0) = x for x >= 0: the shortcut
    block = BasicBlock(4, 4).eval()
    em.nn.init.zeros_(block.bn2.weight)
    x = em.rand(1, 4, 5, 5)
    np.testing.assert_allclose(block(x).detach().numpy(), x.numpy())
    with pytest.raises(ValueError, match="groups=1"):
        BasicBlock(4, 4, groups=2)


def test_torchvision_initialisation():
    model = em.models.resnet18(zero_init_residual=True)
    w = model.layer3[0].conv1.weight.detach().numpy()  # kaiming normal, fan_out = 256 * 9
    assert abs(w.std() - np.sqrt(2 / (256 * 9))) < 0.1 * np.sqrt(2 / (256 * 9))
    assert (model.bn1.weight.detach().numpy() == 1).all() and (model.bn1.bias.detach().numpy() == 0).all()
    assert (model.layer1[0].bn2.weight.detach().numpy() == 0).all()  # zero_init_residual
    assert (model.layer1[0].bn1.weight.detach().numpy() == 1).all()


def test_gradients_reach_every_parameter():
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=3)
    loss = em.nn.functional.cross_entropy(model(em.randn(2, 3, 32, 32)), em.tensor([0, 2]))
    loss.backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0
               for p in model.parameters())


def test_pretrained_weights_are_not_shipped():
    with pytest.raises(ValueError, match="no pretrained weights"):
        em.models.resnet18(weights="DEFAULT")


@pytest.mark.parametrize("name, block, layers, size, training", [
    ("resnet18", "BasicBlock", [2, 2, 2, 2], 64, False),
    ("resnet18", "BasicBlock", [2, 2, 2, 2], 64, True),
    ("resnet50", "Bottleneck", [3, 4, 6, 3], 32, False)])
def test_matches_torchvision_architecture(name, block, layers, size, training, cheap_init,
                                          torch):
    """A torchvision state_dict loads key for key and gives torchvision's outputs."""
    import torchvision_reference as tv

    reference = tv.resnet(getattr(tv, block), layers, num_classes=10).double()
    tv.randomize_batchnorm(reference)
    model = getattr(em.models, name)(num_classes=10).double()
    model.load_state_dict(reference.state_dict())  # strict: every key maps
    reference.train(training)
    model.train(training)
    x = np.random.default_rng(0).standard_normal((2, 3, size, size))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with em.no_grad():
        got = model(em.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    if training:  # running statistics updated as torch's
        np.testing.assert_allclose(model.layer4[1].bn2.running_var.numpy(),
                                   reference.layer4[1].bn2.running_var.numpy(), rtol=1e-9)
