"""The original LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998, "Gradient-based learning
applied to document recognition", Section II.B), layer for layer as the paper builds it.

``em.models.lenet5`` is the modern reading of LeNet-5 (ReLU, max pooling, a fully
connected C3 and a linear output); this is the paper's own network, with its counts:

=====  ===============================================  ============  ============
layer  what                                             parameters    connections
=====  ===============================================  ============  ============
C1     6 maps 28x28, 5x5 convolution of the 32x32 input          156       122,304
S2     6 maps 14x14, trainable 2x2 subsampling                     12         5,880
C3     16 maps 10x10, 5x5 convolution, Table I wiring           1,516       151,600
S4     16 maps 5x5, trainable 2x2 subsampling                      32         2,000
C5     120 maps 1x1, 5x5 convolution of all 16 S4 maps         48,120        48,120
F6     84 units, fully connected, scaled tanh                  10,164        10,164
output 10 Euclidean RBF units, fixed 7x12 bitmaps              (840)            840
=====  ===============================================  ============  ============

Every layer but the output is followed by the squashing function
``f(a) = 1.7159 tanh(2a/3)`` (the paper's "sigmoidal" function). The output units compute
the squared distance of F6's 84 values to a fixed +1/-1 bitmap of each digit, so the
output is a penalty per class: the smallest wins, and ``-output`` are logits (training
with cross-entropy on them is the paper's MAP criterion without its ``j`` constant).
"""

from __future__ import annotations

import numpy as np

from ember import creation, nn
from ember.nn.layers.classic import (
    LENET5_C3_TABLE,
    ConnectionTableConv2d,
    EuclideanRBF,
    ScaledTanh,
    Subsampling,
)

__all__ = ["LeNet5Original", "lenet5_original", "DIGIT_BITMAPS"]

# stylised 7x12 images of the digits: the RBF units' fixed parameter vectors (+1 ink)
DIGIT_BITMAPS = {
    0: ["..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#", "#.....#",
        "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."],
    1: ["...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...", "...#...",
        "...#...", "...#...", "...#...", "...#...", ".#####."],
    2: [".#####.", "#.....#", "......#", "......#", ".....#.", "....#..", "...#...",
        "..#....", ".#.....", "#......", "#......", "#######"],
    3: [".#####.", "#.....#", "......#", "......#", "......#", "..####.", "......#",
        "......#", "......#", "......#", "#.....#", ".#####."],
    4: [".....#.", "....##.", "...#.#.", "..#..#.", ".#...#.", "#....#.", "#######",
        ".....#.", ".....#.", ".....#.", ".....#.", ".....#."],
    5: ["#######", "#......", "#......", "#......", "######.", "......#", "......#",
        "......#", "......#", "......#", "#.....#", ".#####."],
    6: ["..####.", ".#.....", "#......", "#......", "#.###..", "##...#.", "#.....#",
        "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."],
    7: ["#######", "......#", ".....#.", ".....#.", "....#..", "....#..", "...#...",
        "...#...", "..#....", "..#....", "..#....", "..#...."],
    8: ["..###..", ".#...#.", "#.....#", "#.....#", ".#...#.", "..###..", ".#...#.",
        "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."],
    9: ["..###..", ".#...#.", "#.....#", "#.....#", "#.....#", ".#...##", "..###.#",
        "......#", "......#", ".....#.", "....#..", ".###..."],
}


def _prototypes(num_classes: int) -> np.ndarray:
    """(num_classes, 84): the digit bitmaps for classes 0-9; more classes get seeded
    random +1/-1 codes (the paper used bitmaps of the ASCII set)."""
    rows = [np.array([[1.0 if c == "#" else -1.0 for c in line] for line in DIGIT_BITMAPS[k]]
                     ).reshape(-1) for k in range(min(num_classes, 10))]
    extra = np.random.default_rng(1998).choice([-1.0, 1.0], size=(max(0, num_classes - 10),
                                                                    84))
    return np.concatenate([np.stack(rows), extra]).astype(np.float32)


class LeNet5Original(nn.Module):
    """LeNet-5 as published in 1998 (see the module docs for the layers and counts).

    Args:
        num_classes: output units (10: the digit bitmaps).

    Shape:
        (N, 1, 32, 32) -> (N, num_classes) penalties (squared distances; lower is better)

    >>> import ember as em
    >>> model = em.models.lenet5_original()
    >>> [sum(p.numel() for p in getattr(model, n).parameters())
    ...  for n in ("c1", "s2", "c3", "s4", "c5", "f6")]
    [156, 12, 1516, 32, 48120, 10164]
    >>> model(em.zeros(2, 1, 32, 32)).shape
    (2, 10)
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = Subsampling(6, 2)
        self.c3 = ConnectionTableConv2d(LENET5_C3_TABLE, 5)
        self.s4 = Subsampling(16, 2)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = EuclideanRBF(creation.tensor(_prototypes(num_classes)))
        self.squash = ScaledTanh()
        for layer, fan_in in ((self.c1, 25), (self.c5, 400), (self.f6, 120)):
            bound = 2.4 / fan_in  # the paper: uniform in [-2.4/F_i, 2.4/F_i]
            nn.init.uniform_(layer.weight, -bound, bound)
            nn.init.uniform_(layer.bias, -bound, bound)

    def forward(self, x):
        f = self.squash
        x = f(self.s2(f(self.c1(x))))
        x = f(self.s4(f(self.c3(x))))
        x = f(self.c5(x)).flatten(1)
        return self.output(f(self.f6(x)))


def lenet5_original(num_classes: int = 10, *, weights=None,
                    progress: bool = True) -> LeNet5Original:
    """The original LeNet-5 (LeCun et al., 1998): 60,000 trainable parameters and
    340,908 connections, on 32x32 inputs (see :class:`LeNet5Original`).

    ember ships no weights for it; ``weights=PATH`` loads a state_dict file."""
    from ember.models import pretrained

    return pretrained.build("lenet5_original", LeNet5Original, weights,
                            {"num_classes": num_classes}, progress)
