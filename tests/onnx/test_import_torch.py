"""Models exported by PyTorch's own ONNX exporter load into ember, give PyTorch's outputs
and fine-tune.

The exporter is torch.onnx.export with ``dynamo=False`` (the TorchScript exporter): the
default one (``dynamo=True``) needs the onnxscript package, which ember does not depend
on; it is checked at the end when onnxscript happens to be installed.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from onnx_checks import assert_close

import ember as em

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
T = torch.nn


def torch_export(model, *inputs, dynamic: bool = True, **options) -> bytes:
    model.eval()
    names = [f"x{i}" for i in range(len(inputs))]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, inputs, buffer, dynamo=False, input_names=names,
                          dynamic_axes={n: {0: "n"} for n in names} if dynamic else None,
                          **options)
    return buffer.getvalue()


def torch_outputs(model, *inputs) -> list[np.ndarray]:
    with torch.no_grad():
        out = model(*inputs)
    flat = []
    for item in out if isinstance(out, tuple) else (out,):
        flat += [t.numpy() for t in (item if isinstance(item, tuple) else (item,))]
    return flat


def _seeded(model):
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, (T.BatchNorm1d, T.BatchNorm2d)):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return model


MODELS = {
    "cnn": (lambda: T.Sequential(
        T.Conv2d(3, 8, 3, stride=2, padding=1), T.BatchNorm2d(8), T.ReLU(),
        T.MaxPool2d(3, 2, 1, ceil_mode=True), T.Conv2d(8, 8, 3, padding=1, groups=4),
        T.LeakyReLU(0.1), T.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
        T.AdaptiveAvgPool2d(1), T.Flatten(), T.Dropout(), T.Linear(8, 5), T.Softmax(1)),
        (2, 3, 17, 17)),
    "decoder": (lambda: T.Sequential(
        T.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), T.PReLU(4),
        T.InstanceNorm2d(4, affine=True), T.GroupNorm(2, 4),
        T.Upsample(scale_factor=2, mode="bilinear"), T.ReflectionPad2d(1),
        T.Upsample(scale_factor=2), T.Sigmoid()), (2, 3, 5, 5)),
    "lstm": (lambda: T.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True),
             (2, 5, 4)),
    "gru": (lambda: T.GRU(4, 6), (5, 2, 4)),
    "rnn-relu": (lambda: T.RNN(4, 6, nonlinearity="relu"), (5, 2, 4)),
    "transformer-ish": (lambda: T.Sequential(T.Linear(6, 8), T.LayerNorm(8), T.GELU(),
                                             T.Linear(8, 3), T.LogSoftmax(-1)), (2, 4, 6)),
    "conv1d": (lambda: T.Sequential(T.Conv1d(3, 4, 3, padding=2, dilation=2), T.MaxPool1d(2),
                                    T.AvgPool1d(2), T.ReLU6(),
                                    T.Upsample(scale_factor=2, mode="linear",
                                               align_corners=True)), (2, 3, 16)),
    "activations": (lambda: T.Sequential(T.Linear(5, 5), T.Tanh(), T.ELU(), T.SELU(),
                                         T.Hardswish(), T.Hardsigmoid(), T.SiLU(),
                                         T.Softplus(), T.Mish(), T.Softsign()), (2, 5)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("opset", [13, 17])
def test_pytorch_export_loads_and_matches(name, opset):
    factory, shape = MODELS[name]
    torch.manual_seed(0)
    model = _seeded(factory())
    x = torch.randn(*shape)
    loaded = em.onnx.load(torch_export(model, x, opset_version=opset)).eval()
    assert loaded.producer.startswith("pytorch")
    for sample in (x, torch.cat([x, x[:1]])):  # the dynamic batch axis
        with em.no_grad():
            got = loaded(em.tensor(sample.numpy()))
        got = got if isinstance(got, tuple) else (got,)
        for a, b in zip(got, torch_outputs(model, sample), strict=True):
            assert_close(a.numpy(), b)


def test_embedding_model_from_pytorch():
    torch.manual_seed(0)
    model = T.Sequential(T.Embedding(10, 4), T.Flatten(), T.Linear(12, 2))
    tokens = torch.randint(0, 10, (2, 3))
    loaded = em.onnx.load(torch_export(model, tokens)).eval()
    with em.no_grad():
        assert_close(loaded(em.tensor(tokens.numpy())).numpy(), torch_outputs(model, tokens)[0])


def test_resnet_like_torchvision_model_fine_tunes_in_ember():
    """A torchvision ResNet-18 exported by PyTorch (batch norms folded into the
    convolutions by the exporter) becomes ember layers: replace nothing, freeze all but
    the last Linear, and a few steps of training lower the loss; only the head changes."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent.parent / "models" / "torchvision_reference.py"
    spec = importlib.util.spec_from_file_location("torchvision_reference", path)
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    torch.manual_seed(0)
    model = reference.resnet(reference.BasicBlock, [2, 2, 2, 2], num_classes=4)
    reference.randomize_batchnorm(model)
    x = torch.randn(2, 3, 32, 32)
    loaded = em.onnx.load(torch_export(model, x))
    with em.no_grad():
        assert_close(loaded.eval()(em.tensor(x.numpy())).numpy(), torch_outputs(model, x)[0])
    convs = [m for m in loaded.modules() if isinstance(m, em.nn.Conv2d)]
    assert len(convs) == 20 and isinstance(loaded.get_submodule("fc"), em.nn.Linear)
    em.nn.utils.freeze(loaded, except_="fc")
    before = {k: v.numpy().copy() for k, v in loaded.state_dict().items()}
    optimizer = em.optim.SGD([p for p in loaded.parameters() if p.requires_grad], lr=0.05)
    images = em.randn(8, 3, 32, 32)
    labels = em.tensor(np.arange(8) % 4)
    loaded.train()
    losses = []
    for _ in range(5):
        loss = em.nn.functional.cross_entropy(loaded(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    after = loaded.state_dict()
    changed = {k for k in before if not np.array_equal(before[k], after[k].numpy())}
    assert changed == {"fc.weight", "fc.bias"}


@pytest.mark.parametrize("name", ["cnn", "transformer-layer"])
def test_dynamo_exporter_when_onnxscript_is_installed(tmp_path, name):
    """torch.onnx.export's default exporter. (Its TorchScript exporter fails on
    nn.MultiheadAttention in torch 2.13: "is_causal must be bool, not Tensor".)"""
    pytest.importorskip("onnxscript", reason="torch.onnx.export(dynamo=True) needs "
                                             "onnxscript, not a dependency of ember")
    torch.manual_seed(0)
    if name == "cnn":
        model, x = _seeded(MODELS["cnn"][0]()).eval(), torch.randn(2, 3, 17, 17)
    else:
        model = T.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
        x = torch.randn(2, 5, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (x,), dynamo=True, verbose=False)
    program.save(str(tmp_path / "dynamo.onnx"))
    loaded = em.onnx.load(tmp_path / "dynamo.onnx").eval()
    with em.no_grad():
        assert_close(loaded(em.tensor(x.numpy())).numpy(), torch_outputs(model, x)[0])
