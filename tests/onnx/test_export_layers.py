"""ONNX export of every layer in em.nn that ONNX can express: the file passes
onnx.checker, runs in onnxruntime with ember's outputs (1e-5), with a dynamic batch (or
sequence) axis, and loads back into ember with the same outputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_checks import check_export, check_round_trip, onnx, randomise_batch_norms

import ember as em
from ember import nn


def _x(*shape):
    return em.randn(*shape)


def _tokens(*shape):
    return em.tensor(np.random.default_rng(0).integers(0, 10, shape))


# (layer factory, example input shape, dynamic axis of the input or None)
LAYERS = {
    "Linear": (lambda: nn.Linear(5, 3), (2, 5), 0),
    "Linear3d": (lambda: nn.Linear(5, 3), (2, 4, 5), 0),
    "Bilinear-free MLP": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.ReLU(),
                                                nn.Dropout(0.3), nn.Linear(4, 2)), (2, 3, 4), 0),
    "Conv2d": (lambda: nn.Conv2d(3, 6, 3, stride=2, padding=1, dilation=2, groups=3),
               (2, 3, 9, 9), 0),
    "Conv2d-same": (lambda: nn.Conv2d(2, 4, (2, 3), padding="same", bias=False),
                    (2, 2, 6, 7), 0),
    "Conv2d-reflect": (lambda: nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect"),
                       (2, 2, 5, 5), 0),
    "Conv1d": (lambda: nn.Conv1d(4, 6, 3, padding="same"), (2, 4, 10), 0),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                   output_padding=1, groups=2),
                        (2, 4, 5, 5), 0),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(4, 2, 3, stride=2, dilation=2), (2, 4, 5), 0),
    "MaxPool2d-ceil": (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                       (2, 3, 8, 8), 0),
    "MaxPool2d-dilated": (lambda: nn.MaxPool2d(2, stride=1, dilation=2), (2, 3, 6, 6), 0),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), (2, 3, 9), 0),
    "AvgPool2d-exclude-pad": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                   count_include_pad=False), (2, 3, 8, 8), 0),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 3, 8, 8), 0),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2), (2, 3, 9), 0),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5), 0),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(3), (2, 3, 7), 0),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d((3, 2)), (2, 3, 7, 5), 0),
    "AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(4), (2, 3, 8), 0),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(5), (4, 5), 0),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4), 0),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4), 0),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3), (2, 3, 6), 0),
    "LayerNorm": (lambda: nn.LayerNorm((4, 5)), (2, 3, 4, 5), 0),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3), 0),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3), (2, 5, 3, 3), 0),
    "Embedding": (lambda: nn.Embedding(10, 4, padding_idx=0), "tokens", 0),
    "Upsample-nearest": (lambda: nn.Upsample(scale_factor=2), (2, 3, 4, 4), 0),
    "Upsample-nearest-size": (lambda: nn.Upsample(size=(7, 5)), (2, 3, 4, 4), 0),
    "Upsample-nearest-exact": (lambda: nn.Upsample(scale_factor=1.5, mode="nearest-exact"),
                               (2, 3, 4, 4), 0),
    "Upsample-bilinear": (lambda: nn.Upsample(size=(7, 5), mode="bilinear"), (2, 3, 4, 4), 0),
    "UpsamplingBilinear2d": (lambda: nn.UpsamplingBilinear2d(scale_factor=2), (2, 3, 4, 4), 0),
    "Upsample-linear": (lambda: nn.Upsample(scale_factor=2, mode="linear"), (2, 3, 5), 0),
    "Upsample-bicubic": (lambda: nn.Upsample(scale_factor=2, mode="bicubic",
                                             align_corners=True), (2, 3, 4, 4), 0),
    "interpolate-area": (lambda: nn.Upsample(size=(3, 2), mode="area"), (2, 3, 7, 5), 0),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d((1, 2, 0, 1)), (2, 3, 4, 4), 0),
    "ReplicationPad1d": (lambda: nn.ReplicationPad1d(2), (2, 3, 4), 0),
    "CircularPad2d": (lambda: nn.CircularPad2d(1), (2, 3, 4, 4), 0),
    "ZeroPad2d": (lambda: nn.ZeroPad2d(2), (2, 3, 4, 4), 0),
    "ConstantPad1d": (lambda: nn.ConstantPad1d((1, 2), 3.5), (2, 3, 4), 0),
    "Unfold": (lambda: nn.Unfold(2, padding=1, stride=1), (2, 3, 4, 4), 0),
    "Fold": (lambda: nn.Fold((4, 5), 2), (2, 12, 12), 0),
    "Flatten": (lambda: nn.Flatten(), (2, 3, 4), 0),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 6)), (2, 12), 0),
    "Identity": (lambda: nn.Sequential(nn.Identity(), nn.Tanh()), (2, 3), 0),
    "Softmax": (lambda: nn.Softmax(dim=1), (2, 5), 0),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=-1), (2, 3, 5), 0),
    "Softmin": (lambda: nn.Softmin(dim=1), (2, 5), 0),
    "PReLU": (lambda: nn.PReLU(3, init=0.1), (2, 3, 4), 0),
    "GLU": (lambda: nn.GLU(), (2, 6), 0),
    "RNN": (lambda: nn.RNN(4, 5, num_layers=2, bidirectional=True, batch_first=True),
            (2, 3, 4), 0),
    "RNN-relu-nobias": (lambda: nn.RNN(4, 5, nonlinearity="relu", bias=False), (3, 2, 4), 0),
    "LSTM": (lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True), (3, 2, 4), 0),
    "GRU": (lambda: nn.GRU(4, 5, batch_first=True), (2, 3, 4), 1),
    "LSTMCell": (lambda: nn.LSTMCell(4, 5), (2, 4), 0),
    "GRUCell": (lambda: nn.GRUCell(4, 5), (2, 4), 0),
    "RNNCell": (lambda: nn.RNNCell(4, 5), (2, 4), 0),
    "Perceptron": (lambda: nn.Perceptron(4), (3, 4), 0),
    "ScaledTanh": (lambda: nn.ScaledTanh(), (2, 3), 0),
    "Subsampling": (lambda: nn.Subsampling(3), (2, 3, 4, 4), 0),
    "EuclideanRBF": (lambda: nn.EuclideanRBF(em.randn(10, 6)), (2, 6), 0),
}


class _Unpool(nn.Module):
    """Max pooling with indices, then unpooling (MaxUnpool needs the indices)."""

    def __init__(self, dims: int):
        super().__init__()
        self.pool = getattr(nn, f"MaxPool{dims}d")(2, return_indices=True)
        self.unpool = getattr(nn, f"MaxUnpool{dims}d")(2)

    def forward(self, x):
        y, indices = self.pool(x)
        return self.unpool(y, indices)


class _SelfAttention(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, **options)

    def forward(self, x):
        out, weights = self.attention(x, x * 0.5, x)
        return out, weights


class _EncoderDecoder(nn.Module):
    """The Transformer on a sequence and itself shifted (the decoder's input)."""

    def __init__(self, model, batch_first: bool = True):
        super().__init__()
        self.model, self.batch_first = model, batch_first

    def forward(self, x):
        return self.model(x, x[:, :-1] * 0.5) if self.batch_first else \
            self.model(x, x[:-1] * 0.5)


LAYERS.update({
    "Conv3d": (lambda: nn.Conv3d(2, 4, 3, stride=(1, 2, 1), padding=1, groups=2),
               (2, 2, 4, 5, 5), 0),
    "ConvTranspose3d": (lambda: nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1),
                        (2, 2, 3, 3, 3), 0),
    "MaxPool3d": (lambda: nn.MaxPool3d(2, stride=(1, 2, 2), padding=1), (2, 2, 4, 5, 5), 0),
    "AvgPool3d": (lambda: nn.AvgPool3d(2, ceil_mode=True), (2, 2, 5, 4, 4), 0),
    "AdaptiveAvgPool3d": (lambda: nn.AdaptiveAvgPool3d((2, 3, 2)), (2, 2, 5, 4, 4), 0),
    "AdaptiveMaxPool3d": (lambda: nn.AdaptiveMaxPool3d(2), (2, 2, 4, 4, 6), 0),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(2), (2, 2, 3, 3, 3), 0),
    "InstanceNorm3d": (lambda: nn.InstanceNorm3d(2, affine=True), (2, 2, 3, 3, 3), 0),
    "SyncBatchNorm": (lambda: nn.SyncBatchNorm(3), (2, 3, 4), 0),
    "MaxUnpool1d": (lambda: _Unpool(1), (2, 2, 8), None),
    "MaxUnpool2d": (lambda: _Unpool(2), (2, 2, 4, 6), None),
    "MaxUnpool3d": (lambda: _Unpool(3), (2, 2, 4, 4, 4), None),
    "MultiheadAttention": (lambda: _SelfAttention(batch_first=True), (2, 5, 8), 0),
    "MultiheadAttention-time-major": (lambda: _SelfAttention(), (5, 2, 8), 1),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.1, batch_first=True, norm_first=True), (2, 5, 8), 0),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(
        8, 2, 16, activation="gelu"), 2), (5, 2, 8), 1),
    "TransformerDecoderLayer": (lambda: _EncoderDecoder(nn.TransformerDecoderLayer(
        8, 2, 16, batch_first=True)), (2, 5, 8), 0),
    "Transformer": (lambda: _EncoderDecoder(nn.Transformer(
        8, 2, 1, 1, 16, batch_first=True)), (2, 5, 8), 0),
})
# segmentation (issue 17): spatial pyramid pooling at a size its bins do not divide, and
# DeepLab's ASPP (ASPPConv and ASPPPooling are its branches)
LAYERS.update({
    "SpatialPyramidPooling": (lambda: nn.SpatialPyramidPooling((3, 2, 1)), (2, 3, 7, 5), 0),
    "SpatialPyramidPooling-avg": (lambda: nn.SpatialPyramidPooling((2, 1), mode="avg"),
                                  (2, 3, 6, 6), 0),
    "ASPP": (lambda: nn.ASPP(3, (1, 2, 3), out_channels=4), (2, 3, 9, 7), 0),
})
ACTIVATIONS = ["Sigmoid", "Tanh", "ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Hardsigmoid",
               "Hardswish", "LeakyReLU", "ELU", "CELU", "GELU", "Softplus", "Softsign",
               "Hardtanh", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink", "Step"]
ACTIVATION_ARGS = {"LeakyReLU": (0.2,), "ELU": (0.5,), "CELU": (2.0,), "Softplus": (2.0, 3.0),
                   "Hardtanh": (-0.5, 0.7), "Softshrink": (0.3,), "Hardshrink": (0.3,)}
for _name in ACTIVATIONS:
    LAYERS[_name] = ((lambda name: lambda: getattr(nn, name)(*ACTIVATION_ARGS.get(name, ())))(
        _name), (2, 3, 5), 0)
LAYERS["GELU-tanh"] = (lambda: nn.GELU("tanh"), (2, 3, 5), 0)
LAYERS["Threshold"] = (lambda: nn.Threshold(0.1, -2.0), (2, 3, 5), 0)


def _input(shape):
    return _tokens(2, 3) if shape == "tokens" else _x(*shape)


def _bigger(x: em.Tensor, axis: int) -> em.Tensor:
    """The input with its dynamic axis 3 longer (values repeated)."""
    array = x.numpy()
    index = np.arange(array.shape[axis] + 3) % array.shape[axis]
    return em.tensor(np.take(array, index, axis=axis))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_runs_in_onnxruntime_and_loads_back(name):
    factory, shape, axis = LAYERS[name]
    layer = randomise_batch_norms(factory())
    x = _input(shape)
    if axis is None:  # static shapes (MaxUnpool: its output is zeros sized by the input)
        data = check_export(layer, x)
        check_round_trip(layer, data, x)
        return
    data = check_export(layer, x, runs=[_bigger(x, axis)], input_names=["input"],
                        dynamic_axes={"input": {axis: "n"}})
    check_round_trip(layer, data, _bigger(x, axis))


def test_every_layer_of_em_nn_is_covered_or_listed_as_not_exportable():
    """New layers must join the table above (or this list, with the reason)."""
    not_exportable = {
        # losses are not part of an inference graph; containers are tested through models
        "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "Parameter",
        "RNNBase", "RNNCellBase", "PerceptronHistory",
        "ConnectionTableConv2d",  # covered by lenet5_original in the zoo test
        "AlphaDropout", "FeatureAlphaDropout", "Dropout", "Dropout1d", "Dropout2d",
        "Dropout3d",  # identity in evaluation: covered by the MLP row and the zoo
        "TransformerDecoder",  # TransformerDecoderLayer and Transformer cover its layers
        "NonDynamicallyQuantizableLinear",  # Linear (MultiheadAttention's out_proj)
        "UpsamplingNearest2d", "ZeroPad1d", "ReflectionPad1d", "ReplicationPad2d",
        "CircularPad1d", "ConstantPad2d",  # the same rules as their listed siblings
        "Bilinear",
        "ASPPConv", "ASPPPooling",  # the branches of ASPP, covered by its row
    }
    covered = {key.split("-")[0] for key in LAYERS} | {"Identity", "Flatten"}
    missing = []
    for name in dir(nn):
        value = getattr(nn, name)
        if not isinstance(value, type) or not issubclass(value, nn.Module):
            continue
        if name.endswith("Loss") or name in covered or name in not_exportable:
            continue
        missing.append(name)
    assert not missing, f"layers without an ONNX export test: {missing}"


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_opsets_13_to_20(opset):
    if opset > onnx.defs.onnx_opset_version():
        pytest.skip(f"onnx {onnx.__version__} knows opsets up to "
                    f"{onnx.defs.onnx_opset_version()}")
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.GELU(),
                          nn.Hardswish(), nn.AvgPool2d(2), nn.Flatten(), nn.LayerNorm(16),
                          nn.Linear(16, 3), nn.LogSoftmax(dim=1))
    x = _x(2, 2, 4, 4)
    data = check_export(randomise_batch_norms(model), x, opset_version=opset)
    proto = onnx.load_from_string(data)
    assert proto.opset_import[0].version == opset
    ops = {node.op_type for node in proto.graph.node}
    assert ("Gelu" in ops) == (opset >= 20)
    assert ("LayerNormalization" in ops) == (opset >= 17)
    check_round_trip(model, data, x)
