"""Normalisation layers: thin modules over :mod:`ember.nn.functional.normalization`.

Parameters, buffers, their names and initial values are PyTorch's, so a PyTorch
``state_dict`` loads key for key: ``weight`` (ones) and ``bias`` (zeros) when affine;
``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64 0)
when tracking running statistics.
"""

from __future__ import annotations

from ember import creation, dtypes
from ember.autograd.engine import no_grad
from ember.devices import check_device
from ember.nn import functional as F
from ember.nn import init
from ember.nn.module import Module, Parameter
from ember.tensor import Tensor

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm",
]


class _NormBase(Module):
    """Per-channel affine parameters and running statistics (BatchNorm, InstanceNorm)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = dtypes.as_dtype(dtype)
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            expected = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{type(self).__name__}: expected {expected} input, got "
                             f"{input.ndim}D input of shape {tuple(input.shape)}")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _dims: tuple = ()

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        # batch statistics in training, and in eval when no running statistics are kept
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)


_BATCH_NORM_DOC = """Batch normalisation over {what} (Ioffe & Szegedy, 2015, "Batch
    Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift"):

    .. math:: y = \\frac{{x - \\mathrm{{E}}[x]}}{{\\sqrt{{\\mathrm{{Var}}[x] + \\epsilon}}}}
              \\gamma + \\beta

    per channel C. In training (``.train()``) E and Var are the batch's, over N{over}
    (biased variance), and the running estimates are updated:
    ``running = (1 - momentum) running + momentum batch`` (unbiased variance), or their
    cumulative average when ``momentum=None``; ``num_batches_tracked`` counts the
    batches. In evaluation (``.eval()``) the running estimates are used.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance (default 1e-5).
        momentum: the running estimates' update factor (default 0.1), or None.
        affine: learn gamma (``weight``, ones) and beta (``bias``, zeros) (default True).
        track_running_stats: keep running estimates; if False, batch statistics are
            used in evaluation too (default True).
        dtype: parameter and buffer dtype (default float32).
        bias: learn beta (keyword only, default True).

    Shape:
        {shape}, the same shape out.

    >>> import ember as em
    >>> bn = em.nn.{name}(3)
    >>> bn(em.randn({example})).shape
    ({example})
    >>> sorted(bn.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """


class BatchNorm1d(_BatchNorm):
    _dims = (2, 3)
    __doc__ = _BATCH_NORM_DOC.format(
        what="a batch of vectors or sequences", over=" (and L)",
        shape="input (N, C) or (N, C, L)", name="BatchNorm1d", example="4, 3, 5")


class BatchNorm2d(_BatchNorm):
    _dims = (4,)
    __doc__ = _BATCH_NORM_DOC.format(
        what="a batch of images", over=", H and W", shape="input (N, C, H, W)",
        name="BatchNorm2d", example="2, 3, 4, 4")


class BatchNorm3d(_BatchNorm):
    _dims = (5,)
    __doc__ = _BATCH_NORM_DOC.format(
        what="a batch of volumes", over=", D, H and W", shape="input (N, C, D, H, W)",
        name="BatchNorm3d", example="2, 3, 2, 2, 2")


class _InstanceNorm(_NormBase):
    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        unbatched = input.ndim == self._dims[0]
        channels = input.shape[0 if unbatched else 1]
        if self.affine and channels != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels, "
                             f"got input of shape {tuple(input.shape)}")
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


_INSTANCE_NORM_DOC = """Instance normalisation over {what} (Ulyanov, Vedaldi & Lempitsky,
    2016, "Instance Normalization: The Missing Ingredient for Fast Stylization"): each
    channel of each sample is standardised over its {over},

    .. math:: y = \\frac{{x - \\mathrm{{E}}[x]}}{{\\sqrt{{\\mathrm{{Var}}[x] + \\epsilon}}}}
              \\gamma + \\beta

    As in PyTorch, by default there are no affine parameters and no running estimates
    (``affine=False, track_running_stats=False``); with ``track_running_stats`` the
    running estimates (batch averages of each instance's) are used in evaluation.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance (default 1e-5).
        momentum: the running estimates' update factor (default 0.1).
        affine: learn per-channel gamma and beta (default False).
        track_running_stats: keep running estimates (default False).
        dtype: parameter and buffer dtype (default float32).

    Shape:
        {shape}, the same shape out.

    >>> import ember as em
    >>> em.nn.{name}(3)(em.randn({example})).shape
    ({example})
    """


class InstanceNorm1d(_InstanceNorm):
    _dims = (2, 3)
    __doc__ = _INSTANCE_NORM_DOC.format(
        what="sequences", over="length L", shape="input (N, C, L) or (C, L)",
        name="InstanceNorm1d", example="2, 3, 5")


class InstanceNorm2d(_InstanceNorm):
    _dims = (3, 4)
    __doc__ = _INSTANCE_NORM_DOC.format(
        what="images", over="H and W", shape="input (N, C, H, W) or (C, H, W)",
        name="InstanceNorm2d", example="2, 3, 4, 4")


class InstanceNorm3d(_InstanceNorm):
    _dims = (4, 5)
    __doc__ = _INSTANCE_NORM_DOC.format(
        what="volumes", over="D, H and W", shape="input (N, C, D, H, W) or (C, D, H, W)",
        name="InstanceNorm3d", example="2, 3, 2, 2, 2")


class LayerNorm(Module):
    """Layer normalisation (Ba, Kiros & Hinton, 2016): each sample is standardised over
    its trailing dimensions ``normalized_shape``, then scaled and shifted elementwise:

    .. math:: y = \\frac{x - \\mathrm{E}[x]}{\\sqrt{\\mathrm{Var}[x] + \\epsilon}}
              \\gamma + \\beta

    Args:
        normalized_shape: an int or a tuple, the trailing dimensions.
        eps: added to the (biased) variance (default 1e-5).
        elementwise_affine: learn gamma (ones) and beta (zeros) of shape
            ``normalized_shape`` (default True).
        bias: learn beta (default True).
        dtype: parameter dtype (default float32).

    Shape:
        input (*, *normalized_shape) -> output of the same shape.

    >>> import ember as em
    >>> ln = em.nn.LayerNorm(4)
    >>> ln
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    >>> ln(em.randn(2, 3, 4)).shape
    (2, 3, 4)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = dtypes.as_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(creation.empty(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation (Wu & He, 2018): the channels are split into ``num_groups``
    groups, each group of each sample is standardised over its channels and positions,
    then each channel is scaled and shifted.

    Args:
        num_groups: number of groups (must divide num_channels).
        num_channels: C.
        eps: added to the (biased) variance (default 1e-5).
        affine: learn per-channel gamma (ones) and beta (zeros) (default True).
        dtype: parameter dtype (default float32).
        bias: learn beta (keyword only, default True).

    Shape:
        input (N, C, *) -> output of the same shape.

    >>> import ember as em
    >>> em.nn.GroupNorm(2, 4)(em.randn(3, 4, 5)).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        dtype = dtypes.as_dtype(dtype)
        if affine:
            self.weight = Parameter(creation.empty(num_channels, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(num_channels, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Local response normalisation across channels (Krizhevsky et al., 2012, AlexNet):
    each activation is divided by (k + alpha/n * sum of squares of the n neighbouring
    channels)^beta. See :func:`~ember.nn.functional.local_response_norm`.

    Args:
        size: n, the number of neighbouring channels.
        alpha: multiplicative factor (default 1e-4).
        beta: exponent (default 0.75).
        k: additive constant (default 1.0).

    Shape:
        input (N, C, *) -> output of the same shape.

    >>> import ember as em
    >>> em.nn.LocalResponseNorm(2)
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

