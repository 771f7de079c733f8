"""ONNX layers in ember: convolution, pooling, normalisation, linear, recurrent, resize.

Where a node's weights are constants, :data:`LAYERS` builds the ember layer that computes
it (``Conv`` -> :class:`~ember.nn.Conv2d`, ``Gemm`` -> :class:`~ember.nn.Linear`,
``BatchNormalization`` -> a batch-norm layer, ``LSTM`` -> a recurrent layer with
PyTorch's parameter names and gate order), so that a loaded model freezes, fine-tunes and
summarises like one built in ember. Otherwise the operator runs functionally
(:data:`~ember.onnx.import_ops.OPS`).
"""

from __future__ import annotations

import math

import numpy as np

from ember import functions, nn
from ember.autograd.engine import is_grad_enabled
from ember.nn import functional as F
from ember.nn.functional import recurrent as R
from ember.nn.module import Module, Parameter
from ember.onnx.import_ops import _axis, ints, op
from ember.onnx.tensors import OnnxError
from ember.tensor import Tensor

LAYERS: dict = {}  # op_type -> build(node, constants, share) -> (module, runtime slots) | None


def layer(name):
    def register(function):
        LAYERS[name] = function
        return function

    return register


# ----------------------------------------------------------------------------- padding


def _window(attributes: dict, kernel, spatial=None):
    """(strides, dilations, pads as (before, after) pairs) of a convolution or pool;
    ``SAME_*`` auto padding needs the input's ``spatial`` size (or stride 1)."""
    n = len(kernel)
    strides = list(attributes.get("strides", [1] * n))
    dilations = list(attributes.get("dilations", [1] * n))
    if len(strides) != n or len(dilations) != n or min(strides + dilations, default=1) < 1:
        raise ValueError(f"strides {strides} and dilations {dilations} must be {n} positive "
                         "integers")
    auto = attributes.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        pads = list(attributes.get("pads", [0] * 2 * n))
        if len(pads) != 2 * n or min(pads, default=0) < 0:
            raise ValueError(f"pads {pads} must be {2 * n} non-negative integers")
        return strides, dilations, [(pads[i], pads[i + n]) for i in range(n)]
    if auto == "VALID":
        return strides, dilations, [(0, 0)] * n
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise ValueError(f"auto_pad {auto!r} is not one of NOTSET, VALID, SAME_UPPER, "
                         "SAME_LOWER")
    pairs = []
    for i, (k, s, d) in enumerate(zip(kernel, strides, dilations, strict=True)):
        if spatial is None and s != 1:
            return None
        size = spatial[i] if spatial is not None else 1
        out = -(-size // s)
        total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
        small = total // 2
        pairs.append((small, total - small) if auto == "SAME_UPPER" else
                     (total - small, small))
    return strides, dilations, pairs


def _flat_pads(pairs) -> tuple:
    """(before, after) pairs as F.pad's list, last axis first."""
    return tuple(p for pair in reversed(pairs) for p in pair)


def _conv_padding(pairs):
    """A conv layer's padding: one per axis when symmetric, else ember's explicit
    (before, after, ...) pairs."""
    if all(b == a for b, a in pairs):
        return tuple(b for b, _ in pairs)
    return tuple(p for pair in pairs for p in pair)


# ----------------------------------------------------------------------------- convolution


@layer("Conv")
def _conv_layer(node, constants, share):
    weight = constants.get(1)
    if weight is None or weight.ndim not in (3, 4) or 0 not in node.runtime:
        return None
    kernel = weight.shape[2:]
    if list(node.attributes.get("kernel_shape", kernel)) != list(kernel):
        raise ValueError(f"kernel_shape {node.attributes['kernel_shape']} does not match "
                         f"the weight of shape {weight.shape}")
    window = _window(node.attributes, kernel)
    if window is None or any(i in node.runtime for i in (1, 2)):
        return None
    strides, dilations, pairs = window
    groups = int(node.attributes.get("group", 1))
    bias = constants.get(2)
    cls = nn.Conv1d if weight.ndim == 3 else nn.Conv2d
    module = cls(weight.shape[1] * groups, weight.shape[0], tuple(kernel), tuple(strides),
                 _conv_padding(pairs), tuple(dilations), groups, bias is not None,
                 dtype=weight.dtype)
    module.weight = share(1, weight)
    if bias is not None:
        module.bias = share(2, bias)
    return module, [0]


def _convolve(x, weight, bias, attributes, transpose=False):
    kernel = weight.shape[2:]
    if len(kernel) not in (1, 2):
        raise ValueError(f"{len(kernel)}-d convolution is not supported")
    strides, dilations, pairs = _window(attributes, kernel, x.shape[2:])
    groups = int(attributes.get("group", 1))
    if not transpose:
        conv = F.conv1d if len(kernel) == 1 else F.conv2d
        return conv(x, weight, bias, strides, _conv_padding(pairs), dilations, groups)
    extra = list(attributes.get("output_padding", [0] * len(kernel)))
    shape = attributes.get("output_shape")
    if shape is not None:
        full = [(n - 1) * s + d * (k - 1) + 1 + e for n, s, d, k, e in
                zip(x.shape[2:], strides, dilations, kernel, extra, strict=True)]
        totals = [f - o for f, o in zip(full, list(shape)[-len(kernel):], strict=True)]
        upper = attributes.get("auto_pad", "NOTSET") in ("SAME_UPPER", b"SAME_UPPER")
        pairs = [((t // 2, t - t // 2) if upper else (t - t // 2, t // 2)) for t in totals]
    conv = F.conv_transpose1d if len(kernel) == 1 else F.conv_transpose2d
    out = conv(x, weight, bias, strides, 0, extra, groups, dilations)
    key = (slice(None), slice(None)) + tuple(slice(b, n - a) for (b, a), n in
                                             zip(pairs, out.shape[2:], strict=True))
    return out[key] if any(b or a for b, a in pairs) else out


@op("Conv")
def _conv(op, x, weight, bias=None):
    return _convolve(x, weight, bias, op.attributes)


@op("ConvTranspose")
def _conv_transpose(op, x, weight, bias=None):
    return _convolve(x, weight, bias, op.attributes, transpose=True)


@layer("ConvTranspose")
def _conv_transpose_layer(node, constants, share):
    weight = constants.get(1)
    a = node.attributes
    if weight is None or weight.ndim not in (3, 4) or any(i in node.runtime for i in (1, 2)) \
            or "output_shape" in a or a.get("auto_pad", "NOTSET") not in ("NOTSET", b"NOTSET"):
        return None
    kernel = weight.shape[2:]
    strides, dilations, pairs = _window(a, kernel)
    if any(b != e for b, e in pairs):
        return None
    groups = int(a.get("group", 1))
    bias = constants.get(2)
    cls = nn.ConvTranspose1d if weight.ndim == 3 else nn.ConvTranspose2d
    module = cls(weight.shape[0], weight.shape[1] * groups, tuple(kernel), tuple(strides),
                 tuple(b for b, _ in pairs),
                 tuple(a.get("output_padding", [0] * len(kernel))), groups, bias is not None,
                 tuple(dilations), dtype=weight.dtype)
    module.weight = share(1, weight)
    if bias is not None:
        module.bias = share(2, bias)
    return module, [0]


# ----------------------------------------------------------------------------- pooling


def _pool_args(attributes, x):
    kernel = list(attributes["kernel_shape"])
    if len(kernel) not in (1, 2) or x.ndim != len(kernel) + 2:
        raise ValueError(f"pooling with kernel {kernel} over an input of shape "
                         f"{tuple(x.shape)} (1-d and 2-d pooling are supported)")
    strides, dilations, pairs = _window(attributes, kernel, x.shape[2:])
    return kernel, strides, dilations, pairs


def _symmetric(pairs, kernel) -> bool:
    return all(b == a and b <= k // 2 for (b, a), k in zip(pairs, kernel, strict=True))


@op("MaxPool")
def _max_pool(op, x):
    kernel, strides, dilations, pairs = _pool_args(op.attributes, x)
    ceil = bool(op.attributes.get("ceil_mode", 0))
    pool = F.max_pool1d if len(kernel) == 1 else F.max_pool2d
    padding = [b for b, _ in pairs]
    if not _symmetric(pairs, kernel):
        x = functions.pad(x, _flat_pads(pairs), value=-math.inf)
        padding = 0
    if op.n_outputs < 2:
        return pool(x, kernel, strides, padding, dilations, ceil)
    if op.attributes.get("storage_order", 0) or padding == 0:
        raise ValueError("MaxPool indices with column-major order or uneven padding")
    out, plane = pool(x, kernel, strides, padding, dilations, ceil, return_indices=True)
    n, c = x.shape[:2]
    offset = np.arange(n * c, dtype=np.int64).reshape(n, c, *([1] * len(kernel)))
    return out, plane + Tensor(offset * math.prod(x.shape[2:]))


@op("AveragePool")
def _avg_pool(op, x):
    kernel, strides, _, pairs = _pool_args(op.attributes, x)
    ceil = bool(op.attributes.get("ceil_mode", 0))
    include = bool(op.attributes.get("count_include_pad", 0))
    pool = F.avg_pool1d if len(kernel) == 1 else F.avg_pool2d
    if _symmetric(pairs, kernel):
        return pool(x, kernel, strides, [b for b, _ in pairs], ceil, include)
    if not include:
        raise ValueError("AveragePool with uneven padding that is not counted")
    return pool(functions.pad(x, _flat_pads(pairs)), kernel, strides, 0, ceil, True)


@op("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(op, x):
    axes = tuple(range(2, x.ndim))
    if op.op_type == "GlobalAveragePool":
        return functions.mean(x, axes, True)
    return functions.amax(x, axes, True)


# ----------------------------------------------------------------------------- normalisation


class BatchNorm(nn.BatchNorm2d):
    """Batch normalisation over dim 1 of an input of any rank from 2 (ONNX's
    ``BatchNormalization``): running statistics in evaluation, batch statistics (and
    updates of the running ones) in training, as :class:`~ember.nn.BatchNorm2d`."""

    _dims = (2, 3, 4, 5, 6)


@layer("BatchNormalization")
def _batch_norm_layer(node, constants, share):
    if any(i in node.runtime for i in (1, 2, 3, 4)) or len(node.outputs) > 1:
        return None
    scale, shift, mean, var = (constants[i] for i in (1, 2, 3, 4))
    channels = scale.shape[0]
    if any(a.shape != (channels,) for a in (scale, shift, mean, var)):
        raise ValueError("scale, B, mean and var must all have shape (C,)")
    momentum = float(node.attributes.get("momentum", 0.9))
    module = BatchNorm(channels, eps=float(node.attributes.get("epsilon", 1e-5)),
                       momentum=1.0 - momentum, dtype=scale.dtype)
    module.weight, module.bias = share(1, scale), share(2, shift)
    module.running_mean.copy_(Tensor(mean))
    module.running_var.copy_(Tensor(var))
    return module, [0]


@op("BatchNormalization")
def _batch_norm(op, x, scale, shift, mean, var):
    return F.batch_norm(x, mean, var, scale, shift, False,
                        eps=float(op.attributes.get("epsilon", 1e-5)))


@op("InstanceNormalization")
def _instance_norm(op, x, scale, shift):
    return F.instance_norm(x, weight=scale, bias=shift,
                           eps=float(op.attributes.get("epsilon", 1e-5)))


@op("LayerNormalization")
def _layer_norm(op, x, scale, shift=None):
    axis = _axis(op.attributes.get("axis", -1), x.ndim)
    shape = tuple(x.shape[axis:])
    scale = scale if tuple(scale.shape) == shape else functions.broadcast_to(scale, shape)
    if shift is not None and tuple(shift.shape) != shape:
        shift = functions.broadcast_to(shift, shape)
    return F.layer_norm(x, shape, scale, shift, float(op.attributes.get("epsilon", 1e-5)))


@op("LRN")
def _lrn(op, x):
    """b_c = a_c (bias + alpha/size sum of a^2 over channels c - floor((size-1)/2) ...
    c + ceil((size-1)/2))^-beta (ONNX's window; PyTorch's is its mirror for even sizes)."""
    size = int(op.attributes["size"])
    alpha, beta = op.attributes.get("alpha", 1e-4), op.attributes.get("beta", 0.75)
    bias = op.attributes.get("bias", 1.0)
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    squares = functions.pad(x * x, (0, 0) * (x.ndim - 2) + (before, after))
    channels = x.shape[1]
    window = squares[:, 0:channels]
    for offset in range(1, size):
        window = window + squares[:, offset:offset + channels]
    return x / (window * (alpha / size) + bias) ** beta


# ----------------------------------------------------------------------------- linear


@layer("Gemm")
def _gemm_layer(node, constants, share):
    weight, bias = constants.get(1), constants.get(2)
    a = node.attributes
    if weight is None or weight.ndim != 2 or a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 \
            or 1 in node.runtime or 2 in node.runtime:
        return None
    transposed = bool(a.get("transB", 0))
    out_features = weight.shape[0] if transposed else weight.shape[1]
    if bias is not None and (bias.size != out_features or a.get("beta", 1.0) != 1.0):
        return None
    module = nn.Linear(weight.shape[1] if transposed else weight.shape[0], out_features,
                       bias=bias is not None, dtype=weight.dtype)
    module.weight = share(1, weight) if transposed else Parameter(Tensor(weight.T.copy()))
    if bias is not None:
        module.bias = share(2, bias.reshape(out_features))
    return module, [0]


@layer("Dropout")
def _dropout_layer(node, constants, share):
    if len(node.outputs) > 1 or 1 in node.runtime:
        return None
    ratio = constants.get(1)
    ratio = float(ratio) if ratio is not None else float(node.attributes.get("ratio", 0.5))
    return nn.Dropout(ratio), [0]


# ----------------------------------------------------------------------------- recurrent

# ONNX gate blocks in PyTorch's order (LSTM: i o f c -> i f g o; GRU: z r h -> r z n)
_FROM_ONNX = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}
_DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}


class Recurrent(Module):
    """One ONNX ``LSTM``/``GRU``/``RNN`` node (one layer, forward, reverse or both
    directions) with PyTorch's parameter names (``weight_ih_l0``, ``bias_hh_l0_reverse``)
    and gate order; returns ONNX's outputs ``Y`` (T, D, N, H), ``Y_h`` (D, N, H) and, for
    the LSTM, ``Y_c``."""

    def __init__(self, op_type: str, mode: str, directions: list[bool], layout: int,
                 weights: dict) -> None:
        super().__init__()
        self.op_type, self.mode, self.directions, self.layout = op_type, mode, directions, layout
        for name, value in weights.items():
            setattr(self, name, value)

    def _weights(self, reverse: bool) -> list:
        suffix = "_l0" + ("_reverse" if reverse else "")
        return [getattr(self, kind + suffix, None)
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def forward(self, x, sequence_lens=None, initial_h=None, initial_c=None):
        if self.layout:
            x = x.transpose(0, 1)
            initial_h = None if initial_h is None else initial_h.transpose(0, 1)
            initial_c = None if initial_c is None else initial_c.transpose(0, 1)
        steps, batch = x.shape[:2]
        lengths = None
        if sequence_lens is not None:
            lengths = R._check_lengths(sequence_lens._data.astype(np.int64), steps, batch,
                                       self.op_type)
        outputs, hidden, cell = [], [], []
        for k, reverse in enumerate(self.directions):
            weights = self._weights(reverse)
            h0 = None if initial_h is None else initial_h[k]
            c0 = None if initial_c is None else initial_c[k]
            saving = is_grad_enabled() and any(isinstance(v, Tensor) and v.requires_grad
                                               for v in [x, h0, c0, *weights])
            ans = R._LAYER_OPS[self.mode](x, h0, c0, *weights, R._Tape() if saving else None,
                                          reverse=reverse, lengths=lengths)
            outputs.append(ans[:steps])
            hidden.append(ans[steps])
            if self.mode == "lstm":
                cell.append(ans[steps + 1])
        y = functions.stack(outputs, 1)
        states = [functions.stack(hidden)] + ([functions.stack(cell)] if cell else [])
        if self.layout:
            y = y.permute(2, 0, 1, 3)
            states = [s.transpose(0, 1) for s in states]
        return (y, *states)


def _mode(node) -> str:
    a, kind = node.attributes, node.op_type
    directions = 2 if a.get("direction", "forward") in ("bidirectional", b"bidirectional") else 1
    given = [s.decode() if isinstance(s, bytes) else s for s in a.get("activations", [])]
    if kind == "RNN":
        given = given or ["Tanh"] * directions
        if len(set(given)) != 1 or given[0] not in ("Tanh", "Relu"):
            raise ValueError(f"RNN activations {given}: Tanh or Relu (the same in both "
                             "directions) are supported")
        return "rnn_tanh" if given[0] == "Tanh" else "rnn_relu"
    if given and given != _DEFAULT_ACTIVATIONS[kind] * directions:
        raise ValueError(f"{kind} activations {given} (only the defaults are supported)")
    if kind == "GRU" and not a.get("linear_before_reset", 0):
        raise ValueError("GRU with linear_before_reset=0 (the original GRU) is not "
                         "supported; PyTorch's GRU (linear_before_reset=1) is")
    return kind.lower()


@layer("LSTM")
@layer("GRU")
@layer("RNN")
def _recurrent_layer(node, constants, share):
    a, kind = node.attributes, node.op_type
    if any(i in node.runtime for i in (1, 2, 3)) or 7 in node.slots_present:
        if 7 in node.slots_present:
            raise ValueError("LSTM peepholes (input P) are not supported")
        return None
    if "clip" in a or a.get("input_forget", 0):
        raise ValueError("clip and input_forget are not supported")
    mode = _mode(node)
    direction = a.get("direction", "forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    directions = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}.get(
        direction)
    if directions is None:
        raise ValueError(f"direction {direction!r}")
    w, r, b = constants[1], constants[2], constants.get(3)
    hidden = int(a.get("hidden_size", r.shape[-1]))
    gates = len(_FROM_ONNX[kind])
    if w.ndim != 3 or r.shape != (len(directions), gates * hidden, hidden) or \
            w.shape[:2] != (len(directions), gates * hidden):
        raise ValueError(f"W {w.shape} and R {r.shape} do not fit {len(directions)} "
                         f"direction(s) of hidden size {hidden}")
    if b is not None and b.shape != (len(directions), 2 * gates * hidden):
        raise ValueError(f"B {b.shape} does not fit hidden size {hidden}")
    order = _FROM_ONNX[kind]

    def gated(array):
        blocks = np.split(array, gates, axis=0)
        return Parameter(Tensor(np.concatenate([blocks[i] for i in order])))

    weights = {}
    for k, reverse in enumerate(directions):
        suffix = "_l0" + ("_reverse" if reverse else "")
        weights["weight_ih" + suffix] = gated(w[k])
        weights["weight_hh" + suffix] = gated(r[k])
        if b is not None:
            weights["bias_ih" + suffix] = gated(b[k, :gates * hidden])
            weights["bias_hh" + suffix] = gated(b[k, gates * hidden:])
    module = Recurrent(kind, mode, directions, int(a.get("layout", 0)), weights)
    return module, [0, 4, 5, 6]  # X, sequence_lens, initial_h, initial_c (absent: None)


# ----------------------------------------------------------------------------- resize

_NEAREST = {("asymmetric", "floor"): "nearest", ("half_pixel", "round_prefer_ceil"):
            "nearest-exact", ("pytorch_half_pixel", "round_prefer_ceil"): "nearest-exact"}


def resize_mode(attributes: dict, rank: int) -> tuple[str, bool | None]:
    """ember's interpolate mode and align_corners for ONNX's Resize attributes."""
    def text(key, default):
        value = attributes.get(key, default)
        return value.decode() if isinstance(value, bytes) else value

    mode, transform = text("mode", "nearest"), text("coordinate_transformation_mode",
                                                    "half_pixel")
    if attributes.get("antialias", 0) or attributes.get("exclude_outside", 0):
        raise ValueError("Resize with antialias or exclude_outside is not supported")
    if mode == "nearest":
        chosen = _NEAREST.get((transform, text("nearest_mode", "round_prefer_floor")))
        if chosen is None:
            raise ValueError(f"Resize nearest with {transform} and "
                             f"{text('nearest_mode', 'round_prefer_floor')} rounding")
        return chosen, None
    if transform not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        raise ValueError(f"Resize {mode} with {transform} coordinates")
    if mode == "cubic" and attributes.get("cubic_coeff_a", -0.75) != -0.75:
        raise ValueError("Resize cubic with a coefficient other than -0.75")
    names = {("linear", 3): "linear", ("linear", 4): "bilinear", ("cubic", 4): "bicubic"}
    if (mode, rank) not in names:
        raise ValueError(f"Resize {mode} of a {rank}-d tensor")
    return names[(mode, rank)], transform == "align_corners"


@op("Resize")
def _resize(op, x, roi=None, scales=None, sizes=None):
    if op.opset < 11:
        roi, scales = None, roi
    mode, align = resize_mode(op.attributes, x.ndim)
    if sizes is not None and sizes.numel():
        size = ints(sizes)
        if size[:2] != list(x.shape[:2]):
            raise ValueError("Resize of the batch or channel axes")
        return F.interpolate(x, size=tuple(size[2:]), mode=mode, align_corners=align)
    factors = [float(s) for s in scales._data.reshape(-1)]
    if factors[:2] != [1.0, 1.0] or len(factors) != x.ndim:
        raise ValueError(f"Resize scales {factors} (only the spatial axes may change)")
    return F.interpolate(x, scale_factor=tuple(factors[2:]), mode=mode, align_corners=align)


def check_resize(attributes: dict) -> None:
    """Refuse unsupported Resize attributes when loading (the rank is checked later)."""
    for rank in (4, 3):
        try:
            resize_mode(attributes, rank)
            return
        except ValueError as error:
            last = error
    raise OnnxError(str(last))
