"""ResNet (He, Zhang, Ren & Sun, 2015, "Deep Residual Learning for Image Recognition"):
residual blocks with identity shortcuts, laid out exactly as torchvision's ``resnet.py``."""

from __future__ import annotations

from collections.abc import Sequence

from ember import nn
from ember.tensor import Tensor

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "resnet101"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, no bias (a BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias: changes the number of channels (and, strided, the size)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))``.

    ``s`` is the identity, or ``downsample`` (a strided 1x1 convolution and BatchNorm)
    when the block changes the size or the number of channels. Used by ResNet-18/34.

    Args:
        inplanes: input channels.
        planes: channels of both convolutions (the output has ``planes * expansion``).
        stride: stride of the first convolution (2 halves the resolution).
        downsample: the shortcut's projection, or None for the identity.
        groups, base_width, dilation: accepted for torchvision's signature; only the
            defaults are supported, as in torchvision.
        norm_layer: the normalisation layer (default BatchNorm2d).

    Shape:
        (N, inplanes, H, W) -> (N, planes, H / stride, W / stride).

    >>> import ember as em
    >>> block = em.models.resnet.BasicBlock(64, 64)
    >>> block(em.zeros(1, 64, 8, 8)).shape
    (1, 64, 8, 8)
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer=None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (reduce) -> 3x3 -> 1x1 (expand by 4) convolutions and a shortcut.

    The 1x1 convolutions shrink the channels before the costly 3x3 one and restore them
    after, so deep networks (ResNet-50/101) stay affordable. As in torchvision (ResNet
    v1.5) the stride is on the 3x3 convolution.

    Args:
        inplanes: input channels.
        planes: channels of the inner convolutions; the output has ``4 * planes``.
        stride: stride of the 3x3 convolution.
        downsample: the shortcut's projection, or None for the identity.
        groups, base_width: inner width = ``int(planes * base_width / 64) * groups``
            (ResNeXt and wide ResNets change them).
        dilation: dilation of the 3x3 convolution.
        norm_layer: the normalisation layer (default BatchNorm2d).

    Shape:
        (N, inplanes, H, W) -> (N, 4 planes, H / stride, W / stride).

    >>> import ember as em
    >>> block = em.models.resnet.Bottleneck(256, 64)
    >>> block(em.zeros(1, 256, 4, 4)).shape
    (1, 256, 4, 4)
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer=None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Residual network: a 7x7 stem, four stages of residual blocks, global average
    pooling and one fully connected layer.

    ResNet introduced identity shortcuts: each block learns a residual F(x) and outputs
    F(x) + x. Plain networks get *worse* on the training set as they grow deeper (the
    degradation problem); with shortcuts the identity is the easy default and gradients
    flow straight through, so 100+ layers train and keep improving. BatchNorm follows
    every convolution (none of which has a bias); a shortcut that changes the shape is a
    strided 1x1 convolution (``downsample``).

    Stages (224x224 input): stem conv 7x7/2 + max pool 3x3/2 -> 64x56x56; ``layer1``
    64 channels at 56x56, ``layer2`` 128 at 28x28, ``layer3`` 256 at 14x14, ``layer4``
    512 at 7x7 (times 4 with bottleneck blocks); ``avgpool`` -> ``fc``.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage ([2, 2, 2, 2] for ResNet-18, [3, 4, 6, 3] for 34/50,
            [3, 4, 23, 3] for 101).
        num_classes: outputs of ``fc`` (default 1000).
        zero_init_residual: start each block's last BatchNorm at gamma = 0, so every
            block begins as the identity.
        groups, width_per_group: inner width of bottleneck blocks (ResNeXt, wide ResNet).
        replace_stride_with_dilation: three bools; dilate instead of stride in layers 2-4.
        norm_layer: the normalisation layer (default BatchNorm2d).
        in_channels: input channels (default 3; an ember extension).

    Shape:
        (N, in_channels, H, W) -> (N, num_classes); 224x224 is standard, and any size
        from 32x32 works (adaptive average pooling).

    >>> import ember as em
    >>> model = em.models.resnet18(num_classes=10).eval()
    >>> model(em.zeros(1, 3, 32, 32)).shape
    (1, 10)
    """

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: Sequence[int],
                 num_classes: int = 1000, zero_init_residual: bool = False, groups: int = 1,
                 width_per_group: int = 64,
                 replace_stride_with_dilation: Sequence[bool] | None = None,
                 norm_layer=None, in_channels: int = 3) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes, self.dilation = 64, 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element "
                             f"tuple, got {replace_stride_with_dilation}")
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must give the blocks of 4 stages, got {layers}")
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2,
                               padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups,
                        self.base_width, previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _resnet(block, layers: list[int], weights, progress: bool, **kwargs) -> ResNet:
    from ember.models import pretrained

    return pretrained.build("resnet", lambda **kw: ResNet(block, layers, **kw), weights,
                            kwargs, progress)


def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18: basic blocks [2, 2, 2, 2]; 11,689,512 parameters (1000 classes),
    1.8 GMACs at 224x224. Keyword arguments go to :class:`ResNet`."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, progress, **kwargs)


def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34: basic blocks [3, 4, 6, 3]; 21,797,672 parameters (1000 classes)."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, progress, **kwargs)


def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50: bottleneck blocks [3, 4, 6, 3]; 25,557,032 parameters (1000 classes)."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)


def resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101: bottleneck blocks [3, 4, 23, 3]; 44,549,160 parameters (1000 classes)."""
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)
