"""Classic architectures, built from ember.nn layers.

``mlp`` (configurable fully connected network), ``lenet5`` (LeCun et al., 1998, the
modern reading) and ``lenet5_original`` (the paper's own layers and counts),
``alexnet`` (2012), ``vgg11/13/16/19`` and their ``_bn`` variants (2014), ``googlenet``
(Inception v1, 2014) and ``resnet18/34/50/101`` (2015); for detection ``yolov1`` (2016,
in :mod:`ember.models.detection` with its loss and decoding). Layer names and structure are
torchvision's, so parameter counts agree exactly and a torchvision ``state_dict`` loads
key for key (``weights=PATH`` loads a downloaded torchvision file). ember ships weights
it trained for ``lenet5`` (MNIST) and ``small_cnn`` (Fashion-MNIST): ``weights="mnist"``.

>>> import ember as em
>>> model = em.models.resnet18()
>>> sum(p.numel() for p in model.parameters())
11689512
"""

from ember.models import resnet, vgg  # the modules (em.models.alexnet is the builder)
from ember.models.alexnet import AlexNet, alexnet
from ember.models.googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from ember.models.lenet import LeNet5, lenet5
from ember.models.lenet_original import LeNet5Original, lenet5_original
from ember.models.mlp import mlp
from ember.models.pretrained import LeNet5_Weights, SmallCNN_Weights, Weights
from ember.models.resnet import ResNet, resnet18, resnet34, resnet50, resnet101
from ember.models.small_cnn import SmallCNN, small_cnn
from ember.models.vgg import (
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

__all__ = [
    "LeNet5", "lenet5", "LeNet5Original", "lenet5_original", "mlp", "AlexNet", "alexnet",
    "VGG", "vgg11", "vgg11_bn", "vgg13",
    "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "GoogLeNet", "GoogLeNetOutputs",
    "googlenet", "ResNet", "resnet18", "resnet34", "resnet50", "resnet101",
]
__all__ += ["SmallCNN", "small_cnn", "LeNet5_Weights", "SmallCNN_Weights", "Weights"]

# detection: YOLOv1 with its loss, target encoding and decoding
from ember.models import detection
from ember.models.detection import YOLOv1, yolov1

__all__ += ["detection", "YOLOv1", "yolov1"]

# MobileNetV3 and the segmentation models (issue 17)
from ember.models import segmentation  # noqa: E402
from ember.models.mobilenetv3 import (  # noqa: E402
    MobileNetV3,
    mobilenet_v3_large,
    mobilenet_v3_small,
)

__all__ += ["MobileNetV3", "mobilenet_v3_large", "mobilenet_v3_small", "segmentation"]
