"""UNet++ (Zhou, Siddiquee, Tajbakhsh & Liang, 2018, "UNet++: A Nested U-Net Architecture
for Medical Image Segmentation"): U-Net with nested, dense skip pathways, deep supervision
and pruning at inference.

Node :math:`X^{i,j}` sits at resolution level ``i`` (0 the input's, halved per level)
after ``j`` convolution blocks along its skip pathway:

.. math::
    X^{i,0} = H(\\mathrm{pool}(X^{i-1,0})), \\qquad
    X^{i,j} = H\\big([X^{i,0}, \\ldots, X^{i,j-1}, \\mathrm{up}(X^{i+1,j-1})]\\big)

with H a DoubleConv block and ``[...]`` concatenation along the channels. U-Net's plain
skip ``X^{i,0} -> X^{i,L-i}`` becomes a dense chain of blocks that narrows the semantic
gap between encoder and decoder maps. ``X^{0,1}, ..., X^{0,L}`` are full-resolution
outputs of U-Nets of depth 1 to L nested inside each other; with deep supervision each
has a 1x1 head and a loss, and at inference the network can be *pruned* to depth k:
only the nodes with ``i + j <= k`` run, a smaller, faster U-Net that shares the weights.
"""

from __future__ import annotations

from ember import functions, nn
from ember.models.segmentation.unet import DoubleConv, _check_size
from ember.nn import functional as F
from ember.tensor import Tensor

__all__ = ["UNetPlusPlus", "unet_plus_plus"]


class UNetPlusPlus(nn.Module):
    """UNet++: nested dense skip pathways; one output per depth in training mode with
    deep supervision, the output of a chosen (pruned) depth at inference.

    Blocks are ``blocks["i_j"]`` (node :math:`X^{i,j}`) with ``base_channels * 2 ** i``
    output channels; node ``(i, j >= 1)`` reads ``j * C_i + C_(i+1)`` channels. Upsampling
    is bilinear to the exact size of the level above (any input size works). Heads are
    1x1 convolutions: ``heads[j - 1]`` on :math:`X^{0,j}` for j = 1..depth with deep
    supervision, a single ``heads[0]`` on :math:`X^{0,depth}` without.

    Args:
        in_channels: input channels.
        num_classes: output channels.
        base_channels: channels at level 0 (default 32: 32, 64, 128, 256, 512 as the paper).
        depth: the number of levels below the input's, L (default 4).
        deep_supervision: a head on every :math:`X^{0,j}` (default True); training mode
            then returns the list of the L outputs, shallow to deep, for a loss on each
            (:class:`ember.nn.DeepSupervisionLoss`).
        inference_depth: the depth used in eval mode (default L); smaller values prune
            the network (needs deep supervision). Change it later with :meth:`prune`.
        batch_norm: BatchNorm after every convolution (default True).

    Shape:
        (N, in_channels, H, W) -> (N, num_classes, H, W) (eval mode, or training without
        deep supervision), or a list of L such tensors (training with deep supervision).

    >>> import ember as em
    >>> model = em.models.segmentation.unet_plus_plus(3, 2, base_channels=4, depth=3)
    >>> [o.shape for o in model(em.zeros(1, 3, 19, 23))]  # training mode: one per depth
    [(1, 2, 19, 23), (1, 2, 19, 23), (1, 2, 19, 23)]
    >>> model.eval().prune(2)(em.zeros(1, 3, 19, 23)).shape  # the depth-2 sub-network
    (1, 2, 19, 23)
    """

    padding = True

    def __init__(self, in_channels: int = 3, num_classes: int = 2, base_channels: int = 32,
                 depth: int = 4, deep_supervision: bool = True,
                 inference_depth: int | None = None, batch_norm: bool = True) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"UNetPlusPlus: depth must be at least 1, got {depth}")
        self.depth, self.deep_supervision = depth, deep_supervision
        channels = [base_channels * 2 ** i for i in range(depth + 1)]
        self.channels = channels
        blocks = {}
        for i in range(depth + 1):
            blocks[f"{i}_0"] = DoubleConv(in_channels if i == 0 else channels[i - 1],
                                          channels[i], batch_norm=batch_norm)
        for j in range(1, depth + 1):
            for i in range(depth + 1 - j):
                blocks[f"{i}_{j}"] = DoubleConv(j * channels[i] + channels[i + 1],
                                                channels[i], batch_norm=batch_norm)
        self.blocks = nn.ModuleDict(blocks)
        self.pool = nn.MaxPool2d(2)
        n_heads = depth if deep_supervision else 1
        self.heads = nn.ModuleList([nn.Conv2d(channels[0], num_classes, 1)
                                    for _ in range(n_heads)])
        self.inference_depth = depth
        self.prune(depth if inference_depth is None else inference_depth)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def prune(self, depth: int) -> UNetPlusPlus:
        """Use the depth-``depth`` sub-network in eval mode (nodes with i + j <= depth);
        returns the model. Pruning needs deep supervision (a trained head per depth)."""
        if not 1 <= depth <= self.depth:
            raise ValueError(f"UNetPlusPlus: the inference depth must be 1..{self.depth}, "
                             f"got {depth}")
        if depth != self.depth and not self.deep_supervision:
            raise ValueError("UNetPlusPlus: pruning needs deep_supervision=True (without "
                             "it only the full-depth output has a trained head)")
        self.inference_depth = depth
        return self

    def forward(self, x: Tensor):
        _check_size(x, self)
        supervised = self.training and self.deep_supervision
        depth = self.depth if self.training else self.inference_depth
        nodes: dict[tuple[int, int], Tensor] = {}
        for i in range(depth + 1):  # the backbone column X^{i,0}
            source = x if i == 0 else self.pool(nodes[i - 1, 0])
            nodes[i, 0] = self.blocks[f"{i}_0"](source)
        for j in range(1, depth + 1):  # then each skip column, from the bottom up
            for i in range(depth + 1 - j):
                below = F.interpolate(nodes[i + 1, j - 1], size=tuple(nodes[i, 0].shape[-2:]),
                                      mode="bilinear", align_corners=False)
                inputs = [nodes[i, k] for k in range(j)] + [below]
                nodes[i, j] = self.blocks[f"{i}_{j}"](functions.cat(inputs, dim=1))
        if supervised:
            return [head(nodes[0, j]) for j, head in enumerate(self.heads, 1)]
        head = self.heads[depth - 1] if self.deep_supervision else self.heads[0]
        return head(nodes[0, depth])


def unet_plus_plus(in_channels: int = 3, num_classes: int = 2, base_channels: int = 32,
                   deep_supervision: bool = True, **kwargs) -> UNetPlusPlus:
    """UNet++ (see :class:`UNetPlusPlus`); ``depth``, ``inference_depth`` and
    ``batch_norm`` go to the class.

    >>> import ember as em
    >>> model = em.models.segmentation.unet_plus_plus(1, 1)
    >>> sum(p.numel() for p in model.parameters())
    9159204
    """
    return UNetPlusPlus(in_channels, num_classes, base_channels, deep_supervision=deep_supervision,
                        **kwargs)
