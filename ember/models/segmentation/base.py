"""What torchvision's segmentation models share: a backbone that returns named feature
maps (:class:`IntermediateLayerGetter`) and the backbone + head model that upsamples the
head's scores to the input's size (:class:`SimpleSegmentationModel`)."""

from __future__ import annotations

from collections import OrderedDict

from ember import nn
from ember.nn import functional as F
from ember.tensor import Tensor

__all__ = ["IntermediateLayerGetter", "SimpleSegmentationModel"]


class IntermediateLayerGetter(nn.ModuleDict):
    """A model's children up to the last one named in ``return_layers``, run in order;
    the output is an OrderedDict of the named children's outputs (torchvision's class of
    the same name, so the state_dict keys are the model's own).

    The children must be used in the order they were registered, each once (true of
    ResNet's ``conv1 ... layer4`` and of a ``Sequential``'s ``0, 1, ...``); the layers
    after the last returned one (ResNet's ``avgpool`` and ``fc``) are dropped.

    Args:
        model: the backbone.
        return_layers: ``{child name: output name}``, e.g. ``{"layer4": "out"}``.

    >>> import ember as em
    >>> getter = IntermediateLayerGetter(em.models.resnet18(), {"layer1": "a", "layer3": "b"})
    >>> [(k, v.shape) for k, v in getter(em.zeros(1, 3, 64, 64)).items()]
    [('a', (1, 64, 16, 16)), ('b', (1, 256, 4, 4))]
    >>> list(getter)[-1]
    'layer3'
    """

    def __init__(self, model: nn.Module, return_layers: dict[str, str]) -> None:
        names = [name for name, _ in model.named_children()]
        missing = set(return_layers) - set(names)
        if missing:
            raise ValueError(f"IntermediateLayerGetter: return_layers {sorted(missing)} are "
                             f"not children of the model (it has {', '.join(names)})")
        wanted = {str(k): str(v) for k, v in return_layers.items()}
        remaining = dict(wanted)
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            remaining.pop(name, None)
            if not remaining:
                break
        super().__init__(layers)
        self.return_layers = wanted

    def forward(self, x: Tensor) -> OrderedDict:
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class SimpleSegmentationModel(nn.Module):
    """``backbone`` -> ``classifier`` on its ``"out"`` map (and ``aux_classifier`` on its
    ``"aux"`` map), each upsampled bilinearly to the input's size.

    The output is an OrderedDict: ``"out"`` (N, num_classes, H, W) and, with an
    auxiliary head, ``"aux"`` of the same shape (torchvision trains with
    ``loss(out) + 0.5 loss(aux)``; see :class:`ember.nn.DeepSupervisionLoss`).
    """

    def __init__(self, backbone: nn.Module, classifier: nn.Module,
                 aux_classifier: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x: Tensor) -> OrderedDict:
        size = tuple(x.shape[-2:])
        features = self.backbone(x)
        result = OrderedDict()
        out = self.classifier(features["out"])
        result["out"] = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
        if self.aux_classifier is not None:
            aux = self.aux_classifier(features["aux"])
            result["aux"] = F.interpolate(aux, size=size, mode="bilinear", align_corners=False)
        return result


def check_weights(weights, weights_backbone) -> None:
    """ember ships no pretrained weights (the keys match torchvision's, so its can load)."""
    if weights is not None or weights_backbone is not None:
        raise ValueError("ember ships no pretrained weights: build the model, then "
                         "load_state_dict() a torchvision state_dict (keys match)")
