"""Translation rules for the layers' primitives: linear, convolution, pooling,
normalisation, embedding, activations and the recurrent layers.

Each ember layer maps to the ONNX operator of the same meaning (``Conv``, ``MaxPool``,
``BatchNormalization``, ``LSTM`` ...), with ember's arguments turned into its attributes;
where ONNX's operator differs (average pooling's divisor at the borders, PyTorch's gate
order in recurrent layers) the rule writes what ember computes, exactly.
"""

from __future__ import annotations

import math

import numpy as np

from ember.onnx.symbolic import module_rule, rule
from ember.tensor import Tensor

# ----------------------------------------------------------------------------- linear


@rule("linear")
def _linear(e):
    x, weight = e.input(0), e.input(1)
    bias = e.input(2) if e.array(2) is not None else None
    if len(e.shape(0)) == 2:
        return e.emit("Gemm", [x, weight] + ([bias] if bias else []), transB=1)
    out = e.emit("MatMul", [x, e.emit("Transpose", [weight], perm=[1, 0])])
    return e.emit("Add", [out, bias]) if bias else out


@rule("embedding")
def _embedding(e):
    return e.emit("Gather", [e.input(0), e.input(1, np.int64)], axis=0)


# ----------------------------------------------------------------------------- convolution


def _pads(pairs) -> list[int]:
    """((before, after), ...) as ONNX's [begin..., end...]."""
    return [int(b) for b, _ in pairs] + [int(a) for _, a in pairs]


@rule("convolution")
def _convolution(e):
    weight = e.array(1)
    inputs = [e.input(0), e.input(1)] + ([e.input(2)] if e.array(2) is not None else [])
    return e.emit("Conv", inputs, kernel_shape=list(weight.shape[2:]),
                  strides=list(e.params["stride"]), pads=_pads(e.params["padding"]),
                  dilations=list(e.params["dilation"]), group=int(e.params["groups"]))


@rule("conv_transpose")
def _conv_transpose(e):
    weight = e.array(1)
    kernel = weight.shape[2:]
    stride, dilation = e.params["stride"], e.params["dilation"]
    padding, size = e.params["padding"], e.params["size"]
    extra = []
    for n, k, s, d, (b, a), out in zip(e.shape(0)[2:], kernel, stride, dilation, padding,
                                       size, strict=True):
        extra.append(int(out - ((n - 1) * s - b - a + d * (k - 1) + 1)))
    inputs = [e.input(0), e.input(1)] + ([e.input(2)] if e.array(2) is not None else [])
    return e.emit("ConvTranspose", inputs, kernel_shape=list(kernel), strides=list(stride),
                  pads=_pads(padding), dilations=list(dilation),
                  group=int(e.params["groups"]),
                  output_padding=extra if any(extra) else None)


def _one_hot_kernel(channels: int, kernel, dtype) -> np.ndarray:
    """(C kH kW, 1, kH, kW): output channel c kH kW + a kW + b picks pixel (a, b) of
    channel c, so a grouped convolution with it is im2col in unfold's order."""
    kh, kw = kernel
    eye = np.eye(kh * kw, dtype=dtype).reshape(kh * kw, 1, kh, kw)
    return np.tile(eye, (channels, 1, 1, 1))


@rule("unfold")
def _unfold(e):
    """Two primitives share the name: ``Tensor.unfold`` (windows along one axis, the
    window last) and ``F.unfold`` (im2col: every window of an image as a column)."""
    if "axis" in e.params:
        return _windows(e)
    n, c = e.shape(0)[:2]
    kernel = e.params["kernel"]
    cols = e.emit("Conv", [e.input(0), e.const(_one_hot_kernel(c, kernel, e.ans.dtype))],
                  kernel_shape=list(kernel), strides=list(e.params["stride"]),
                  pads=_pads(e.params["padding"]), dilations=list(e.params["dilation"]),
                  group=c)
    return e.emit("Reshape", [cols, e.ints([0, c * kernel[0] * kernel[1], -1])])


def _windows(e):
    """x.unfold(axis, size, step): a gather of each window's positions along the axis,
    then the window's axis moved last."""
    shape = e.shape(0)
    axis = e.params["axis"] % len(shape)
    if axis in e.dynamic(0):
        raise e.fail("windows along a dynamic axis")
    size, step = e.params["size"], e.params["step"]
    dilation = e.params.get("dilation", 1)
    count = (shape[axis] - dilation * (size - 1) - 1) // step + 1
    index = np.arange(count)[:, None] * step + np.arange(size)[None, :] * dilation
    out = e.emit("Gather", [e.input(0), e.const(index.astype(np.int64))], axis=axis)
    order = list(range(len(shape) + 1))
    order.append(order.pop(axis + 1))
    return e.emit("Transpose", [out], perm=order)


def _fold_windows(e):
    """The adjoint of x.unfold: each window element added back at its place, as a product
    with the 0/1 matrix M[i size + a, S i + D a] = 1 over the (windows, size) pairs."""
    shape = e.shape(0)
    axis = e.params["axis"] % (len(shape) - 1)
    size, step = e.params["size"], e.params["step"]
    dilation, length = e.params.get("dilation", 1), e.params["length"]
    count = shape[axis]
    if axis in e.dynamic(0):
        raise e.fail("folding windows along a dynamic axis")
    rest = [d for d in range(len(shape) - 1) if d != axis]
    moved = e.emit("Transpose", [e.input(0)], perm=rest + [axis, len(shape) - 1])
    flat = e.reshape(moved, [0] * len(rest) + [count * size])
    matrix = np.zeros((count * size, length), e.ans.dtype)
    i, a = np.meshgrid(np.arange(count), np.arange(size), indexing="ij")
    matrix[(i * size + a).ravel(), (step * i + dilation * a).ravel()] = 1
    out = e.emit("MatMul", [flat, e.const(matrix)])
    order = list(range(len(rest)))
    order.insert(axis, len(rest))
    return e.emit("Transpose", [out], perm=order)


@rule("fold")
def _fold(e):
    """Two primitives share the name: the adjoint of ``Tensor.unfold`` and ``F.fold``
    (col2im)."""
    if "axis" in e.params:
        return _fold_windows(e)
    kernel, size = e.params["kernel"], e.params["size"]
    out_size = e.params["out_size"]
    c = e.shape(0)[1] // (kernel[0] * kernel[1])
    blocks = e.emit("Reshape", [e.input(0), e.ints([0, e.shape(0)[1], *out_size])])
    stride, dilation, padding = e.params["stride"], e.params["dilation"], e.params["padding"]
    extra = [int(out + b + a - ((n - 1) * s + d * (k - 1) + 1))
             for n, k, s, d, (b, a), out in zip(out_size, kernel, stride, dilation, padding,
                                                size, strict=True)]
    return e.emit("ConvTranspose", [blocks, e.const(_one_hot_kernel(c, kernel, e.ans.dtype))],
                  kernel_shape=list(kernel), strides=list(stride), pads=_pads(padding),
                  dilations=list(dilation), group=c,
                  output_padding=extra if any(extra) else None)


# ----------------------------------------------------------------------------- pooling


def _window_pads(e, kernel, stride, padding, dilation, out_size):
    """ONNX pads (begin..., end...) that give exactly ``out_size`` windows: the end pad
    covers the last window (PyTorch's ceil mode) and never crops (an unused remainder
    shorter than the stride gives no extra window)."""
    begins, ends = [], []
    for h, k, s, p, d, n in zip(e.shape(0)[2:], kernel, stride, padding, dilation, out_size,
                                strict=True):
        begins.append(int(p))
        ends.append(max(int((n - 1) * s + d * (k - 1) + 1 - h - p), 0))
    return begins + ends


def _check_static_windows(e) -> None:
    if any(d >= 2 for d in e.dynamic(0)):
        raise e.fail("pooling over a dynamic spatial axis; make only the batch axis dynamic")


@rule("max_pool", dynamic_params=True)
def _max_pool(e):
    _check_static_windows(e)
    kernel, stride = e.params["kernel"], e.params["stride"]
    dilation = e.params["dilation"]
    pads = _window_pads(e, kernel, stride, e.params["padding"], dilation,
                        e.params["out_size"])
    return e.emit("MaxPool", [e.input(0)], kernel_shape=list(kernel), strides=list(stride),
                  pads=pads, dilations=list(dilation))


@rule("max_pool_indices", "_max_pool_indices", dynamic_params=True)
def _max_pool_indices(e):
    """ONNX's indices count over the whole (N, C, H, W) input; PyTorch's within each
    H x W plane: the remainder modulo H W."""
    _check_static_windows(e)
    kernel, stride = e.params["kernel"], e.params["stride"]
    dilation = e.params["dilation"]
    pads = _window_pads(e, kernel, stride, e.params["padding"], dilation, e.shape(1)[2:])
    _, indices = e.emit("MaxPool", [e.input(0)], 2, kernel_shape=list(kernel),
                        strides=list(stride), pads=pads, dilations=list(dilation))
    plane = int(np.prod(e.shape(0)[2:]))
    return e.emit("Mod", [indices, e.const(plane, np.int64)])


@rule("avg_pool", dynamic_params=True)
def _avg_pool(e):
    """Sum over each zero-padded window (an AveragePool of the explicitly padded input,
    times the window size), divided by ember's divisor."""
    _check_static_windows(e)
    kernel, stride, padding = e.params["kernel"], e.params["stride"], e.params["padding"]
    out_size, divisor = e.params["out_size"], e.params["divisor"]
    pads = _window_pads(e, kernel, stride, padding, (1,) * len(kernel), out_size)
    x = e.input(0)
    if any(pads):
        x = e.emit("Pad", [x, e.ints([0, 0] + pads[:2] + [0, 0] + pads[2:]),
                           e.const(0, e.ans.dtype)])
    out = e.emit("AveragePool", [x], kernel_shape=list(kernel), strides=list(stride))
    window = math.prod(kernel)
    if isinstance(divisor, int):
        factor = np.asarray(window / divisor)
    else:
        rows, cols = divisor
        factor = window / np.multiply.outer(np.asarray(rows, float), np.asarray(cols, float))
    if np.all(factor == 1):
        return out
    if factor.ndim and np.all(factor == factor.flat[0]):
        factor = np.asarray(factor.flat[0])
    return e.emit("Mul", [out, e.const(factor, e.ans.dtype)])


@rule("adaptive_max_pool")
def _adaptive_max_pool(e):
    """Each bin's elements gathered along H then W, then the maximum over them."""
    rows, cols = np.asarray(e.params["rows"]), np.asarray(e.params["cols"])
    x = e.emit("Gather", [e.input(0), e.const(rows, np.int64)], axis=2)  # N C Ho Kh W
    x = e.emit("Gather", [x, e.const(cols, np.int64)], axis=4)  # N C Ho Kh Wo Kw
    return e.reduce("ReduceMax", x, [3, 5], False)


# ----------------------------------------------------------------------------- normalisation


@rule("batch_moments", "_batch_moments")
def _batch_moments(e):
    x = e.input(0)
    axes = [0] + list(range(2, len(e.shape(0))))
    mean = e.reduce("ReduceMean", x, axes, True)
    centred = e.emit("Sub", [x, mean])
    var = e.reduce("ReduceMean", e.emit("Mul", [centred, centred]), axes, False)
    mean = e.reshape(mean, [1, -1])
    return e.emit("Concat", [mean, e.unsqueeze(var, [0])], axis=0)


@rule("batch_norm")
def _batch_norm(e):
    """y = (x - mean) / sqrt(var + eps) * weight + bias with the given statistics (the
    running ones, or the batch's computed in the graph for instance norm)."""
    channels = e.shape(0)[1]
    dtype = e.ans.dtype
    weight = e.input(3) if e.array(3) is not None else e.const(np.ones(channels, dtype))
    bias = e.input(4) if e.array(4) is not None else e.const(np.zeros(channels, dtype))
    return e.emit("BatchNormalization", [e.input(0), weight, bias, e.input(1), e.input(2)],
                  epsilon=float(e.params["eps"]))


@rule("layer_norm")
def _layer_norm(e):
    shape = e.shape(0)
    size = e.params["size"]
    k = next(k for k in range(1, len(shape) + 1) if math.prod(shape[-k:]) == size)
    trailing = list(shape[-k:])
    dtype = e.ans.dtype
    weight = e.input(1) if e.array(1) is not None else None
    bias = e.input(2) if e.array(2) is not None else None
    if weight is not None and tuple(e.shape(1)) != tuple(trailing):
        weight = e.reshape(weight, trailing)
    if bias is not None and tuple(e.shape(2)) != tuple(trailing):
        bias = e.reshape(bias, trailing)
    eps = float(e.params["eps"])
    if e.opset >= 17:
        weight = weight or e.const(np.ones(trailing, dtype))
        return e.emit("LayerNormalization", [e.input(0), weight] + ([bias] if bias else []),
                      axis=-k, epsilon=eps)
    axes = list(range(len(shape) - k, len(shape)))
    x = e.input(0)
    centred = e.emit("Sub", [x, e.reduce("ReduceMean", x, axes, True)])
    var = e.reduce("ReduceMean", e.emit("Mul", [centred, centred]), axes, True)
    out = e.emit("Div", [centred, e.emit("Sqrt", [e.emit("Add", [var, e.const(eps, dtype)])])])
    if weight:
        out = e.emit("Mul", [out, weight])
    if bias:
        out = e.emit("Add", [out, bias])
    return out


# ----------------------------------------------------------------------------- activations


@rule("hardtanh")
def _hardtanh(e):
    dtype = e.ans.dtype
    return e.emit("Clip", [e.input(0), e.const(e.params["min_val"], dtype),
                           e.const(e.params["max_val"], dtype)])


@rule("hardswish")
def _hardswish(e):
    x = e.input(0)
    if e.opset >= 14:
        return e.emit("HardSwish", [x])
    dtype = e.ans.dtype
    gate = e.emit("Clip", [e.emit("Add", [x, e.const(3, dtype)]), e.const(0, dtype),
                           e.const(6, dtype)])
    return e.emit("Div", [e.emit("Mul", [x, gate]), e.const(6, dtype)])


@rule("leaky_relu")
def _leaky_relu(e):
    slope = e.array(1)
    if np.ndim(slope) == 0 and not hasattr(e.record.inputs[1], "_data"):
        return e.emit("LeakyRelu", [e.input(0, e.ans.dtype)], alpha=float(slope))
    return e.emit("PRelu", [e.input(0, e.ans.dtype), e.input(1, e.ans.dtype)])


@rule("elu")
def _elu(e):
    alpha, scale = float(e.params["alpha"]), float(e.params["scale"])
    input_scale = float(e.params["input_scale"])
    x = e.input(0, e.ans.dtype)
    if input_scale == 1 and scale == 1:
        return e.emit("Elu", [x], alpha=alpha)
    if input_scale == 1:
        return e.emit("Selu", [x], alpha=alpha, gamma=scale)
    if scale == 1 and math.isclose(input_scale * alpha, 1.0):
        return e.emit("Celu", [x], alpha=alpha)
    dtype = e.ans.dtype
    zero = e.const(0, dtype)
    negative = e.emit("Exp", [e.emit("Mul", [e.emit("Min", [x, zero]),
                                             e.const(input_scale, dtype)])])
    negative = e.emit("Mul", [e.emit("Sub", [negative, e.const(1, dtype)]),
                              e.const(alpha * scale, dtype)])
    positive = e.emit("Mul", [e.emit("Max", [x, zero]), e.const(scale, dtype)])
    return e.emit("Add", [positive, negative])


@rule("softplus")
def _softplus(e):
    x = e.input(0, e.ans.dtype)
    beta = e.params.get("beta")
    if beta is None:  # the loss helper: log(1 + e^z), no threshold
        return e.emit("Softplus", [x])
    dtype = e.ans.dtype
    z = e.emit("Mul", [x, e.const(beta, dtype)]) if beta != 1 else x
    smooth = e.emit("Softplus", [z])
    if beta != 1:
        smooth = e.emit("Div", [smooth, e.const(beta, dtype)])
    linear = e.emit("Greater", [z, e.const(e.params["threshold"], dtype)])
    return e.emit("Where", [linear, x, smooth])


@rule("logsigmoid")
def _logsigmoid(e):
    x = e.input(0, e.ans.dtype)
    return e.emit("Neg", [e.emit("Softplus", [e.emit("Neg", [x])])])


@rule("gelu")
def _gelu(e):
    x = e.input(0, e.ans.dtype)
    approximate = e.params["approximate"]
    if e.opset >= 20:
        return e.emit("Gelu", [x], approximate=approximate)
    dtype = e.ans.dtype
    half = e.emit("Mul", [x, e.const(0.5, dtype)])
    if approximate == "tanh":
        cube = e.emit("Mul", [e.emit("Mul", [x, x]), x])
        inner = e.emit("Add", [x, e.emit("Mul", [cube, e.const(0.044715, dtype)])])
        inner = e.emit("Mul", [inner, e.const(math.sqrt(2 / math.pi), dtype)])
        gate = e.emit("Tanh", [inner])
    else:
        gate = e.emit("Erf", [e.emit("Mul", [x, e.const(math.sqrt(0.5), dtype)])])
    return e.emit("Mul", [half, e.emit("Add", [gate, e.const(1, dtype)])])


@rule("silu")
def _silu(e):
    x = e.input(0, e.ans.dtype)
    return e.emit("Mul", [x, e.emit("Sigmoid", [x])])


@rule("cross_entropy", "binary_cross_entropy")
def _loss(e):
    raise e.fail("losses are not part of an exported model; export the network alone")


# ----------------------------------------------------------------------------- recurrent

# rows of the gate blocks in ONNX's order, from PyTorch's (LSTM: i f g o -> i o f c;
# GRU: r z n -> z r h)
_GATE_ORDER = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn_tanh": [0], "rnn_relu": [0]}
_ONNX_OP = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


def _gates(array: np.ndarray, order: list[int]) -> np.ndarray:
    blocks = np.split(array, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _weight(e, i: int, order) -> np.ndarray:
    x = e.record.inputs[i]
    if id(x) in e.exporter.first.produced:
        raise e.fail("recurrent weights computed in the forward pass have no translation")
    return _gates(e.array(i), order)


@rule("lstm", "gru", "rnn_tanh", "rnn_relu", dynamic_params=True)
def _recurrent(e):
    """One layer and direction as ONNX's LSTM/GRU/RNN (gates reordered); its packed
    result [output; h_n; c_n] is kept as parts that the indexing after it picks."""
    mode = e.record.name
    order = _GATE_ORDER[mode]
    steps, _, hidden = e.shape(0)[0], e.shape(0)[1], e.shape(4)[1]
    lengths = e.params.get("lengths")
    if e.other is not None and not _same_lengths(lengths, e.other.params.get("lengths")):
        raise e.fail("sequence lengths with a dynamic batch axis")
    w = e.const(_weight(e, 3, order)[None], hint="W")
    r = e.const(_weight(e, 4, order)[None], hint="R")
    inputs = [e.input(0), w, r]
    if e.array(5) is not None:
        bias = np.concatenate([_gates(e.array(5), order), _gates(e.array(6), order)])
        inputs.append(e.const(bias[None], hint="B"))
    else:
        inputs.append("")
    inputs.append("" if lengths is None else e.const(np.asarray(lengths, np.int32)))
    for i in (1, 2):
        if e.array(i) is not None:
            inputs.append(e.unsqueeze(e.input(i), [0]))
        elif mode == "lstm" and i == 1 and e.array(2) is not None:
            inputs.append("")
    while inputs[-1] == "":
        inputs.pop()
    attributes = {"hidden_size": int(hidden),
                  "direction": "reverse" if e.params["reverse"] else "forward"}
    if mode == "gru":
        attributes["linear_before_reset"] = 1
    if mode.startswith("rnn"):
        attributes["activations"] = ["Tanh" if mode == "rnn_tanh" else "Relu"]
    outputs = 3 if mode == "lstm" else 2
    results = e.emit(_ONNX_OP[mode], inputs, outputs, **attributes)
    parts = [e.squeeze(results[0], [1])] + [e.squeeze(r, [0]) for r in results[1:]]
    packed = e.emit("Concat", [parts[0]] + [e.unsqueeze(p, [0]) for p in parts[1:]], axis=0)
    e.graph.packed[packed] = (steps, parts)
    return packed


def _same_lengths(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return np.array_equal(np.asarray(a), np.asarray(b))


# ----------------------------------------------------------------------------- whole modules


def _instance_norm_applies(module, args) -> bool:
    x = args[0] if args else None
    return (isinstance(x, Tensor) and x.ndim == module._dims[1]
            and (module.training or not module.track_running_stats))


def _register_module_rules() -> None:
    from ember import nn

    for cls in (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d):
        module_rule(cls, _instance_norm_applies)(_instance_norm)
    module_rule(nn.Upsample, _upsample_applies)(_upsample)


def _instance_norm(e):
    """InstanceNormalization with the statistics of each sample and channel."""
    module = e.record.op.module
    channels = e.shape(0)[1]
    dtype = e.ans.dtype
    weight = module.weight if module.affine else None
    bias = module.bias if module.affine else None
    scale = e.exporter.value_name(weight, e.record.scope) if weight is not None else \
        e.const(np.ones(channels, dtype))
    shift = e.exporter.value_name(bias, e.record.scope) if bias is not None else \
        e.const(np.zeros(channels, dtype))
    return e.emit("InstanceNormalization", [e.input(0), scale, shift],
                  epsilon=float(module.eps))


_RESIZE_MODES = {"nearest": "nearest", "nearest-exact": "nearest", "linear": "linear",
                 "bilinear": "linear", "bicubic": "cubic"}


def _upsample_applies(module, args) -> bool:
    x = args[0] if args else None
    return (isinstance(x, Tensor) and x.ndim in (3, 4) and module.mode in _RESIZE_MODES
            and x.dtype.kind == "f")


def _upsample(e):
    """Resize, with the coordinate rule of PyTorch's mode: ``nearest`` reads
    floor(i In/Out) (asymmetric, floor), ``nearest-exact`` floor((i + 0.5) In/Out)
    (half pixel, ties up), the linear modes (i + 0.5) In/Out - 0.5 or, with align_corners,
    i (In - 1)/(Out - 1); cubic with Keys' A = -0.75."""
    module = e.record.op.module
    mode = module.mode
    if mode in ("nearest", "nearest-exact"):
        transform = "asymmetric" if mode == "nearest" else "half_pixel"
    else:
        transform = "align_corners" if module.align_corners else "pytorch_half_pixel"
    attributes = dict(mode=_RESIZE_MODES[mode], coordinate_transformation_mode=transform,
                      nearest_mode="floor" if mode == "nearest" else "round_prefer_ceil",
                      cubic_coeff_a=-0.75)
    x = e.input(0)
    spatial = len(e.shape(0)) - 2
    scale = module.scale_factor
    if scale is not None and not module.recompute_scale_factor:
        scales = [1.0, 1.0] + list(scale if isinstance(scale, tuple) else (scale,) * spatial)
        return e.emit("Resize", [x, "", e.const(np.asarray(scales, np.float32))], **attributes)
    if any(d >= 2 for d in e.dynamic(0)) or any(d >= 2 for d in e.out_dynamic):
        raise e.fail("resizing to a fixed size along a dynamic axis")
    leading = e.emit("Slice", [e.emit("Shape", [x]), e.ints([0]), e.ints([2])])
    sizes = e.emit("Concat", [leading, e.ints(e.ans.shape[2:])], axis=0)
    return e.emit("Resize", [x, "", "", sizes], **attributes)


_register_module_rules()
