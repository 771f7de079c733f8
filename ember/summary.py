"""``em.summary(model, input_shape)``: a table of every layer's output shape, parameters,
multiply-accumulates and FLOPs, with totals and memory, printable and available as data.

Counting conventions (the ones learners are examined on):

- **Parameters** are the trainable (``requires_grad``) and frozen values of each layer's
  weights and biases; buffers (BatchNorm's running statistics) are not parameters.
  Convolution: ``k_h k_w C_in C_out + C_out`` (``C_in / groups`` with groups); fully
  connected: ``n_in n_out + n_out``.
- **MACs** (multiply-accumulates) are the products a layer computes: a convolution does
  ``C_in k_h k_w`` of them for each of its ``H_out W_out C_out`` outputs; a fully
  connected layer ``n_in`` for each of its ``n_out`` outputs.
- **FLOPs** count multiplications and additions, the bias not included: an output that
  sums n products costs n multiplications and n - 1 additions, 2n - 1 FLOPs. For a
  convolution ``H_out W_out C_out (C_in (2 k_h k_w - 1) + (C_in - 1))``, for a fully
  connected layer ``n_out (2 n_in - 1)``. (Many papers quote MACs and call them FLOPs;
  torchvision's "GFLOPS" are MACs.)
  Other conventions, chosen with ``flops=``: ``"2n"`` (the bias's addition counted too:
  2n per output), ``"macs"`` (one per multiply-add, bias excluded: n per output) and
  ``"macs+bias"`` (the bias as one more multiply-add, n + 1 per output: how many course
  notes count, e.g. a fully connected 5 -> 10 layer as 60). The table states which.
- **Connections** are the paper-style count of LeCun et al. (1998): the input-to-unit
  links of every output unit, its bias link included, shared weights counted once per use.
  A convolution has ``H_out W_out C_out (C_in k_h k_w / groups + 1)``, a fully connected
  layer ``n_out (n_in + 1)``, a pooling layer ``k_h k_w`` per output unit; LeNet-5's C1
  has 122,304 connections for 156 parameters.
- Only convolutions and fully connected layers (and LeNet-5's subsampling, connection-table
  and RBF layers) are counted; activations, normalisation, pooling, dropout, and what
  ``forward`` computes outside layers (a residual addition, a concatenation) count 0 MACs:
  they are cheap next to the products and are left out of published counts. Add a counter
  to ``COUNTERS`` (and ``CONNECTIONS``) to count another layer.
- **Activation memory** is the bytes of every layer's output for the batch: what a
  forward pass writes, and roughly what training keeps for the backward pass.

For a Conv2d(3 -> 100, 3x3, padding 'same') on a 3x32x32 input: 3*3*3*100 + 100 = 2,800
parameters, 32*32*100*27 = 2,764,800 MACs and 32*32*100*(3*(2*9 - 1) + 2) = 5,427,200
FLOPs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from ember import creation, dtypes
from ember.autograd.engine import no_grad
from ember.nn.layers.classic import ConnectionTableConv2d, EuclideanRBF, Subsampling
from ember.nn.layers.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from ember.nn.layers.linear import Linear
from ember.nn.layers.pooling import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["summary", "ModelSummary", "LayerSummary", "COUNTERS", "CONNECTIONS",
           "FLOPS_CONVENTIONS"]


@dataclass
class LayerSummary:
    """One call of one layer: its dotted name ("" for the model itself), type, output
    shape(s) and counts."""

    name: str
    type: str
    output_shape: tuple | list
    trainable_params: int
    frozen_params: int
    macs: int
    flops: int
    output_bytes: int
    connections: int = 0

    @property
    def params(self) -> int:
        return self.trainable_params + self.frozen_params


@dataclass
class ModelSummary:
    """What :func:`summary` returns: ``str()`` gives the table, the fields the numbers."""

    model: str
    input_shape: tuple
    output_shape: tuple | list
    layers: list[LayerSummary] = field(default_factory=list)
    trainable_params: int = 0
    frozen_params: int = 0
    macs: int = 0
    flops: int = 0
    input_bytes: int = 0
    activation_bytes: int = 0
    param_bytes: int = 0
    connections: int = 0
    flops_convention: str = "2n-1"

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.frozen_params

    def as_dict(self) -> dict:
        """Everything as plain Python data (lists of dicts), e.g. for a DataFrame or JSON."""
        result = asdict(self)
        result["total_params"] = self.total_params
        for row, layer in zip(result["layers"], self.layers, strict=True):
            row["params"] = layer.params
        return result

    def __str__(self) -> str:
        return _table(self)

    __repr__ = __str__


# ---------------------------------------------------------------- counting

#: ``flops=`` choices: FLOPs from MACs (m), outputs (o) and whether there is a bias (b)
FLOPS_CONVENTIONS = {
    "2n-1": ("multiplications + additions, no bias (2n - 1 per n-product output)",
             lambda m, o, b: 2 * m - o),
    "2n": ("multiplications + additions, bias included (2n per n-product output)",
           lambda m, o, b: 2 * m - o + (o if b else 0)),
    "macs": ("multiply-adds, no bias (n per n-product output)", lambda m, o, b: m),
    "macs+bias": ("multiply-adds, the bias as one more (n + 1 per n-product output)",
                  lambda m, o, b: m + (o if b else 0)),
}


def _has_bias(module) -> bool:
    return getattr(module, "bias", None) is not None


def _conv_counts(module, inputs, output: Tensor) -> tuple[int, int, bool]:
    """Every output sums C_in/groups * prod(kernel) products."""
    n = module.in_channels // module.groups * math.prod(module.kernel_size)
    outputs = output.numel()
    return outputs * n, outputs, _has_bias(module)


def _conv_transpose_counts(module, inputs, output: Tensor) -> tuple[int, int, bool]:
    """Every input value is multiplied by C_out/groups * prod(kernel) weights and added
    into the output; an output summing m products costs m - 1 additions (assuming every
    output receives one, as with stride <= kernel)."""
    macs = inputs[0].numel() * module.out_channels // module.groups * math.prod(
        module.kernel_size)
    return macs, output.numel(), _has_bias(module)


def _linear_counts(module, inputs, output: Tensor) -> tuple[int, int, bool]:
    """Every output sums n_in products."""
    return output.numel() * module.in_features, output.numel(), _has_bias(module)


def _subsampling_counts(module, inputs, output: Tensor) -> tuple[int, int, bool]:
    """LeNet's subsampling: the coefficient times the window's sum, as k^2 products."""
    return output.numel() * module.kernel_size ** 2, output.numel(), True


def _table_conv_counts(module, inputs, output: Tensor) -> tuple[int, int, bool]:
    positions = output.numel() // module.out_channels
    k2 = module.kernel_size ** 2
    return positions * k2 * sum(len(row) for row in module.table), output.numel(), True


def _rbf_counts(module, inputs, output: Tensor) -> tuple[int, int, bool]:
    """A squared difference accumulated per input of each unit."""
    return output.numel() * module.in_features, output.numel(), False


#: layer type -> ``counter(module, inputs, output) -> (macs, outputs, has_bias)``;
#: subclasses match
COUNTERS: dict[type, Callable] = {
    Conv1d: _conv_counts, Conv2d: _conv_counts, Linear: _linear_counts,
    ConvTranspose1d: _conv_transpose_counts, ConvTranspose2d: _conv_transpose_counts,
    Subsampling: _subsampling_counts, ConnectionTableConv2d: _table_conv_counts,
    EuclideanRBF: _rbf_counts,
}


def _window_connections(module, inputs, output: Tensor) -> int:
    kernel = module.kernel_size
    size = math.prod(kernel) if isinstance(kernel, tuple) else kernel ** len(
        output.shape[2:])
    return output.numel() * size


#: layer type -> ``connections(module, inputs, output)``; by default a counted layer has
#: one connection per MAC plus one per output with a bias
CONNECTIONS: dict[type, Callable] = {MaxPool1d: _window_connections,
                                     MaxPool2d: _window_connections,
                                     AvgPool1d: _window_connections,
                                     AvgPool2d: _window_connections}


def _counts(module: Module, inputs, output, convention) -> tuple[int, int, int]:
    """``(macs, flops, connections)`` of one call of ``module``."""
    if not isinstance(output, Tensor):
        return 0, 0, 0
    for cls in type(module).__mro__:
        if cls in CONNECTIONS:
            return 0, 0, CONNECTIONS[cls](module, inputs, output)
        if cls in COUNTERS:
            macs, outputs, bias = COUNTERS[cls](module, inputs, output)
            return macs, convention(macs, outputs, bias), macs + (outputs if bias else 0)
    return 0, 0, 0


# ---------------------------------------------------------------- the forward pass

def summary(model: Module, input_shape: Sequence[int] | int, *, batch_size: int = 1,
            dtype=None, flops: str = "2n-1") -> ModelSummary:
    """Run ``model`` once on zeros and tabulate every layer's output shape, parameters
    (trainable and frozen), MACs and FLOPs, with totals and memory.

    The counting conventions are in this module's documentation: convolution parameters
    ``k_h k_w C_in C_out + C_out``, FLOPs ``H_out W_out C_out (C_in (2 k_h k_w - 1) +
    (C_in - 1))`` (multiplications and additions, bias not counted); fully connected
    parameters ``n_in n_out + n_out``. The model runs in evaluation mode without
    gradients; its modes are restored afterwards. A layer called twice (a shared ReLU)
    has a row per call, its parameters counted once.

    Args:
        model: the module to summarise.
        input_shape: the shape of one input, without the batch dimension
            (``(1, 28, 28)`` for MNIST, ``(3, 224, 224)`` for ImageNet).
        batch_size: samples in the batch the model runs on; shapes, counts and
            activation memory are for the whole batch (default 1: per sample).
        dtype: the input's dtype (default: the model's parameters' dtype).
        flops: the FLOPs convention: ``"2n-1"`` (default: multiplications and additions,
            bias not included), ``"2n"`` (bias included), ``"macs"`` or ``"macs+bias"``
            (multiply-adds, without or with the bias; the latter counts a 5 -> 10 fully
            connected layer as 60).

    Returns:
        a :class:`ModelSummary`: ``print()`` it for the table; its fields (``layers``,
        ``total_params``, ``macs``, ``flops``, ...) and ``as_dict()`` give the numbers.

    >>> import ember as em
    >>> model = em.nn.Sequential(em.nn.Conv2d(3, 100, 3, padding="same"), em.nn.ReLU())
    >>> info = em.summary(model, (3, 32, 32))
    >>> info.total_params, info.macs, info.flops
    (2800, 2764800, 5427200)
    >>> print(info)
    Sequential summary, input (1, 3, 32, 32)
    Layer (type)  Output shape      Trainable  Frozen  Connections       MACs      FLOPs
    ------------------------------------------------------------------------------------
    0 (Conv2d)    (1, 100, 32, 32)      2,800       0    2,867,200  2,764,800  5,427,200
    1 (ReLU)      (1, 100, 32, 32)          0       0            0          0          0
    ------------------------------------------------------------------------------------
    Parameters: 2,800 (trainable 2,800, frozen 0)
    MACs: 2,764,800 (2.76 M)   FLOPs: 5,427,200 (5.43 M)   Connections: 2,867,200
    FLOPs convention (2n-1): multiplications + additions, no bias (2n - 1 per n-product output)
    Memory: input 12.0 KB, activations 800.0 KB, parameters 10.9 KB
    >>> em.summary(em.nn.Linear(5, 10), (5,), flops="macs+bias").flops  # the notes' 60
    60
    """
    shape = _check_shape(input_shape, batch_size)
    if flops not in FLOPS_CONVENTIONS:
        raise ValueError(f"summary: flops must be one of {', '.join(FLOPS_CONVENTIONS)}, got "
                         f"{flops!r}")
    convention = FLOPS_CONVENTIONS[flops][1]
    params = list(model.parameters())
    if dtype is None:
        floating = [p.dtype for p in params if p.is_floating_point()]
        dtype = floating[0] if floating else dtypes.get_default_dtype()
    x = creation.zeros(*shape, dtype=dtype)

    layers: list[LayerSummary] = []
    counted: set[int] = set()  # ids of parameters already in a row

    def record(name: str):
        def hook(module: Module, inputs, output) -> None:
            trainable = frozen = 0
            for p in module.parameters(recurse=False):
                if id(p) not in counted:
                    counted.add(id(p))
                    trainable += p.numel() if p.requires_grad else 0
                    frozen += 0 if p.requires_grad else p.numel()
            macs, layer_flops, connections = _counts(module, inputs, output, convention)
            tensors = _tensors(output)
            shapes = [tuple(t.shape) for t in tensors]
            layers.append(LayerSummary(
                name, type(module).__name__,
                shapes[0] if len(shapes) == 1 else shapes, trainable, frozen, macs,
                layer_flops, sum(t.numel() * t.element_size() for t in tensors),
                connections))
        return hook

    handles = [module.register_forward_hook(record(name))
               for name, module in model.named_modules() if _is_layer(module)]
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            output = model(x)
    except Exception as error:
        raise RuntimeError(f"summary: the forward pass on zeros of shape {shape} (a batch of "
                          f"{batch_size} inputs of shape {shape[1:]}; input_shape excludes "
                          f"the batch dimension) failed: {error}") from error
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            object.__setattr__(module, "training", training)

    out_shapes = [tuple(t.shape) for t in _tensors(output)]
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return ModelSummary(
        model=type(model).__name__, input_shape=shape,
        output_shape=out_shapes[0] if len(out_shapes) == 1 else out_shapes, layers=layers,
        trainable_params=trainable,
        frozen_params=sum(p.numel() for p in params) - trainable,
        macs=sum(layer.macs for layer in layers), flops=sum(layer.flops for layer in layers),
        input_bytes=x.numel() * x.element_size(),
        activation_bytes=sum(layer.output_bytes for layer in layers),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        connections=sum(layer.connections for layer in layers), flops_convention=flops)


def _is_layer(module: Module) -> bool:
    """A row per call of: a module without children, or one with parameters of its own."""
    return (next(module.children(), None) is None
            or next(module.parameters(recurse=False), None) is not None)


def _check_shape(input_shape, batch_size: int) -> tuple[int, ...]:
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    if not all(isinstance(n, int) and n > 0 for n in shape):
        raise ValueError(f"summary: input_shape must be positive integers (without the "
                         f"batch dimension), got {input_shape!r}")
    if not (isinstance(batch_size, int) and batch_size > 0):
        raise ValueError(f"summary: batch_size must be a positive integer, got {batch_size!r}")
    return (batch_size, *shape)


def _tensors(output) -> list[Tensor]:
    """The tensors in a layer's output (a tensor, or nested tuples/lists/dicts)."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, list | tuple):
        return [t for item in output for t in _tensors(item)]
    return []


# ---------------------------------------------------------------- the table

def _table(info: ModelSummary) -> str:
    header = ["Layer (type)", "Output shape", "Trainable", "Frozen", "Connections", "MACs",
              "FLOPs"]
    rows = [[f"{layer.name} ({layer.type})" if layer.name else layer.type,
             _shape_text(layer.output_shape),
             f"{layer.trainable_params:,}", f"{layer.frozen_params:,}",
             f"{layer.connections:,}", f"{layer.macs:,}", f"{layer.flops:,}"]
            for layer in info.layers]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        left = [cells[i].ljust(widths[i]) for i in range(2)]
        right = [cells[i].rjust(widths[i]) for i in range(2, len(cells))]
        return "  ".join(left + right).rstrip()

    rule = "-" * len(line(header))
    lines = [f"{info.model} summary, input {info.input_shape}", line(header), rule]
    lines += [line(row) for row in rows]
    lines.append(rule)
    lines.append(f"Parameters: {info.total_params:,} (trainable {info.trainable_params:,}, "
                 f"frozen {info.frozen_params:,})")
    unused = info.total_params - sum(layer.params for layer in info.layers)
    if unused:
        lines.append(f"  of which {unused:,} in layers this forward pass did not call "
                     "(e.g. auxiliary heads, unused in evaluation)")
    lines.append(f"MACs: {info.macs:,}{_si(info.macs)}   FLOPs: {info.flops:,}{_si(info.flops)}"
                 f"   Connections: {info.connections:,}")
    lines.append(f"FLOPs convention ({info.flops_convention}): "
                 f"{FLOPS_CONVENTIONS[info.flops_convention][0]}")
    lines.append(f"Memory: input {_bytes(info.input_bytes)}, activations "
                 f"{_bytes(info.activation_bytes)}, parameters {_bytes(info.param_bytes)}")
    return "\n".join(lines)


def _shape_text(shape) -> str:
    return str(shape) if isinstance(shape, tuple) else ", ".join(str(s) for s in shape)


def _si(n: int) -> str:
    """`` (1.81 G)`` for large counts, nothing below a thousand."""
    for value, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= value:
            return f" ({n / value:.2f} {unit})"
    return ""


def _bytes(n: int) -> str:
    for value, unit in ((2**30, "GB"), (2**20, "MB"), (2**10, "KB")):
        if n >= value:
            return f"{n / value:.1f} {unit}"
    return f"{n} B"
