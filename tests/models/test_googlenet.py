"""GoogLeNet (Inception v1): torchvision's counts, keys, auxiliary heads, forward values."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.models.googlenet import GoogLeNetOutputs, Inception

BLOCKS = ["inception3a", "inception3b", "inception4a", "inception4b", "inception4c",
          "inception4d", "inception4e", "inception5a", "inception5b"]


def _basic(prefix: str) -> list[str]:
    """torchvision's BasicConv2d: conv (no bias) and bn."""
    return [f"{prefix}.conv.weight"] + [f"{prefix}.bn.{n}" for n in (
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked")]


def expected_keys(aux_logits: bool) -> list[str]:
    keys = _basic("conv1") + _basic("conv2") + _basic("conv3")
    for block in BLOCKS:
        keys += _basic(f"{block}.branch1")
        for branch in ("branch2", "branch3"):
            keys += _basic(f"{block}.{branch}.0") + _basic(f"{block}.{branch}.1")
        keys += _basic(f"{block}.branch4.1")  # branch4.0 is the max pool
    if aux_logits:
        for aux in ("aux1", "aux2"):
            keys += _basic(f"{aux}.conv") + [f"{aux}.{fc}.{p}" for fc in ("fc1", "fc2")
                                              for p in ("weight", "bias")]
    return keys + ["fc.weight", "fc.bias"]


@pytest.mark.parametrize("aux_logits, count", [(False, 6_624_904), (True, 13_004_888)])
def test_parameter_count_and_keys_match_torchvision(aux_logits, count, cheap_init):
    model = em.models.googlenet(aux_logits=aux_logits)
    assert sum(p.numel() for p in model.parameters()) == count
    state = model.state_dict()
    assert list(state) == expected_keys(aux_logits)
    if aux_logits:
        assert state["aux1.fc2.weight"].shape == (1000, 1024)
        assert state["aux2.conv.conv.weight"].shape == (128, 528, 1, 1)
    assert state["inception3a.branch2.1.bn.running_var"].shape == (128,)
    assert state["inception5b.branch3.1.conv.weight"].shape == (128, 48, 3, 3)
    assert model.conv1.bn.eps == 0.001 and model.conv1.conv.bias is None


def test_forward_at_224(cheap_init):
    info = em.summary(em.models.googlenet(), (3, 224, 224))
    shapes = {layer.name: layer.output_shape for layer in info.layers}
    assert shapes["maxpool2"] == (1, 192, 28, 28)
    assert shapes["inception4e.branch4.1.conv"] == (1, 128, 14, 14)  # 832 = 256+320+128+128
    assert shapes["avgpool"] == (1, 1024, 1, 1)
    assert info.output_shape == (1, 1000)
    assert round(info.macs / 1e9, 2) == 1.50  # torchvision's "GFLOPS" (MACs)


def test_inception_concatenates_its_branches_along_the_channels():
    block = Inception(192, 64, 96, 128, 16, 32, 32).eval()
    x = em.randn(1, 192, 6, 6)
    with em.no_grad():
        out = block(x).numpy()
        parts = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    assert out.shape == (1, 64 + 128 + 32 + 32, 6, 6)
    np.testing.assert_array_equal(out, np.concatenate([p.numpy() for p in parts], axis=1))


def test_auxiliary_heads_only_in_training(cheap_init):
    model = em.models.googlenet(num_classes=7, aux_logits=True)
    out = model(em.zeros(2, 3, 64, 64))
    assert isinstance(out, GoogLeNetOutputs)
    assert [t.shape for t in out] == [(2, 7)] * 3
    model.eval()
    with em.no_grad():
        assert model(em.zeros(1, 3, 64, 64)).shape == (1, 7)
    assert em.models.googlenet(in_channels=1).conv1.conv.weight.shape == (64, 1, 7, 7)
    with pytest.raises(ValueError, match="no pretrained weights"):
        em.models.googlenet(weights="DEFAULT")


@pytest.mark.parametrize("training", [False, True])
def test_matches_torchvision_architecture(training, cheap_init, torch):
    """With transform_input and the auxiliary heads (dropout off to compare training)."""
    import torchvision_reference as tv

    kwargs = dict(num_classes=10, aux_logits=True, transform_input=True, dropout=0.0,
                  dropout_aux=0.0)
    reference = tv.GoogLeNet(**kwargs).double()
    tv.randomize_batchnorm(reference)
    model = em.models.googlenet(**kwargs).double()
    model.load_state_dict(reference.state_dict())
    reference.train(training)
    model.train(training)
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x))
    with em.no_grad():
        got = model(em.tensor(x))
    expected = expected if training else [expected]
    got = got if training else [got]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-9, atol=1e-9)
