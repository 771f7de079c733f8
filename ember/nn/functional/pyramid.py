"""Spatial pyramid pooling (He, Zhang, Ren & Sun, 2014, "Spatial Pyramid Pooling in Deep
Convolutional Networks for Visual Recognition"): a fixed-length vector from a feature map
of any size, composed from adaptive pooling (so its gradient needs no code of its own)."""

from __future__ import annotations

from collections.abc import Sequence

from ember import functions
from ember.nn.functional.pooling import adaptive_avg_pool2d, adaptive_max_pool2d
from ember.tensor import Tensor

__all__ = ["spatial_pyramid_pool", "spatial_pyramid_length"]


def spatial_pyramid_length(channels: int, levels: Sequence[int] = (4, 2, 1)) -> int:
    """The output length ``C * sum(n^2 for n in levels)`` (C x 21 for 4, 2, 1).

    >>> spatial_pyramid_length(256)
    5376
    """
    return channels * sum(n * n for n in levels)


def spatial_pyramid_pool(input: Tensor, levels: Sequence[int] = (4, 2, 1),
                         mode: str = "max") -> Tensor:
    """Pool (N, C, H, W) into an n x n grid of bins for every level n, flatten and join:

    .. math:: y = \\big[\\mathrm{pool}_{4 \\times 4}(x),\\ \\mathrm{pool}_{2 \\times 2}(x),
              \\ \\mathrm{pool}_{1 \\times 1}(x)\\big] \\in \\mathbb{R}^{N \\times 21 C}

    The bins scale with the input (bin i along a side of H covers
    ``[floor(i H / n), ceil((i + 1) H / n))``, PyTorch's adaptive rule), so any H, W >= 1
    gives the same length: a network with SPP before its fully connected layers takes
    images of any size. Each level is flattened channel-major (``(C, n, n)`` order), and
    the levels are concatenated in the order given.

    Args:
        input: (N, C, H, W) or (C, H, W).
        levels: the grid sizes n (default (4, 2, 1): 16 + 4 + 1 = 21 bins per channel).
        mode: ``"max"`` (the paper's) or ``"avg"``.

    Shape:
        (N, C, H, W) -> (N, C * sum(n^2)); (C, H, W) -> (C * sum(n^2),).

    >>> import ember as em
    >>> F = em.nn.functional
    >>> F.spatial_pyramid_pool(em.zeros(2, 8, 13, 7)).shape
    (2, 168)
    >>> F.spatial_pyramid_pool(em.arange(16.0).reshape(1, 1, 4, 4), levels=(2, 1))
    tensor([[ 5.,  7., 13., 15., 15.]])
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"spatial_pyramid_pool: mode must be 'max' or 'avg', got {mode!r}")
    levels = tuple(levels)
    if not levels or any(not isinstance(n, int) or isinstance(n, bool) or n < 1
                         for n in levels):
        raise ValueError(f"spatial_pyramid_pool: levels must be positive ints, got {levels!r}")
    if input.ndim not in (3, 4):
        raise ValueError(f"spatial_pyramid_pool: expected a (N, C, H, W) or (C, H, W) input, "
                         f"got shape {tuple(input.shape)}")
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    pool = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    pooled = [pool(x, n).flatten(1) for n in levels]
    out = pooled[0] if len(pooled) == 1 else functions.cat(pooled, dim=1)
    return out if batched else out.squeeze(0)
