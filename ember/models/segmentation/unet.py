"""U-Net (Ronneberger, Fischer & Brox, 2015, "U-Net: Convolutional Networks for Biomedical
Image Segmentation"): an encoder-decoder whose decoder concatenates the encoder's maps of
the same resolution (the skip connections), so that fine detail lost by pooling comes
back for the pixel-accurate output.

The paper's network has no padding: every 3x3 convolution trims a pixel from each side,
so a 572x572 input gives a 388x388 output, and each skip is centre-cropped to the size of
the decoder map it joins (``padding=False``; ``ember explain unet-crop`` prints the sizes).
The common modern form pads, so the output has the input's size (``padding=True``, the
default) and adds BatchNorm after every convolution.
"""

from __future__ import annotations

from ember import functions, nn
from ember.tensor import Tensor

__all__ = ["DoubleConv", "UNet", "UNetUp", "unet", "SKIPS", "center_crop", "pad_to"]

SKIPS = ("concat", "add", "none")


class DoubleConv(nn.Sequential):
    """Two 3x3 convolutions, each followed by [BatchNorm and] ReLU: U-Net's basic block.

    Args:
        in_channels, out_channels: channels in and out.
        mid_channels: channels after the first convolution (default ``out_channels``).
        padding: pad by 1 (the size is kept) or not (each convolution trims 1 pixel from
            every side: H -> H - 4).
        batch_norm: BatchNorm after each convolution (whose bias is then dropped).

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H, W), or (H - 4, W - 4) unpadded.

    >>> import ember as em
    >>> from ember.models.segmentation import DoubleConv
    >>> DoubleConv(3, 8, padding=False)(em.zeros(1, 3, 10, 10)).shape
    (1, 8, 6, 6)
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int | None = None,
                 padding: bool = True, batch_norm: bool = True) -> None:
        mid_channels = mid_channels or out_channels
        layers = []
        for cin, cout in ((in_channels, mid_channels), (mid_channels, out_channels)):
            layers.append(nn.Conv2d(cin, cout, 3, padding=int(padding), bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


def center_crop(x: Tensor, size) -> Tensor:
    """The central ``size = (h, w)`` window of (N, C, H, W) ``x`` (U-Net's skip crop:
    ``(H - h) // 2`` rows off the top, the rest off the bottom)."""
    h, w = size
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    if top < 0 or left < 0:
        raise ValueError(f"center_crop: cannot crop a {x.shape[-2]}x{x.shape[-1]} map to "
                         f"{h}x{w}")
    return x[..., top:top + h, left:left + w]


def pad_to(x: Tensor, size) -> Tensor:
    """Zero-pad (N, C, H, W) ``x`` to ``size = (h, w)``, the extra row/column at the end
    (an upsampled map is a pixel short of its skip when the input size was odd)."""
    dh, dw = size[0] - x.shape[-2], size[1] - x.shape[-1]
    if dh < 0 or dw < 0:
        raise ValueError(f"pad_to: cannot pad a {x.shape[-2]}x{x.shape[-1]} map to "
                         f"{size[0]}x{size[1]}")
    if dh == 0 and dw == 0:
        return x
    return functions.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


class UNetUp(nn.Module):
    """One decoder step: upsample x2 halving the channels, join the skip, DoubleConv.

    ``up`` is a 2x2 transposed convolution with stride 2 (the paper's "up-convolution"),
    or, with ``bilinear``, bilinear upsampling then a 1x1 convolution. The skip joins by
    ``skip``: ``"concat"`` (U-Net: channels stacked, the next convolutions learn how to
    mix them), ``"add"`` (FCN's fusion: an element-wise sum) or ``"none"`` (no skip: a
    plain encoder-decoder). Unpadded, the skip is centre-cropped to the upsampled map;
    padded, the upsampled map is padded to the skip (odd sizes).

    Args:
        in_channels: channels of the map from below; the skip and output have half.
        padding, batch_norm: as :class:`DoubleConv`.
        bilinear: bilinear upsampling + 1x1 convolution instead of a transposed one.
        skip: ``"concat"``, ``"add"`` or ``"none"``.
    """

    def __init__(self, in_channels: int, padding: bool = True, batch_norm: bool = True,
                 bilinear: bool = False, skip: str = "concat") -> None:
        super().__init__()
        if skip not in SKIPS:
            raise ValueError(f"UNet: skip must be one of {SKIPS}, got {skip!r}")
        out_channels = in_channels // 2
        if bilinear:
            self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear",
                                                align_corners=False),
                                    nn.Conv2d(in_channels, out_channels, 1))
        else:
            self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        self.skip, self.padding = skip, padding
        joined = in_channels if skip == "concat" else out_channels
        self.conv = DoubleConv(joined, out_channels, padding=padding, batch_norm=batch_norm)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.up(x)
        if self.padding:
            x = pad_to(x, skip.shape[-2:])
        else:
            skip = center_crop(skip, x.shape[-2:])
        if self.skip == "concat":
            x = functions.cat([skip, x], dim=1)
        elif self.skip == "add":
            x = x + skip
        return self.conv(x)


class UNet(nn.Module):
    """U-Net: a contracting path of DoubleConv blocks and 2x2 max pools (channels
    doubling), an expanding path of :class:`UNetUp` steps (channels halving) that join the
    contracting path's maps by skip connections, and a 1x1 convolution to the classes.

    With ``base_channels=64`` and ``depth=4`` the channels are 64, 128, 256, 512, 1024 as
    in the paper. ``unet(1, 2, padding=False, batch_norm=False)`` is the paper's network
    exactly (31,030,658 parameters; 572x572 in, 388x388 out).

    Args:
        in_channels: input channels (1 for the paper's grey microscopy images).
        num_classes: output channels, one score map per class.
        base_channels: channels of the first block (default 64).
        depth: the number of poolings (default 4); an input side must be at least
            ``2 ** depth`` (padded), or large enough to survive the crops (unpadded).
        bilinear: bilinear upsampling + 1x1 convolution in the decoder instead of 2x2
            transposed convolutions.
        padding: pad the convolutions so the output has the input's size (default), or
            the paper's unpadded convolutions with centre-cropped skips.
        batch_norm: BatchNorm after every 3x3 convolution (default; not in the paper).
        skip: ``"concat"`` (U-Net), ``"add"`` (FCN-style additive fusion) or ``"none"``
            (no skips): the comparison of ``ember experiment skip_connections``.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes, H, W) padded; unpadded each side goes
        S -> S - 4 per block, /2 per pooling and x2 per upsampling (572 -> 388).

    >>> import ember as em
    >>> model = em.models.segmentation.unet(3, 4, base_channels=8, depth=3)
    >>> model(em.zeros(1, 3, 37, 45)).shape
    (1, 4, 37, 45)
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 2, base_channels: int = 64,
                 depth: int = 4, bilinear: bool = False, padding: bool = True,
                 batch_norm: bool = True, skip: str = "concat") -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"UNet: depth must be at least 1, got {depth}")
        if skip not in SKIPS:
            raise ValueError(f"UNet: skip must be one of {SKIPS}, got {skip!r}")
        self.depth, self.padding, self.skip = depth, padding, skip
        channels = [base_channels * 2 ** i for i in range(depth + 1)]
        self.encoder = nn.ModuleList(
            [DoubleConv(in_channels, channels[0], padding=padding, batch_norm=batch_norm)]
            + [DoubleConv(channels[i], channels[i + 1], padding=padding, batch_norm=batch_norm)
               for i in range(depth)])
        self.pool = nn.MaxPool2d(2)
        self.decoder = nn.ModuleList(
            [UNetUp(channels[i + 1], padding, batch_norm, bilinear, skip)
             for i in reversed(range(depth))])
        self.head = nn.Conv2d(channels[0], num_classes, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):  # He init for ReLU networks
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        _check_size(x, self)
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        skips.pop()  # the bottom map is not a skip: the decoder starts from it
        for up in self.decoder:
            x = up(x, skips.pop())
        return self.head(x)


def _check_size(x: Tensor, model) -> None:
    if x.ndim != 4:
        raise ValueError(f"{type(model).__name__}: expected an (N, C, H, W) input, got shape "
                         f"{tuple(x.shape)}")
    smallest = 2 ** model.depth
    if model.padding and min(x.shape[-2:]) < smallest:
        raise ValueError(f"{type(model).__name__}: an input of {x.shape[-2]}x{x.shape[-1]} is "
                         f"too small for depth {model.depth}: each side must be at least "
                         f"{smallest} (2 ** depth)")
    if not model.padding:
        for side in x.shape[-2:]:
            unpadded_output_size(side, model.depth)


def unpadded_output_size(size: int, depth: int = 4) -> int:
    """The output side of the unpadded U-Net for an input side ``size`` (572 -> 388 at
    depth 4), or a ValueError naming the first step that fails: a map too small for its
    convolutions, or an odd map before a pooling (its skip could not be cropped evenly).

    >>> unpadded_output_size(572)
    388
    """
    out, problem = _unpadded(size, depth)
    if problem:
        raise ValueError(f"UNet (unpadded): an input side of {size} {problem} (the nearest "
                         f"larger side that works: {_next_valid(size, depth)})")
    return out


def _unpadded(size: int, depth: int) -> tuple[int, str | None]:
    """(output side, None), or (0, what goes wrong) for the unpadded U-Net."""
    s = size
    for level in range(depth):
        s -= 4
        if s < 2 or s % 2:
            return 0, (f"gives a {s}-pixel map before pooling {level + 1}; it must be even "
                       "and at least 2")
        s //= 2
    s -= 4
    if s < 1:
        return 0, "leaves nothing at the bottom"
    for _ in range(depth):
        s = 2 * s - 4
        if s < 1:
            return 0, "leaves nothing after an upsampling step"
    return s, None


def _next_valid(size: int, depth: int) -> int:
    """The smallest valid unpadded input side >= size."""
    candidate = max(size, 1)
    while _unpadded(candidate, depth)[1]:
        candidate += 1
    return candidate


def unet(in_channels: int = 3, num_classes: int = 2, base_channels: int = 64,
         bilinear: bool = False, padding: bool = True, **kwargs) -> UNet:
    """U-Net (see :class:`UNet`); keyword arguments ``depth``, ``batch_norm`` and ``skip``
    go to the class.

    >>> import ember as em
    >>> paper = em.models.segmentation.unet(1, 2, padding=False, batch_norm=False)
    >>> sum(p.numel() for p in paper.parameters())
    31030658
    """
    return UNet(in_channels, num_classes, base_channels, bilinear=bilinear, padding=padding,
                **kwargs)
