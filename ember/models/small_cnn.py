"""A small convolutional network for 28x28 grey images (MNIST, Fashion-MNIST), with batch
normalisation: the size of network that a course trains in minutes on a CPU."""

from __future__ import annotations

from ember import nn
from ember.tensor import Tensor

__all__ = ["SmallCNN", "small_cnn"]


def _block(in_channels: int, out_channels: int, kernel_size: int) -> list[nn.Module]:
    """Convolution ('same' padding, no bias: batch norm's shift replaces it), batch norm,
    ReLU."""
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                      bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class SmallCNN(nn.Module):
    """Three convolution + batch norm + ReLU blocks, two max pools, global average pooling
    and one linear layer: 24,058 parameters (10 classes, 1 input channel)::

        features.0   conv 3x3, 1->16, padding 1     -> 16x28x28       144 (+32 BN)
        features.3   max pool 2x2                   -> 16x14x14
        features.4   conv 3x3, 16->32, padding 1    -> 32x14x14     4,608 (+64 BN)
        features.7   max pool 2x2                   -> 32x7x7
        features.8   conv 3x3, 32->64, padding 1    -> 64x7x7      18,432 (+128 BN)
        avgpool      global average pool            -> 64x1x1
        classifier   flatten, dropout, linear 64->10                  650

    The global average pool (Lin et al., 2013, "Network in Network") replaces large fully
    connected layers, which keeps the network small (a 100 KB float32 file) and makes
    ``features`` a backbone that reads images of any size: the transfer-learning split
    is ``features`` (frozen or fine-tuned) and ``classifier`` (the head, replaced for a
    new task; ``classifier[-1]`` is the layer to replace for another number of classes).

    Args:
        num_classes: outputs of the last layer.
        in_channels: input channels (1 for grey images).
        dropout: dropout probability before the linear layer.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes), H and W at least 4.

    >>> import ember as em
    >>> model = em.models.small_cnn()
    >>> sum(p.numel() for p in model.parameters())
    24058
    >>> model(em.zeros(2, 1, 28, 28)).shape
    (2, 10)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_block(in_channels, 16, 3), nn.MaxPool2d(2),
            *_block(16, 32, 3), nn.MaxPool2d(2),
            *_block(32, 64, 3),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout),
                                        nn.Linear(64, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def small_cnn(num_classes: int = 10, in_channels: int = 1, dropout: float = 0.2, *,
              weights=None, progress: bool = True) -> SmallCNN:
    """Build :class:`SmallCNN` (24,058 parameters with 10 classes).

    ``weights="fashion-mnist"`` (:class:`~ember.models.SmallCNN_Weights`
    ``.FASHION_MNIST``) loads the weights ember ships, trained on Fashion-MNIST;
    ``weights=PATH`` loads a state_dict file."""
    from ember.models import pretrained

    kwargs = dict(num_classes=num_classes, in_channels=in_channels, dropout=dropout)
    if weights is not None and num_classes == 10:
        del kwargs["num_classes"]
    return pretrained.build("small_cnn", SmallCNN, weights, kwargs, progress)
