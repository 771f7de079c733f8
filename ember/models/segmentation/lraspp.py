"""Lite R-ASPP (Howard et al., 2019, "Searching for MobileNetV3", section 6.4), laid out
exactly as torchvision's ``segmentation/lraspp.py``: a light segmentation head that
gates the high-level features by their global average (like squeeze-and-excitation)
instead of ASPP's dilated branches, and adds class scores from a low-level map."""

from __future__ import annotations

from collections import OrderedDict

from ember import nn
from ember.models import mobilenetv3
from ember.models.segmentation.base import IntermediateLayerGetter, build
from ember.models.segmentation.deeplabv3 import stage_indices
from ember.nn import functional as F
from ember.tensor import Tensor

__all__ = ["LRASPP", "LRASPPHead", "lraspp_mobilenet_v3_large"]


class LRASPP(nn.Module):
    """Lite R-ASPP: ``backbone`` returning ``"low"`` (1/8) and ``"high"`` (1/16) maps and
    an :class:`LRASPPHead`; the scores are upsampled bilinearly to the input's size.

    Shape:
        (N, 3, H, W) -> {"out": (N, num_classes, H, W)}.
    """

    def __init__(self, backbone: nn.Module, low_channels: int, high_channels: int,
                 num_classes: int, inter_channels: int = 128) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = LRASPPHead(low_channels, high_channels, num_classes, inter_channels)

    def forward(self, input: Tensor) -> OrderedDict:
        out = self.classifier(self.backbone(input))
        result = OrderedDict()
        result["out"] = F.interpolate(out, size=tuple(input.shape[-2:]), mode="bilinear",
                                      align_corners=False)
        return result


class LRASPPHead(nn.Module):
    """``high_classifier(up(cbr(high) * scale(high))) + low_classifier(low)``:

    ``cbr`` is a 1x1 convolution, BatchNorm and ReLU; ``scale`` a global average pool,
    1x1 convolution and sigmoid (a per-channel gate); ``up`` bilinear upsampling to the
    low map's size; both classifiers are 1x1 convolutions to the class scores.
    """

    def __init__(self, low_channels: int, high_channels: int, num_classes: int,
                 inter_channels: int) -> None:
        super().__init__()
        self.cbr = nn.Sequential(nn.Conv2d(high_channels, inter_channels, 1, bias=False),
                                 nn.BatchNorm2d(inter_channels), nn.ReLU(inplace=True))
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1),
                                   nn.Conv2d(high_channels, inter_channels, 1, bias=False),
                                   nn.Sigmoid())
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, input: dict) -> Tensor:
        low, high = input["low"], input["high"]
        x = self.cbr(high) * self.scale(high)
        x = F.interpolate(x, size=tuple(low.shape[-2:]), mode="bilinear", align_corners=False)
        return self.low_classifier(low) + self.high_classifier(x)


def lraspp_mobilenet_v3_large(*, weights=None, progress: bool = True,
                              num_classes: int | None = None, weights_backbone=None,
                              **kwargs) -> LRASPP:
    """Lite R-ASPP with a dilated MobileNetV3-Large backbone: 3,221,538 parameters for
    21 classes. It has no auxiliary head (``aux_loss=True`` is refused, as torchvision).

    >>> import ember as em
    >>> model = em.models.segmentation.lraspp_mobilenet_v3_large(num_classes=2).eval()
    >>> model(em.zeros(1, 3, 40, 40))["out"].shape
    (1, 2, 40, 40)
    """
    if kwargs.pop("aux_loss", False):
        raise NotImplementedError("lraspp_mobilenet_v3_large does not use an auxiliary loss")
    def make(classes: int, aux: bool | None, backbone_weights) -> LRASPP:
        features = mobilenetv3.mobilenet_v3_large(weights=backbone_weights,
                                                  dilated=True).features
        stages = stage_indices(features)
        low_pos, high_pos = stages[-4], stages[-1]  # C2 (stride 8) and C5 (stride 16)
        backbone = IntermediateLayerGetter(features,
                                           {str(low_pos): "low", str(high_pos): "high"})
        return LRASPP(backbone, features[low_pos].out_channels,
                      features[high_pos].out_channels, classes)

    return build("lraspp_mobilenet_v3_large", make, weights, num_classes, False,
                 weights_backbone)
