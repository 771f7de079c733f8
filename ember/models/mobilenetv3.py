"""MobileNetV3 (Howard et al., 2019, "Searching for MobileNetV3"), laid out exactly as
torchvision's ``mobilenetv3.py``: inverted residual blocks with depthwise convolutions,
squeeze-and-excitation and the hard-swish activation.

An inverted residual block widens the channels with a 1x1 convolution ("expand"),
filters each channel on its own with a depthwise 3x3 or 5x5 convolution (``groups`` =
channels: k^2 C weights instead of k^2 C^2), optionally reweights the channels with
squeeze-and-excitation, and narrows them again with a linear 1x1 convolution
("project"); the shortcut joins the narrow ends. Hard-swish,
``x * relu6(x + 3) / 6``, is a cheap stand-in for swish ``x * sigmoid(x)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from ember import nn
from ember.models import pretrained
from ember.models.blocks import Conv2dNormActivation, SqueezeExcitation, make_divisible
from ember.tensor import Tensor

__all__ = ["MobileNetV3", "InvertedResidual", "InvertedResidualConfig", "mobilenet_v3_large",
           "mobilenet_v3_small"]


@dataclass
class InvertedResidualConfig:
    """One row of the paper's Tables 1-2: a block's channels, kernel, SE, activation
    (``"RE"`` ReLU or ``"HS"`` hard-swish), stride and dilation; the channel counts are
    scaled by ``width_mult`` and rounded to multiples of 8."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    activation: str
    stride: int
    dilation: int
    width_mult: float = 1.0

    def __post_init__(self) -> None:
        self.input_channels = self.adjust_channels(self.input_channels, self.width_mult)
        self.expanded_channels = self.adjust_channels(self.expanded_channels, self.width_mult)
        self.out_channels = self.adjust_channels(self.out_channels, self.width_mult)
        self.use_hs = self.activation == "HS"

    @staticmethod
    def adjust_channels(channels: int, width_mult: float) -> int:
        return make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    """expand (1x1) -> depthwise (k x k, strided or dilated) -> [SE] -> project (1x1,
    linear), plus the input when the shape is kept (stride 1, same channels).

    With ``dilation > 1`` the depthwise convolution keeps stride 1 and dilates instead
    (the dilated backbone of the segmentation models). ``_is_cn`` marks a block that
    starts a new stage (stride 2), which the segmentation models use to find their
    feature maps.

    Shape:
        (N, C_in, H, W) -> (N, C_out, H / stride, W / stride).
    """

    def __init__(self, cnf: InvertedResidualConfig, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {cnf.stride}")
        se_layer = se_layer or partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers: list[nn.Module] = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels,
                                               kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=activation))
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels,
                                           kernel_size=cnf.kernel, stride=stride,
                                           dilation=cnf.dilation, groups=cnf.expanded_channels,
                                           norm_layer=norm_layer, activation_layer=activation))
        if cnf.use_se:
            squeeze = make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(se_layer(cnf.expanded_channels, squeeze))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        return result + input if self.use_res_connect else result


class MobileNetV3(nn.Module):
    """MobileNetV3: a 3x3/2 hard-swish stem, the inverted residual blocks, a 1x1
    convolution to 6x the last block's channels, global average pooling and a two-layer
    classifier (``Linear -> Hardswish -> Dropout -> Linear``).

    BatchNorm uses eps 0.001 and momentum 0.01 (torchvision's choice, from TensorFlow).

    Args:
        inverted_residual_setting: the blocks' configurations.
        last_channel: width of the classifier's hidden layer.
        num_classes: outputs (default 1000).
        block: the block class (default :class:`InvertedResidual`).
        norm_layer: default ``BatchNorm2d(eps=0.001, momentum=0.01)``.
        dropout: the classifier's dropout probability (default 0.2).

    Shape:
        (N, 3, H, W) -> (N, num_classes); the features are at 1/32 of the input (1/16
        when dilated).

    >>> import ember as em
    >>> model = em.models.mobilenet_v3_small(num_classes=10).eval()
    >>> model(em.zeros(1, 3, 32, 32)).shape
    (1, 10)
    """

    def __init__(self, inverted_residual_setting: Sequence[InvertedResidualConfig],
                 last_channel: int, num_classes: int = 1000,
                 block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 dropout: float = 0.2) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("MobileNetV3: the inverted_residual_setting should not be empty")
        if not all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting):
            raise TypeError("MobileNetV3: the inverted_residual_setting should be a list of "
                            "InvertedResidualConfig")
        block = block or InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [Conv2dNormActivation(3, first, kernel_size=3, stride=2,
                                                        norm_layer=norm_layer,
                                                        activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        last_out = 6 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(last_out, last_channel),
                                        nn.Hardswish(inplace=True),
                                        nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(last_channel, num_classes))
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x)).flatten(1)
        return self.classifier(x)


def _mobilenet_v3_conf(arch: str, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False) -> tuple[list[InvertedResidualConfig], int]:
    """The block table of ``arch`` and the classifier width. ``reduced_tail`` halves the
    channels of the last stage; ``dilated`` dilates it (rate 2) instead of striding."""
    divider = 2 if reduced_tail else 1
    dilation = 2 if dilated else 1
    conf = partial(InvertedResidualConfig, width_mult=width_mult)
    if arch == "mobilenet_v3_large":
        setting = [
            conf(16, 3, 16, 16, False, "RE", 1, 1),
            conf(16, 3, 64, 24, False, "RE", 2, 1),  # C1
            conf(24, 3, 72, 24, False, "RE", 1, 1),
            conf(24, 5, 72, 40, True, "RE", 2, 1),  # C2
            conf(40, 5, 120, 40, True, "RE", 1, 1),
            conf(40, 5, 120, 40, True, "RE", 1, 1),
            conf(40, 3, 240, 80, False, "HS", 2, 1),  # C3
            conf(80, 3, 200, 80, False, "HS", 1, 1),
            conf(80, 3, 184, 80, False, "HS", 1, 1),
            conf(80, 3, 184, 80, False, "HS", 1, 1),
            conf(80, 3, 480, 112, True, "HS", 1, 1),
            conf(112, 3, 672, 112, True, "HS", 1, 1),
            conf(112, 5, 672, 160 // divider, True, "HS", 2, dilation),  # C4
            conf(160 // divider, 5, 960 // divider, 160 // divider, True, "HS", 1, dilation),
            conf(160 // divider, 5, 960 // divider, 160 // divider, True, "HS", 1, dilation),
        ]
        last_channel = InvertedResidualConfig.adjust_channels(1280 // divider, width_mult)
    elif arch == "mobilenet_v3_small":
        setting = [
            conf(16, 3, 16, 16, True, "RE", 2, 1),  # C1
            conf(16, 3, 72, 24, False, "RE", 2, 1),  # C2
            conf(24, 3, 88, 24, False, "RE", 1, 1),
            conf(24, 5, 96, 40, True, "HS", 2, 1),  # C3
            conf(40, 5, 240, 40, True, "HS", 1, 1),
            conf(40, 5, 240, 40, True, "HS", 1, 1),
            conf(40, 5, 120, 48, True, "HS", 1, 1),
            conf(48, 5, 144, 48, True, "HS", 1, 1),
            conf(48, 5, 288, 96 // divider, True, "HS", 2, dilation),  # C4
            conf(96 // divider, 5, 576 // divider, 96 // divider, True, "HS", 1, dilation),
            conf(96 // divider, 5, 576 // divider, 96 // divider, True, "HS", 1, dilation),
        ]
        last_channel = InvertedResidualConfig.adjust_channels(1024 // divider, width_mult)
    else:
        raise ValueError(f"unsupported MobileNetV3 architecture {arch!r}")
    return setting, last_channel


def _mobilenet_v3(arch: str, weights, progress: bool, **kwargs) -> MobileNetV3:
    """The model of ``arch``; ``weights=PATH`` loads a state_dict file (torchvision's
    ``.pth`` too: the keys match), as every zoo function."""
    def builder(**kwargs) -> MobileNetV3:
        options = {k: kwargs.pop(k) for k in ("width_mult", "reduced_tail", "dilated")
                   if k in kwargs}
        setting, last_channel = _mobilenet_v3_conf(arch, **options)
        return MobileNetV3(setting, last_channel, **kwargs)

    return pretrained.build(arch, builder, weights, kwargs, progress)


def mobilenet_v3_large(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV3:
    """MobileNetV3-Large: 5,483,032 parameters (1000 classes), 0.22 GMACs at 224x224.

    Keyword arguments: ``width_mult``, ``reduced_tail``, ``dilated`` (the table), and
    ``num_classes``, ``dropout``, ``norm_layer`` (for :class:`MobileNetV3`)."""
    return _mobilenet_v3("mobilenet_v3_large", weights, progress, **kwargs)


def mobilenet_v3_small(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV3:
    """MobileNetV3-Small: 2,542,856 parameters (1000 classes), 0.06 GMACs at 224x224.
    Keyword arguments as :func:`mobilenet_v3_large`."""
    return _mobilenet_v3("mobilenet_v3_small", weights, progress, **kwargs)
