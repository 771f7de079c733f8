"""torchvision's segmentation models, MobileNetV3 and the dilated ResNet: parameter
counts, state_dict keys and float64 outputs against torchvision's own definitions."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.models import segmentation

# torchvision 0.28's counts with 21 classes (the issue's figures; the ResNet-101 ones are
# torchvision's published num_params), without and with the auxiliary head
COUNTS = {
    "fcn_resnet50": (32_957_013, 35_322_218),
    "fcn_resnet101": (51_949_141, 54_314_346),
    "deeplabv3_resnet50": (39_638_869, 42_004_074),
    "deeplabv3_resnet101": (58_630_997, 60_996_202),
    "deeplabv3_mobilenet_v3_large": (11_025_477, 11_029_328),
    "lraspp_mobilenet_v3_large": (3_221_538, None),
}


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _reference(torchvision, name, **kwargs):
    from torchvision.models import segmentation as tv_segmentation

    builder = getattr(tv_segmentation, name, None) or getattr(torchvision.models, name)
    if "mobilenet_v3_" in name and not name.startswith(("deeplab", "lraspp")):
        return builder(weights=None, **kwargs)
    return builder(weights=None, weights_backbone=None, **kwargs)


def _randomize(torch, model) -> None:
    """Non-trivial BatchNorm statistics and classifier weights, so that every loaded
    value matters to the output."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.uniform_(-0.2, 0.2, generator=generator)
                m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                m.running_var.uniform_(0.5, 1.5, generator=generator)
            elif isinstance(m, torch.nn.Linear):
                m.weight.normal_(0, 0.1, generator=generator)
                m.bias.uniform_(-0.1, 0.1, generator=generator)


@pytest.mark.parametrize("name", list(COUNTS))
def test_state_dict_keys_shapes_and_counts_match_torchvision(name, cheap_init, torch,
                                                             torchvision):
    """Every model, with and without the auxiliary head, against the issue's counts and
    torchvision's definition built on
    its ``meta`` device (shapes without storage, under a second even for ResNet-101)."""
    for kwargs, count in zip(({}, {"aux_loss": True}), COUNTS[name], strict=True):
        if count is None:  # LR-ASPP has no auxiliary head
            continue
        with torch.device("meta"):
            reference = _reference(torchvision, name, num_classes=21, **kwargs)
        expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
        model = getattr(segmentation, name)(**kwargs)
        assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == expected
        assert list(model.state_dict()) == list(expected)
        assert _count(model) == sum(p.numel() for p in reference.parameters()) == count


def _compare(torch, reference, model, x, keys=None):
    with torch.no_grad():
        expected = reference(torch.from_numpy(x))
    with em.no_grad():
        got = model(em.tensor(x))
    if keys is None:
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-9, atol=1e-11)
        return
    assert list(got) == list(expected) == keys
    for key in keys:
        assert got[key].shape == tuple(expected[key].shape)
        np.testing.assert_allclose(got[key].numpy(), expected[key].numpy(), rtol=1e-9,
                                   atol=1e-11)


@pytest.mark.parametrize("name, kwargs, size, keys", [
    ("fcn_resnet50", {"aux_loss": True}, 33, ["out", "aux"]),
    ("deeplabv3_resnet50", {"aux_loss": True}, 29, ["out", "aux"]),
    ("fcn_resnet101", {}, 17, ["out"]),
    ("deeplabv3_resnet101", {"aux_loss": True}, 19, ["out", "aux"]),
    ("deeplabv3_mobilenet_v3_large", {"aux_loss": True}, 45, ["out", "aux"]),
    ("lraspp_mobilenet_v3_large", {}, 51, ["out"])])
def test_torchvision_state_dict_gives_torchvisions_outputs(name, kwargs, size, keys, torch,
                                                            torchvision, tmp_path):
    """Eval mode, float64, odd input sizes (the bilinear upsampling's edge cases). The
    MobileNet models are built by ``weights=PATH`` of a torch.save file, taking their
    number of classes and auxiliary head from it (then float64 values are loaded into
    float64 parameters); the ResNet ones (300-450 MB in float64) by ``num_classes=``."""
    torch.manual_seed(0)
    reference = _reference(torchvision, name, num_classes=5, **kwargs).double().eval()
    _randomize(torch, reference)
    if "mobilenet" in name:  # float32 parameters, as PyTorch's load_state_dict casts
        torch.save(reference.state_dict(), tmp_path / "weights.pth")
        model = getattr(segmentation, name)(weights=tmp_path / "weights.pth")
        model = model.double().eval()
    else:
        model = getattr(segmentation, name)(num_classes=5, **kwargs).double().eval()
    model.load_state_dict(reference.state_dict())
    assert list(model.state_dict()) == list(reference.state_dict())
    x = np.random.default_rng(1).standard_normal((1, 3, size, size))
    _compare(torch, reference, model, x, keys)


def test_lraspp_training_step_matches_torchvision(torch, torchvision):
    """Training mode (batch statistics, no dropout in LR-ASPP): loss and the gradient of
    every parameter, through hard-swish, squeeze-and-excitation, dilated depthwise
    convolutions and bilinear upsampling."""
    torch.manual_seed(0)
    reference = _reference(torchvision, "lraspp_mobilenet_v3_large", num_classes=3).double()
    model = segmentation.lraspp_mobilenet_v3_large(num_classes=3).double()
    model.load_state_dict(reference.state_dict())
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((2, 3, 37, 37)), rng.integers(0, 3, (2, 37, 37))
    loss_t = torch.nn.functional.cross_entropy(reference(torch.from_numpy(x))["out"],
                                               torch.from_numpy(y))
    loss_t.backward()
    loss = em.nn.functional.cross_entropy(model(em.tensor(x))["out"], em.tensor(y))
    loss.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    # sums with cancellation (BatchNorm's backward; some gradients are 0 up to rounding):
    # compared relative to the largest gradient
    scale = max(np.abs(g).max() for g in grads.values())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name], rtol=1e-7, atol=1e-9 * scale,
                                   err_msg=name)
    running = dict(reference.named_buffers())
    for name, b in model.named_buffers():
        np.testing.assert_allclose(b.numpy(), running[name].numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("name, count", [("mobilenet_v3_large", 5_483_032),
                                         ("mobilenet_v3_small", 2_542_856)])
def test_mobilenet_v3_matches_torchvision(name, count, torch, torchvision, tmp_path):
    """The state_dict loads from a torch.save file (``weights=PATH``, as torchvision's
    downloaded ``.pth``) and gives torchvision's outputs in float64."""
    torch.manual_seed(0)
    reference = _reference(torchvision, name, num_classes=10).double().eval()
    _randomize(torch, reference)
    assert _count(getattr(em.models, name)()) == count  # 1000 classes
    torch.save(reference.state_dict(), tmp_path / "weights.pth")
    loaded = getattr(em.models, name)(weights=tmp_path / "weights.pth", num_classes=10)
    for key, value in loaded.state_dict().items():  # copied into float32 parameters
        np.testing.assert_array_equal(value.numpy(), reference.state_dict()[key].numpy()
                                      .astype(value.numpy().dtype), err_msg=key)
    model = getattr(em.models, name)(num_classes=10).double().eval()
    assert list(model.state_dict()) == list(reference.state_dict())
    model.load_state_dict(reference.state_dict())
    _compare(torch, reference, model, np.random.default_rng(3).standard_normal((2, 3, 48, 48)))


def test_mobilenet_v3_options(torch, torchvision):
    """width_mult, reduced_tail and dilated change the table as torchvision's do."""
    for kwargs in ({"width_mult": 0.75}, {"reduced_tail": True}, {"dilated": True}):
        reference = _reference(torchvision, "mobilenet_v3_small", **kwargs)
        model = em.models.mobilenet_v3_small(**kwargs)
        assert _count(model) == sum(p.numel() for p in reference.parameters()), kwargs
    dilated = em.models.mobilenet_v3_large(dilated=True).features.eval()
    with em.no_grad():  # the last stage dilates instead of striding: 1/16, not 1/32
        assert dilated(em.zeros(1, 3, 64, 64)).shape == (1, 960, 4, 4)
    with pytest.raises(ValueError, match="no pretrained weights"):
        em.models.mobilenet_v3_large(weights="DEFAULT")


def test_dilated_resnet_matches_torchvision(torch, torchvision):
    """replace_stride_with_dilation: layer3 and layer4 at 1/8 of the input, as the
    segmentation backbones use them."""
    torch.manual_seed(0)
    options = {"replace_stride_with_dilation": [False, True, True], "num_classes": 7}
    reference = torchvision.models.resnet50(weights=None, **options).double().eval()
    _randomize(torch, reference)
    model = em.models.resnet50(**options).double().eval()
    model.load_state_dict(reference.state_dict())
    _compare(torch, reference, model, np.random.default_rng(4).standard_normal((1, 3, 35, 35)))
    assert model.layer4[0].conv2.dilation == (2, 2) and model.layer4[1].conv2.dilation == (4, 4)


def test_weights_backbone_loads_the_plain_backbone(torch, torchvision, tmp_path):
    """``weights_backbone=PATH``: a MobileNetV3-Large state_dict (torchvision's ImageNet
    file has this form) fills the dilated backbone; the head stays freshly initialised;
    ``weights=`` of the whole model takes precedence, as in torchvision."""
    reference = torchvision.models.mobilenet_v3_large(weights=None, dilated=True)
    _randomize(torch, reference)
    torch.save(reference.state_dict(), tmp_path / "backbone.pth")
    model = segmentation.lraspp_mobilenet_v3_large(num_classes=3,
                                                   weights_backbone=tmp_path / "backbone.pth")
    expected = reference.features.state_dict()
    got = {k[len("backbone."):]: v for k, v in model.state_dict().items()
           if k.startswith("backbone.")}
    assert set(got) <= set(expected) and len(got) > 100
    for key, value in got.items():
        np.testing.assert_array_equal(value.numpy(), expected[key].numpy(), err_msg=key)
    whole = segmentation.lraspp_mobilenet_v3_large(num_classes=3)
    em.save(whole.state_dict(), tmp_path / "whole.safetensors")
    again = segmentation.lraspp_mobilenet_v3_large(weights=tmp_path / "whole.safetensors",
                                                   weights_backbone=tmp_path / "backbone.pth")
    for key, value in whole.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[key].numpy(), value.numpy())
    with pytest.raises(RuntimeError, match="classifier"):  # the file's 3 classes, not 4
        segmentation.lraspp_mobilenet_v3_large(weights=tmp_path / "whole.safetensors",
                                               num_classes=4)


def test_no_pretrained_weights_and_no_aux_for_lraspp():
    with pytest.raises(ValueError, match="no pretrained weights"):
        segmentation.fcn_resnet50(weights="DEFAULT")
    for builder in (segmentation.deeplabv3_mobilenet_v3_large, segmentation.fcn_resnet50,
                    segmentation.deeplabv3_resnet101, segmentation.lraspp_mobilenet_v3_large):
        with pytest.raises(ValueError, match="no pretrained weights"):  # never ignored
            builder(weights_backbone="IMAGENET1K_V1")
    with pytest.raises(NotImplementedError, match="auxiliary"):
        segmentation.lraspp_mobilenet_v3_large(aux_loss=True)


def test_intermediate_layer_getter_drops_the_unused_tail(cheap_init):
    model = segmentation.fcn_resnet50()
    assert list(model.backbone) == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2",
                                    "layer3", "layer4"]  # no avgpool, no fc
    with pytest.raises(ValueError, match="not children"):
        segmentation.IntermediateLayerGetter(em.models.resnet18(), {"layer9": "out"})


def test_checkpoint_round_trip(tmp_path):
    """em.save / em.load of a segmentation model: every tensor back, the same outputs."""
    model = segmentation.lraspp_mobilenet_v3_large(num_classes=3).eval()
    em.save(model.state_dict(), tmp_path / "lraspp.safetensors")
    copy = segmentation.lraspp_mobilenet_v3_large(num_classes=3).eval()
    copy.load_state_dict(em.load(tmp_path / "lraspp.safetensors"))
    for (name, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items(),
                                 strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    x = em.randn(1, 3, 32, 32)
    with em.no_grad():
        np.testing.assert_array_equal(model(x)["out"].numpy(), copy(x)["out"].numpy())
