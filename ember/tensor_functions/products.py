"""Products of vectors, matrices and tensors under PyTorch's names: mv, bmm, the
``add*`` family (addmm, baddbmm, ...), outer, inner, einsum, tensordot, kron, trace,
cross and distances, and PyTorch's top-level linear algebra (det, inverse, norm, ...).

All are compositions of ``matmul``, ``einsum`` and the :mod:`ember.linalg` functions, so
their gradients come with them.

>>> import ember as em
>>> em.einsum("ij,j->i", em.tensor([[1.0, 2.0], [3.0, 4.0]]), em.tensor([1.0, 1.0]))
tensor([3., 7.])
"""

from __future__ import annotations

import builtins
import collections
import string
import warnings

import numpy as np

from ember import dtypes, linalg
from ember.functions import _dim, _t, matmul, sum
from ember.ops import contraction
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

__all__ = [
    "vdot", "inner", "outer", "ger", "mv", "bmm", "baddbmm", "addmm", "addmv", "addbmm",
    "addr", "einsum", "tensordot", "kron", "trace", "chain_matmul", "cross", "cdist",
    "dist", "norm", "det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power",
    "cholesky", "svd", "qr",
]


def _check(op: str, condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(f"{op}: {message}")


def vdot(input, other) -> Tensor:
    """The dot product of two 1-d tensors (real: the same as :func:`dot`)."""
    a, b = _t(input), _t(other)
    _check("vdot", a.ndim == 1 and b.ndim == 1,
           f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def inner(input, other) -> Tensor:
    """The sum of products over the last dimension of each (a product for scalars)."""
    a, b = _t(input), _t(other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    _check("inner", a.shape[-1] == b.shape[-1],
           f"inner() the last dimension must match on both input tensors but got shapes "
           f"{a.shape} and {b.shape}")
    return tensordot(a, b, ([-1], [-1]))


def outer(input, vec2) -> Tensor:
    """The outer product out[i, j] = input[i] vec2[j] of two vectors."""
    a, b = _t(input), _t(vec2)
    _check("outer", a.ndim == 1 and b.ndim == 1,
           f"expected two 1-d tensors, got shapes {a.shape} and {b.shape}")
    return a.unsqueeze(1) * b.unsqueeze(0)


ger = outer


def mv(input, vec) -> Tensor:
    """Matrix-vector product: (n, m) @ (m,) -> (n,)."""
    a, v = _t(input), _t(vec)
    _check("mv", a.ndim == 2 and v.ndim == 1,
           f"vector + matrix @ vector expected, got {a.ndim}, {v.ndim}")
    _check("mv", a.shape[1] == v.shape[0], f"size mismatch, got input ({a.shape[0]}), mat "
           f"({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})")
    return matmul(a, v)


def bmm(input, mat2) -> Tensor:
    """A batch of matrix products: (b, n, m) @ (b, m, p) -> (b, n, p), no broadcasting."""
    a, b = _t(input), _t(mat2)
    _check("bmm", a.ndim == 3, f"batch1 must be a 3D tensor, got shape {a.shape}")
    _check("bmm", b.ndim == 3, f"batch2 must be a 3D tensor, got shape {b.shape}")
    _check("bmm", a.shape[0] == b.shape[0],
           f"batch1 and batch2 must have same number of batches, got {a.shape[0]} and "
           f"{b.shape[0]}")
    _check("bmm", a.shape[2] == b.shape[1],
           f"Expected size for first two dimensions of batch2 tensor to be: "
           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    return matmul(a, b)


def _scaled_sum(input, product, beta, alpha) -> Tensor:
    """beta input + alpha product; with beta = 0 input is ignored (its NaN and inf
    too), as in PyTorch."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        x = _t(input)
        shape = np.broadcast_shapes(x.shape, product.shape)
        return product if product.shape == shape else product.expand(*shape)
    return (input if beta == 1 else input * beta) + product


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha (batch1 @ batch2), batched (input broadcast)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha (mat1 @ mat2) (input broadcast): a linear layer in one call."""
    a, b = _t(mat1), _t(mat2)
    _check("addmm", a.ndim == 2 and b.ndim == 2,
           f"mat1 and mat2 must be matrices, got shapes {a.shape} and {b.shape}")
    _check("addmm", a.shape[1] == b.shape[0],
           f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
           f"{b.shape[0]}x{b.shape[1]})")
    return _scaled_sum(input, matmul(a, b), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha sum_b batch1[b] @ batch2[b]."""
    return _scaled_sum(input, sum(bmm(batch1, batch2), 0), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha outer(vec1, vec2)."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def trace(input) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    x = _t(input)
    _check("trace", x.ndim == 2, f"expected a matrix, but got tensor with dim {x.ndim}")
    return contraction.einsum(x, equation="ii->")


def chain_matmul(*matrices) -> Tensor:
    """The product of the matrices in order (``linalg.multi_dot``)."""
    warnings.warn("torch.chain_matmul is deprecated; use torch.linalg.multi_dot",
                  UserWarning, stacklevel=2)
    return linalg.multi_dot(matrices)


# ----------------------------------------------------------------------------- einsum


def _sublist_equation(args) -> tuple:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as (equation, operands)."""

    def word(sub):
        return "".join("..." if i is Ellipsis else string.ascii_letters[i] for i in sub)

    pairs = len(args) // 2
    operands = list(args[0:2 * pairs:2])
    equation = ",".join(word(sub) for sub in args[1:2 * pairs:2])
    if len(args) % 2:  # an output sublist at the end
        equation += "->" + word(args[-1])
    return equation, operands


def einsum(equation, *operands) -> Tensor:
    """The sum over repeated indices of products of the operands, in Einstein notation:
    ``"ij,jk->ik"`` is a matrix product, ``"ii->"`` the trace, ``"bij,bjk->bik"`` a batch
    of products, ``"...ij->...ji"`` a transpose of every matrix. Without ``->`` the
    output has the indices used once, in alphabetical order. Operands may be passed as a
    list, and as PyTorch's sublists (``einsum(a, [0, 1], b, [1, 2])``).

    The gradient of each operand is one more einsum (:mod:`ember.ops.contraction`).

    >>> import ember as em
    >>> em.einsum("ii", em.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(5.)
    """
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [_t(x) for x in operands]
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation "
                           f"{equation!r} but {len(operands)} tensors were given")
    dtype = operands[0].dtype
    for x in operands[1:]:
        dtype = dtypes.result_type(np.empty((0,), dtype), np.empty((0,), x.dtype))
    operands = [x if x.dtype == dtype else x.type(dtype) for x in operands]
    # name the ellipsis dimensions with unused letters, and broadcast them
    used = set(inputs + output) - {".", ","}
    spare = [c for c in string.ascii_letters if c not in used]
    ellipsis = [x.ndim - len(t.replace("...", "")) if "..." in t else 0
                for t, x in zip(terms, operands, strict=True)]
    width = builtins.max(ellipsis, default=0)
    named = "".join(spare[:width])
    shapes = [x.shape[t.index("..."):t.index("...") + k] if k else ()
              for t, x, k in zip(terms, operands, ellipsis, strict=False)]
    batch = np.broadcast_shapes(*shapes) if shapes else ()
    explicit = []
    for i, (t, x, k) in enumerate(zip(terms, operands, ellipsis, strict=True)):
        if "..." in t:
            letters = named[width - k:] if k else ""
            t = t.replace("...", letters)
            start = terms[i].index("...")
            full = x.shape[:start] + batch[len(batch) - k:] + x.shape[start + k:]
            if full != x.shape:
                operands[i] = shape_ops.broadcast_to(x, shape=full)
        if len(t) != operands[i].ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(t)}) does not match the number of dimensions "
                               f"({operands[i].ndim}) for operand {i}")
        explicit.append(t)
    if arrow:
        output = output.replace("...", named)
    else:
        counts = {c: "".join(explicit).count(c) for c in set("".join(explicit))}
        output = named + "".join(sorted(c for c, n in counts.items()
                                        if n == 1 and c not in named))
    sizes = {}
    for t, x in zip(explicit, operands, strict=True):
        for c, n in zip(t, x.shape, strict=True):
            if sizes.setdefault(c, n) != n:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped "
                                   f"shapes: subscript {c!r} has size {sizes[c]} and {n}")
    return contraction.einsum(*operands, equation=",".join(explicit) + "->" + output)


def tensordot(a, b, dims=2) -> Tensor:
    """The sum of products over ``dims``: the last ``dims`` dimensions of a with the first
    of b, or the dimensions listed as ``([a dims], [b dims])``.

    >>> import ember as em
    >>> em.tensordot(em.ones(2, 3, 4), em.ones(3, 4, 5)).shape
    (2, 5)
    """
    a, b = _t(a), _t(b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [_dim(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [_dim(d, b.ndim, "tensordot") for d in dims_b]
    if len(dims_a) != len(dims_b):
        raise RuntimeError("tensordot(): both dimension lists should have same length")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b, strict=True):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size "
                               f"{b.shape[db]} in dim {db}")
        sb[db] = sa[da]
    out = [c for i, c in enumerate(sa) if i not in dims_a] + \
        [c for i, c in enumerate(sb) if i not in dims_b]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def kron(input, other) -> Tensor:
    """The Kronecker product: the blocks a[i, j] * other laid out in a's pattern (any
    number of dimensions; the fewer-dimensional one gets leading 1s)."""
    a, b = _t(input), _t(other)
    n = builtins.max(a.ndim, b.ndim)
    a = a.reshape((1,) * (n - a.ndim) + a.shape)
    b = b.reshape((1,) * (n - b.ndim) + b.shape)
    spread_a = a.reshape(tuple(s for d in a.shape for s in (d, 1)))
    spread_b = b.reshape(tuple(s for d in b.shape for s in (1, d)))
    return (spread_a * spread_b).reshape(tuple(x * y for x, y in zip(a.shape, b.shape,
                                                                       strict=True)))


# ----------------------------------------------------------------------------- cross and distances


def cross(input, other, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (by default the first dimension of
    size 3, as PyTorch's ``torch.cross``; ``linalg.cross`` uses the last)."""
    a, b = _t(input), _t(other)
    if dim is None:
        shape = np.broadcast_shapes(a.shape, b.shape)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (shapes {a.shape} and "
                               f"{b.shape})")
    return linalg.cross(a, b, dim=dim)


def cdist(x1, x2, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M):
    (..., P, R). The gradient at a zero distance is 0, as in PyTorch."""
    a, b = _t(x1), _t(x2)
    _check("cdist", a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == b.shape[-1],
           f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: "
           f"{b.shape[-1]}")
    return linalg.vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, -1)


def dist(input, other, p: float = 2.0) -> Tensor:
    """The p-norm of input - other (broadcast), over all elements."""
    return linalg.vector_norm(_t(input) - _t(other), p)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """PyTorch's older ``torch.norm``: the Frobenius norm (2-norm of all elements) by
    default; a number ``p`` gives that vector norm over ``dim``; ``"nuc"`` the nuclear
    norm of matrices. ``linalg.vector_norm`` and ``linalg.matrix_norm`` are clearer."""
    x = _t(input)
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return linalg.vector_norm(x, 2, dim, keepdim, dtype=dtype)
        if p == "nuc":
            return linalg.matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim,
                                      dtype=dtype)
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    return linalg.vector_norm(x, 2 if p is None else p, dim, keepdim, dtype=dtype)


# ------------------------------------------------------------------------- top-level linear algebra


det = linalg.det
inverse = linalg.inv
matrix_power = linalg.matrix_power


def logdet(input) -> Tensor:
    """log det A (NaN for a negative determinant, -inf for a zero one)."""
    sign, logabsdet = linalg.slogdet(input)
    nan = Tensor._wrap(np.where(sign._data < 0, np.nan, 0.0).astype(logabsdet.dtype))
    return logabsdet + nan


def slogdet(input):
    """``(sign, logabsdet)`` (as :func:`ember.linalg.slogdet`)."""
    return linalg.slogdet(input)


def pinverse(input, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, dropping singular values below ``rcond`` times the largest."""
    return linalg.pinv(input, rtol=rcond)


def cholesky(input, upper: bool = False) -> Tensor:
    """The Cholesky factor (older API of :func:`ember.linalg.cholesky`)."""
    return linalg.cholesky(input, upper=upper)


svd_result = collections.namedtuple("svd", ["U", "S", "V"])


def svd(input, some: bool = True, compute_uv: bool = True):
    """PyTorch's older ``torch.svd``: ``(U, S, V)`` with V (not V^T); ``some=False`` gives
    square U and V."""
    u, s, vh = linalg.svd(input, full_matrices=not some)
    if not compute_uv:  # PyTorch returns zero-filled U and V
        return svd_result(Tensor._wrap(np.zeros(u.shape, u.dtype)), s,
                          Tensor._wrap(np.zeros(vh.shape, vh.dtype)))
    return svd_result(u, s, vh.mT)


def qr(input, some: bool = True):
    """PyTorch's older ``torch.qr``: reduced (``some=True``) or complete."""
    return linalg.qr(input, "reduced" if some else "complete")
