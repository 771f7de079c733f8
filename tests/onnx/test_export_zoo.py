"""Every model in em.models exports to ONNX, runs in onnxruntime with ember's outputs
(1e-5 of the outputs' scale) and loads back into ember with the same outputs and the
same state_dict keys.

The zoo is enumerated from ``em.models.__all__``: a new model is covered once it has an
entry in INPUTS (its example input), or it must be listed in NOT_EXPORTABLE with the
reason. The VGG family shares one classifier of 123M weights (a 515 MB file): VGG-11-BN
is exported whole, the other seven with their own ``features`` (every convolution and
batch norm they have) and a small head, to keep the suite's time and memory in bounds.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from onnx_checks import check_export, check_round_trip, onnx, randomise_batch_norms

import ember as em
from ember import nn

# example input per model (small images: the models' adaptive pooling takes them)
INPUTS = {
    "lenet5": (2, 1, 28, 28), "lenet5_original": (2, 1, 32, 32), "mlp": (2, 1, 28, 28),
    "small_cnn": (2, 1, 28, 28), "alexnet": (1, 3, 63, 63), "googlenet": (2, 3, 32, 32),
    "resnet18": (2, 3, 32, 32), "resnet34": (2, 3, 32, 32), "resnet50": (2, 3, 32, 32),
    "resnet101": (1, 3, 32, 32), "vgg11_bn": (1, 3, 32, 32),
}
FEATURES_ONLY = {"vgg11", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"}
NOT_EXPORTABLE: dict[str, str] = {}
DYNAMIC = {"lenet5", "resnet18", "small_cnn", "googlenet"}


def zoo() -> list[str]:
    """The builder functions of em.models (lower-case callables returning a Module)."""
    return sorted(name for name in em.models.__all__
                  if name[0].islower() and callable(getattr(em.models, name)))


def _build(name: str) -> nn.Module:
    builder = getattr(em.models, name)
    takes_classes = "num_classes" in inspect.signature(builder).parameters or \
        "kwargs" in inspect.signature(builder).parameters
    model = builder(num_classes=10) if takes_classes and name not in (
        "lenet5", "lenet5_original", "mlp", "small_cnn") else builder()
    return randomise_batch_norms(model)


def test_every_zoo_model_is_tested_or_listed():
    known = set(INPUTS) | FEATURES_ONLY | set(NOT_EXPORTABLE)
    assert set(zoo()) <= known, f"models without an ONNX test: {set(zoo()) - known}"


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_zoo_model_runs_in_onnxruntime_and_loads_back(name):
    model = _build(name).eval()
    x = em.randn(*INPUTS[name])
    options, runs = {}, None
    if name in DYNAMIC:
        options = dict(input_names=["image"], output_names=["logits"],
                       dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
        runs = [em.randn(3, *INPUTS[name][1:])]
    data = check_export(model, x, runs=runs, **options)
    proto = onnx.load_from_string(data)
    names = {t.name for t in proto.graph.initializer}
    assert {k for k in model.state_dict() if "num_batches" not in k} <= names | {
        k for k in model.state_dict() if "num_batches" in k}
    loaded = check_round_trip(model, data, x)
    ours = {k: v for k, v in model.state_dict().items() if "num_batches" not in k}
    theirs = loaded.state_dict()
    for key, value in ours.items():  # the same keys, the same values
        np.testing.assert_array_equal(theirs[key].numpy(), value.numpy())


@pytest.mark.parametrize("name", sorted(FEATURES_ONLY))
def test_vgg_features_run_in_onnxruntime(name):
    em.models.vgg  # noqa: B018  (the module; make_layers and cfgs live there)
    cfg = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}[name.split("_")[0]]
    features = em.models.vgg.make_layers(em.models.vgg.cfgs[cfg], name.endswith("_bn"))
    model = randomise_batch_norms(nn.Sequential(features, nn.AdaptiveAvgPool2d(1),
                                                nn.Flatten(), nn.Linear(512, 10)))
    x = em.randn(1, 3, 32, 32)
    data = check_export(model, x)
    check_round_trip(model, data, x)


def test_googlenet_with_auxiliary_heads_exports_its_evaluation_graph():
    model = randomise_batch_norms(em.models.googlenet(num_classes=10, aux_logits=True))
    x = em.randn(1, 3, 64, 64)
    data = check_export(model, x)  # eval mode: the logits only, as torchvision
    assert len(onnx.load_from_string(data).graph.output) == 1
