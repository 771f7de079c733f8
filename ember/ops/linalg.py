"""Linear-algebra primitives (batched over leading dimensions) and their gradients:
inverse, determinant, solve, Cholesky, QR, SVD, symmetric eigendecomposition, the
pseudo-inverse and vector norms.

Gradients are PyTorch's (its ``FunctionsManual``) for real matrices, written with matrix
products and solves. A decomposition with several outputs (Q and R; U, S and V^T; the
eigenvalues and eigenvectors) returns them packed into one array, which the public
function in :mod:`ember.linalg` slices apart: the slices' gradients then arrive packed
together, and the VJP unpacks them (a zero block for an unused output).

Notation: ``X^T`` is ``swapaxes(X, -1, -2)``; ``sym``/``skew`` are X + X^T and X - X^T.
"""

from __future__ import annotations

import math

from ember.autograd.primitives import defvjp, primitive, unbroadcast


def _t(xp, x):
    return xp.swapaxes(x, -1, -2)


class LinAlgError(RuntimeError):
    """A matrix that has no inverse or factorization (singular, not positive definite):
    a RuntimeError, as ``torch.linalg.LinAlgError``."""


_FAILURES = {
    "inv": "the inversion could not be completed because the input matrix is singular",
    "solve": "the solve could not be completed because the input matrix is singular",
    "cholesky": "the factorization could not be completed because the input is not "
                "positive-definite",
}


def _factor(xp, name, function, *args, **kwargs):
    """``function(*args)``, with NumPy's LinAlgError turned into ember's."""
    try:
        return function(*args, **kwargs)
    except xp.linalg.LinAlgError:
        raise LinAlgError(f"linalg.{name}: {_FAILURES[name]}.") from None


def pack(xp, *arrays, batch: tuple):
    """The arrays (each with leading dimensions ``batch``) flattened and joined along the
    last axis."""
    return xp.concatenate([a.reshape(batch + (-1,)) for a in arrays], axis=-1)


def unpack(packed, shapes):
    """The inverse of :func:`pack`: one array of each shape (without the batch part)."""
    batch = packed.shape[:-1]
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(packed[..., start:start + size].reshape(batch + tuple(shape)))
        start += size
    return out


# ----------------------------------------------------------------------------- inverse, det, solve


@primitive(saves="ans")
def inv(xp, a):
    """A^{-1};  VJP: -A^{-T} g A^{-T}."""
    return _factor(xp, "inv", xp.linalg.inv, a)


defvjp(inv, lambda xp, g, ans, a: -(_t(xp, ans) @ g @ _t(xp, ans)))


@primitive(saves="all")
def det(xp, a):
    """det A;  VJP: g adj(A)^T (= g det(A) A^{-T} for invertible A), with the adjugate
    from the SVD A = U diag(s) V^T: adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j)
    V^T, which stays exact for singular A."""
    return xp.linalg.det(a)


def _det_vjp(xp, g, ans, a):
    u, s, vh = xp.linalg.svd(a)
    ones = xp.ones_like(s[..., :1])
    before = xp.concatenate([ones, xp.cumprod(s[..., :-1], axis=-1)], axis=-1)
    after = xp.flip(xp.concatenate([ones, xp.cumprod(xp.flip(s, -1)[..., :-1], axis=-1)],
                                   axis=-1), -1)
    sign = xp.linalg.det(u) * xp.linalg.det(vh)
    adjugate_t = (u * (before * after)[..., None, :]) @ vh
    return (g * sign)[..., None, None] * adjugate_t


defvjp(det, _det_vjp)


@primitive(saves="inputs")
def logabsdet(xp, a):
    """log |det A| (the second output of slogdet);  VJP: g A^{-T}."""
    return xp.linalg.slogdet(a)[1]


defvjp(logabsdet, lambda xp, g, ans, a: g[..., None, None] * _t(xp, xp.linalg.inv(a)))


@primitive(saves="all")
def solve(xp, a, b):
    """X with A X = B (B a batch of matrices, broadcast with A);
    VJP: B̄ = A^{-T} X̄ (one more solve),  Ā = -B̄ X^T."""
    return _factor(xp, "solve", xp.linalg.solve, a, b)


def _solve_vjp_a(xp, g, ans, a, b):
    gb = xp.linalg.solve(_t(xp, a), g)
    return unbroadcast(-(gb @ _t(xp, ans)), a.shape)


defvjp(solve, _solve_vjp_a,
       lambda xp, g, ans, a, b: unbroadcast(xp.linalg.solve(_t(xp, a), g), b.shape))


# ----------------------------------------------------------------------------- Cholesky


@primitive(saves="ans")
def cholesky(xp, a):
    """L lower triangular with L L^T = A (A symmetric positive definite);
    VJP (PyTorch's): P = tril(L^T g) with its diagonal halved and mirrored,
    Ā = L^{-T} P L^{-1}."""
    return _factor(xp, "cholesky", xp.linalg.cholesky, a)


def _cholesky_vjp(xp, g, ans, a):
    low = xp.tril(_t(xp, ans) @ g)
    middle = 0.5 * (low + _t(xp, xp.tril(low, -1)))
    left = xp.linalg.solve(_t(xp, ans), middle)  # L^{-T} P
    return _t(xp, xp.linalg.solve(_t(xp, ans), _t(xp, left)))  # (L^{-T} (L^{-T} P)^T)^T


defvjp(cholesky, _cholesky_vjp)


# ----------------------------------------------------------------------------- QR


def _qr_shapes(m, n, mode="reduced"):
    k = m if mode == "complete" else min(m, n)
    return (m, k), (k, n)


@primitive(saves="all")
def qr(xp, a, mode="reduced"):
    """A = Q R, Q (m, k) with orthonormal columns, R (k, n) upper triangular, k =
    min(m, n) (``mode="complete"``: k = m), packed as [Q, R];  VJP (PyTorch's, for
    m >= n): M = R R̄^T - Q̄^T Q,  Ā = (Q̄ + Q copyltu(M)) R^{-T}, copyltu copying the
    lower triangle of M onto the upper; a wide A = Q [X Y] reduces to its square part X.
    Not differentiable for a complete Q of a tall A (as in PyTorch)."""
    q, r = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    return pack(xp, q, r, batch=a.shape[:-2])


def _qr_square_vjp(xp, gq, gr, q, r):
    m = r @ _t(xp, gr) - _t(xp, gq) @ q
    low = xp.tril(m, -1)
    copied = low + _t(xp, low) + xp.tril(xp.triu(m))  # lower triangle mirrored, diagonal
    b = gq + q @ copied
    return _t(xp, xp.linalg.solve(r, _t(xp, b)))  # b R^{-T}


def _qr_vjp(xp, g, ans, a, mode="reduced"):
    m, n = a.shape[-2:]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when "
                           "mode='complete' and nrows > ncols.")
    q, r = unpack(ans, _qr_shapes(m, n, mode))
    gq, gr = unpack(g, _qr_shapes(m, n, mode))
    if m >= n:
        return _qr_square_vjp(xp, gq, gr, q, r)
    # A = [X Y] = Q [R_X R_Y]: Y only moves R_Y = Q^T Y, and through it Q
    y = a[..., m:]
    gx = _qr_square_vjp(xp, gq + y @ _t(xp, gr[..., m:]), gr[..., :m], q, r[..., :m])
    return xp.concatenate([gx, q @ gr[..., m:]], axis=-1)


defvjp(qr, _qr_vjp)


# ----------------------------------------------------------------------------- SVD


def _svd_shapes(m, n, full_matrices=False):
    k = min(m, n)
    if full_matrices:
        return (m, m), (k,), (n, n)
    return (m, k), (k,), (k, n)


@primitive(saves="all")
def svd(xp, a, full_matrices=False):
    """A = U diag(S) V^T with k = min(m, n) singular values, descending (``full_matrices``:
    U and V square), packed as [U, S, V^T];  VJP (PyTorch's): with E_ij = S_j^2 - S_i^2
    (1 on the diagonal),

    Ā = U [skew(U^T Ū)/E · S_j + S_i · skew(V^T V̄)/E + diag(S̄)] V^T
        + (I - U U^T) Ū S^{-1} V^T + U S^{-1} V̄^T (I - V V^T),

    the last two terms only for a tall or wide A, and over the first k columns of U and
    V only (the others are not unique). Undefined for repeated singular values (as in
    PyTorch) unless only S is used."""
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return pack(xp, u, s, vh, batch=a.shape[:-2])


def _svd_vjp(xp, g, ans, a, full_matrices=False):
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vh = unpack(ans, _svd_shapes(m, n, full_matrices))
    gu, gs, gvh = unpack(g, _svd_shapes(m, n, full_matrices))
    u, gu, vh, gvh = u[..., :k], gu[..., :k], vh[..., :k, :], gvh[..., :k, :]
    v, gv = _t(xp, vh), _t(xp, gvh)
    eye = xp.eye(k, dtype=s.dtype)
    square = s * s
    e = square[..., None, :] - square[..., :, None]
    e = e + eye  # 1 on the diagonal, where skew(...) is 0 anyway
    uhgu, vhgv = _t(xp, u) @ gu, _t(xp, v) @ gv
    inner = ((uhgu - _t(xp, uhgu)) / e) * s[..., None, :] \
        + s[..., :, None] * ((vhgv - _t(xp, vhgv)) / e) + eye * gs[..., None, :]
    if m > n:  # columns of gU outside U's span
        gu_s = gu / s[..., None, :]
        return (u @ inner + gu_s - u @ (_t(xp, u) @ gu_s)) @ vh
    if m < n:
        gv_s = gv / s[..., None, :]
        return u @ (inner @ vh + _t(xp, gv_s - v @ (vh @ gv_s)))
    return u @ inner @ vh


defvjp(svd, _svd_vjp)


# ----------------------------------------------------------------------------- symmetric eigen


@primitive(saves="all")
def eigh(xp, a, upper=False):
    """Eigenvalues (ascending) and orthonormal eigenvectors of the symmetric matrix whose
    lower (or ``upper``) triangle is A, packed as [w; V] ((n + 1, n));
    VJP (PyTorch's, symmetric): Ā = V (diag(w̄) + skew(V^T V̄) / 2E) V^T with
    E_ij = w_j - w_i (off the diagonal). Undefined for repeated eigenvalues unless only
    w is used."""
    w, v = xp.linalg.eigh(a, UPLO="U" if upper else "L")
    return xp.concatenate([w[..., None, :], v], axis=-2)


def _eigh_vjp(xp, g, ans, a, upper=False):
    w, v = ans[..., 0, :], ans[..., 1:, :]
    gw, gv = g[..., 0, :], g[..., 1:, :]
    n = w.shape[-1]
    eye = xp.eye(n, dtype=w.dtype)
    e = w[..., None, :] - w[..., :, None] + eye
    vhgv = _t(xp, v) @ gv
    inner = (vhgv - _t(xp, vhgv)) / (2 * e) * (1 - eye) + eye * gw[..., None, :]
    return v @ inner @ _t(xp, v)


defvjp(eigh, _eigh_vjp)


# ----------------------------------------------------------------------------- pseudo-inverse


@primitive(saves="all")
def pinv(xp, a, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse P = A^+ (singular values below ``rtol`` times the
    largest are dropped);  VJP (Golub and Pereyra, for constant rank):
    Ā = -P^T Ḡ P^T + (I - A P) Ḡ^T P P^T + P^T P Ḡ^T (I - P A)."""
    if rtol is None:
        rtol = max(a.shape[-2:]) * xp.finfo(a.dtype).eps
    return xp.linalg.pinv(a, rcond=rtol, hermitian=hermitian)


def _pinv_vjp(xp, g, ans, a, rtol=None, hermitian=False):
    p = ans
    pt, gt = _t(xp, p), _t(xp, g)
    ap = a @ p
    pa = p @ a
    return -(pt @ g @ pt) + (gt - ap @ gt) @ (p @ pt) + (pt @ p) @ (gt - gt @ pa)


defvjp(pinv, _pinv_vjp)


# ----------------------------------------------------------------------------- vector norm


@primitive(saves="all")
def vector_norm(xp, x, ord=2.0, axis=None, keepdims=False):
    """(sum_i |x_i|^p)^{1/p}, max |x_i| (p = inf), min |x_i| (p = -inf), or the number of
    nonzeros (p = 0), over ``axis``;  VJP (PyTorch's): p = 2: g x / ||x|| (0 at x = 0);
    p = +-inf: g sign(x) shared among the elements attaining it; otherwise
    g sign(x) |x|^{p-1} / ||x||^{p-1} (0 where the norm is 0)."""
    a = xp.abs(x)
    if ord == math.inf:
        return xp.max(a, axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return xp.min(a, axis=axis, keepdims=keepdims)
    if ord == 0:
        return xp.sum(a != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return xp.sum(a, axis=axis, keepdims=keepdims)
    if ord == 2:
        return xp.sqrt(xp.sum(a * a, axis=axis, keepdims=keepdims))
    with xp.errstate(divide="ignore"):  # a negative order: |0|^p = inf, the norm 0
        return xp.sum(a ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _vector_norm_vjp(xp, g, ans, x, ord=2.0, axis=None, keepdims=False):
    if not keepdims and axis is not None:
        g, ans = xp.expand_dims(g, axis), xp.expand_dims(ans, axis)
    if ord == 0:
        return xp.zeros_like(x)
    sign = xp.sign(x)
    if ord == 1:
        return sign * g
    if ord in (math.inf, -math.inf):
        a = xp.abs(x)
        hit = (a == ans) | xp.isnan(a)
        return sign * hit * g / hit.sum(axis=axis, keepdims=True)
    zero = ans == 0
    safe = xp.where(zero, 1, ans)
    if ord == 2:
        return xp.where(zero, 0, g / safe) * x
    if ord < 1:  # |x|^{p-1} is infinite at 0, where PyTorch takes 0
        nonzero = x != 0
        scaled = sign * xp.where(nonzero, xp.abs(xp.where(nonzero, x, 1)) ** (ord - 1), 0)
        return scaled * g * ans ** (1 - ord)
    return sign * xp.abs(x) ** (ord - 1) * xp.where(zero, 0, g / safe ** (ord - 1))


defvjp(vector_norm, _vector_norm_vjp)
