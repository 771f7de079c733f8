"""Worked calculations for segmentation: dilated convolutions, SPP, the unpadded U-Net;
each checked against real layers."""

from __future__ import annotations

import pytest

import ember as em
from ember.cli import main
from ember.explain import dilated_conv, spp, unet_crop


def test_dilated_receptive_field_grows_exponentially():
    e = dilated_conv([1, 2, 4, 8])
    assert e.result == 31 == 2 ** 5 - 1 and e.undilated == 9
    assert e.fields == [3, 7, 15, 31] and e.effective_kernels == [3, 5, 9, 17]
    assert dilated_conv("2", kernel_size=5).result == 9
    # the same number as receptive-field with the d suffix
    assert em.explain.receptive_field("conv3d1,conv3d2,conv3d4,conv3d8").result == 31


def test_dilated_receptive_field_against_a_gradient():
    """The receptive field is where an output pixel's gradient is non-zero."""
    rates = [1, 2, 4]
    layers = [em.nn.Conv2d(1, 1, 3, padding=d, dilation=d, bias=False) for d in rates]
    for layer in layers:
        em.nn.init.ones_(layer.weight)
    x = em.zeros(1, 1, 31, 31, requires_grad=True)
    y = em.nn.Sequential(*layers)(x)
    y[0, 0, 15, 15].backward()
    rows = (x.grad.numpy()[0, 0] != 0).any(axis=1).sum()
    assert rows == dilated_conv(rates).result == 15


@pytest.mark.parametrize("levels, size", [((4, 2, 1), 13), ((3, 1), 7), ((6, 3, 2, 1), 20)])
def test_spp_length_matches_the_layer(levels, size):
    e = spp(channels=5, levels=levels, height=size)
    layer = em.nn.SpatialPyramidPooling(levels)
    assert e.result == layer(em.zeros(1, 5, size, size + 1)).shape[1]
    assert e.bins == sum(n * n for n in levels)
    assert "[0, 4) [3, 7) [6, 10) [9, 13)" in str(spp(1, height=13))


def test_unet_crop_follows_the_model():
    e = unet_crop(572)
    assert e.result == 388 and e.skips == [568, 280, 136, 64] and e.crops == [4, 16, 40, 88]
    text = str(e)
    assert "skip 568 cropped by (568 - 392) / 2 = 88 each side" in text
    model = em.models.segmentation.unet(1, 1, base_channels=1, depth=2, padding=False)
    assert unet_crop(92, depth=2).result == model(em.zeros(1, 1, 92, 92)).shape[-1] == 52
    with pytest.raises(ValueError, match="try 572"):
        unet_crop(570)


def test_on_the_command_line(capsys):
    assert main(["explain", "dilated-conv", "--dilations", "1,2,4,8"]) == 0
    assert "Receptive field: 31 x 31" in capsys.readouterr().out
    assert main(["explain", "spp", "--channels", "256"]) == 0
    assert "256 * 21 = 5376" in capsys.readouterr().out
    assert main(["explain", "unet-crop"]) == 0
    assert "Output: 388 x 388 from a 572 x 572 input" in capsys.readouterr().out
    assert main(["explain", "unet-crop", "--size", "570"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ember: error:") and err.count("\n") == 1
