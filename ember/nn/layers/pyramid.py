"""Pyramid pooling layers: spatial pyramid pooling (SPP) and atrous spatial pyramid
pooling (ASPP, DeepLab)."""

from __future__ import annotations

from collections.abc import Sequence

from ember import functions
from ember.nn import functional as F
from ember.nn.container import ModuleList, Sequential
from ember.nn.layers.activation import ReLU
from ember.nn.layers.conv import Conv2d
from ember.nn.layers.dropout import Dropout
from ember.nn.layers.norm import BatchNorm2d
from ember.nn.layers.pooling import AdaptiveAvgPool2d
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["SpatialPyramidPooling", "ASPP", "ASPPConv", "ASPPPooling"]


class SpatialPyramidPooling(Module):
    """Spatial pyramid pooling (He et al., 2014): pool the feature map into a 4x4, a 2x2
    and a 1x1 grid of bins and join them, a vector of fixed length ``C x 21`` whatever
    the input's height and width (see :func:`~ember.nn.functional.spatial_pyramid_pool`).

    Put between the last convolution and the first fully connected layer, it lets a
    classifier take images of any size (and pools at several scales).

    Args:
        levels: the grid sizes (default (4, 2, 1)).
        mode: ``"max"`` (default, the paper's) or ``"avg"``.

    Shape:
        (N, C, H, W) -> (N, C * sum(n^2 for n in levels)), for any H, W >= 1.

    >>> import ember as em
    >>> spp = em.nn.SpatialPyramidPooling()
    >>> spp(em.zeros(2, 16, 13, 13)).shape, spp(em.zeros(2, 16, 40, 24)).shape
    ((2, 336), (2, 336))
    >>> spp.output_length(16)
    336
    """

    def __init__(self, levels: Sequence[int] = (4, 2, 1), mode: str = "max") -> None:
        super().__init__()
        if mode not in ("max", "avg"):
            raise ValueError(f"SpatialPyramidPooling: mode must be 'max' or 'avg', got {mode!r}")
        self.levels, self.mode = tuple(levels), mode

    def output_length(self, channels: int) -> int:
        """The length of the output vector for ``channels`` input channels."""
        return F.spatial_pyramid_length(channels, self.levels)

    def forward(self, input: Tensor) -> Tensor:
        return F.spatial_pyramid_pool(input, self.levels, self.mode)

    def extra_repr(self) -> str:
        return f"levels={self.levels}, mode={self.mode!r}"


class ASPPConv(Sequential):
    """A 3x3 convolution with dilation ``rate`` (padding = rate keeps the size), then
    BatchNorm and ReLU: one atrous branch of :class:`ASPP`."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int) -> None:
        super().__init__(Conv2d(in_channels, out_channels, 3, padding=dilation,
                                dilation=dilation, bias=False),
                         BatchNorm2d(out_channels), ReLU())


class ASPPPooling(Sequential):
    """Image-level features: global average pooling, 1x1 convolution, BatchNorm, ReLU,
    then bilinear upsampling back to the input's size (a constant map per channel): the
    branch of :class:`ASPP` that sees the whole image."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(AdaptiveAvgPool2d(1), Conv2d(in_channels, out_channels, 1, bias=False),
                         BatchNorm2d(out_channels), ReLU())

    def forward(self, input: Tensor) -> Tensor:
        size = tuple(input.shape[-2:])
        x = input
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(Module):
    """Atrous spatial pyramid pooling (Chen et al., 2017, DeepLabv3), in torchvision's
    form: parallel branches over the same feature map, concatenated and projected.

    Branches (``convs``): a 1x1 convolution; one 3x3 convolution per atrous rate r,
    dilated by r (a 3x3 kernel spread over ``2r + 1`` pixels: context at several scales
    with no extra parameters and no loss of resolution); and image pooling
    (:class:`ASPPPooling`). Each is followed by BatchNorm and ReLU; ``project`` is a 1x1
    convolution of the ``(len(rates) + 2) * out_channels`` joined channels down to
    ``out_channels``, BatchNorm, ReLU and dropout.

    The rates suit the backbone's output stride: (6, 12, 18) at stride 16 (the default,
    the paper's), doubled, (12, 24, 36), at stride 8 (torchvision's ``DeepLabHead``).

    Args:
        in_channels: channels of the backbone's feature map.
        atrous_rates: the dilation rates of the 3x3 branches (default (6, 12, 18)).
        out_channels: channels of every branch and of the output (default 256).
        dropout: dropout probability after the projection (default 0.5).

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H, W).

    >>> import ember as em
    >>> aspp = em.nn.ASPP(64, out_channels=32).eval()
    >>> aspp(em.zeros(2, 64, 9, 11)).shape, len(aspp.convs)
    ((2, 32, 9, 11), 5)
    """

    def __init__(self, in_channels: int, atrous_rates: Sequence[int] = (6, 12, 18),
                 out_channels: int = 256, dropout: float = 0.5) -> None:
        super().__init__()
        rates = tuple(int(r) for r in atrous_rates)
        if any(r < 1 for r in rates):
            raise ValueError(f"ASPP: atrous rates must be positive, got {rates}")
        branches: list[Module] = [Sequential(Conv2d(in_channels, out_channels, 1, bias=False),
                                             BatchNorm2d(out_channels), ReLU())]
        branches += [ASPPConv(in_channels, out_channels, rate) for rate in rates]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = ModuleList(branches)
        self.project = Sequential(Conv2d(len(branches) * out_channels, out_channels, 1,
                                         bias=False),
                                  BatchNorm2d(out_channels), ReLU(), Dropout(dropout))
        self.atrous_rates = rates

    def forward(self, input: Tensor) -> Tensor:
        return self.project(functions.cat([conv(input) for conv in self.convs], dim=1))
