"""DeepLabv3 (Chen, Papandreou, Schroff & Adam, 2017, "Rethinking Atrous Convolution for
Semantic Image Segmentation"), laid out exactly as torchvision's
``segmentation/deeplabv3.py``, so its state_dicts load key for key.

Dilated (atrous) convolution spaces a kernel's taps ``r`` pixels apart: a 3x3 kernel
covers ``2r + 1`` pixels with nine weights, so the backbone can stop downsampling (output
stride 8 or 16 instead of 32) and keep its receptive field. Atrous spatial pyramid
pooling (:class:`ember.nn.ASPP`) then looks at the same map at several rates, and at the
whole image, in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence

from ember import nn
from ember.models import mobilenetv3, resnet
from ember.models.segmentation.base import (
    IntermediateLayerGetter,
    SimpleSegmentationModel,
    build,
)
from ember.models.segmentation.fcn import FCNHead, dilated_resnet_model

__all__ = ["DeepLabV3", "DeepLabHead", "deeplabv3_resnet50", "deeplabv3_resnet101",
           "deeplabv3_mobilenet_v3_large", "stage_indices"]


class DeepLabV3(SimpleSegmentationModel):
    """DeepLabv3: a dilated ``backbone``, a :class:`DeepLabHead` ``classifier`` and an
    optional FCN ``aux_classifier``; scores upsampled bilinearly to the input's size.

    Shape:
        (N, 3, H, W) -> {"out": (N, num_classes, H, W)[, "aux": (N, num_classes, H, W)]}.
    """


class DeepLabHead(nn.Sequential):
    """:class:`ember.nn.ASPP` (256 channels), a 3x3 convolution, BatchNorm, ReLU and a
    1x1 convolution to the class scores. The rates default to (12, 24, 36), as
    torchvision's (ASPP's (6, 12, 18) doubled, for its output stride of 8).

    >>> import ember as em
    >>> DeepLabHead(64, 3).eval()(em.zeros(2, 64, 5, 5)).shape
    (2, 3, 5, 5)
    """

    def __init__(self, in_channels: int, num_classes: int,
                 atrous_rates: Sequence[int] = (12, 24, 36)) -> None:
        super().__init__(nn.ASPP(in_channels, atrous_rates),
                         nn.Conv2d(256, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256),
                         nn.ReLU(), nn.Conv2d(256, num_classes, 1))


def stage_indices(features: nn.Sequential) -> list[int]:
    """The indices of a MobileNetV3 ``features`` block that end its stages: the stem
    (C0), every strided block (C1 ... C4, ``_is_cn``) and the last layer (C5)."""
    strided = [i for i, block in enumerate(features) if getattr(block, "_is_cn", False)]
    return [0, *strided, len(features) - 1]


def _deeplabv3_mobilenetv3(backbone: mobilenetv3.MobileNetV3, num_classes: int,
                           aux: bool | None) -> DeepLabV3:
    features = backbone.features
    stages = stage_indices(features)
    out_pos, aux_pos = stages[-1], stages[-4]  # C5 (output stride 16) and C2 (stride 8)
    return_layers = {str(out_pos): "out"}
    if aux:
        return_layers[str(aux_pos)] = "aux"
    getter = IntermediateLayerGetter(features, return_layers=return_layers)
    aux_classifier = FCNHead(features[aux_pos].out_channels, num_classes) if aux else None
    classifier = DeepLabHead(features[out_pos].out_channels, num_classes)
    return DeepLabV3(getter, classifier, aux_classifier)


def deeplabv3_resnet50(*, weights=None, progress: bool = True, num_classes: int | None = None,
                       aux_loss: bool | None = None, weights_backbone=None,
                       **kwargs) -> DeepLabV3:
    """DeepLabv3 with a dilated ResNet-50 backbone (output stride 8): 39,638,869
    parameters for 21 classes, 42,004,074 with the auxiliary FCN head on layer3.

    Args:
        weights, weights_backbone: as :func:`~ember.models.segmentation.fcn_resnet50`
            (state_dict files; ember ships no segmentation weights).
        num_classes: output classes (default 21, or the ``weights`` file's).
        aux_loss: add the auxiliary head (output ``"aux"``).
    """
    return build("deeplabv3_resnet50",
                 dilated_resnet_model(DeepLabV3, DeepLabHead, resnet.resnet50),
                 weights, num_classes, aux_loss, weights_backbone)


def deeplabv3_resnet101(*, weights=None, progress: bool = True,
                        num_classes: int | None = None, aux_loss: bool | None = None,
                        weights_backbone=None, **kwargs) -> DeepLabV3:
    """DeepLabv3 with a dilated ResNet-101 backbone: 58,630,997 parameters for 21
    classes (60,996,202 with the auxiliary head). Arguments as
    :func:`deeplabv3_resnet50`."""
    return build("deeplabv3_resnet101",
                 dilated_resnet_model(DeepLabV3, DeepLabHead, resnet.resnet101),
                 weights, num_classes, aux_loss, weights_backbone)


def deeplabv3_mobilenet_v3_large(*, weights=None, progress: bool = True,
                                 num_classes: int | None = None, aux_loss: bool | None = None,
                                 weights_backbone=None, **kwargs) -> DeepLabV3:
    """DeepLabv3 with a dilated MobileNetV3-Large backbone (output stride 16):
    11,025,477 parameters for 21 classes, 11,029,328 with the auxiliary head on C2.

    >>> import ember as em
    >>> model = em.models.segmentation.deeplabv3_mobilenet_v3_large(num_classes=4).eval()
    >>> model(em.zeros(1, 3, 35, 29))["out"].shape
    (1, 4, 35, 29)
    """
    def make(classes: int, aux: bool | None, backbone_weights) -> DeepLabV3:
        backbone = mobilenetv3.mobilenet_v3_large(weights=backbone_weights, dilated=True)
        return _deeplabv3_mobilenetv3(backbone, classes, aux)

    return build("deeplabv3_mobilenet_v3_large", make, weights, num_classes, aux_loss,
                 weights_backbone)
