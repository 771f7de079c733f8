"""ONNX operators in ember: the tensor operators (elementwise, comparisons, shapes,
reductions, activations) that :func:`ember.onnx.load` runs.

Each operator is a function ``run(op, *inputs)`` of an :class:`OnnxOp` (its attributes
in ``op.attributes``, the opset in ``op.opset``) on ember tensors, built from ember's
differentiable functions, so that a loaded model trains. Inputs that hold shapes, axes
or sizes (``Reshape``'s shape, ``Slice``'s starts) are read as integers when the
operator runs. The layers (convolution, pooling, normalisation, recurrent) are in
:mod:`ember.onnx.import_layers`.
"""

from __future__ import annotations

import math

import numpy as np

from ember import creation, functions
from ember.nn import functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

OPS: dict = {}  # op_type -> run(op, *inputs)
MAX_ELEMENTS = 2**31  # of a tensor an operator creates from a size it reads


def op(*names):
    def register(function):
        for name in names:
            OPS[name] = function
        return function

    return register


class OnnxOp(Module):
    """One ONNX node without learnable structure: its operator, attributes and constant
    inputs (floating-point arrays of more than one element are Parameters, so that they
    train; the others are buffers)."""

    def __init__(self, op_type: str, attributes: dict, opset: int, slots: list,
                 constants: dict) -> None:
        super().__init__()
        self.op_type, self.attributes, self.opset = op_type, attributes, opset
        self._run = OPS[op_type]
        # per input: "input", the name of a constant of this module, a parameter held
        # elsewhere in the model (a tensor), or None (absent)
        self._slots = slots
        for name, value in constants.items():
            self._add_constant(name, value)

    def _add_constant(self, name: str, value) -> None:
        from ember.nn.module import Parameter

        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, tuple):  # (tensor, persistent)
            self.register_buffer(name, value[0], persistent=value[1])
        elif isinstance(value, Tensor):
            self.register_buffer(name, value)
        else:
            raise TypeError(f"constant {name} must be a tensor")

    def forward(self, *inputs):
        given = iter(inputs)
        args = []
        for slot in self._slots:
            if slot is None or isinstance(slot, Tensor):  # absent, or held in the tree
                args.append(slot)
            elif slot == "input":
                args.append(next(given))
            else:
                args.append(getattr(self, slot))
        return self._run(self, *args)

    def extra_repr(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.attributes.items())
        return self.op_type + (f", {shown}" if shown else "")


# ----------------------------------------------------------------------------- helpers


def ints(x) -> list[int]:
    """A shape, axes or sizes input as Python ints."""
    array = x._data if isinstance(x, Tensor) else np.asarray(x)
    if array.dtype.kind not in "iub":
        raise ValueError(f"expected integers, got {array.dtype}")
    return [int(v) for v in array.reshape(-1)]


def _axis(a: int, rank: int) -> int:
    if not -rank <= a < max(rank, 1):
        raise ValueError(f"axis {a} is out of range for a tensor of rank {rank}")
    return a % rank if rank else 0


def _axes(op, x: Tensor, given=None) -> list[int] | None:
    """Reduce/Squeeze axes from the attribute (older opsets) or the input."""
    axes = op.attributes.get("axes") if given is None else ints(given)
    if axes is None:
        return None
    return sorted({_axis(a, x.ndim) for a in axes})


def _check_size(shape) -> tuple:
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"refusing to create a tensor of shape {shape}")
    return shape


def _float(x):
    return x.item() if isinstance(x, Tensor) else float(x)


# ----------------------------------------------------------------------------- elementwise

_UNARY = {
    "Neg": lambda x: -x, "Abs": functions.abs, "Exp": functions.exp, "Log": functions.log,
    "Sqrt": functions.sqrt, "Reciprocal": lambda x: 1.0 / x, "Sin": functions.sin,
    "Cos": functions.cos, "Tanh": functions.tanh, "Sigmoid": functions.sigmoid,
    "Relu": F.relu, "Erf": F.erf, "Floor": functions.floor, "Ceil": functions.ceil,
    "Round": functions.round, "Sign": functions.sign, "Softsign": F.softsign,
    "Not": functions.logical_not, "IsNaN": functions.isnan, "Identity": lambda x: x,
    "HardSwish": F.hardswish, "Tan": functions.tan, "Asin": functions.asin,
    "Acos": functions.acos, "Atan": functions.atan, "Sinh": functions.sinh,
    "Cosh": functions.cosh, "Asinh": functions.asinh, "Acosh": functions.acosh,
    "Atanh": functions.atanh, "BitwiseNot": functions.bitwise_not,
}
for _name, _function in _UNARY.items():
    OPS[_name] = (lambda function: lambda op, x: function(x))(_function)

_BINARY = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Pow": lambda a, b: _same_type(a ** b, a), "MatMul": functions.matmul,
    "Equal": lambda a, b: a == b, "Less": lambda a, b: a < b,
    "LessOrEqual": lambda a, b: a <= b, "Greater": lambda a, b: a > b,
    "GreaterOrEqual": lambda a, b: a >= b, "And": functions.logical_and,
    "Or": functions.logical_or, "Xor": functions.logical_xor,
    "BitwiseAnd": functions.bitwise_and, "BitwiseOr": functions.bitwise_or,
    "BitwiseXor": functions.bitwise_xor,
}
for _name, _function in _BINARY.items():
    OPS[_name] = (lambda function: lambda op, a, b: function(a, b))(_function)


def _same_type(out: Tensor, like: Tensor) -> Tensor:
    return out if out.dtype == like.dtype else out.astype(like.dtype)


@op("Div")
def _div(op, a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return functions.div(a, b, rounding_mode="trunc").astype(a.dtype)
    return a / b


@op("Mod")
def _mod(op, a, b):
    if op.attributes.get("fmod", 0):
        return a - functions.div(a, b, rounding_mode="trunc") * b
    return functions.remainder(a, b)


@op("Max", "Min", "Sum", "Mean")
def _variadic(op, *xs):
    combine = {"Max": functions.maximum, "Min": functions.minimum,
               "Sum": lambda a, b: a + b, "Mean": lambda a, b: a + b}[op.op_type]
    out = xs[0]
    for x in xs[1:]:
        out = combine(out, x)
    return out / len(xs) if op.op_type == "Mean" else out


@op("Where")
def _where(op, condition, x, y):
    return functions.where(condition, x, y)


@op("IsInf")
def _isinf(op, x):
    positive, negative = op.attributes.get("detect_positive", 1), op.attributes.get(
        "detect_negative", 1)
    infinite = functions.isinf(x)
    if positive and negative:
        return infinite
    return infinite & ((x > 0) if positive else (x < 0))


@op("Clip")
def _clip(op, x, low=None, high=None):
    if op.opset < 11:
        low, high = op.attributes.get("min"), op.attributes.get("max")
    if low is not None and isinstance(low, Tensor) and low.ndim == 0:
        low = low.item()
    if high is not None and isinstance(high, Tensor) and high.ndim == 0:
        high = high.item()
    return functions.clamp(x, low, high)


@op("Cast")
def _cast(op, x):
    from ember.onnx.tensors import dtype_of

    return x.astype(dtype_of(op.attributes["to"], "Cast"))


# ----------------------------------------------------------------------------- activations


@op("LeakyRelu")
def _leaky_relu(op, x):
    return F.leaky_relu(x, op.attributes.get("alpha", 0.01))


@op("PRelu")
def _prelu(op, x, slope):
    return F.relu(x) - slope * F.relu(-x)  # slope broadcast to x (one way), as ONNX


@op("Elu")
def _elu(op, x):
    return F.elu(x, op.attributes.get("alpha", 1.0))


@op("Selu")
def _selu(op, x):
    alpha = op.attributes.get("alpha", 1.67326319217681884765625)
    gamma = op.attributes.get("gamma", 1.05070102214813232421875)
    return F.elu(x, alpha) * gamma


@op("Celu")
def _celu(op, x):
    return F.celu(x, op.attributes.get("alpha", 1.0))


@op("HardSigmoid")
def _hard_sigmoid(op, x):
    alpha, beta = op.attributes.get("alpha", 0.2), op.attributes.get("beta", 0.5)
    return functions.clamp(x * alpha + beta, 0.0, 1.0)


@op("Softplus")
def _softplus(op, x):
    return F.softplus(x)


@op("Gelu")
def _gelu(op, x):
    return F.gelu(x, op.attributes.get("approximate", "none"))


@op("Softmax", "LogSoftmax")
def _softmax(op, x):
    function = F.softmax if op.op_type == "Softmax" else F.log_softmax
    axis = _axis(op.attributes.get("axis", -1 if op.opset >= 13 else 1), x.ndim)
    if op.opset >= 13:
        return function(x, dim=axis)
    flat = functions.reshape(x, (math.prod(x.shape[:axis]), -1))  # before 13: 2-d
    return functions.reshape(function(flat, dim=1), x.shape)


@op("Dropout")
def _dropout(op, x, ratio=None, training_mode=None):
    return x  # the inference graph (ember's Dropout layer replaces it when training)


# ----------------------------------------------------------------------------- shapes


@op("Shape")
def _shape(op, x):
    shape = list(x.shape)
    start, end = op.attributes.get("start", 0), op.attributes.get("end", len(shape))
    return creation.tensor(np.asarray(shape[slice(start, end)], dtype=np.int64))


@op("Size")
def _size(op, x):
    return creation.tensor(np.asarray(x.numel(), dtype=np.int64))


@op("Reshape")
def _reshape(op, x, shape=None):
    target = ints(shape) if op.opset >= 5 else list(op.attributes["shape"])
    if not op.attributes.get("allowzero", 0):
        target = [x.shape[i] if s == 0 else s for i, s in enumerate(target)]
    return functions.reshape(x, tuple(target))


@op("Flatten")
def _flatten(op, x):
    axis = op.attributes.get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return functions.reshape(x, (math.prod(x.shape[:axis]), math.prod(x.shape[axis:])))


@op("Squeeze")
def _squeeze(op, x, axes=None):
    axes = _axes(op, x, axes) if op.opset >= 13 else _axes(op, x)
    if axes is None:
        return functions.squeeze(x)
    if any(x.shape[a] != 1 for a in axes):
        raise ValueError(f"Squeeze: axes {axes} of shape {tuple(x.shape)} are not all 1")
    return functions.squeeze(x, tuple(axes)) if axes else x


@op("Unsqueeze")
def _unsqueeze(op, x, axes=None):
    axes = ints(axes) if op.opset >= 13 else list(op.attributes["axes"])
    rank = x.ndim + len(axes)
    for a in sorted(_axis(a, rank) for a in axes):
        x = functions.unsqueeze(x, a)
    return x


@op("Transpose")
def _transpose(op, x):
    perm = op.attributes.get("perm", list(range(x.ndim))[::-1])
    return functions.permute(x, *perm)


@op("Concat")
def _concat(op, *xs):
    return functions.cat([x for x in xs if x is not None], dim=op.attributes["axis"])


@op("Split")
def _split(op, x, split=None):
    axis = _axis(op.attributes.get("axis", 0), x.ndim)
    sizes = ints(split) if split is not None else op.attributes.get("split")
    if sizes is None:
        parts = op.attributes.get("num_outputs", op.n_outputs)
        step = -(-x.shape[axis] // parts)
        sizes = [min(step, x.shape[axis] - i * step) for i in range(parts)]
    return tuple(functions.split(x, list(sizes), axis))


def _slice_key(x: Tensor, starts, ends, axes, steps) -> tuple:
    key = [slice(None)] * x.ndim
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        if step == 0:
            raise ValueError("Slice: a step of 0")
        key[_axis(axis, x.ndim)] = slice(start, end, step)
    return tuple(key)


@op("Slice")
def _slice(op, x, starts=None, ends=None, axes=None, steps=None):
    if op.opset < 10:
        a = op.attributes
        key = _slice_key(x, a["starts"], a["ends"], a.get("axes"), None)
    else:
        key = _slice_key(x, ints(starts), ints(ends), None if axes is None else ints(axes),
                         None if steps is None else ints(steps))
    return x[key]


@op("Gather")
def _gather(op, x, indices):
    axis = _axis(op.attributes.get("axis", 0), x.ndim)
    index = indices._data.astype(np.int64)
    if np.any(index >= x.shape[axis]) or np.any(index < -x.shape[axis]):
        raise ValueError(f"Gather: index out of range for axis {axis} of size "
                         f"{x.shape[axis]}")
    if index.ndim == 0:  # one index: the axis goes
        return x[(slice(None),) * axis + (int(index),)]
    return x[(slice(None),) * axis + (index,)]


@op("GatherElements")
def _gather_elements(op, x, indices):
    axis = _axis(op.attributes.get("axis", 0), x.ndim)
    index = indices._data.astype(np.int64)
    index = np.where(index < 0, index + x.shape[axis], index)
    return functions.gather(x, axis, creation.tensor(index))


@op("GatherND")
def _gather_nd(op, x, indices):
    if op.attributes.get("batch_dims", 0):
        raise ValueError("GatherND: batch_dims is not supported")
    index = indices._data.astype(np.int64)
    key = tuple(index[..., i] for i in range(index.shape[-1]))
    return x[key]


@op("Expand")
def _expand(op, x, shape):
    target = np.broadcast_shapes(tuple(x.shape), tuple(ints(shape)))
    return functions.broadcast_to(x, _check_size(target))


@op("Tile")
def _tile(op, x, repeats):
    reps = ints(repeats)
    _check_size([s * r for s, r in zip(x.shape, reps, strict=True)])
    return functions.repeat(x, *reps)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
              "wrap": "circular"}


@op("Pad")
def _pad(op, x, pads=None, value=None, axes=None):
    mode = op.attributes.get("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if op.opset < 11:
        widths, value = list(op.attributes["pads"]), op.attributes.get("value", 0.0)
    else:
        widths = ints(pads)
    axes = list(range(x.ndim)) if axes is None else [_axis(a, x.ndim) for a in ints(axes)]
    n = len(axes)
    if len(widths) != 2 * n:
        raise ValueError(f"Pad: {len(widths)} pads for {n} axes")
    if any(w < 0 for w in widths):  # negative pads crop
        key = [slice(None)] * x.ndim
        for i, a in enumerate(axes):
            key[a] = slice(max(-widths[i], 0), x.shape[a] - max(-widths[i + n], 0))
        x = x[tuple(key)]
        widths = [max(w, 0) for w in widths]
    flat = [0] * (2 * x.ndim)
    for i, a in enumerate(axes):  # F.pad lists the last axis first
        flat[2 * (x.ndim - 1 - a)] = widths[i]
        flat[2 * (x.ndim - 1 - a) + 1] = widths[i + n]
    if mode not in _PAD_MODES:
        raise ValueError(f"Pad: mode {mode!r} is not supported")
    fill = None if value is None or mode != "constant" else _float(value)
    return functions.pad(x, tuple(flat), mode=_PAD_MODES[mode], value=fill)


@op("ConstantOfShape")
def _constant_of_shape(op, shape):
    value = op.attributes.get("value", np.zeros(1, np.float32))
    return creation.tensor(np.full(_check_size(ints(shape)), value.reshape(-1)[0],
                                   dtype=value.dtype))


@op("Range")
def _range(op, start, limit, delta):
    first, last, step = (x._data.item() for x in (start, limit, delta))
    if step == 0 or abs((last - first) / step) > MAX_ELEMENTS:
        raise ValueError("Range: a step of 0 or too many elements")
    return creation.tensor(np.arange(first, last, step, dtype=start.dtype))


@op("NonZero")
def _nonzero(op, x):
    return functions.nonzero(x).transpose(0, 1) if x.ndim else creation.tensor(
        np.zeros((0, int(x.item() != 0)), np.int64))


# ----------------------------------------------------------------------------- reductions


def _reduce(op, x, axes, function):
    axes = _axes(op, x, axes) if axes is not None or op.opset < 18 or \
        op.op_type == "ReduceSum" and op.opset < 13 else None
    keepdims = bool(op.attributes.get("keepdims", 1))
    if axes == [] or axes is None:
        if op.attributes.get("noop_with_empty_axes", 0):
            return x
        axes = list(range(x.ndim))
    return function(x, tuple(axes), keepdims)


_REDUCERS = {
    "ReduceSum": lambda x, a, k: functions.sum(x, a, k),
    "ReduceMean": lambda x, a, k: functions.mean(x, a, k),
    "ReduceMax": lambda x, a, k: functions.amax(x, a, k),
    "ReduceMin": lambda x, a, k: functions.amin(x, a, k),
    "ReduceLogSumExp": lambda x, a, k: functions.logsumexp(x, a, k),
    "ReduceSumSquare": lambda x, a, k: functions.sum(x * x, a, k),
    "ReduceL2": lambda x, a, k: functions.sqrt(functions.sum(x * x, a, k)),
    "ReduceL1": lambda x, a, k: functions.sum(functions.abs(x), a, k),
    "ReduceProd": lambda x, a, k: _prod(x, a, k),
}


def _prod(x, axes, keepdim):
    for a in sorted(axes, reverse=True):
        x = functions.prod(x, a, keepdim)
    return x
for _name, _function in _REDUCERS.items():
    OPS[_name] = (lambda function: lambda op, x, axes=None: _reduce(op, x, axes,
                                                                      function))(_function)


@op("ArgMax", "ArgMin")
def _argmax(op, x):
    if op.attributes.get("select_last_index", 0):
        raise ValueError(f"{op.op_type}: select_last_index=1 is not supported")
    function = functions.argmax if op.op_type == "ArgMax" else functions.argmin
    axis = _axis(op.attributes.get("axis", 0), x.ndim)
    return function(x, axis, bool(op.attributes.get("keepdims", 1)))


@op("CumSum")
def _cumsum(op, x, axis):
    if op.attributes.get("exclusive", 0) or op.attributes.get("reverse", 0):
        raise ValueError("CumSum: exclusive and reverse sums are not supported")
    return functions.cumsum(x, _axis(ints(axis)[0], x.ndim))


@op("Einsum")
def _einsum(op, *xs):
    return functions.einsum(op.attributes["equation"], *xs)


@op("ScatterElements")
def _scatter_elements(op, x, indices, updates):
    axis = _axis(op.attributes.get("axis", 0), x.ndim)
    reduction = op.attributes.get("reduction", "none")
    index = indices._data.astype(np.int64)
    index = creation.tensor(np.where(index < 0, index + x.shape[axis], index))
    if reduction == "none":
        return functions.scatter(x, axis, index, updates)
    if reduction == "add":
        return functions.scatter_add(x, axis, index, updates)
    raise ValueError(f"ScatterElements: reduction {reduction!r} is not supported")


@op("Gemm")
def _gemm(op, a, b, c=None):
    a = a.transpose(0, 1) if op.attributes.get("transA", 0) else a
    b = b.transpose(0, 1) if op.attributes.get("transB", 0) else b
    out = functions.matmul(a, b)
    alpha, beta = op.attributes.get("alpha", 1.0), op.attributes.get("beta", 1.0)
    if alpha != 1.0:
        out = out * alpha
    if c is not None:
        out = out + (c * beta if beta != 1.0 else c)
    return out
