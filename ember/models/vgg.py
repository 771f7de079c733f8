"""VGG (Simonyan & Zisserman, 2014, "Very Deep Convolutional Networks for Large-Scale
Image Recognition"): stacks of 3x3 convolutions, laid out exactly as torchvision's
``vgg.py`` (configurations A, B, D, E = VGG-11, 13, 16, 19)."""

from __future__ import annotations

from collections.abc import Sequence

from ember import nn
from ember.tensor import Tensor

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn"]

# output channels of each 3x3 convolution; "M" is a 2x2 max pool with stride 2
cfgs: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


def make_layers(cfg: Sequence[int | str], batch_norm: bool = False,
                in_channels: int = 3) -> nn.Sequential:
    """The ``features`` of a VGG: ``Conv2d(3x3, padding 1) [-> BatchNorm2d] -> ReLU`` for
    each number in ``cfg``, ``MaxPool2d(2, 2)`` for each ``"M"``.

    >>> import ember as em
    >>> em.models.vgg.make_layers([8, "M"])
    Sequential(
      (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (1): ReLU(inplace=True)
      (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    )
    """
    layers: list[nn.Module] = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            conv2d = nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(int(v)), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: ``features`` (3x3 convolutions and max pools), ``avgpool`` to 7x7, and a
    ``classifier`` of three fully connected layers (4096, 4096, num_classes) with dropout.

    VGG showed that depth built from small kernels wins: two stacked 3x3 convolutions see
    a 5x5 window and three see 7x7, with fewer parameters (3 * 9 C^2 against 49 C^2 for
    one 7x7) and a non-linearity after each. Every convolution keeps the size (padding 1)
    and every max pool halves it, doubling the channels from 64 to 512. The price is
    size: 138M parameters for VGG-16, 102.8M of them in the first fully connected layer.

    Args:
        features: the convolutional part (see :func:`make_layers`), ending at 512
            channels.
        num_classes: outputs of the last layer (default 1000).
        init_weights: torchvision's initialisation (kaiming normal for convolutions,
            N(0, 0.01) for linear layers, zero biases); else the layers' defaults.
        dropout: dropout probability in the classifier (default 0.5).

    Shape:
        (N, 3, H, W) -> (N, num_classes); 224x224 is standard (7x7 after five pools), and
        any size from 32x32 works (adaptive average pooling).

    >>> import ember as em
    >>> from ember.models.vgg import cfgs, make_layers
    >>> features = make_layers(cfgs["D"])         # VGG-16's 13 convolutions and 5 pools
    >>> sum(p.numel() for p in features.parameters())
    14714688
    >>> features(em.zeros(1, 3, 32, 32)).shape    # each pool halves: 32 -> 1
    (1, 512, 1, 1)

    (``em.models.vgg16()`` adds ``avgpool`` and the classifier: 123,642,856 more
    parameters, which take seconds to initialise.)
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def _vgg(cfg: str, batch_norm: bool, weights, progress: bool, in_channels: int = 3,
         **kwargs) -> VGG:
    from ember.models import pretrained

    return pretrained.build(
        "vgg", lambda **kw: VGG(make_layers(cfgs[cfg], batch_norm, in_channels), **kw),
        weights, kwargs, progress)


def vgg11(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration A): 132,863,336 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("A", False, weights, progress, **kwargs)


def vgg11_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with BatchNorm (configuration A): 132,868,840 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("A", True, weights, progress, **kwargs)


def vgg13(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 (configuration B): 133,047,848 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("B", False, weights, progress, **kwargs)


def vgg13_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 with BatchNorm (configuration B): 133,053,736 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("B", True, weights, progress, **kwargs)


def vgg16(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration D): 138,357,544 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("D", False, weights, progress, **kwargs)


def vgg16_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with BatchNorm (configuration D): 138,365,992 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("D", True, weights, progress, **kwargs)


def vgg19(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 (configuration E): 143,667,240 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("E", False, weights, progress, **kwargs)


def vgg19_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 with BatchNorm (configuration E): 143,678,248 parameters (1000 classes).
    Keyword arguments go to :class:`VGG` (and ``in_channels`` to :func:`make_layers`)."""
    return _vgg("E", True, weights, progress, **kwargs)
