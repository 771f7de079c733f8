"""Translation rules: each tensor primitive (``ember.ops``) as ONNX operators.

A rule receives an :class:`~ember.onnx.graph.Emitter` for one recorded call and returns
the ONNX name of its result. Elementwise rules convert every input to the result's dtype
first (ONNX operators take one type; ember, like PyTorch, promotes). The rules for the
layers' primitives (convolution, pooling, normalisation, recurrent layers, activations)
are in :mod:`ember.onnx.symbolic_nn`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


@dataclass
class Rule:
    function: object
    dynamic_params: bool = False  # the rule handles parameters that follow dynamic axes


RULES: dict[str, Rule] = {}
MODULE_RULES: dict[type, object] = {}  # module class -> applies(module, args)


def rule(*names: str, dynamic_params: bool = False):
    """Register a translation rule for the primitives ``names``."""
    def register(function):
        for name in names:
            RULES[name] = Rule(function, dynamic_params)
        return function

    return register


def module_rule(cls, applies=lambda module, args: True):
    """Register a rule that translates a whole module of class ``cls`` (when
    ``applies(module, args)``): the rule sees ``e.record.op.module`` and the module's
    inputs, and its primitives are not recorded."""
    def register(function):
        MODULE_RULES[cls] = applies
        RULES[f"module:{cls.__name__}"] = Rule(function, False)
        return function

    return register


# ----------------------------------------------------------------------------- elementwise

_UNARY = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "sin": "Sin",
          "cos": "Cos", "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "neg": "Neg",
          "sign": "Sign", "floor": "Floor", "ceil": "Ceil", "erf": "Erf", "tan": "Tan",
          "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "asinh": "Asinh", "acosh": "Acosh", "atanh": "Atanh"}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
           "maximum": "Max", "minimum": "Min"}


@rule(*_UNARY)
def _unary(e):
    return e.emit(_UNARY[e.record.name], [e.input(0, e.ans.dtype)])


_BINARY["matmul"] = "MatMul"


@rule(*_BINARY)
def _binary(e):
    return e.emit(_BINARY[e.record.name], e.inputs(e.ans.dtype))


@rule("log1p")
def _log1p(e):
    x = e.input(0, e.ans.dtype)
    return e.emit("Log", [e.emit("Add", [x, e.const(1, e.ans.dtype)])])


@rule("expm1", "exp2", "log2", "log10")
def _exponential(e):
    """e^x - 1, 2^x = e^(x ln 2), log2 x = ln x / ln 2, log10 x = ln x / ln 10."""
    x = e.input(0, e.ans.dtype)
    dtype, name = e.ans.dtype, e.record.name
    if name == "expm1":
        return e.emit("Sub", [e.emit("Exp", [x]), e.const(1, dtype)])
    if name == "exp2":
        return e.emit("Exp", [e.emit("Mul", [x, e.const(np.log(2.0), dtype)])])
    base = 2.0 if name == "log2" else 10.0
    return e.emit("Div", [e.emit("Log", [x]), e.const(np.log(base), dtype)])


@rule("trunc")
def _trunc(e):
    x = e.input(0)
    if e.ans.dtype.kind != "f":
        return e.emit("Identity", [x])
    return e.emit("Mul", [e.emit("Sign", [x]), e.emit("Floor", [e.emit("Abs", [x])])])


@rule("fmod")
def _fmod(e):
    """C's remainder (the sign of the dividend), for floats and integers."""
    return e.emit("Mod", e.inputs(e.ans.dtype), fmod=1)


@rule("hypot")
def _hypot(e):
    x, y = e.inputs(e.ans.dtype)
    return e.emit("Sqrt", [e.emit("Add", [e.emit("Mul", [x, x]), e.emit("Mul", [y, y])])])


@rule("logaddexp")
def _logaddexp(e):
    """log(e^x + e^y) = max + log(1 + e^-(|x - y|)), stable."""
    x, y = e.inputs(e.ans.dtype)
    top = e.emit("Max", [x, y])
    gap = e.emit("Neg", [e.emit("Abs", [e.emit("Sub", [x, y])])])
    return e.emit("Add", [top, e.emit("Softplus", [gap])])


@rule("cumsum")
def _cumsum(e):
    axis = e.params.get("axis", e.params.get("dim"))
    return e.emit("CumSum", [e.input(0, e.ans.dtype), e.const(np.int64(axis))])


@rule("prod")
def _prod(e):
    return e.reduce("ReduceProd", e.input(0, e.ans.dtype), _axes(e),
                    e.params.get("keepdims", False))


@rule("einsum")
def _einsum(e):
    return e.emit("Einsum", e.inputs(e.ans.dtype), equation=e.params["equation"])


@rule("index_put")
def _index_put(e):
    """x[key] = values (or +=, ``accumulate``) as a scatter into the flattened x: the flat
    position of each element the key selects, computed from its index arrays (those that
    are traced values at run time)."""
    shape = e.shape(0)
    if e.dynamic(0):
        raise e.fail("indexed assignment into a tensor with a dynamic axis")
    key = e.params["key"]
    parts = key if isinstance(key, tuple) else (key,)
    if not any(isinstance(k, np.ndarray) and e.exporter.traced_array(k) for k in parts):
        # a constant index: every selected element's flat position, from NumPy itself
        selected = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[key]
        return _scatter(e, shape, e.const(selected), list(selected.shape))
    items = _expand_key(key, len(shape))
    if any(k is None for k in items):
        raise e.fail("indexed assignment with None in the index")
    strides = [int(np.prod(shape[d + 1:])) for d in range(len(shape))]
    advanced = [d for d, k in enumerate(items) if not isinstance(k, slice)]
    trailing = [d for d, k in enumerate(items) if isinstance(k, slice)]
    if advanced != list(range(len(advanced))) or any(items[d] != slice(None)
                                                      for d in trailing):
        raise e.fail("indexed assignment other than index arrays (or ints) on the leading "
                     "axes and full slices after them")
    arrays = [np.asarray(items[d]) for d in advanced]
    batch = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
    positions = None
    for d, array in zip(advanced, arrays, strict=True):
        traced = e.exporter.traced_array(items[d], e.record.scope) if isinstance(
            items[d], np.ndarray) else None
        if traced is None:
            part = e.const((np.asarray(array, np.int64) % shape[d]) * strides[d])
        else:
            index = e.cast(traced, np.int64) if array.dtype != np.int64 else traced
            size = e.const(np.int64(shape[d]))
            index = e.emit("Mod", [e.emit("Add", [index, size]), size], fmod=0)
            part = e.emit("Mul", [index, e.const(np.int64(strides[d]))])
        positions = part if positions is None else e.emit("Add", [positions, part])
    rest = [shape[d] for d in trailing]
    if rest:
        offsets = np.arange(int(np.prod(rest)), dtype=np.int64).reshape(rest)
        offsets = e.const(offsets.reshape((1,) * len(batch) + tuple(rest)))
        positions = offsets if positions is None else e.emit("Add", [
            e.reshape(positions, list(batch) + [1] * len(rest)), offsets])
    return _scatter(e, shape, positions, list(batch) + rest)


def _scatter(e, shape, positions: str, full: list) -> str:
    """Write (or add) input 1, broadcast to ``full``, at the flat ``positions`` of input 0."""
    positions = e.reshape(e.emit("Expand", [positions, e.ints(full)]), [-1])
    values = e.emit("Expand", [e.input(1, e.ans.dtype), e.ints(full)])
    flat = e.reshape(e.input(0, e.ans.dtype), [-1])
    reduction = "add" if e.params.get("accumulate") else None
    if reduction and e.opset < 16:
        raise e.fail("an accumulating indexed assignment needs opset 16 or later")
    out = e.emit("ScatterElements", [flat, positions, e.reshape(values, [-1])], axis=0,
                 reduction=reduction)
    return e.reshape(out, list(shape))


@rule("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
def _bitwise(e):
    name = e.record.name
    dtype = e.ans.dtype
    if dtype.kind == "b":
        op = {"bitwise_and": "And", "bitwise_or": "Or", "bitwise_xor": "Xor",
              "bitwise_not": "Not"}[name]
        return e.emit(op, e.inputs(dtype))
    if e.opset < 18:
        raise e.fail("bitwise operations on integers need opset 18 or later")
    op = {"bitwise_and": "BitwiseAnd", "bitwise_or": "BitwiseOr", "bitwise_xor": "BitwiseXor",
          "bitwise_not": "BitwiseNot"}[name]
    return e.emit(op, e.inputs(dtype))


@rule("roll")
def _roll(e):
    """A roll is two slices joined: the last ``shift`` elements first."""
    shifts, axes = e.params["shift"], e.params["axis"]
    x = e.input(0)
    shape = e.shape(0)
    if axes is None:
        flat = e.reshape(x, [-1])
        size = int(np.prod(shape))
        shift = int(np.ravel(shifts)[0]) % max(size, 1)
        return e.reshape(_rolled(e, flat, 0, shift), list(shape))
    shifts = np.ravel(shifts).tolist()
    axes = np.ravel(axes).tolist()
    for shift, axis in zip(shifts, axes, strict=True):
        if axis % len(shape) in e.dynamic(0):
            raise e.fail("a roll along a dynamic axis")
        x = _rolled(e, x, axis, int(shift) % max(shape[axis], 1))
    return x if x != e.input(0) else e.emit("Identity", [x])


def _rolled(e, x: str, axis: int, shift: int) -> str:
    if shift == 0:
        return x
    return e.emit("Concat", [_slice(e, x, axis, -shift, INT64_MAX),
                             _slice(e, x, axis, 0, -shift)], axis=axis)


@rule("erfc")
def _erfc(e):
    x = e.input(0, e.ans.dtype)
    return e.emit("Sub", [e.const(1, e.ans.dtype), e.emit("Erf", [x])])


@rule("round")
def _round(e):
    x = e.input(0)
    decimals = e.params.get("decimals", 0)
    if not decimals:
        return e.emit("Round", [x])
    scale = e.const(10.0 ** decimals, e.ans.dtype)
    return e.emit("Div", [e.emit("Round", [e.emit("Mul", [x, scale])]), scale])


@rule("clamp")
def _clamp(e):
    low, high = e.params.get("min"), e.params.get("max")
    dtype = e.ans.dtype
    if low is not None and high is not None and low > high:
        low = high  # PyTorch: min > max sets every element to max
    bounds = ["" if b is None else e.const(b, dtype) for b in (low, high)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return e.emit("Clip", [e.input(0), *bounds])


@rule("where")
def _where(e):
    condition = e.input(0, bool)
    return e.emit("Where", [condition, e.input(1, e.ans.dtype), e.input(2, e.ans.dtype)])


# ----------------------------------------------------------------------------- comparisons

_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
            "ge": "GreaterOrEqual"}


def _common(e) -> np.dtype:
    """The dtype both operands of a comparison are converted to."""
    arrays = [e.array(i) for i in range(2)]
    tensors = [a for a in arrays if isinstance(a, np.ndarray) and a.ndim]
    if len(tensors) == 1:  # a tensor against a number keeps the tensor's dtype if it can
        other = arrays[1] if arrays[0] is tensors[0] else arrays[0]
        if tensors[0].dtype.kind == "f" or np.asarray(other).dtype.kind != "f":
            return tensors[0].dtype
    return np.result_type(*arrays)


@rule(*_COMPARE)
def _compare(e):
    dtype = _common(e)
    return e.emit(_COMPARE[e.record.name], [e.input(0, dtype), e.input(1, dtype)])


@rule("ne")
def _not_equal(e):
    dtype = _common(e)
    return e.emit("Not", [e.emit("Equal", [e.input(0, dtype), e.input(1, dtype)])])


@rule("logical_and", "logical_or", "logical_xor")
def _logical(e):
    if any(np.asarray(e.array(i)).dtype.kind != "b" for i in range(2)):
        raise e.fail("bitwise operations on integers have no translation; use booleans")
    op = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}[e.record.name]
    return e.emit(op, [e.input(0, bool), e.input(1, bool)])


@rule("logical_not")
def _logical_not(e):
    if np.asarray(e.array(0)).dtype.kind == "b":
        return e.emit("Not", [e.input(0)])
    if e.ans.dtype.kind != "b":
        raise e.fail("bitwise not of integers has no translation; use booleans")
    x = e.input(0)
    return e.emit("Equal", [x, e.const(0, np.asarray(e.array(0)).dtype)])


@rule("isnan")
def _isnan(e):
    return e.emit("IsNaN", [e.input(0)])


@rule("isinf")
def _isinf(e):
    return e.emit("IsInf", [e.input(0)])


@rule("isfinite")
def _isfinite(e):
    x = e.input(0)
    return e.emit("Not", [e.emit("Or", [e.emit("IsNaN", [x]), e.emit("IsInf", [x])])])


@rule("all", "any")
def _all_any(e):
    counts = e.emit("Cast", [e.input(0, bool)], to=6)  # int32
    op = "ReduceMin" if e.record.name == "all" else "ReduceMax"
    reduced = e.reduce(op, counts, e.params.get("axis"), e.params.get("keepdims", False))
    return e.cast(reduced, bool)


@rule("floor_divide")
def _floor_divide(e):
    if e.ans.dtype.kind == "f":
        return e.emit("Floor", [e.emit("Div", e.inputs(e.ans.dtype))])
    wide = e.emit("Floor", [e.emit("Div", e.inputs(np.float64))])  # exact below 2^53
    return e.cast(wide, e.ans.dtype)


@rule("remainder")
def _remainder(e):
    x, y = e.inputs(e.ans.dtype)
    if e.ans.dtype.kind != "f":
        return e.emit("Mod", [x, y], fmod=0)  # the sign of the divisor, as Python
    quotient = e.emit("Floor", [e.emit("Div", [x, y])])
    return e.emit("Sub", [x, e.emit("Mul", [quotient, y])])


@rule("isclose")
def _isclose(e):
    dtype = _common(e)
    x, y = e.input(0, dtype), e.input(1, dtype)
    rtol, atol = e.params.get("rtol", 1e-5), e.params.get("atol", 1e-8)
    gap = e.emit("Abs", [e.emit("Sub", [x, y])])
    bound = e.emit("Add", [e.const(atol, dtype),
                           e.emit("Mul", [e.const(rtol, dtype), e.emit("Abs", [y])])])
    close = e.emit("Or", [e.emit("LessOrEqual", [gap, bound]), e.emit("Equal", [x, y])])
    if e.params.get("equal_nan"):
        both = e.emit("And", [e.emit("IsNaN", [x]), e.emit("IsNaN", [y])])
        close = e.emit("Or", [close, both])
    return close


@rule("nonzero")
def _nonzero(e):
    return e.emit("Transpose", [e.emit("NonZero", [e.input(0)])], perm=[1, 0])


# ----------------------------------------------------------------------------- shapes


def _input_shapes(e, i: int):
    """Input ``i``'s shape in the first trace and in the second (or the same twice)."""
    first = e.shape(i)
    other = e.other
    second = tuple(np.shape(getattr(other.inputs[i], "_data", other.inputs[i]))) \
        if other is not None else first
    return first, second


def _target_dims(e, target, target2, x_name: str, in1, in2):
    """Entries of a runtime shape: static sizes, 0 (copy the same input axis), -1 (the one
    inferred axis) or input axes read at run time (a list of ONNX names when needed)."""
    dims: list = list(target)
    unresolved = []
    for d in sorted(e.out_dynamic):
        if d < len(in1) and in1[d] == target[d] and in2[d] == target2[d]:
            dims[d] = 0
        else:
            unresolved.append(d)
    if len(unresolved) <= 1:
        for d in unresolved:
            dims[d] = -1
        return e.ints(dims)
    shape = e.emit("Shape", [x_name])
    parts = []
    for d, size in enumerate(dims):
        if d not in unresolved:
            parts.append(e.ints([size]))
            continue
        axes = [j for j in range(len(in1)) if in1[j] == target[d] and in2[j] == target2[d]]
        if not axes:
            raise e.fail(f"the target shape {tuple(target)} has several dimensions that "
                         "follow dynamic axes and are not input sizes")
        parts.append(e.emit("Gather", [shape, e.ints([axes[0]])], axis=0))
    return e.emit("Concat", parts, axis=0)


@rule("reshape", dynamic_params=True)
def _reshape(e):
    x = e.input(0)
    target = tuple(e.params["shape"])
    if not e.out_dynamic:
        return e.emit("Reshape", [x, e.ints(target)],
                      allowzero=1 if 0 in target and e.opset >= 14 else None)
    in1, in2 = _input_shapes(e, 0)
    target2 = tuple(e.other.params["shape"])
    return e.emit("Reshape", [x, _target_dims(e, target, target2, x, in1, in2)])


@rule("permute")
def _permute(e):
    return e.emit("Transpose", [e.input(0)], perm=[int(a) for a in e.params["axes"]])


@rule("broadcast_to", dynamic_params=True)
def _broadcast_to(e):
    target = list(e.params["shape"])
    shape = e.shape(0)
    lead = len(target) - len(shape)
    for d in e.out_dynamic:
        i = d - lead
        if i < 0 or i not in e.dynamic(0):
            raise e.fail("broadcasting to a size that follows a dynamic axis the input "
                         "does not have")
        target[d] = 1  # Expand broadcasts both ways: 1 keeps the input's size
    return e.emit("Expand", [e.input(0), e.ints(target)])


@rule("flip")
def _flip(e):
    axis = e.params["axis"]
    axes = list(range(len(e.shape(0)))) if axis is None else \
        [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    n = len(axes)
    return e.emit("Slice", [e.input(0), e.ints([-1] * n), e.ints([INT64_MIN] * n),
                            e.ints(axes), e.ints([-1] * n)])


@rule("tile")
def _tile(e):
    reps = list(e.params["reps"])
    x = e.input(0)
    extra = len(reps) - len(e.shape(0))
    if extra > 0:
        x = e.unsqueeze(x, list(range(extra)))
    elif extra < 0:
        reps = [1] * -extra + reps
    return e.emit("Tile", [x, e.ints(reps)])


def _expand_key(key, ndim: int) -> list:
    """An index as a list without Ellipsis (which becomes full slices)."""
    items = list(key) if isinstance(key, tuple) else [key]
    consumed = sum(1 for k in items if k is not None and k is not Ellipsis)
    if any(k is Ellipsis for k in items):
        at = next(i for i, k in enumerate(items) if k is Ellipsis)
        items[at:at + 1] = [slice(None)] * (ndim - consumed)
    return items + [slice(None)] * (ndim - consumed - sum(1 for k in items if k is Ellipsis))


def _slice_bounds(k: slice, size: int, size2: int, k2: slice | None, e):
    """(start, end, step) of a slice for ONNX, with bounds that equal the axis size in
    both traces written as 'to the end'."""
    step = 1 if k.step is None else int(k.step)
    start, stop = k.start, k.stop
    if k2 is not None:
        if k2.start != start and not (start == size and k2.start == size2):
            raise e.fail("a slice start that follows a dynamic axis")
        if k2.stop != stop:
            if stop == size and k2.stop == size2:
                stop = None
            else:
                raise e.fail("a slice end that follows a dynamic axis (slice relative to "
                             "the end, x[:-1], instead)")
    if step > 0:
        start = 0 if start is None else int(start)
        stop = INT64_MAX if stop is None else int(stop)
    else:
        start = INT64_MAX if start is None else int(start)
        stop = INT64_MIN if stop is None else int(stop)
    return start, stop, step


@rule("getitem_basic", dynamic_params=True)
def _getitem_basic(e):
    shape1, shape2 = _input_shapes(e, 0)
    key = e.params["key"]
    packed = e.graph.packed.get(e.input(0))
    if packed is not None:
        part = _packed_part(packed, key)
        if part is not None:
            return part
    items = _expand_key(key, len(shape1))
    items2 = _expand_key(e.other.params["key"], len(shape2)) if e.other is not None else None
    starts, ends, axes, steps, squeeze, new_axes = [], [], [], [], [], []
    axis, out_axis = 0, 0
    for j, k in enumerate(items):
        if k is None:
            new_axes.append(out_axis)
            out_axis += 1
            continue
        k2 = items2[j] if items2 is not None else None
        if isinstance(k, slice):
            if k != slice(None) or (k2 is not None and k2 != slice(None)):
                start, stop, step = _slice_bounds(k, shape1[axis], shape2[axis], k2, e)
                starts.append(start)
                ends.append(stop)
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        else:
            index = int(k)
            if k2 is not None and int(k2) != index:
                raise e.fail("an index that follows a dynamic axis")
            starts.append(index)
            ends.append(index + 1 if index != -1 else INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    out = e.input(0)
    if axes:
        out = e.emit("Slice", [out, e.ints(starts), e.ints(ends), e.ints(axes),
                               e.ints(steps)])
    if squeeze:
        out = e.squeeze(out, squeeze)
    if new_axes:
        out = e.unsqueeze(out, new_axes)
    if out == e.input(0):
        out = e.emit("Identity", [out])
    return out


def _packed_part(packed, key):
    """The part of a recurrent layer's packed output that ``key`` selects, if any."""
    steps, parts = packed
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    if isinstance(key, slice) and key.start in (None, 0) and key.stop == steps \
            and key.step in (None, 1):
        return parts[0]
    if isinstance(key, (int, np.integer)) and steps <= key < steps + len(parts) - 1:
        return parts[int(key) - steps + 1]
    return None


@rule("getitem_advanced")
def _getitem_advanced(e):
    shape = e.shape(0)
    key = e.params["key"]
    items = _expand_key(key, len(shape))
    arrays = [(j, k) for j, k in enumerate(items) if isinstance(k, np.ndarray)]
    others_full = all(isinstance(k, np.ndarray) or k == slice(None) for k in items)
    if len(arrays) != 1 or not others_full or any(k is None for k in items):
        raise e.fail("only one index array (with full slices elsewhere) has a translation")
    axis, index = arrays[0]
    if index.dtype.kind == "b":
        if index.ndim != len(shape) - axis or axis != 0:
            raise e.fail("a boolean mask must cover the leading dimensions")
        where = e.exporter.traced_array(index) or e.const(index)
        positions = e.emit("Transpose", [e.emit("NonZero", [where])], perm=[1, 0])
        return e.emit("GatherND", [e.input(0), positions])
    indices = e.exporter.traced_array(index)
    if indices is None:
        indices = e.const(index.astype(np.int64))
    elif index.dtype != np.int64:
        indices = e.cast(indices, np.int64)
    return e.emit("Gather", [e.input(0), indices], axis=axis)


@rule("gather")
def _gather(e):
    return e.emit("GatherElements", [e.input(0), e.input(1, np.int64)],
                  axis=int(e.params["axis"]))


@rule("cat")
def _cat(e):
    return e.emit("Concat", e.inputs(e.ans.dtype), axis=int(e.params.get("axis", 0)))


@rule("stack")
def _stack(e):
    axis = int(e.params.get("axis", 0))
    if axis < 0:
        axis += e.ans.ndim
    parts = [e.unsqueeze(name, [axis]) for name in e.inputs(e.ans.dtype)]
    return e.emit("Concat", parts, axis=axis)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


@rule("pad")
def _pad(e):
    widths = [(int(b), int(a)) for b, a in e.params["pad_width"]]
    mode = e.params.get("mode", "constant")
    x = e.input(0)
    if mode == "circular" and e.opset < 19:
        for axis, (before, after) in enumerate(widths):
            if before or after:
                parts = []
                if before:
                    parts.append(_slice(e, x, axis, -before, INT64_MAX))
                parts.append(x)
                if after:
                    parts.append(_slice(e, x, axis, 0, after))
                x = e.emit("Concat", parts, axis=axis)
        return x if x != e.input(0) else e.emit("Identity", [x])
    pads = e.ints([b for b, _ in widths] + [a for _, a in widths])
    inputs = [x, pads]
    if mode == "constant":
        inputs.append(e.const(e.params.get("value", 0.0), e.ans.dtype))
    return e.emit("Pad", inputs, mode=_PAD_MODES[mode])


def _slice(e, x: str, axis: int, start: int, end: int) -> str:
    return e.emit("Slice", [x, e.ints([start]), e.ints([end]), e.ints([axis])])


@rule("astype")
def _astype(e):
    return e.cast(e.input(0), e.ans.dtype)


@rule("clone")
def _clone(e):
    return e.emit("Identity", [e.input(0)])


# ----------------------------------------------------------------------------- reductions


def _axes(e):
    axis = e.params.get("axis")
    if axis is None:
        return None
    return [axis] if isinstance(axis, (int, np.integer)) else list(axis)


@rule("sum", "mean", "amax", "amin")
def _reduction(e):
    op = {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax",
          "amin": "ReduceMin"}[e.record.name]
    return e.reduce(op, e.input(0, e.ans.dtype), _axes(e), e.params.get("keepdims", False))


@rule("max_along", "min_along")
def _extreme_along(e):
    op = "ReduceMax" if e.record.name == "max_along" else "ReduceMin"
    return e.reduce(op, e.input(0), [e.params["axis"]], e.params.get("keepdims", False))


def _count(e, axes) -> int:
    shape = e.shape(0)
    dims = range(len(shape)) if axes is None else axes
    if any(d % len(shape) in e.dynamic(0) for d in dims):
        raise e.fail("a variance over a dynamic axis")
    return int(np.prod([shape[d] for d in dims]))


def _variance(e) -> str:
    axes = _axes(e)
    x = e.input(0, e.ans.dtype)
    centred = e.emit("Sub", [x, e.reduce("ReduceMean", x, axes, True)])
    total = e.reduce("ReduceSum", e.emit("Mul", [centred, centred]), axes,
                     e.params.get("keepdims", False))
    n = _count(e, axes) - e.params.get("correction", 1)
    return e.emit("Div", [total, e.const(n, e.ans.dtype)])


@rule("var")
def _var(e):
    return _variance(e)


@rule("std")
def _std(e):
    return e.emit("Sqrt", [_variance(e)])


@rule("argmax", "argmin")
def _argmax(e):
    op = "ArgMax" if e.record.name == "argmax" else "ArgMin"
    axis, keepdims = e.params.get("axis"), e.params.get("keepdims", False)
    x = e.input(0)
    if axis is None:
        flat = e.reshape(x, [-1])
        out = e.emit(op, [flat], axis=0, keepdims=0)
        if keepdims:
            out = e.reshape(out, [1] * len(e.shape(0)))
        return out
    return e.emit(op, [x], axis=int(axis), keepdims=int(keepdims))


@rule("logsumexp")
def _logsumexp(e):
    axes = _axes(e)
    keepdims = e.params.get("keepdims", False)
    x = e.input(0)
    top = e.reduce("ReduceMax", x, axes, True)
    total = e.reduce("ReduceSum", e.emit("Exp", [e.emit("Sub", [x, top])]), axes, True)
    out = e.emit("Add", [e.emit("Log", [total]), top])
    if keepdims:
        return out
    if axes is None:
        return e.reshape(out, [])
    return e.squeeze(out, axes)


@rule("softmax", "log_softmax")
def _softmax(e):
    op = "Softmax" if e.record.name == "softmax" else "LogSoftmax"
    return e.emit(op, [e.input(0)], axis=int(e.params.get("axis", -1)))


# ----------------------------------------------------------------------------- special


@rule("xlogy")
def _xlogy(e):
    x, y = e.inputs(e.ans.dtype)
    product = e.emit("Mul", [x, e.emit("Log", [y])])
    zero = e.const(0, e.ans.dtype)
    return e.emit("Where", [e.emit("Equal", [x, zero]), zero, product])


@rule("entr")
def _entr(e):
    x = e.input(0, e.ans.dtype)
    zero = e.const(0, e.ans.dtype)
    value = e.emit("Neg", [e.emit("Mul", [x, e.emit("Log", [x])])])
    at_zero = e.emit("Where", [e.emit("Equal", [x, zero]), zero,
                               e.const(-np.inf, e.ans.dtype)])
    return e.emit("Where", [e.emit("Greater", [x, zero]), value, at_zero])
