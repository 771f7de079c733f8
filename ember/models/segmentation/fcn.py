"""FCN (Long, Shelhamer & Darrell, 2015, "Fully Convolutional Networks for Semantic
Segmentation") with a dilated ResNet backbone, laid out exactly as torchvision's
``segmentation/fcn.py``, so its state_dicts load key for key.

A classification network becomes a segmentation network by replacing its fully
connected layers with convolutions: the output is a map of class scores, one per
location, upsampled to the input's size. torchvision's version keeps layer3 and layer4
of the ResNet at 1/8 of the input by dilating their convolutions instead of striding
(``replace_stride_with_dilation=[False, True, True]``), so the score map is upsampled
8x (the paper's FCN-8s instead adds the scores of earlier layers: additive skips).
"""

from __future__ import annotations

from ember import nn
from ember.models import resnet
from ember.models.segmentation.base import (
    IntermediateLayerGetter,
    SimpleSegmentationModel,
    build,
)

__all__ = ["FCN", "FCNHead", "fcn_resnet50", "fcn_resnet101"]


class FCN(SimpleSegmentationModel):
    """Fully convolutional network: ``backbone`` (returning ``"out"`` and optionally
    ``"aux"`` maps), ``classifier`` (an :class:`FCNHead`), optional ``aux_classifier``;
    the scores are upsampled bilinearly to the input's size.

    Shape:
        (N, 3, H, W) -> {"out": (N, num_classes, H, W)[, "aux": (N, num_classes, H, W)]}.
    """


class FCNHead(nn.Sequential):
    """3x3 convolution to ``in_channels // 4`` channels, BatchNorm, ReLU, dropout 0.1,
    then a 1x1 convolution to ``channels`` class scores.

    >>> import ember as em
    >>> FCNHead(64, 5).eval()(em.zeros(1, 64, 4, 4)).shape
    (1, 5, 4, 4)
    """

    def __init__(self, in_channels: int, channels: int) -> None:
        inter = in_channels // 4
        super().__init__(nn.Conv2d(in_channels, inter, 3, padding=1, bias=False),
                         nn.BatchNorm2d(inter), nn.ReLU(), nn.Dropout(0.1),
                         nn.Conv2d(inter, channels, 1))


def dilated_resnet(builder, num_classes: int, aux: bool | None, weights_backbone=None
                   ) -> tuple[IntermediateLayerGetter, FCNHead | None]:
    """torchvision's ResNet backbone of FCN and DeepLabv3: ``builder`` (``resnet50`` or
    ``resnet101``) dilated in layer3 and layer4 (output stride 8), returning layer4 as
    ``"out"`` and, with ``aux``, layer3 as ``"aux"`` with its auxiliary FCN head;
    ``weights_backbone`` (a state_dict file of the plain ResNet, torchvision's ImageNet
    ``.pth`` for one) is loaded into it first."""
    backbone = builder(weights=weights_backbone,
                       replace_stride_with_dilation=[False, True, True])
    return_layers = {"layer4": "out"}
    if aux:
        return_layers["layer3"] = "aux"
    getter = IntermediateLayerGetter(backbone, return_layers=return_layers)
    return getter, FCNHead(1024, num_classes) if aux else None


def dilated_resnet_model(model, head, builder):
    """The ``make`` of :func:`~ember.models.segmentation.base.build` for a ``model``
    class (FCN, DeepLabV3) with ``head`` on a dilated ResNet made by ``builder``."""
    def make(classes: int, aux: bool | None, weights_backbone):
        backbone, aux_classifier = dilated_resnet(builder, classes, aux, weights_backbone)
        return model(backbone, head(2048, classes), aux_classifier)

    return make


def fcn_resnet50(*, weights=None, progress: bool = True, num_classes: int | None = None,
                 aux_loss: bool | None = None, weights_backbone=None, **kwargs) -> FCN:
    """FCN with a dilated ResNet-50 backbone (output stride 8): 32,957,013 parameters
    for 21 classes, 35,322,218 with the auxiliary head (``aux_loss=True``) on layer3.

    Args:
        weights: None, or the path of a state_dict file of the whole model
            (torchvision's ``.pth`` loads: the keys match; ``num_classes`` and
            ``aux_loss`` then default to the file's). ember ships no segmentation weights.
        weights_backbone: None, or a state_dict file of the plain ResNet-50 (e.g.
            torchvision's ImageNet weights), ignored when ``weights`` is given.
        num_classes: output classes (default 21, Pascal VOC's with the background).
        aux_loss: add the auxiliary FCN head on layer3 (output ``"aux"``).

    >>> import ember as em
    >>> model = em.models.segmentation.fcn_resnet50(num_classes=3).eval()
    >>> model(em.zeros(1, 3, 33, 33))["out"].shape
    (1, 3, 33, 33)
    """
    return build("fcn_resnet50", dilated_resnet_model(FCN, FCNHead, resnet.resnet50),
                 weights, num_classes, aux_loss, weights_backbone)


def fcn_resnet101(*, weights=None, progress: bool = True, num_classes: int | None = None,
                  aux_loss: bool | None = None, weights_backbone=None, **kwargs) -> FCN:
    """FCN with a dilated ResNet-101 backbone: 51,949,141 parameters for 21 classes
    (54,314,346 with the auxiliary head). Arguments as :func:`fcn_resnet50`."""
    return build("fcn_resnet101", dilated_resnet_model(FCN, FCNHead, resnet.resnet101),
                 weights, num_classes, aux_loss, weights_backbone)
