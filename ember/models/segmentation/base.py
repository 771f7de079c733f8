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


# the 4-d weight of the last convolution of each head: its output channels are the classes
_CLASS_KEYS = ("classifier.4.weight", "classifier.high_classifier.weight")


def build(name: str, make, weights, num_classes: int | None, aux_loss: bool | None,
          weights_backbone=None) -> nn.Module:
    """``make(num_classes, aux_loss, weights_backbone)`` with torchvision-style
    ``weights=`` and ``weights_backbone=``: the segmentation builders' shared tail.

    ember ships no segmentation weights, so ``weights`` is None or a state_dict file
    (torchvision's ``.pth``, read without PyTorch, or an ember checkpoint). From a file,
    ``num_classes`` and ``aux_loss`` default to the file's (its classifier's output
    channels; whether it holds ``aux_classifier`` weights), as torchvision's weights fix
    them; given ones must agree with the file, or ``load_state_dict`` names the keys.
    ``weights_backbone`` (a state_dict file of the plain backbone) is passed on to
    ``make`` unless ``weights`` is given, as torchvision ignores it then.
    """
    from ember.models import pretrained

    path = pretrained.resolve(name, weights)
    state = None if path is None else pretrained.state_dict_from_file(path)
    if state is not None:
        if aux_loss is None:
            aux_loss = any(key.startswith("aux_classifier.") for key in state)
        if num_classes is None:
            found = [state[key].shape[0] for key in _CLASS_KEYS if key in state]
            num_classes = found[0] if found else None
    model = make(21 if num_classes is None else num_classes, aux_loss,
                 None if weights is not None else weights_backbone)
    if state is not None:
        model.load_state_dict(state)
    return model
