"""``em.linalg``: PyTorch's ``torch.linalg`` on NumPy, with gradients.

Every function takes batches of matrices (the last two dimensions) and follows
``torch.linalg``'s names, arguments, result types and errors: a matrix with no inverse
or factorization raises :class:`LinAlgError` (a ``RuntimeError``). The primitives and
their gradient formulas are in :mod:`ember.ops.linalg`; norms, ranks, least squares
and products are composed from them.

>>> import ember as em
>>> a = em.tensor([[4.0, 2.0], [2.0, 3.0]], dtype=em.float64)
>>> em.linalg.cholesky(a)
tensor([[2.0000, 0.0000],
        [1.0000, 1.4142]], dtype=float64)
>>> em.linalg.solve(a, em.tensor([2.0, 1.0], dtype=em.float64))
tensor([0.5000, 0.0000], dtype=float64)
"""

from __future__ import annotations

import builtins
import collections
import math

import numpy as np

from ember import dtypes
from ember.autograd.primitives import defvjp, primitive
from ember.functions import _dim, _dims, _t, matmul, sum, where
from ember.ops import linalg as ops
from ember.ops import shape as shape_ops
from ember.ops.linalg import LinAlgError
from ember.tensor import Tensor

__all__ = [
    "LinAlgError", "inv", "det", "slogdet", "solve", "cholesky", "qr", "svd", "svdvals",
    "eigh", "eigvalsh", "pinv", "matrix_rank", "lstsq", "cross", "vector_norm",
    "matrix_norm", "norm", "matrix_power", "multi_dot", "vecdot", "cond", "diagonal",
    "matmul", "inv_ex", "cholesky_ex", "solve_ex", "solve_triangular", "tensorinv",
    "tensorsolve", "vander", "matrix_exp",
]

slogdet_result = collections.namedtuple("slogdet", ["sign", "logabsdet"])
qr_result = collections.namedtuple("qr", ["Q", "R"])
svd_result = collections.namedtuple("svd", ["U", "S", "Vh"])
eigh_result = collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])
lstsq_result = collections.namedtuple("lstsq", ["solution", "residuals", "rank",
                                                "singular_values"])
inv_ex_result = collections.namedtuple("inv_ex", ["inverse", "info"])
cholesky_ex_result = collections.namedtuple("cholesky_ex", ["L", "info"])
solve_ex_result = collections.namedtuple("solve_ex", ["result", "info"])


def _matrices(op: str, a, square: bool = True) -> Tensor:
    """``a`` as a float tensor of (batches of) matrices, with PyTorch's errors."""
    a = _t(a)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 "
                           f"dimensions.")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as "
                           f"input. Got {a.dtype}")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they "
                           f"are {a.shape[-2]} by {a.shape[-1]} matrices")
    return a


def _unpack(packed: Tensor, shapes) -> list:
    """The outputs a decomposition packed into one tensor, as views (see ops.linalg)."""
    out, start = [], 0
    batch = packed.shape[:-1]
    for shape in shapes:
        size = math.prod(shape)
        piece = shape_ops.getitem_basic(packed, key=(Ellipsis, slice(start, start + size)))
        out.append(piece.reshape(batch + tuple(shape)))
        start += size
    return out


# ----------------------------------------------------------------------------- inverse and det


def inv(A) -> Tensor:
    """A^{-1} (batched); gradient -A^{-T} Ḡ A^{-T}.

    >>> import ember as em
    >>> em.linalg.inv(em.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return ops.inv(_matrices("inv", A))


def det(A) -> Tensor:
    """det A (batched); gradient adj(A)^T, exact also for singular A."""
    return ops.det(_matrices("det", A))


def slogdet(A):
    """``(sign, logabsdet)`` with det A = sign e^{logabsdet}, without overflow for large
    matrices; the gradient of logabsdet is A^{-T}."""
    a = _matrices("slogdet", A)
    sign = Tensor._wrap(np.linalg.slogdet(a._data)[0])
    return slogdet_result(sign, ops.logabsdet(a))


def _is_vector_rhs(a: Tensor, b: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if it is 1-d, or has A's batch shape
    and one dimension fewer than A."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def solve(A, B, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B), A square and broadcast with B; B may be
    a vector or a batch of vectors (as in PyTorch).

    Gradients: B̄ = A^{-T} X̄ and Ā = -B̄ X^T (one more solve, no inverse)."""
    a, b = _matrices("solve", A), _t(B)
    if b.dtype != a.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but "
                           f"found A of type {a.dtype} and B of type {b.dtype} instead")
    vector = _is_vector_rhs(a, b)
    if not left:
        if vector:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is "
                               "not supported for left=False.")
        return solve(a.mT, b.mT).mT
    rhs = b.unsqueeze(-1) if vector else b
    if rhs.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({a.shape[-2]}x{a.shape[-1]} and {rhs.shape[-2]}x"
                           f"{rhs.shape[-1]})")
    batch = np.broadcast_shapes(a.shape[:-2], rhs.shape[:-2])
    if a.shape[:-2] != batch:
        a = shape_ops.broadcast_to(a, shape=batch + a.shape[-2:])
    if rhs.shape[:-2] != batch:
        rhs = shape_ops.broadcast_to(rhs, shape=batch + rhs.shape[-2:])
    x = ops.solve(a, rhs)
    return x.squeeze(-1) if vector else x


def cholesky(A, *, upper: bool = False) -> Tensor:
    """L lower triangular with A = L L^T for a symmetric positive-definite A (only its
    lower triangle is read); ``upper=True`` gives U = L^T (A = U^T U)."""
    a = _matrices("cholesky", A)
    low = ops.cholesky(a)
    return low.mT if upper else low


def qr(A, mode: str = "reduced"):
    """``(Q, R)`` with A = Q R, Q with orthonormal columns and R upper triangular;
    ``mode`` ``"reduced"`` (k = min(m, n) columns), ``"complete"`` (Q square) or ``"r"``
    (R only; Q is empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    a = _matrices("qr", A, square=False)
    m, n = a.shape[-2:]
    if mode == "r":
        r = np.linalg.qr(a._data, mode="r")
        r = _not_differentiable(a, r, "The derivative of linalg.qr depends on Q, which is "
                                       "not computed when mode='r'. Please use "
                                       "linalg.qr(A, mode='reduced') if you are going to "
                                       "differentiate through linalg.qr.")
        return qr_result(Tensor._wrap(np.zeros((0,), a.dtype)), r)
    q, r = _unpack(ops.qr(a, mode=mode), ops._qr_shapes(m, n, mode))
    return qr_result(q, r)


@primitive(saves="none")
def _refuse(xp, x, data, message):
    """``data``, computed from x by a function PyTorch does not differentiate: the
    backward raises RuntimeError(message), as PyTorch's."""
    return data


def _refuse_vjp(xp, g, ans, x, data, message):
    raise RuntimeError(message)


defvjp(_refuse, _refuse_vjp)


def _not_differentiable(a: Tensor, data, message: str) -> Tensor:
    return _refuse(a, data=data, message=message)


def svd(A, full_matrices: bool = True):
    """``(U, S, Vh)`` with A = U diag(S) Vh, singular values S descending (k = min(m, n));
    with ``full_matrices`` (PyTorch's default) U is (m, m) and Vh (n, n).

    The gradient uses only the first k columns of U and V (the rest are not unique); it
    is undefined for repeated singular values unless only S is used (as in PyTorch)."""
    a = _matrices("svd", A, square=False)
    m, n = a.shape[-2:]
    full = builtins.bool(full_matrices) and m != n
    u, s, vh = _unpack(ops.svd(a, full_matrices=full), ops._svd_shapes(m, n, full))
    return svd_result(u, s, vh)


def svdvals(A) -> Tensor:
    """The singular values, descending; gradient U diag(S̄) V^T."""
    return svd(A, full_matrices=False).S


def eigh(A, UPLO: str = "L"):
    """``(eigenvalues, eigenvectors)`` of the symmetric matrix given by A's lower (``"L"``)
    or upper (``"U"``) triangle: eigenvalues ascending, eigenvectors as orthonormal
    columns. Gradient: V (diag(w̄) + (V^T V̄)/(w_j - w_i)) V^T."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    a = _matrices("eigh", A)
    packed = ops.eigh(a, upper=UPLO == "U")
    w = shape_ops.getitem_basic(packed, key=(Ellipsis, 0, slice(None)))
    v = shape_ops.getitem_basic(packed, key=(Ellipsis, slice(1, None), slice(None)))
    return eigh_result(w, v)


def eigvalsh(A, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix; gradient V diag(w̄) V^T."""
    return eigh(A, UPLO).eigenvalues


def _tolerance(op, a, atol, rtol, rcond=None):
    """PyTorch's cut-off for small singular values: max(atol, rtol * largest)."""
    if rcond is not None:
        rtol = rcond
    if atol is not None and not isinstance(atol, (int, float)):
        raise TypeError(f"linalg.{op}: only number tolerances are supported")
    if rtol is None:
        rtol = 0.0 if atol else builtins.max(a.shape[-2:]) * np.finfo(a.dtype).eps
    return builtins.float(atol or 0.0), builtins.float(rtol)


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse A^+, dropping singular values below
    max(atol, rtol * largest) (rtol = max(m, n) eps by default)."""
    a = _matrices("pinv", A, square=False)
    atol, rtol = _tolerance("pinv", a, atol, rtol)
    if atol:
        largest = np.linalg.svd(a._data, compute_uv=False)[..., :1]
        rtol = builtins.float(np.max(np.maximum(atol / np.where(largest == 0, 1, largest),
                                                rtol)))
    return ops.pinv(a, rtol=rtol, hermitian=builtins.bool(hermitian))


def matrix_rank(A, *, atol=None, rtol=None, hermitian: bool = False, tol=None) -> Tensor:
    """The number of singular values above max(atol, rtol * largest) (int64, no
    gradient)."""
    a = _matrices("matrix_rank", A, square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _tolerance("matrix_rank", a, atol, rtol)
    s = np.linalg.svd(a._data, compute_uv=False)
    largest = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    rank = (s > np.maximum(atol, rtol * largest)).sum(axis=-1)
    return Tensor._wrap(np.asarray(rank, dtype=np.int64))


def lstsq(A, B, rcond=None, *, driver: str | None = None):
    """The least-squares solution X minimising ||A X - B|| (the minimum-norm one for an
    underdetermined A), as ``(solution, residuals, rank, singular_values)``; like
    PyTorch's default CPU driver (gelsy), residuals and singular values are empty.
    Computed as pinv(A) B, so it is differentiable for full-rank A."""
    a, b = _matrices("lstsq", A, square=False), _t(B)
    vector = b.ndim == a.ndim - 1
    rhs = b.unsqueeze(-1) if vector else b
    if rhs.shape[-2] != a.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match "
                           f"other.size(-2), got {a.shape[-2]} and {rhs.shape[-2]}")
    x = matmul(pinv(a, rtol=rcond), rhs)
    empty = Tensor._wrap(np.zeros((0,), a.dtype))
    return lstsq_result(x.squeeze(-1) if vector else x, empty, matrix_rank(a, rtol=rcond),
                        empty)


def cond(A, p=None) -> Tensor:
    """The condition number ||A|| ||A^{-1}|| in the norm ``p`` (default 2: the ratio of
    the largest to the smallest singular value)."""
    a = _matrices("cond", A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(a)
        ratio = s[..., 0] / s[..., -1]
        return ratio if p != -2 else 1 / ratio
    return matrix_norm(a, p) * matrix_norm(inv(a), p)


# ----------------------------------------------------------------------------- products


def cross(input, other, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcasting):
    (a_2 b_3 - a_3 b_2, a_3 b_1 - a_1 b_3, a_1 b_2 - a_2 b_1)."""
    a, b = _t(input), _t(other)
    shape = np.broadcast_shapes(a.shape, b.shape)
    d = _dim(dim, len(shape), "linalg.cross")
    if shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d - len(shape) + a.ndim] if a.ndim else 0} and "
                           f"{b.shape[d - len(shape) + b.ndim] if b.ndim else 0}")
    a = a if a.shape == shape else shape_ops.broadcast_to(a, shape=shape)
    b = b if b.shape == shape else shape_ops.broadcast_to(b, shape=shape)

    def part(x, i):
        return shape_ops.getitem_basic(x, key=(slice(None),) * d + (slice(i, i + 1),))

    a1, a2, a3 = (part(a, i) for i in range(3))
    b1, b2, b3 = (part(b, i) for i in range(3))
    from ember.functions import cat

    return cat([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1], d)


def matrix_power(A, n: int) -> Tensor:
    """A^n by repeated squaring (n >= 0; a negative n powers the inverse)."""
    a = _matrices("matrix_power", A)
    if n < 0:
        a, n = inv(a), -n
    result = None
    power = a
    while True:
        if n & 1:
            result = power if result is None else matmul(result, power)
        n >>= 1
        if not n:
            break
        power = matmul(power, power)
    if result is None:  # n = 0: the identity (in the graph, with a zero gradient)
        eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
        return where(np.ones(a.shape, dtype=bool), np.ascontiguousarray(eye), a)
    return result


def multi_dot(tensors) -> Tensor:
    """The product of the matrices in order (the first may be a vector, as may the
    last)."""
    tensors = [_t(x) for x in tensors]
    if len(tensors) < 2:
        raise RuntimeError("multi_dot(): expected at least 2 tensors but got "
                           f"{len(tensors)}")
    out = tensors[0]
    for x in tensors[1:]:
        out = matmul(out, x)
    return out


def vecdot(x, y, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim`` (broadcasting): sum(x * y, dim)."""
    return sum(_t(x) * _t(y), dim)


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of a batch of matrices (as :func:`ember.diagonal`)."""
    from ember.tensor_functions.shapes import diagonal as diagonal_

    return diagonal_(A, offset, dim1, dim2)


# ----------------------------------------------------------------------------- norms


def _norm_input(op: str, x, dtype) -> Tensor:
    x = _t(x)
    if dtype is not None:
        x = x.type(dtypes.as_dtype(dtype))
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype}")
    return x


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector norm over ``dim`` (all elements by default): (sum |x|^ord)^{1/ord},
    max |x| (inf), min |x| (-inf), or the number of nonzeros (0).

    The gradient at x = 0 is 0 (a subgradient), as in PyTorch.

    >>> import ember as em
    >>> em.linalg.vector_norm(em.tensor([3.0, -4.0]))
    tensor(5.)
    """
    x = _norm_input("vector_norm", x, dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    axis = _dims(dim, x.ndim, "linalg.vector_norm")
    if x.numel() == 0 and ord < 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                           "tensor because the operation does not have an identity")
    return ops.vector_norm(x, ord=builtins.float(ord), axis=axis,
                           keepdims=builtins.bool(keepdim))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """A matrix norm over the two dimensions ``dim``: ``"fro"`` (sqrt of the sum of
    squares), ``"nuc"`` (sum of singular values), 2 / -2 (largest / smallest singular
    value), 1 / -1 (max / min column sum of |A|), inf / -inf (max / min row sum)."""
    a = _norm_input("matrix_norm", A, dtype)
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    d0, d1 = (_dim(d, a.ndim, "linalg.matrix_norm") for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if ord == "fro":
        return vector_norm(a, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        moved = _move_last(a, d0, d1)
        s = svdvals(moved)
        if ord == "nuc":
            out = sum(s, -1)
        else:
            from ember.functions import amax, amin

            out = (amax if ord == 2 else amin)(s, -1)
        return _restore(out, d0, d1, keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        from ember.functions import abs, amax, amin

        summed, reduced = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = sum(abs(a), summed, keepdim=True)
        out = (amax if ord > 0 else amin)(sums, reduced, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def _move_last(a: Tensor, d0: int, d1: int) -> Tensor:
    rest = [i for i in range(a.ndim) if i not in (d0, d1)]
    return a.permute(*rest, d0, d1)


def _restore(out: Tensor, d0: int, d1: int, keepdim: bool) -> Tensor:
    if not keepdim:
        return out
    for d in sorted((d0, d1)):
        out = out.unsqueeze(d)
    return out


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector or matrix norm, as ``torch.linalg.norm``: with ``dim`` an int (or a 1-d
    input) a vector norm; with two dims (or a 2-d input and ``ord``) a matrix norm;
    with neither, the 2-norm of all elements."""
    a = _t(A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(a, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(a, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(a, 2, None, keepdim, dtype=dtype)
    if a.ndim == 2:
        return matrix_norm(a, ord, (-2, -1), keepdim, dtype=dtype)
    if a.ndim == 1:
        return vector_norm(a, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                       f"be 1D or 2D. Got {a.ndim}D.")


# ----------------------------------------------------------------------------- more solvers


def _checked(function, a: Tensor, check_errors: bool, result_type, *args, **kwargs):
    """``(function(...), info)``: info 0 on success; on failure, with ``check_errors``
    False, info 1 and a NaN result (PyTorch leaves LAPACK's partial result there)."""
    try:
        return result_type(function(*args, **kwargs), Tensor._wrap(np.zeros(a.shape[:-2],
                                                                            np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    shape = a.shape if function is not solve else np.broadcast_shapes(
        a.shape[:-2], _t(args[1]).shape[:-1]) + _t(args[1]).shape[-1:]
    return result_type(Tensor._wrap(np.full(shape, np.nan, a.dtype)),
                       Tensor._wrap(np.ones(a.shape[:-2], np.int32)))


def inv_ex(A, *, check_errors: bool = False):
    """``(inverse, info)``: :func:`inv` reporting a singular matrix in ``info`` (nonzero)
    instead of raising, unless ``check_errors``."""
    a = _matrices("inv_ex", A)
    return _checked(inv, a, check_errors, inv_ex_result, a)


def cholesky_ex(A, *, upper: bool = False, check_errors: bool = False):
    """``(L, info)``: :func:`cholesky` reporting a matrix that is not positive definite in
    ``info`` (nonzero) instead of raising, unless ``check_errors``."""
    a = _matrices("cholesky_ex", A)
    return _checked(cholesky, a, check_errors, cholesky_ex_result, a, upper=upper)


def solve_ex(A, B, *, left: bool = True, check_errors: bool = False):
    """``(result, info)``: :func:`solve` reporting a singular A in ``info``."""
    a = _matrices("solve_ex", A)
    return _checked(solve, a, check_errors, solve_ex_result, a, B, left=left)


def solve_triangular(A, B, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (``left=False``: X A = B) for a triangular A: only its upper (or
    lower) triangle is read, and with ``unitriangular`` its diagonal is taken as ones.
    The gradient of A stays in that triangle."""
    from ember.tensor_functions.shapes import tril, triu

    a = _matrices("solve_triangular", A)
    b = _t(B)
    if b.ndim < 2:
        raise RuntimeError(f"linalg.solve_triangular: The input tensor B must have at least "
                           f"2 dimensions, got shape {b.shape}")
    if unitriangular:
        triangle = triu(a, 1) if upper else tril(a, -1)
        triangle = triangle + np.eye(a.shape[-1], dtype=a.dtype)
    else:
        triangle = triu(a) if upper else tril(a)
    return solve(triangle, b, left=left)


def tensorinv(A, ind: int = 2) -> Tensor:
    """The inverse of A seen as a linear map from its last dimensions to its first
    ``ind`` ones: tensordot(tensorinv(A), A, ind) is the identity."""
    a = _t(A)
    rows, cols = math.prod(a.shape[:ind]), math.prod(a.shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(a.reshape(rows, cols)).reshape(a.shape[ind:] + a.shape[:ind])


def tensorsolve(A, B, dims=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B; ``dims`` moves those dimensions of A last."""
    a, b = _t(A), _t(B)
    if dims is not None:
        from ember.tensor_functions.shapes import movedim

        dims = tuple(dims)
        a = movedim(a, dims, tuple(range(a.ndim - len(dims), a.ndim)))
    rest = a.shape[b.ndim:]
    x = solve(a.reshape(b.numel(), math.prod(rest)), b.reshape(-1))
    return x.reshape(rest)


def vander(x, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of the last dimension of x: columns x^0, x^1, ...,
    x^(N-1) (N = len(x) by default)."""
    x = _t(x)
    n = x.shape[-1] if N is None else N
    powers = np.arange(n, dtype=x.dtype if x.dtype.kind == "f" else np.int64)
    return x.unsqueeze(-1) ** powers


# Higham (2005): the [13/13] Pade approximant of e^A after scaling A by 2^-s so that its
# 1-norm is at most theta_13, then s squarings.
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def matrix_exp(A) -> Tensor:
    """e^A = sum_k A^k / k! for (batches of) square matrices, by scaling and squaring with
    the [13/13] Pade approximant (Higham 2005), composed of products and one solve, so
    it is differentiable through them.

    >>> import ember as em
    >>> em.linalg.matrix_exp(em.zeros(2, 2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    a = _matrices("matrix_exp", A)
    norm = np.abs(a._data).sum(axis=-2).max() if a.numel() else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm / _THETA13)))) if norm > _THETA13 else 0
    scaled = a / float(2 ** squarings) if squarings else a
    b = _PADE13
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    a2 = matmul(scaled, scaled)
    a4 = matmul(a2, a2)
    a6 = matmul(a4, a2)
    u = matmul(scaled, matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
               + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 \
        + b[2] * a2 + b[0] * eye
    result = solve(v - u, v + u)
    for _ in range(squarings):
        result = matmul(result, result)
    return result
