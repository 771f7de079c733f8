"""Activation layers: thin modules over :mod:`ember.nn.functional.activation`.

Constructor arguments, defaults and reprs are PyTorch's. ``inplace=True`` is accepted
for signature compatibility (and shown in the repr, as in PyTorch), but ember never
changes the input in place: every layer returns a new tensor.

Shape (every layer but GLU): input (*) -> output (*), the same shape.
"""

from __future__ import annotations

from ember import creation, dtypes
from ember.devices import check_device
from ember.nn import functional as F
from ember.nn import init
from ember.nn.module import Module, Parameter
from ember.tensor import Tensor

__all__ = [
    "Sigmoid", "Tanh", "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
    "Mish", "Softplus", "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish", "LogSigmoid",
    "Tanhshrink", "Softshrink", "Hardshrink", "Threshold", "Softmax", "LogSoftmax",
    "Softmin", "PReLU", "GLU",
]


class _Inplace(Module):
    """An activation whose only argument is ``inplace`` (accepted; ember never mutates)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


def _inplace_suffix(module) -> str:
    return ", inplace=True" if module.inplace else ""


class Sigmoid(Module):
    """sigmoid(x) = 1 / (1 + exp(-x)).

    >>> import ember as em
    >>> em.nn.Sigmoid()(em.tensor([0.0]))
    tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x).

    >>> import ember as em
    >>> em.nn.Tanh()(em.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class ReLU(_Inplace):
    """max(x, 0) (Nair & Hinton, 2010); derivative 0 at 0.

    >>> import ember as em
    >>> em.nn.ReLU()(em.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class ReLU6(_Inplace):
    """min(max(x, 0), 6); derivative 0 at 0 and 6.

    >>> import ember as em
    >>> em.nn.ReLU6()(em.tensor([-1.0, 7.0]))
    tensor([0., 6.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu6(input)


class SELU(_Inplace):
    """scale * elu(x, alpha), alpha = 1.6733, scale = 1.0507 (Klambauer et al., 2017).

    >>> import ember as em
    >>> em.nn.SELU()(em.tensor([1.0]))
    tensor([1.0507])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input)


class SiLU(_Inplace):
    """x sigmoid(x) (swish).

    >>> import ember as em
    >>> em.nn.SiLU()(em.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)


class Mish(_Inplace):
    """x tanh(softplus(x)) (Misra, 2019).

    >>> import ember as em
    >>> em.nn.Mish()(em.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input)


class Hardsigmoid(_Inplace):
    """relu6(x + 3) / 6; derivative 1/6 strictly inside (-3, 3), else 0.

    >>> import ember as em
    >>> em.nn.Hardsigmoid()(em.tensor([0.0]))
    tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input)


class Hardswish(_Inplace):
    """x relu6(x + 3) / 6 (Howard et al., 2019); derivative 0 at -3, 1 at 3.

    >>> import ember as em
    >>> em.nn.Hardswish()(em.tensor([3.0]))
    tensor([3.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise; derivative at 0: negative_slope.

    Args:
        negative_slope: the slope for x < 0 (default 0.01).
        inplace: accepted for compatibility; ember never changes the input.

    >>> import ember as em
    >>> em.nn.LeakyReLU(0.1)(em.tensor([-1.0]))
    tensor([-0.1000])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self)}"


class ELU(Module):
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2015).

    >>> import ember as em
    >>> em.nn.ELU()(em.tensor([1.0]))
    tensor([1.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self)}"


class CELU(ELU):
    """x for x > 0, alpha (e^(x/alpha) - 1) otherwise (Barron, 2017).

    >>> import ember as em
    >>> em.nn.CELU(2.0)(em.tensor([1.0]))
    tensor([1.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha)


class GELU(Module):
    """x Phi(x) (Hendrycks & Gimpel, 2016); ``approximate='tanh'`` for the tanh form.

    >>> import ember as em
    >>> em.nn.GELU()
    GELU(approximate='none')
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """(1/beta) log(1 + exp(beta x)); x itself where beta x > threshold.

    >>> import ember as em
    >>> em.nn.Softplus()
    Softplus(beta=1.0, threshold=20.0)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|).

    >>> import ember as em
    >>> em.nn.Softsign()(em.tensor([1.0]))
    tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class Hardtanh(Module):
    """clamp(x, min_val, max_val); derivative 0 at and beyond the boundaries.

    >>> import ember as em
    >>> em.nn.Hardtanh()
    Hardtanh(min_val=-1.0, max_val=1.0)
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self)}"


class LogSigmoid(Module):
    """log sigmoid(x), stable for any x.

    >>> import ember as em
    >>> em.nn.LogSigmoid()(em.tensor([0.0]))
    tensor([-0.6931])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Tanhshrink(Module):
    """x - tanh(x).

    >>> import ember as em
    >>> em.nn.Tanhshrink()(em.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class Softshrink(Module):
    """x -+ lambd outside [-lambd, lambd], 0 inside.

    >>> import ember as em
    >>> em.nn.Softshrink()
    Softshrink(0.5)
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x outside [-lambd, lambd], 0 inside.

    >>> import ember as em
    >>> em.nn.Hardshrink()(em.tensor([0.2, 1.0]))
    tensor([0., 1.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """x where x > threshold, else value.

    >>> import ember as em
    >>> em.nn.Threshold(0.1, 20.0)
    Threshold(threshold=0.1, value=20.0)
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_suffix(self)}"


class Softmax(Module):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (ember requires ``dim``).

    Shape: input (*) -> output (*); each slice along ``dim`` sums to 1.

    >>> import ember as em
    >>> em.nn.Softmax(dim=1)(em.zeros(1, 2))
    tensor([[0.5000, 0.5000]])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        if self.dim is None:
            raise TypeError(f"{type(self).__name__}: construct it with the dimension to "
                            "normalise over, e.g. dim=-1")
        return self._function(input, self.dim)

    @staticmethod
    def _function(input, dim):
        return F.softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log softmax(x) along ``dim``, computed stably.

    >>> import ember as em
    >>> em.nn.LogSoftmax(dim=1)
    LogSoftmax(dim=1)
    """

    @staticmethod
    def _function(input, dim):
        return F.log_softmax(input, dim)


class Softmin(Softmax):
    """softmax(-x) along ``dim``.

    >>> import ember as em
    >>> em.nn.Softmin(dim=0)(em.tensor([0.0, 0.0]))
    tensor([0.5000, 0.5000])
    """

    @staticmethod
    def _function(input, dim):
        return F.softmin(input, dim)


class PReLU(Module):
    """x for x > 0, a x otherwise, with a learnt slope a (He et al., 2015).

    Args:
        num_parameters: 1 (one slope shared by all channels) or the number of channels C.
        init: the slopes' initial value (default 0.25).
        dtype: parameter dtype (default float32).

    Shape:
        input (N, C, *) -> output (N, C, *); with num_parameters=1 any shape.

    >>> import ember as em
    >>> em.nn.PReLU()(em.tensor([-2.0, 2.0])).tolist()
    [-0.5, 2.0]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(creation.empty(num_parameters, dtype=dtypes.as_dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """a * sigmoid(b), with a, b the halves of the input along ``dim`` (Dauphin et al., 2017).

    Shape: (*, 2n, *) -> (*, n, *) along ``dim``.

    >>> import ember as em
    >>> em.nn.GLU()(em.zeros(3, 4)).shape
    (3, 2)
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
