"""GoogLeNet, Inception v1 (Szegedy et al., 2014, "Going Deeper with Convolutions"), laid
out exactly as torchvision's ``googlenet.py`` (with BatchNorm after every convolution)."""

from __future__ import annotations

from typing import NamedTuple

from ember import functions, nn
from ember.nn import functional as F
from ember.tensor import Tensor

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux", "BasicConv2d",
           "googlenet"]


class GoogLeNetOutputs(NamedTuple):
    """What GoogLeNet returns in training mode when it has auxiliary heads."""

    logits: Tensor
    aux_logits2: Tensor | None
    aux_logits1: Tensor | None


class BasicConv2d(nn.Module):
    """``relu(bn(conv(x)))``: a convolution without bias, BatchNorm (eps 0.001), ReLU.

    Keyword arguments (``kernel_size``, ``stride``, ``padding``) go to the Conv2d.

    >>> import ember as em
    >>> from ember.models.googlenet import BasicConv2d
    >>> BasicConv2d(3, 8, kernel_size=3, padding=1)(em.zeros(1, 3, 5, 5)).shape
    (1, 8, 5, 5)
    """

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """An Inception block: four parallel branches whose outputs are concatenated along
    the channels (depth).

    ``branch1`` 1x1 convolution; ``branch2`` 1x1 reduction then 3x3; ``branch3`` 1x1
    reduction then a second convolution (5x5 in the paper; 3x3 in torchvision, a known
    slip kept for compatibility with its weights, so here too); ``branch4`` 3x3 max pool
    (stride 1) then a 1x1 projection. The 1x1 reductions keep the costly convolutions
    cheap. Output channels: ``ch1x1 + ch3x3 + ch5x5 + pool_proj``.

    Args:
        in_channels: input channels.
        ch1x1: output channels of branch 1.
        ch3x3red, ch3x3: reduction and output channels of branch 2.
        ch5x5red, ch5x5: reduction and output channels of branch 3.
        pool_proj: output channels of branch 4.
        conv_block: the convolution block (default :class:`BasicConv2d`).

    Shape:
        (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).

    >>> import ember as em
    >>> from ember.models.googlenet import Inception
    >>> block = Inception(192, 64, 96, 128, 16, 32, 32)   # inception3a
    >>> block(em.zeros(1, 192, 7, 7)).shape
    (1, 256, 7, 7)
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int,
                 ch5x5red: int, ch5x5: int, pool_proj: int, conv_block=None) -> None:
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            conv_block(in_channels, ch3x3red, kernel_size=1),
            conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(
            conv_block(in_channels, ch5x5red, kernel_size=1),
            conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1))  # 3x3: see above
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_block(in_channels, pool_proj, kernel_size=1))

    def forward(self, x: Tensor) -> Tensor:
        outputs = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return functions.cat(outputs, 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier, attached mid-network during training so that gradient
    reaches the early layers: average pool to 4x4, 1x1 convolution to 128 channels,
    fully connected 2048 -> 1024, ReLU, dropout, fully connected 1024 -> num_classes.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, in_channels: int, num_classes: int, conv_block=None,
                 dropout: float = 0.7) -> None:
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.conv = conv_block(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4))).flatten(1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1): a stem, nine Inception blocks, global average pooling
    and one fully connected layer.

    Inception's idea is to let the network choose its filter size: each block runs 1x1,
    3x3 and 5x5 convolutions and a max pool in parallel and concatenates their outputs
    along the depth (channels), with 1x1 convolutions reducing the channels first so that
    the width stays affordable. Global average pooling replaces the large fully connected
    layers of AlexNet/VGG: 22 layers deep, 6.6M parameters, 12x fewer than AlexNet.
    Two auxiliary classifiers (``aux1`` after 4a, ``aux2`` after 4d) add gradient signal
    during training; they are optional and unused in evaluation.

    Args:
        num_classes: outputs of ``fc`` (default 1000).
        aux_logits: build the auxiliary heads (default False here: 6,624,904 parameters,
            torchvision's published count; True gives 13,004,888, which is what
            torchvision's untrained ``googlenet()`` builds).
        transform_input: convert inputs normalised with ImageNet's mean and std to the
            (x - 0.5) / 0.5 normalisation the original weights expect.
        init_weights: truncated normal N(0, 0.01) for convolutions and linear layers, as
            torchvision (default True; False keeps the layers' defaults).
        dropout: dropout before ``fc`` (default 0.2).
        dropout_aux: dropout in the auxiliary heads (default 0.7).
        in_channels: input channels (default 3; an ember extension).

    torchvision's pretrained file also holds the auxiliary heads: load it into
    ``googlenet(aux_logits=True, transform_input=True)`` (as torchvision does, which then
    drops the heads), or with ``load_state_dict(..., strict=False)``.

    Returns:
        logits (N, num_classes); in training mode with ``aux_logits``, a
        :class:`GoogLeNetOutputs` ``(logits, aux_logits2, aux_logits1)`` as torchvision.

    Shape:
        (N, in_channels, 224, 224) -> (N, num_classes); any size from 32x32 works
        (adaptive average pooling).

    >>> import ember as em
    >>> model = em.models.googlenet(num_classes=10).eval()
    >>> model(em.zeros(1, 3, 32, 32)).shape
    (1, 10)
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False,
                 transform_input: bool = False, init_weights: bool | None = True,
                 blocks=None, dropout: float = 0.2, dropout_aux: float = 0.7,
                 in_channels: int = 3) -> None:
        super().__init__()
        if blocks is None:
            blocks = [BasicConv2d, Inception, InceptionAux]
        if len(blocks) != 3:
            raise ValueError(f"GoogLeNet: blocks must have 3 elements, got {len(blocks)}")
        conv_block, inception_block, inception_aux_block = blocks
        self.aux_logits, self.transform_input = aux_logits, transform_input
        self.conv1 = conv_block(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = inception_aux_block(512, num_classes, dropout=dropout_aux)
            self.aux2 = inception_aux_block(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        if init_weights is None or init_weights:  # torchvision warns on None, then inits
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    def _transform_input(self, x: Tensor) -> Tensor:
        if not self.transform_input:
            return x
        # from (x - mean) / std with ImageNet's mean and std to (x - 0.5) / 0.5
        channels = [x[:, c:c + 1] * (std / 0.5) + (mean - 0.5) / 0.5
                    for c, (mean, std) in enumerate([(0.485, 0.229), (0.456, 0.224),
                                                     (0.406, 0.225)])]
        return functions.cat(channels, 1)

    def forward(self, x: Tensor) -> Tensor | GoogLeNetOutputs:
        x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet(*, weights=None, progress: bool = True, **kwargs) -> GoogLeNet:
    """GoogLeNet (Inception v1): 6,624,904 parameters with 1000 classes (13,004,888 with
    ``aux_logits=True``). Keyword arguments go to :class:`GoogLeNet`."""
    from ember.models import pretrained

    return pretrained.build("googlenet", GoogLeNet, weights, kwargs, progress)
