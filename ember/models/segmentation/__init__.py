"""Semantic segmentation: one class label per pixel.

* torchvision's models, with its names, layer names and parameter counts, so a
  torchvision state_dict loads key for key and gives the same outputs:
  ``fcn_resnet50/101``, ``deeplabv3_resnet50/101``, ``deeplabv3_mobilenet_v3_large``,
  ``lraspp_mobilenet_v3_large`` (``num_classes``, ``aux_loss``; the output is a dict
  with ``"out"`` and, with the auxiliary head, ``"aux"``);
* ``unet``: the 2015 encoder-decoder with concatenated skips (``padding=False`` is the
  paper's unpadded network, 572x572 in, 388x388 out);
* ``unet_plus_plus``: nested dense skips, deep supervision, pruning at inference.

>>> import ember as em
>>> model = em.models.segmentation.unet(3, 4, base_channels=8, depth=2)
>>> model(em.zeros(2, 3, 32, 32)).shape
(2, 4, 32, 32)
"""

from ember.models.segmentation.base import IntermediateLayerGetter, SimpleSegmentationModel
from ember.models.segmentation.deeplabv3 import (
    DeepLabHead,
    DeepLabV3,
    deeplabv3_mobilenet_v3_large,
    deeplabv3_resnet50,
    deeplabv3_resnet101,
)
from ember.models.segmentation.fcn import FCN, FCNHead, fcn_resnet50, fcn_resnet101
from ember.models.segmentation.lraspp import LRASPP, LRASPPHead, lraspp_mobilenet_v3_large
from ember.models.segmentation.unet import DoubleConv, UNet, unet
from ember.models.segmentation.unet_plus_plus import UNetPlusPlus, unet_plus_plus

__all__ = [
    "IntermediateLayerGetter", "SimpleSegmentationModel", "FCN", "FCNHead", "fcn_resnet50",
    "fcn_resnet101", "DeepLabV3", "DeepLabHead", "deeplabv3_resnet50", "deeplabv3_resnet101",
    "deeplabv3_mobilenet_v3_large", "LRASPP", "LRASPPHead", "lraspp_mobilenet_v3_large",
    "DoubleConv", "UNet", "unet", "UNetPlusPlus", "unet_plus_plus",
]
