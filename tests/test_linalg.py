"""em.linalg against torch.linalg in float64: values, dtypes, the gradients of every
decomposition (through gauge-invariant functions of their outputs where signs of
singular/eigen vectors are arbitrary), norms of every order, and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from op_parity import compare, ids, raises_as_pytorch, values

import ember as em
from ember.testing import gradcheck

N, SPD = None, "spd"
INF = float("inf")


def L():  # torch.linalg, inside lambdas
    return __import__("torch").linalg


def _qr_invariant(q, r):
    """Q and R with the sign of each column/row fixed (diag(R) > 0): unique."""
    sign = r.diagonal(0, -2, -1).sign()
    return q * sign.unsqueeze(-2), r * sign.unsqueeze(-1)


CASES = [
    ("inv", em.linalg.inv, lambda a: L().inv(a), [((3, 3), SPD)]),
    ("inv_batch", em.linalg.inv, lambda a: L().inv(a), [((2, 3, 3), N)]),
    ("det", em.linalg.det, lambda a: L().det(a), [((2, 3, 3), N)]),
    ("slogdet", em.linalg.slogdet, lambda a: L().slogdet(a), [((3, 3), N)]),
    ("solve_matrix", em.linalg.solve, lambda a, b: L().solve(a, b), [((3, 3), N), ((3, 2), N)]),
    ("solve_vector", em.linalg.solve, lambda a, b: L().solve(a, b), [((3, 3), N), ((3,), N)]),
    ("solve_batch_of_vectors", em.linalg.solve, lambda a, b: L().solve(a, b),
     [((2, 3, 3), N), ((2, 3), N)]),
    ("solve_broadcast", em.linalg.solve, lambda a, b: L().solve(a, b),
     [((3, 3), N), ((2, 3, 2), N)]),
    ("solve_right", lambda a, b: em.linalg.solve(a, b, left=False),
     lambda a, b: L().solve(a, b, left=False), [((3, 3), N), ((2, 3), N)]),
    ("cholesky", em.linalg.cholesky, lambda a: L().cholesky(a), [((3, 3), SPD)]),
    ("cholesky_upper_batch", lambda a: em.linalg.cholesky(a, upper=True),
     lambda a: L().cholesky(a, upper=True), [((2, 3, 3), SPD)]),
    ("qr_tall", lambda a: _qr_invariant(*em.linalg.qr(a)),
     lambda a: _qr_invariant(*L().qr(a)), [((5, 3), N)]),
    ("qr_square_batch", lambda a: _qr_invariant(*em.linalg.qr(a)),
     lambda a: _qr_invariant(*L().qr(a)), [((2, 3, 3), N)]),
    ("qr_wide", lambda a: _qr_invariant(*em.linalg.qr(a)),
     lambda a: _qr_invariant(*L().qr(a)), [((3, 5), N)]),
    ("qr_complete_wide", lambda a: _qr_invariant(*em.linalg.qr(a, "complete")),
     lambda a: _qr_invariant(*L().qr(a, "complete")), [((2, 4), N)]),
    ("svdvals", em.linalg.svdvals, lambda a: L().svdvals(a), [((4, 3), N)]),
    ("svd_tall", lambda a: (lambda u, s, vh: (u * u, s, vh * vh, u @ em.diag(s) @ vh))(
        *em.linalg.svd(a, full_matrices=False)),
     lambda a: (lambda u, s, vh: (u * u, s, vh * vh, u @ __import__("torch").diag(s) @ vh))(
        *L().svd(a, full_matrices=False)), [((5, 3), N)]),
    ("svd_wide_batch", lambda a: (lambda u, s, vh: (u * u, s, vh * vh))(
        *em.linalg.svd(a, full_matrices=False)),
     lambda a: (lambda u, s, vh: (u * u, s, vh * vh))(*L().svd(a, full_matrices=False)),
     [((2, 3, 4), N)]),
    ("svd_full_square_part", lambda a: (lambda u, s, vh: (u[:, :3] ** 2, s))(
        *em.linalg.svd(a)), lambda a: (lambda u, s, vh: (u[:, :3] ** 2, s))(*L().svd(a)),
     [((5, 3), N)]),
    ("eigh", lambda a: (lambda w, v: (w, v * v))(*em.linalg.eigh(a)),
     lambda a: (lambda w, v: (w, v * v))(*L().eigh(a)), [((4, 4), SPD)]),
    ("eigh_upper_batch", lambda a: (lambda w, v: (w, v * v))(*em.linalg.eigh(a, "U")),
     lambda a: (lambda w, v: (w, v * v))(*L().eigh(a, "U")), [((2, 3, 3), N)]),
    ("eigvalsh", em.linalg.eigvalsh, lambda a: L().eigvalsh(a), [((3, 3), N)]),
    ("pinv_tall", em.linalg.pinv, lambda a: L().pinv(a), [((5, 3), N)]),
    ("pinv_wide_batch", em.linalg.pinv, lambda a: L().pinv(a), [((2, 3, 4), N)]),
    ("pinv_hermitian", lambda a: em.linalg.pinv(a, hermitian=True),
     lambda a: L().pinv(a, hermitian=True), [((3, 3), SPD)]),
    ("lstsq_tall", lambda a, b: em.linalg.lstsq(a, b).solution,
     lambda a, b: L().lstsq(a, b).solution, [((5, 3), N), ((5, 2), N)]),
    ("lstsq_wide", lambda a, b: em.linalg.lstsq(a, b).solution,
     lambda a, b: L().lstsq(a, b).solution, [((3, 5), N), ((3, 2), N)]),
    ("cross", em.linalg.cross, lambda a, b: L().cross(a, b), [((4, 3), N), ((1, 3), N)]),
    ("matrix_power_0", lambda a: em.linalg.matrix_power(a, 0),
     lambda a: L().matrix_power(a, 0), [((3, 3), N)]),
    ("matrix_power_negative", lambda a: em.linalg.matrix_power(a, -2),
     lambda a: L().matrix_power(a, -2), [((3, 3), SPD)]),
    ("multi_dot", lambda a, b, c: em.linalg.multi_dot([a, b, c]),
     lambda a, b, c: L().multi_dot([a, b, c]), [((3,), N), ((3, 4), N), ((4,), N)]),
    ("vecdot", em.linalg.vecdot, lambda a, b: L().vecdot(a, b), [((2, 3), N), ((3,), N)]),
    ("cond", em.linalg.cond, lambda a: L().cond(a), [((3, 3), N)]),
    ("diagonal", lambda a: em.linalg.diagonal(a, offset=1), lambda a: L().diagonal(a, offset=1),
     [((2, 3, 4), N)]),
]

CASES += [
    ("matrix_exp", em.linalg.matrix_exp, lambda a: L().matrix_exp(a), [((2, 3, 3), N)]),
    ("matrix_exp_large_norm", lambda a: em.linalg.matrix_exp(4 * a),
     lambda a: L().matrix_exp(4 * a), [((3, 3), N)]),
    ("solve_triangular_upper", lambda a, b: em.linalg.solve_triangular(a, b, upper=True),
     lambda a, b: L().solve_triangular(a, b, upper=True), [((3, 3), SPD), ((3, 2), N)]),
    ("solve_triangular_lower_right_unit",
     lambda a, b: em.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
     lambda a, b: L().solve_triangular(a, b, upper=False, left=False, unitriangular=True),
     [((2, 3, 3), N), ((2, 4, 3), N)]),
    ("vander", lambda a: em.linalg.vander(a, N=4), lambda a: L().vander(a, N=4), [((2, 3), N)]),
    ("tensorinv", lambda a: em.linalg.tensorinv(a, 1), lambda a: L().tensorinv(a, 1),
     [((6, 2, 3), N)]),
    ("tensorsolve", em.linalg.tensorsolve, lambda a, b: L().tensorsolve(a, b),
     [((2, 3, 6), N), ((2, 3), N)]),
    ("inv_ex", em.linalg.inv_ex, lambda a: L().inv_ex(a), [((3, 3), SPD)]),
    ("cholesky_ex", em.linalg.cholesky_ex, lambda a: L().cholesky_ex(a), [((3, 3), SPD)]),
    ("solve_ex", em.linalg.solve_ex, lambda a, b: L().solve_ex(a, b), [((3, 3), N), ((3,), N)]),
]

VECTOR_ORDS = [2, 1, INF, -INF, 0, 3, 0.5, -1]
for _ord in VECTOR_ORDS:
    CASES.append((f"vector_norm_{_ord}", lambda a, o=_ord: em.linalg.vector_norm(a, o),
                  lambda a, o=_ord: L().vector_norm(a, o), [((3, 4), "distinct")]))
CASES += [
    ("vector_norm_dim_keepdim", lambda a: em.linalg.vector_norm(a, 3, dim=(0, 2), keepdim=True),
     lambda a: L().vector_norm(a, 3, dim=(0, 2), keepdim=True), [((2, 3, 4), N)]),
    ("norm_vector", lambda a: em.linalg.norm(a, 1), lambda a: L().norm(a, 1), [((5,), N)]),
    ("norm_default", em.linalg.norm, lambda a: L().norm(a), [((2, 3, 4), N)]),
    ("norm_dim_pair", lambda a: em.linalg.norm(a, dim=(0, 2)),
     lambda a: L().norm(a, dim=(0, 2)), [((2, 3, 4), N)]),
]
for _ord in ["fro", "nuc", 2, -2, 1, -1, INF, -INF]:
    CASES.append((f"matrix_norm_{_ord}", lambda a, o=_ord: em.linalg.matrix_norm(a, o),
                  lambda a, o=_ord: L().matrix_norm(a, o), [((2, 3, 4), "distinct")]))
    CASES.append((f"norm_matrix_{_ord}", lambda a, o=_ord: em.linalg.norm(a, o),
                  lambda a, o=_ord: L().norm(a, o), [((3, 4), "distinct")]))
CASES.append(("matrix_norm_dims_keepdim",
              lambda a: em.linalg.matrix_norm(a, "nuc", dim=(2, 0), keepdim=True),
              lambda a: L().matrix_norm(a, "nuc", dim=(2, 0), keepdim=True),
              [((3, 2, 4), N)]))


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, theirs, specs, rtol=1e-8, atol=1e-9)


GRADCHECK = [
    ("inv", em.linalg.inv, (3, 3), SPD), ("det", em.linalg.det, (3, 3), N),
    ("logabsdet", lambda a: em.linalg.slogdet(a).logabsdet, (3, 3), N),
    ("cholesky", lambda a: em.linalg.cholesky((a + a.mT) / 2), (3, 3), SPD),
    ("qr", lambda a: _qr_invariant(*em.linalg.qr(a))[0], (4, 3), N),
    ("qr_wide", lambda a: _qr_invariant(*em.linalg.qr(a))[1], (2, 3), N),
    ("svd", lambda a: em.linalg.svd(a, full_matrices=False).U ** 2, (4, 3), N),
    ("eigh", lambda a: em.linalg.eigh((a + a.mT) / 2).eigenvectors ** 2, (3, 3), N),
    ("pinv", em.linalg.pinv, (3, 2), N),
    ("vector_norm_3", lambda a: em.linalg.vector_norm(a, 3, dim=1), (3, 4), N),
]


@pytest.mark.parametrize("name,fn,shape,domain", GRADCHECK, ids=[g[0] for g in GRADCHECK])
def test_gradcheck(rng, name, fn, shape, domain):
    x = em.tensor(values(rng, shape, domain), dtype=em.float64, requires_grad=True)
    assert gradcheck(fn, (x,))


def test_solve_gradients_of_both_inputs(torch, rng):
    compare(torch, rng, "solve", em.linalg.solve, torch.linalg.solve,
            [((2, 3, 3), N), ((3, 4), N)])


def test_det_gradient_of_a_singular_matrix_is_the_adjugate():
    x = em.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=em.float64, requires_grad=True)
    em.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


def test_zero_vector_norm_has_zero_gradient(torch):
    for ord in (2, 3, 1.5):
        x = em.zeros(3, dtype=em.float64, requires_grad=True)
        em.linalg.vector_norm(x, ord).backward()
        t = torch.zeros(3, requires_grad=True)
        torch.linalg.vector_norm(t, ord).backward()
        assert x.grad.tolist() == t.grad.tolist() == [0.0, 0.0, 0.0]


def test_cond_in_other_norms_and_dtype_argument(torch, rng):
    a = values(rng, (3, 3), SPD)
    for p in ("fro", "nuc", 1, -INF):
        assert em.linalg.cond(em.tensor(a), p).item() == pytest.approx(
            torch.linalg.cond(torch.tensor(a), p).item(), rel=1e-10)
    x = np.array([3.0, 4.0], dtype=np.float32)
    y = em.linalg.vector_norm(em.tensor(x), dtype=em.float64)
    assert y.dtype == em.float64 and y.item() == 5.0


def test_rank_and_lstsq_metadata(torch, rng):
    a = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))
    for kwargs in ({}, {"hermitian": False}, {"atol": 1e-8}, {"rtol": 0.5}):
        assert em.linalg.matrix_rank(em.tensor(a), **kwargs).item() == \
            torch.linalg.matrix_rank(torch.tensor(a), **kwargs).item()
    out, theirs = em.linalg.lstsq(em.tensor(a), em.tensor(a[:, :1])), torch.linalg.lstsq(
        torch.tensor(a), torch.tensor(a[:, :1]))
    assert out.rank.item() == theirs.rank.item() == 2
    assert out.residuals.shape == tuple(theirs.residuals.shape)


def test_non_differentiable_decomposition_modes(torch):
    x = em.randn(4, 3, dtype=em.float64, requires_grad=True)
    q, r = em.linalg.qr(x, mode="complete")
    with pytest.raises(RuntimeError, match="complete"):
        q.sum().backward()
    q, r = em.linalg.qr(x, mode="r")
    assert q.shape == (0,) and r.shape == (3, 3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()


ERRORS = [
    ("inv_not_square", RuntimeError, lambda m: m.linalg.inv(m.ones(2, 3))),
    ("inv_singular", RuntimeError, lambda m: m.linalg.inv(m.zeros(2, 2))),
    ("cholesky_not_pd", RuntimeError, lambda m: m.linalg.cholesky(-m.eye(2))),
    ("solve_shapes", RuntimeError, lambda m: m.linalg.solve(m.eye(2), m.ones(3))),
    ("det_1d", RuntimeError, lambda m: m.linalg.det(m.ones(3))),
    ("inv_integer", RuntimeError, lambda m: m.linalg.inv(m.eye(2, dtype=m.int64))),
    ("norm_3d_with_ord", RuntimeError, lambda m: m.linalg.norm(m.ones(2, 2, 2), 2)),
    ("eigh_uplo", RuntimeError, lambda m: m.linalg.eigh(m.eye(2), "X")),
    ("qr_mode", RuntimeError, lambda m: m.linalg.qr(m.eye(2), "full")),
]


@pytest.mark.parametrize("name,error,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_as_pytorch(torch, name, error, call):
    raises_as_pytorch(torch, error, call)


def test_ex_variants_report_failures_in_info(torch):
    for name, a in (("inv_ex", np.zeros((2, 2))), ("cholesky_ex", -np.eye(2))):
        out, theirs = getattr(em.linalg, name)(em.tensor(a)), getattr(torch.linalg, name)(
            torch.tensor(a))
        assert out.info.dtype == em.int32 and out.info.item() != 0 and theirs.info.item() != 0
        with pytest.raises(em.linalg.LinAlgError):
            getattr(em.linalg, name)(em.tensor(a), check_errors=True)
    assert em.linalg.solve_ex(em.zeros(2, 2), em.ones(2)).info.item() != 0


def test_singular_matrices_raise_linalg_error():
    with pytest.raises(em.linalg.LinAlgError, match="singular"):
        em.linalg.inv(em.zeros(2, 2))
    with pytest.raises(em.linalg.LinAlgError, match="positive-definite"):
        em.linalg.cholesky(-em.eye(2))
    assert issubclass(em.linalg.LinAlgError, RuntimeError)
