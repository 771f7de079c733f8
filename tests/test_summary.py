"""em.summary: per-layer shapes, parameters, MACs and FLOPs, totals and memory."""

from __future__ import annotations

import pytest

import ember as em
from ember import nn


def test_the_documented_convolution_example():
    info = em.summary(nn.Conv2d(3, 100, kernel_size=3, padding="same"), (3, 32, 32))
    (layer,) = info.layers
    assert layer.output_shape == (1, 100, 32, 32)
    assert (layer.params, layer.trainable_params, layer.frozen_params) == (2_800, 2_800, 0)
    assert layer.macs == 32 * 32 * 100 * 27 == 2_764_800
    assert layer.flops == 32 * 32 * 100 * (3 * (2 * 9 - 1) + (3 - 1)) == 5_427_200
    assert (info.total_params, info.macs, info.flops) == (2_800, 2_764_800, 5_427_200)
    assert "5,427,200" in str(info) and "2,800" in str(info)


def test_lenet5_per_layer_counts_as_documented():
    info = em.summary(em.models.lenet5(), (1, 28, 28))
    counted = {layer.name: layer for layer in info.layers if layer.params}
    # LeNet5's docstring: C1 156, C3 2,416, C5 48,120, F6 10,164, output 850
    assert {name: layer.params for name, layer in counted.items()} == {
        "features.0": 156, "features.3": 2_416, "classifier.1": 48_120,
        "classifier.3": 10_164, "classifier.5": 850}
    assert info.total_params == info.trainable_params == 61_706
    # MACs by hand: outputs x products per output
    assert [counted[n].macs for n in counted] == [
        28 * 28 * 6 * 25, 10 * 10 * 16 * 150, 120 * 400, 84 * 120, 10 * 84]
    assert counted["features.0"].flops == 28 * 28 * 6 * (2 * 25 - 1)
    assert counted["classifier.1"].flops == 120 * (2 * 400 - 1) == 95_880
    shapes = [layer.output_shape for layer in info.layers]
    assert shapes[:3] == [(1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14)]
    assert info.output_shape == (1, 10)
    # every output of the forward pass, float32: 2*4704 + 1176 + 2*1600 + 2*400 + ...
    outputs = 2 * 4704 + 1176 + 2 * 1600 + 2 * 400 + 2 * 120 + 2 * 84 + 10
    assert info.activation_bytes == 4 * outputs
    assert info.input_bytes == 4 * 28 * 28 and info.param_bytes == 4 * 61_706


def test_frozen_parameters_are_counted_apart():
    model = em.models.lenet5()
    model.features.requires_grad_(False)
    info = em.summary(model, (1, 28, 28))
    assert (info.trainable_params, info.frozen_params) == (61_706 - 156 - 2_416, 156 + 2_416)
    assert info.layers[0].frozen_params == 156 and info.layers[0].trainable_params == 0
    assert "frozen 2,572" in str(info)


def test_as_data():
    data = em.summary(em.models.mlp(784, (32,), 10), (784,)).as_dict()
    assert data["total_params"] == 784 * 32 + 32 + 32 * 10 + 10
    assert [row["type"] for row in data["layers"]] == ["Flatten", "Linear", "ReLU", "Linear"]
    assert data["layers"][1]["params"] == 784 * 32 + 32
    assert data["layers"][1]["flops"] == 32 * (2 * 784 - 1)


def test_a_shared_layer_has_a_row_per_call_and_its_parameters_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(4, 4)

        def forward(self, x):
            return self.layer(self.layer(x))

    info = em.summary(Twice(), (4,))
    assert [layer.name for layer in info.layers] == ["layer", "layer"]
    assert [layer.params for layer in info.layers] == [20, 0]
    assert info.total_params == 20 and info.macs == 2 * 16


def test_runs_in_eval_mode_without_changing_the_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    model.train()
    model[2].eval()
    info = em.summary(model, (3,))  # batch of one: BatchNorm only works in eval mode
    assert info.output_shape == (1, 4)
    assert model.training and model[1].training and not model[2].training
    assert int(model[1].num_batches_tracked) == 0


def test_batch_size_scales_the_counts():
    one = em.summary(nn.Conv2d(2, 4, 3), (2, 8, 8))
    three = em.summary(nn.Conv2d(2, 4, 3), (2, 8, 8), batch_size=3)
    assert three.macs == 3 * one.macs and three.flops == 3 * one.flops
    assert three.layers[0].output_shape == (3, 4, 6, 6)
    assert three.total_params == one.total_params


def test_layers_the_forward_pass_skips_are_reported():
    info = em.summary(em.models.googlenet(aux_logits=True), (3, 32, 32))
    assert info.total_params == 13_004_888
    assert sum(layer.params for layer in info.layers) == 6_624_904
    assert "6,379,984 in layers this forward pass did not call" in str(info)


def test_resnet18():
    info = em.summary(em.models.resnet18(), (3, 64, 64))
    assert info.total_params == 11_689_512 == sum(layer.params for layer in info.layers)
    relu_calls = [layer for layer in info.layers if layer.name == "layer1.0.relu"]
    assert len(relu_calls) == 2  # a block's ReLU module runs twice
    fc = info.layers[-1]
    assert (fc.name, fc.macs, fc.flops) == ("fc", 512_000, 1000 * (2 * 512 - 1))
    # at 224x224 its MACs are torchvision's 1.81 "GFLOPS" (tests/models/test_resnet.py)


def test_transposed_convolution_counts():
    layer = nn.ConvTranspose2d(2, 3, kernel_size=2, stride=2)
    info = em.summary(layer, (2, 4, 4))
    # every input value times C_out * k * k weights; outputs do not overlap here
    assert info.macs == 2 * 4 * 4 * 3 * 4
    assert info.flops == 2 * info.macs - 3 * 8 * 8


def test_explain_and_summary_agree():
    explained = em.explain.layer_params("conv", in_channels=6, out_channels=16,
                                        kernel_size=5, input_size=14)
    layer = em.summary(nn.Conv2d(6, 16, 5), (6, 14, 14)).layers[0]
    assert (explained.params, explained.macs, explained.flops) == (
        layer.params, layer.macs, layer.flops)


def test_errors():
    with pytest.raises(ValueError, match="input_shape"):
        em.summary(nn.Linear(2, 2), (0, 2))
    with pytest.raises(ValueError, match="batch_size"):
        em.summary(nn.Linear(2, 2), (2,), batch_size=0)
    with pytest.raises(RuntimeError, match="excludes the batch dimension"):
        em.summary(em.models.lenet5(), (1, 1, 28, 28))
