"""Shape functions under PyTorch's names: triangles and diagonals, rolls and rotations,
repeats, splits and stacks, meshgrid, moving dimensions, and ``view`` with PyTorch's
contiguity rule.

Everything is a view or a composition of the shape primitives (reshape, permute,
flip, indexing, cat, pad), plus ``roll``, ``diagonal`` and ``diag_embed``
(:mod:`ember.ops.shape`), so gradients need no code here.

>>> import ember as em
>>> em.tril(em.ones(3, 3))
tensor([[1., 0., 0.],
        [1., 1., 0.],
        [1., 1., 1.]])
"""

from __future__ import annotations

import builtins
import itertools
import math
import warnings

import numpy as np

from ember import dtypes
from ember.functions import _dim, _shape_args, _t, cat, flip, permute, reshape, stack
from ember.ops import elementwise, windows
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

__all__ = [
    "tril", "triu", "diag", "diag_embed", "diagonal", "diagflat", "roll", "rot90",
    "fliplr", "flipud", "repeat_interleave", "unflatten", "narrow", "meshgrid", "movedim",
    "moveaxis", "swapdims", "tile", "broadcast_shapes", "tensor_split", "hsplit", "vsplit",
    "dsplit", "hstack", "vstack", "row_stack", "dstack", "column_stack", "atleast_1d",
    "atleast_2d", "atleast_3d", "ravel", "block_diag", "cartesian_prod", "combinations",
    "tril_indices", "triu_indices", "view",
]


# -------------------------------------------------------------------------- triangles and diagonals


def _triangle(op: str, input, diagonal: int, lower: bool) -> Tensor:
    x = _t(input)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    rows, cols = x.shape[-2:]
    keep = (np.tri(rows, cols, diagonal, dtype=bool) if lower
            else ~np.tri(rows, cols, diagonal - 1, dtype=bool))
    zero = np.zeros((), dtype=x.dtype)
    return elementwise.where(keep, x, zero)


def tril(input, diagonal: int = 0) -> Tensor:
    """The lower triangle of each matrix (elements with col - row <= diagonal), zeros
    elsewhere; the gradient is masked the same way."""
    return _triangle("tril", input, diagonal, True)


def triu(input, diagonal: int = 0) -> Tensor:
    """The upper triangle of each matrix (elements with col - row >= diagonal)."""
    return _triangle("triu", input, diagonal, False)


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the (dim1, dim2) planes, as a new last dimension (a
    view; offset > 0 is above the main diagonal).

    >>> import ember as em
    >>> em.diagonal(em.arange(9).reshape(3, 3), 1)
    tensor([1, 5])
    """
    x = _t(input)
    a, b = _dim(dim1, x.ndim, "diagonal"), _dim(dim2, x.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return shape_ops.diagonal(x, offset=builtins.int(offset), axis1=a, axis2=b)


_diagonal = diagonal  # (diag's argument is named diagonal, as PyTorch's)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal (in the dim1, dim2 planes of the output) holds
    the last dimension of input, zeros elsewhere; the inverse of :func:`diagonal`."""
    x = _t(input)
    n = x.ndim + 1
    a, b = _dim(dim1, n, "diag_embed"), _dim(dim2, n, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return shape_ops.diag_embed(x, offset=builtins.int(offset), axis1=a, axis2=b)


def diag(input, diagonal: int = 0) -> Tensor:
    """For a vector, the square matrix with it on the ``diagonal``-th diagonal; for a
    matrix, that diagonal as a vector."""
    x = _t(input)
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return _diagonal(x, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


def diagflat(input, offset: int = 0) -> Tensor:
    """The square matrix with the flattened input on its ``offset`` diagonal."""
    return diag_embed(_t(input).reshape(-1), offset, 0, 1)


# -------------------------------------------------------------------------- rolls, rotations, flips


def roll(input, shifts, dims=None) -> Tensor:
    """Elements shifted cyclically by ``shifts`` along ``dims`` (all flattened when
    ``dims`` is None); the gradient is rolled back.

    >>> import ember as em
    >>> em.roll(em.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3])
    """
    x = _t(input)
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise RuntimeError(f"roll(): shifts {shifts} need dims of the same length")
            shifts = shifts[0]
        return shape_ops.roll(x.reshape(-1), shift=builtins.int(shifts), axis=0).reshape(
            x.shape)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    axes = tuple(_dim(d, x.ndim, "roll") for d in dims)
    return shape_ops.roll(x, shift=tuple(builtins.int(s) for s in shifts), axis=axes)


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotated by 90 degrees ``k`` times in the plane ``dims``, from the first axis
    towards the second (k = 1: flip dims[1], then swap the two)."""
    x = _t(input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    a, b = (_dim(d, x.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} "
                           f"and dim1 = {b}")
    k %= 4
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    if k == 1:
        return permute(flip(x, (b,)), tuple(axes))
    if k == 2:
        return flip(x, (a, b))
    if k == 3:
        return permute(flip(x, (a,)), tuple(axes))
    return x.clone()


def fliplr(input) -> Tensor:
    """Columns reversed (dimension 1; at least 2-d)."""
    x = _t(input)
    if x.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(x, (1,))


def flipud(input) -> Tensor:
    """Rows reversed (dimension 0)."""
    x = _t(input)
    if x.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(x, (0,))


# ----------------------------------------------------------------------------- repeats


def repeat_interleave(input, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place
    (``[1, 2] -> [1, 1, 2, 2]``), where ``repeats`` is an int or one count per element;
    the input is flattened when ``dim`` is None. ``repeat_interleave(counts)`` alone
    repeats the indices 0, 1, ... by the counts. The gradient sums the copies.

    >>> import ember as em
    >>> em.repeat_interleave(em.tensor([[1, 2], [3, 4]]), 2, dim=0)
    tensor([[1, 2],
            [1, 2],
            [3, 4],
            [3, 4]])
    """
    x = _t(input)
    if repeats is None:  # repeat_interleave(counts)
        counts = x._data
        return Tensor._wrap(np.repeat(np.arange(counts.shape[0]), counts).astype(np.int64))
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = _dim(dim, x.ndim, "repeat_interleave")
    n = x.shape[d] if x.ndim else 1
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.ndim and counts.shape[0] not in (1, n):
        raise RuntimeError(f"repeat_interleave(): repeats must have the same size as input "
                           f"along dim, but got repeats.size(0) = {counts.shape[0]} and "
                           f"input.size({d}) = {n}")
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave(): repeats can not be negative")
    index = np.repeat(np.arange(n), counts.reshape(-1) if counts.ndim else counts)
    if output_size is not None and output_size != index.shape[0]:
        raise RuntimeError(f"repeat_interleave(): output_size {output_size} does not match "
                           f"the {index.shape[0]} repeated elements")
    if x.ndim == 0:
        x = x.reshape(1)
    return shape_ops.getitem_advanced(x, key=(slice(None),) * d + (index,))


def tile(input, *dims) -> Tensor:
    """The tensor repeated ``dims[i]`` times along dimension i; with fewer entries than
    dimensions, the leading ones are 1 (unlike ``Tensor.repeat``). ``dims`` is a tuple
    or separate ints."""
    x = _t(input)
    dims = _shape_args(dims, "tile")
    dims = (1,) * (x.ndim - len(dims)) + dims
    return shape_ops.tile(x, reps=dims)


# ----------------------------------------------------------------------------- reshaping


def unflatten(input, dim: int, sizes) -> Tensor:
    """Dimension ``dim`` split into ``sizes`` (one of them may be -1)."""
    x = _t(input)
    d = _dim(dim, x.ndim, "unflatten")
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        sizes = tuple(x.shape[d] // known if s == -1 and known else s for s in sizes)
    if math.prod(sizes) != x.shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size "
                           f"of dim {dim} ({x.shape[d]}) in the input tensor")
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


def narrow(input, dim: int, start, length: int) -> Tensor:
    """``length`` elements along ``dim`` from ``start`` (a view)."""
    x = _t(input)
    d = _dim(dim, x.ndim, "narrow")
    start = builtins.int(start)
    n = x.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                         f"got {start})")
    start %= n if n else 1
    if start + length > n or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    return shape_ops.getitem_basic(x, key=(slice(None),) * d + (slice(start, start + length),))


def unfold(input, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every slice of ``size`` elements along ``dimension``, ``step``
    apart: that dimension becomes the slice count and a new last one of ``size`` is
    added. A view, as PyTorch's (read-only here); the gradient adds back where slices
    overlap.

    >>> import ember as em
    >>> em.arange(5).unfold(0, 2, 2)
    tensor([[0, 1],
            [2, 3]])
    """
    x = _t(input)
    d = _dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if x.ndim == 0:
        return x.reshape(1)
    return windows.unfold(x, axis=d, size=builtins.int(size), step=builtins.int(step))


def view(input, *shape) -> Tensor:
    """The same elements in a new shape, sharing memory, as PyTorch's ``view``: allowed
    only where no copy is needed (a contiguous tensor, or dimensions that split or merge
    without crossing a stride gap); otherwise a RuntimeError asks for ``reshape``.
    ``view(dtype)`` reinterprets the bytes as another dtype of the same size."""
    x = _t(input)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        dtype = dtypes.as_dtype(shape[0])
        if dtype.itemsize != x.dtype.itemsize:
            raise RuntimeError(f"view(): a dtype of another size ({dtype} for {x.dtype}) "
                               "is not supported")
        return Tensor._wrap(x._data.view(dtype))
    target = _shape_args(shape, "view")
    out = reshape(x, target)
    if out.numel() and not np.may_share_memory(out._data, x._data):
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces)."
                           " Use .reshape(...) instead.")
    return out


# ---------------------------------------------------------------------- grids and moving dimensions


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-d tensors: with ``indexing="ij"`` (the default, with a
    warning, as in PyTorch) output i varies along dimension i; ``"xy"`` swaps the first
    two (Cartesian, as NumPy's default). Each grid is a broadcast view."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = [_t(x) for x in tensors]
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass "
                      "the indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for x in tensors:
        if x.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor "
                               f"list but got: {x.shape}")
    flat = [x.reshape(-1) for x in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(x.shape[0] for x in flat)
    grids = []
    for i, x in enumerate(flat):
        spread = x.reshape(tuple(-1 if j == i else 1 for j in range(len(flat))))
        grids.append(shape_ops.broadcast_to(spread, shape=shape))
    if swap:  # built for (y, x, ...): give them back in input order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def movedim(input, source, destination) -> Tensor:
    """Dimensions ``source`` moved to positions ``destination`` (ints or tuples); the
    others keep their order."""
    x = _t(input)
    source = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    destination = ((destination,) if isinstance(destination, (int, np.integer))
                   else tuple(destination))
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({source} "
                           f"dims) should contain the same number of dims as destination "
                           f"({destination} dims)")
    src = [_dim(d, x.ndim, "movedim") for d in source]
    dst = [_dim(d, x.ndim, "movedim") for d in destination]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source ({source}) or destination "
                           f"({destination})")
    rest = iter(d for d in range(x.ndim) if d not in src)
    placed = dict(zip(dst, src, strict=True))
    order = tuple(placed[i] if i in placed else next(rest) for i in range(x.ndim))
    return permute(x, order)


moveaxis = movedim


def swapdims(input, dim0: int, dim1: int) -> Tensor:
    """Dimensions dim0 and dim1 swapped (``transpose``)."""
    from ember.functions import transpose

    return transpose(input, dim0, dim1)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that tensors of these shapes broadcast to."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape "
                           f"({shapes})") from None


# --------------------------------------------------------------------------- splitting and stacking


def tensor_split(input, indices_or_sections, dim: int = 0) -> tuple:
    """Views along ``dim``: ``n`` sections as equal as possible (the first n mod size
    one longer), or the pieces between the listed indices."""
    x = _t(input)
    d = _dim(dim, x.ndim, "tensor_split")
    size = x.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = (indices_or_sections.item() if indices_or_sections.ndim == 0
                               else indices_or_sections.tolist())
    if isinstance(indices_or_sections, (int, np.integer)):
        n = builtins.int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        lengths = [size // n + (1 if i < size % n else 0) for i in range(n)]
        bounds = list(itertools.accumulate(lengths))[:-1]
    else:
        bounds = [builtins.int(i) for i in indices_or_sections]
    pieces, start = [], 0
    for stop in bounds + [size]:
        begin, end = builtins.min(start, size), builtins.max(builtins.min(stop, size), 0)
        end = builtins.max(end, begin)
        pieces.append(shape_ops.getitem_basic(x, key=(slice(None),) * d + (slice(begin, end),)))
        start = stop
    return tuple(pieces)


def _directional_split(op, input, sections, dim):
    x = _t(input)
    if isinstance(sections, (int, np.integer)) and x.shape[dim] % sections:
        raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {x.shape[dim]} is not divisible by the "
                           f"split_size {sections}!")
    return tensor_split(x, sections, dim)


def hsplit(input, indices_or_sections) -> tuple:
    """Split along dimension 1 (0 for 1-d tensors)."""
    x = _t(input)
    return _directional_split("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(input, indices_or_sections) -> tuple:
    """Split along dimension 0 (at least 2-d)."""
    return _directional_split("vsplit", input, indices_or_sections, 0)


def dsplit(input, indices_or_sections) -> tuple:
    """Split along dimension 2 (at least 3-d)."""
    return _directional_split("dsplit", input, indices_or_sections, 2)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one becomes shape (1,))."""
    return _atleast(tensors, lambda x: x.reshape(1) if x.ndim == 0 else x)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions (leading 1s added)."""
    return _atleast(tensors, lambda x: x.reshape((1,) * (2 - x.ndim) + x.shape)
                    if x.ndim < 2 else x)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    def grow(x):
        if x.ndim == 0:
            return x.reshape(1, 1, 1)
        if x.ndim == 1:
            return x.reshape(1, x.shape[0], 1)
        return x.unsqueeze(-1) if x.ndim == 2 else x

    return _atleast(tensors, grow)


def _atleast(tensors, grow):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(grow(_t(x)) for x in tensors[0])
    out = tuple(grow(_t(x)) for x in tensors)
    return out[0] if len(out) == 1 else out


def hstack(tensors) -> Tensor:
    """Joined along dimension 1 (0 for 1-d tensors)."""
    tensors = atleast_1d(list(tensors))
    return cat(list(tensors), 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Joined along dimension 0, 1-d tensors as rows."""
    return cat(list(atleast_2d(list(tensors))), 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Joined along dimension 2 (depth), after making each at least 3-d."""
    return cat(list(atleast_3d(list(tensors))), 2)


def column_stack(tensors) -> Tensor:
    """1-d tensors as columns (and 2-d ones as they are), joined along dimension 1."""
    columns = [x.reshape(-1, 1) if x.ndim <= 1 else x for x in (_t(t) for t in tensors)]
    return cat(columns, 1)


def ravel(input) -> Tensor:
    """The elements as one contiguous 1-d tensor."""
    return reshape(input, -1)


def block_diag(*tensors) -> Tensor:
    """The tensors (as matrices: a 0-d or 1-d one is one row) along the diagonal of a
    block matrix, zeros elsewhere."""
    from ember.functions import pad

    blocks = []
    for x in tensors:
        x = _t(x)
        blocks.append(x.reshape(1, -1) if x.ndim < 2 else x)
    if any(b.ndim != 2 for b in blocks):
        raise RuntimeError("torch.block_diag: Input tensors must have 2 or fewer dimensions")
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows.append(pad(b, (left, width - left - b.shape[1])))
        left += b.shape[1]
    return cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-d tensor, one per row (the last
    varying fastest); a single tensor is returned as it is."""
    tensors = [_t(x) for x in tensors]
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-d tensor's elements, one per row (in
    ``itertools.combinations`` order)."""
    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {x.shape}")
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if index.shape[0] == 0:
        return Tensor._wrap(np.zeros((0, r) if r else (0,), x.dtype))
    return shape_ops.getitem_advanced(x, key=(index,))


def _triangle_indices(row, col, offset, dtype, lower):
    rows, cols = np.tril_indices(row, offset, col) if lower else np.triu_indices(row, offset,
                                                                                 col)
    out = np.stack([rows, cols]).astype(dtypes.as_dtype(dtype) or np.int64)
    return Tensor._wrap(out)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return _triangle_indices(row, col, offset, dtype, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _triangle_indices(row, col, offset, dtype, False)

