"""Building blocks that torchvision's newer architectures share (its ``ops/misc.py`` and
``models/_utils.py``): convolution + normalisation + activation, squeeze-and-excitation,
and the channel rounding of the MobileNets."""

from __future__ import annotations

from collections.abc import Callable

from ember import nn
from ember.tensor import Tensor

__all__ = ["Conv2dNormActivation", "SqueezeExcitation", "make_divisible"]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``,
    default ``divisor``), raised one step if rounding lost more than 10%: the channel
    counts of the MobileNets (from TensorFlow's reference, as torchvision).

    >>> make_divisible(72 / 4), make_divisible(240 * 0.75), make_divisible(5)
    (24, 184, 8)
    """
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class Conv2dNormActivation(nn.Sequential):
    """Conv2d -> normalisation -> activation, as torchvision's block of the same name
    (children ``0``, ``1``, ``2``, so its state_dict keys match).

    Args:
        in_channels, out_channels, kernel_size, stride, groups, dilation: of the Conv2d.
        padding: default ``(kernel_size - 1) // 2 * dilation``, which keeps the size at
            stride 1.
        norm_layer: a callable ``norm_layer(out_channels)`` (default BatchNorm2d), or None.
        activation_layer: a callable ``activation_layer(inplace=inplace)`` (default ReLU),
            or None.
        inplace: passed to the activation (None: not passed).
        bias: the convolution's bias (default: only without a normalisation layer).

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H_out, W_out), the Conv2d's sizes.

    >>> import ember as em
    >>> block = Conv2dNormActivation(3, 16, stride=2)
    >>> block(em.zeros(1, 3, 9, 9)).shape, [type(m).__name__ for m in block]
    ((1, 16, 5, 5), ['Conv2d', 'BatchNorm2d', 'ReLU'])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 dilation: int = 1, inplace: bool | None = True,
                 bias: bool | None = None) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu, Shen & Sun, 2017): reweight the channels by a gate
    computed from their global averages,

    .. math:: y = x \\cdot \\sigma\\big(W_2\\, \\delta(W_1\\, \\mathrm{avg}(x) + b_1) + b_2\\big)

    with :math:`W_1` (``fc1``) squeezing C channels to ``squeeze_channels`` and
    :math:`W_2` (``fc2``) expanding them back, both 1x1 convolutions; :math:`\\delta` is
    ``activation`` (ReLU), :math:`\\sigma` is ``scale_activation`` (Sigmoid; MobileNetV3
    uses Hardsigmoid). The network learns which channels matter for this input.

    Args:
        input_channels: C.
        squeeze_channels: the bottleneck's width.
        activation, scale_activation: module classes, built without arguments.

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    >>> import ember as em
    >>> se = SqueezeExcitation(16, 4)
    >>> se(em.ones(2, 16, 5, 5)).shape, se.fc1.weight.shape
    ((2, 16, 5, 5), (4, 16, 1, 1))
    """

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input: Tensor) -> Tensor:
        scale = self.fc2(self.activation(self.fc1(self.avgpool(input))))
        return self.scale_activation(scale) * input
