"""Parameters, MACs and FLOPs of a layer, hand-checked and against real layers."""

from __future__ import annotations

import pytest

import ember as em
from ember.explain import layer_params


def test_the_documented_convolution():
    e = layer_params("conv", in_channels=3, out_channels=100, kernel_size=3, input_size=32,
                     padding="same")
    assert (e.result, e.params, e.weights, e.biases) == (2_800, 2_800, 2_700, 100)
    assert (e.macs, e.flops, e.output_size) == (2_764_800, 5_427_200, 32)
    text = str(e)
    assert "= 3*3*3*100 + 100" in text and "= 2,700 + 100 = 2,800" in text
    assert "= 32*32*100*(3*(2*3*3 - 1) + (3 - 1))" in text and "5,427,200" in text


@pytest.mark.parametrize("kwargs, params", [
    (dict(in_channels=1, out_channels=6, kernel_size=5), 156),        # LeNet C1
    (dict(in_channels=6, out_channels=16, kernel_size=5), 2_416),     # LeNet C3
    (dict(in_channels=3, out_channels=64, kernel_size=11), 23_296),   # AlexNet conv1
    (dict(in_channels=64, out_channels=64, kernel_size=3, bias=False), 36_864),  # ResNet
])
def test_conv_parameters(kwargs, params):
    e = layer_params("conv", **kwargs)
    assert e.params == params and e.macs is None
    assert "give the input size" in str(e)
    layer = em.nn.Conv2d(kwargs["in_channels"], kwargs["out_channels"], kwargs["kernel_size"],
                         bias=kwargs.get("bias", True))
    assert sum(p.numel() for p in layer.parameters()) == params


def test_strided_conv_flops():
    e = layer_params("conv", in_channels=3, out_channels=64, kernel_size=7, input_size=224,
                     padding=3, stride=2)
    assert e.output_size == 112
    assert e.macs == 112 * 112 * 64 * 3 * 49
    assert e.flops == 112 * 112 * 64 * (3 * (2 * 49 - 1) + 2)


def test_fully_connected():
    e = layer_params("fc", in_features=400, out_features=120)
    assert (e.params, e.macs, e.flops) == (48_120, 48_000, 95_880)
    assert "= 400*120 + 120" in str(e) and "= 120*(2*400 - 1) = 95,880" in str(e)
    assert layer_params("linear", in_features=4096, out_features=1000).params == 4_097_000
    assert layer_params("fc", in_features=10, out_features=2, bias=False).params == 20


def test_missing_and_bad_arguments():
    with pytest.raises(ValueError, match="needs in_channels"):
        layer_params("conv", out_channels=3, kernel_size=3)
    with pytest.raises(ValueError, match="needs out_features"):
        layer_params("fc", in_features=3)
    with pytest.raises(ValueError, match="conv or fc"):
        layer_params("pool", in_channels=1)
