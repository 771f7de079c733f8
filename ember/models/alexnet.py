"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012, "ImageNet Classification with Deep
Convolutional Neural Networks"), laid out exactly as torchvision's ``alexnet.py``."""

from __future__ import annotations

from ember import nn
from ember.tensor import Tensor

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """AlexNet: five convolutions with three max pools, then three fully connected layers.

    The network that won ImageNet 2012 by a wide margin and started the deep-learning
    era. It introduced ReLU activations (training several times faster than tanh),
    dropout in the fully connected layers against overfitting, overlapping max pooling,
    data augmentation, and training on GPUs (the original was split across two). This
    is torchvision's single-tower variant ("One weird trick", Krizhevsky 2014: 64, 192,
    384, 256, 256 channels, no local response normalisation)::

        features.0  conv 11x11/4, 3->64, padding 2    -> 64x55x55      23,296
        features.2  max pool 3x3/2                    -> 64x27x27
        features.3  conv 5x5, 64->192, padding 2      -> 192x27x27    307,392
        features.5  max pool 3x3/2                    -> 192x13x13
        features.6  conv 3x3, 192->384, padding 1     -> 384x13x13    663,936
        features.8  conv 3x3, 384->256, padding 1     -> 256x13x13    884,992
        features.10 conv 3x3, 256->256, padding 1     -> 256x13x13    590,080
        features.12 max pool 3x3/2                    -> 256x6x6
        avgpool     adaptive average pool             -> 256x6x6
        classifier  dropout, 9216->4096, dropout, 4096->4096, 4096->1000
                                                   37,752,832 + 16,781,312 + 4,097,000
                                                                  total 61,100,840

    Args:
        num_classes: outputs of the last layer (default 1000).
        dropout: dropout probability before the first two fully connected layers.
        in_channels: input channels (default 3; an ember extension).

    Shape:
        (N, in_channels, 224, 224) -> (N, num_classes); any size from 63x63 works
        (adaptive average pooling to 6x6).

    >>> import ember as em
    >>> model = em.models.alexnet(num_classes=10)
    >>> model(em.zeros(1, 3, 64, 64)).shape
    (1, 10)
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5,
                 in_channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """AlexNet: 61,100,840 parameters with 1000 classes. Keyword arguments
    (``num_classes``, ``dropout``, ``in_channels``) go to :class:`AlexNet`."""
    from ember.models import pretrained

    return pretrained.build("alexnet", AlexNet, weights, kwargs, progress)
