"""The layers of the original LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998), as the
paper defines them: its squashing function, trainable subsampling, a convolution wired
by a connection table, and Euclidean radial-basis-function output units.

Each is composed from ember's primitives (no gradient code of its own).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ember import creation
from ember.functions import cat
from ember.nn import init
from ember.nn.functional import conv2d
from ember.nn.functional.pooling import avg_pool2d
from ember.nn.module import Module, Parameter
from ember.tensor import Tensor

__all__ = ["ScaledTanh", "Subsampling", "ConnectionTableConv2d", "EuclideanRBF",
           "LENET5_C3_TABLE"]

#: LeNet-5's Table I: which S2 maps (rows 0-5) each C3 map (0-15) reads
LENET5_C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class ScaledTanh(Module):
    """LeCun's squashing function :math:`f(a) = A \\tanh(S a)` with ``A = 1.7159`` and
    ``S = 2/3`` (so that f(1) = 1 and f(-1) = -1, where its second derivative peaks).

    >>> import ember as em
    >>> round(ScaledTanh()(em.tensor(1.0)).item(), 4)
    1.0
    """

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0) -> None:
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x: Tensor) -> Tensor:
        return self.amplitude * (x * self.slope).tanh()

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4f}"


def _fan_in_uniform(tensor: Tensor, fan_in: int) -> None:
    """The paper's initialisation: uniform in [-2.4 / F_i, 2.4 / F_i], F_i the fan-in."""
    init.uniform_(tensor, -2.4 / fan_in, 2.4 / fan_in)


class Subsampling(Module):
    """Trainable subsampling (LeNet-5's S2 and S4): each unit adds the k x k inputs of its
    window, multiplies the sum by its map's trainable coefficient and adds its map's
    trainable bias:

    .. math:: y_{c,i,j} = w_c \\sum_{(u,v) \\in \\text{window}(i,j)} x_{c,u,v} + b_c

    (the squashing function follows as a separate layer). Two parameters per map;
    ``k^2 + 1`` connections per unit.

    Shape:
        (N, C, H, W) -> (N, C, H / k, W / k)

    >>> import ember as em
    >>> s2 = Subsampling(6)
    >>> s2(em.zeros(1, 6, 28, 28)).shape, sum(p.numel() for p in s2.parameters())
    ((1, 6, 14, 14), 12)
    """

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        self.weight = Parameter(creation.empty(channels))
        self.bias = Parameter(creation.empty(channels))
        _fan_in_uniform(self.weight, kernel_size * kernel_size)
        _fan_in_uniform(self.bias, kernel_size * kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        k = self.kernel_size
        window_sum = avg_pool2d(x, k) * float(k * k)
        return window_sum * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"


class ConnectionTableConv2d(Module):
    """A convolution in which output map ``j`` reads only the input maps ``table[j]``
    (LeNet-5's C3, whose Table I breaks the symmetry between maps and keeps the
    connections down). Parameters: ``sum_j (|table[j]| k^2 + 1)``.

    Maps reading the same number of inputs are computed together as one grouped
    convolution over the inputs they read; the outputs keep the table's order when, as in
    LeNet-5's table, those groups are contiguous.

    Args:
        table: for each output map, the indices of the input maps it reads.
        kernel_size: k (k x k kernels).

    >>> import ember as em
    >>> c3 = ConnectionTableConv2d(LENET5_C3_TABLE, 5)
    >>> c3(em.zeros(1, 6, 14, 14)).shape, sum(p.numel() for p in c3.parameters())
    ((1, 16, 10, 10), 1516)
    """

    def __init__(self, table: Sequence[Sequence[int]], kernel_size: int) -> None:
        super().__init__()
        self.table = tuple(tuple(int(i) for i in row) for row in table)
        self.kernel_size = kernel_size
        self.in_channels = max(max(row) for row in self.table) + 1
        self.out_channels = len(self.table)
        self.groups: list[tuple[int, list[int]]] = []  # (inputs per map, output maps)
        for j, row in enumerate(self.table):
            if self.groups and self.groups[-1][0] == len(row):
                self.groups[-1][1].append(j)
            else:
                self.groups.append((len(row), [j]))
        for size, maps in self.groups:
            weight = Parameter(creation.empty(len(maps), size, kernel_size, kernel_size))
            _fan_in_uniform(weight, size * kernel_size * kernel_size)
            setattr(self, f"weight{size}" if self._unique(size) else
                    f"weight{size}_{maps[0]}", weight)
        bound = creation.tensor([2.4 / (len(row) * kernel_size ** 2) for row in self.table])
        self.bias = Parameter((creation.rand(self.out_channels) * 2 - 1) * bound)

    def _unique(self, size: int) -> bool:
        return sum(1 for s, _ in self.groups if s == size) == 1

    def _weight(self, size: int, maps: list[int]) -> Tensor:
        return getattr(self, f"weight{size}" if self._unique(size) else
                       f"weight{size}_{maps[0]}")

    def forward(self, x: Tensor) -> Tensor:
        outputs = []
        for size, maps in self.groups:
            index = [i for j in maps for i in self.table[j]]
            selected = x[:, creation.tensor(np.array(index, dtype=np.int64))]
            outputs.append(conv2d(selected, self._weight(size, maps), groups=len(maps)))
        order = [j for _, maps in self.groups for j in maps]
        out = outputs[0] if len(outputs) == 1 else cat(outputs, dim=1)
        if order != sorted(order):
            out = out[:, creation.tensor(np.argsort(order).astype(np.int64))]
        return out + self.bias.reshape(1, -1, 1, 1)

    def connections_per_position(self) -> int:
        """Connections into one spatial position of every output map (bias included)."""
        k2 = self.kernel_size * self.kernel_size
        return sum(len(row) * k2 + 1 for row in self.table)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"table of {sum(len(r) for r in self.table)} connections")


class EuclideanRBF(Module):
    """Euclidean radial-basis-function units (LeNet-5's output layer): each output is the
    squared distance between the input vector and the unit's fixed parameter vector,

    .. math:: y_i = \\sum_j (x_j - w_{ij})^2

    so the output is a *penalty*: the smaller, the better the input matches class i
    (``-y`` serves as logits). In the paper the vectors are 7x12 bitmaps of the
    characters, entries +1 and -1, chosen by hand and kept fixed: a buffer here, not a
    parameter.

    Args:
        prototypes: (out_features, in_features) fixed vectors.

    >>> import ember as em
    >>> rbf = EuclideanRBF(em.tensor([[1.0, -1.0], [1.0, 1.0]]))
    >>> rbf(em.tensor([[1.0, 1.0]])).tolist()
    [[4.0, 0.0]]
    """

    def __init__(self, prototypes) -> None:
        super().__init__()
        weight = prototypes if isinstance(prototypes, Tensor) else creation.tensor(prototypes)
        self.register_buffer("weight", weight)
        self.out_features, self.in_features = weight.shape

    def forward(self, x: Tensor) -> Tensor:
        difference = x.unsqueeze(1) - self.weight.unsqueeze(0)  # (N, out, in)
        return (difference * difference).sum(dim=-1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"
