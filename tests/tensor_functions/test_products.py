"""Products against PyTorch in float64: mv, bmm and the add* family, outer/inner,
einsum (diagonals, ellipses, implicit outputs, sublists), tensordot, kron, trace,
cross, distances, the older torch.norm/svd/qr and the top-level det/inverse; errors."""

from __future__ import annotations

import numpy as np
import pytest
from op_parity import compare, ids, raises_as_pytorch, values

import ember as em
from ember.testing import gradcheck

N = None
pytestmark = pytest.mark.filterwarnings("ignore:torch.(cholesky|qr|svd) is deprecated")


def T():  # the PyTorch module, inside lambdas
    return __import__("torch")


CASES = [
    ("vdot", em.vdot, lambda a, b: T().vdot(a, b), [((4,), N), ((4,), N)]),
    ("inner", em.inner, lambda a, b: T().inner(a, b), [((2, 3), N), ((4, 3), N)]),
    ("outer", em.outer, lambda a, b: T().outer(a, b), [((3,), N), ((4,), N)]),
    ("ger", lambda a, b: a.ger(b), lambda a, b: a.ger(b), [((3,), N), ((2,), N)]),
    ("mv", em.mv, lambda a, b: T().mv(a, b), [((3, 4), N), ((4,), N)]),
    ("bmm", em.bmm, lambda a, b: T().bmm(a, b), [((2, 3, 4), N), ((2, 4, 5), N)]),
    ("baddbmm", lambda a, b, c: em.baddbmm(a, b, c, beta=0.5, alpha=2.0),
     lambda a, b, c: T().baddbmm(a, b, c, beta=0.5, alpha=2.0),
     [((2, 3, 5), N), ((2, 3, 4), N), ((2, 4, 5), N)]),
    ("baddbmm_broadcast", lambda a, b, c: a.baddbmm(b, c), lambda a, b, c: a.baddbmm(b, c),
     [((5,), N), ((2, 3, 4), N), ((2, 4, 5), N)]),
    ("addmm", lambda a, b, c: em.addmm(a, b, c, beta=2.0, alpha=0.5),
     lambda a, b, c: T().addmm(a, b, c, beta=2.0, alpha=0.5),
     [((3, 5), N), ((3, 4), N), ((4, 5), N)]),
    ("addmm_bias_row", lambda a, b, c: a.addmm(b, c), lambda a, b, c: a.addmm(b, c),
     [((5,), N), ((3, 4), N), ((4, 5), N)]),
    ("addmv", em.addmv, lambda a, b, c: T().addmv(a, b, c), [((3,), N), ((3, 4), N), ((4,), N)]),
    ("addbmm", em.addbmm, lambda a, b, c: T().addbmm(a, b, c),
     [((3, 5), N), ((2, 3, 4), N), ((2, 4, 5), N)]),
    ("addr", lambda a, b, c: em.addr(a, b, c, alpha=3), lambda a, b, c: T().addr(a, b, c, alpha=3),
     [((3, 4), N), ((3,), N), ((4,), N)]),
    ("trace", em.trace, lambda a: T().trace(a), [((4, 4), N)]),
    ("tensordot_int", lambda a, b: em.tensordot(a, b, 2), lambda a, b: T().tensordot(a, b, 2),
     [((2, 3, 4), N), ((3, 4, 5), N)]),
    ("tensordot_lists", lambda a, b: em.tensordot(a, b, ([0, 2], [2, 0])),
     lambda a, b: T().tensordot(a, b, ([0, 2], [2, 0])), [((2, 3, 4), N), ((4, 5, 2), N)]),
    ("tensordot_zero", lambda a, b: em.tensordot(a, b, 0), lambda a, b: T().tensordot(a, b, 0),
     [((2,), N), ((3,), N)]),
    ("kron", em.kron, lambda a, b: T().kron(a, b), [((2, 3), N), ((3, 2), N)]),
    ("kron_mixed_dims", em.kron, lambda a, b: T().kron(a, b), [((2,), N), ((2, 3, 2), N)]),
    ("cross", lambda a, b: em.cross(a, b), lambda a, b: T().cross(a, b, dim=0),
     [((3, 4), N), ((3, 4), N)]),
    ("cross_dim", lambda a, b: a.cross(b, dim=-1), lambda a, b: a.cross(b, dim=-1),
     [((2, 3), N), ((1, 3), N)]),
    ("cdist", em.cdist, lambda a, b: T().cdist(a, b), [((2, 4, 3), N), ((2, 5, 3), N)]),
    ("cdist_p1", lambda a, b: em.cdist(a, b, p=1), lambda a, b: T().cdist(a, b, p=1),
     [((4, 3), N), ((5, 3), N)]),
    ("dist", lambda a, b: em.dist(a, b, 3), lambda a, b: T().dist(a, b, 3),
     [((3, 4), N), ((4,), N)]),
    ("norm_fro", lambda a: a.norm(), lambda a: a.norm(), [((3, 4), N)]),
    ("norm_p1_dim", lambda a: em.norm(a, 1, dim=1, keepdim=True),
     lambda a: T().norm(a, 1, dim=1, keepdim=True), [((3, 4), N)]),
    ("norm_inf", lambda a: a.norm(float("inf")), lambda a: a.norm(float("inf")),
     [((3, 4), "distinct")]),
    ("norm_nuc", lambda a: em.norm(a, "nuc"), lambda a: T().norm(a, "nuc"), [((3, 4), N)]),
    ("det", lambda a: a.det(), lambda a: a.det(), [((2, 3, 3), N)]),
    ("logdet", lambda a: em.logdet(a), lambda a: T().logdet(a), [((3, 3), "spd")]),
    ("slogdet", lambda a: a.slogdet(), lambda a: a.slogdet(), [((3, 3), N)]),
    ("inverse", lambda a: a.inverse(), lambda a: a.inverse(), [((3, 3), "spd")]),
    ("pinverse", lambda a: a.pinverse(), lambda a: a.pinverse(), [((4, 3), N)]),
    ("matrix_power", lambda a: a.matrix_power(3), lambda a: a.matrix_power(3), [((3, 3), N)]),
    ("cholesky_old", lambda a: a.cholesky(), lambda a: a.cholesky(), [((3, 3), "spd")]),
    ("svd_old_values", lambda a: em.svd(a)[1], lambda a: T().svd(a)[1], [((4, 3), N)]),
    ("svd_old_reconstruct", lambda a: (lambda u, s, v: u @ em.diag(s) @ v.T)(*em.svd(a)),
     lambda a: (lambda u, s, v: u @ T().diag(s) @ v.T)(*T().svd(a)), [((4, 3), N)]),
    ("qr_old_product", lambda a: (lambda q, r: q @ r)(*em.qr(a)),
     lambda a: (lambda q, r: q @ r)(*T().qr(a)), [((4, 3), N)]),
]


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, theirs, specs)


EINSUM = [
    ("matmul", "ij,jk->ik", [(3, 4), (4, 5)]),
    ("implicit_matmul", "ij,jk", [(3, 4), (4, 2)]),
    ("trace", "ii", [(4, 4)]),
    ("diagonal", "ii->i", [(3, 3)]),
    ("diagonal_batch", "bii->bi", [(2, 3, 3)]),
    ("sum_axis", "ij->j", [(3, 4)]),
    ("sum_all", "ij->", [(3, 4)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("dot", "i,i->", [(5,), (5,)]),
    ("batch_matmul", "bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("transpose", "ij->ji", [(2, 3)]),
    ("three_operands", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bilinear", "bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ellipsis_matmul", "...ij,...jk->...ik", [(2, 3, 4), (1, 4, 5)]),
    ("ellipsis_implicit", "...ij", [(2, 3, 4)]),
    ("ellipsis_middle", "i...j,j->i...", [(2, 3, 4), (4,)]),
    ("attention_scores", "bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("spaces", "ij, jk -> ik", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("name,equation,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_matches_pytorch(torch, rng, name, equation, shapes):
    compare(torch, rng, name, lambda *xs: em.einsum(equation, *xs),
            lambda *xs: torch.einsum(equation, *xs), [(s, None) for s in shapes])


def test_einsum_operand_list_and_sublists(torch, rng):
    compare(torch, rng, "list", lambda a, b: em.einsum("ij,jk", [a, b]),
            lambda a, b: torch.einsum("ij,jk", [a, b]), [((2, 3), None), ((3, 4), None)])
    compare(torch, rng, "sublist", lambda a, b: em.einsum(a, [0, 1], b, [1, 2], [0, 2]),
            lambda a, b: torch.einsum(a, [0, 1], b, [1, 2], [0, 2]),
            [((2, 3), None), ((3, 4), None)])
    compare(torch, rng, "sublist_ellipsis", lambda a: em.einsum(a, [..., 0, 0], [..., 0]),
            lambda a: torch.einsum(a, [..., 0, 0], [..., 0]), [((2, 3, 3), None)])


@pytest.mark.parametrize("equation,shapes", [("ii->i", [(3, 3)]), ("ij,jk,kl->il",
                                             [(2, 3), (3, 2), (2, 2)]), ("iij->j", [(2, 2, 3)])])
def test_einsum_gradcheck(rng, equation, shapes):
    xs = [em.tensor(values(rng, s), dtype=em.float64, requires_grad=True) for s in shapes]
    assert gradcheck(lambda *a: em.einsum(equation, *a), tuple(xs))


def test_einsum_promotes_dtypes(torch):
    a, b = np.ones((2, 3), dtype=np.float32), np.ones((3,), dtype=np.int64)
    assert em.einsum("ij,j->i", em.tensor(a), em.tensor(b)).dtype == em.float32


def test_addmm_with_beta_zero_ignores_nan_input(torch):
    x = np.full((2, 2), np.nan)
    a, b = np.eye(2), np.ones((2, 2))
    out = em.addmm(em.tensor(x), em.tensor(a), em.tensor(b), beta=0)
    theirs = torch.addmm(torch.tensor(x), torch.tensor(a), torch.tensor(b), beta=0)
    np.testing.assert_array_equal(out.numpy(), theirs.numpy())


ERRORS = [
    ("bmm_not_3d", lambda m: m.bmm(m.ones(2, 3), m.ones(3, 2))),
    ("bmm_batch_mismatch", lambda m: m.bmm(m.ones(2, 3, 4), m.ones(3, 4, 2))),
    ("bmm_inner_mismatch", lambda m: m.bmm(m.ones(2, 3, 4), m.ones(2, 3, 2))),
    ("mv_mismatch", lambda m: m.mv(m.ones(2, 3), m.ones(2))),
    ("addmm_mismatch", lambda m: m.addmm(m.ones(2, 2), m.ones(2, 3), m.ones(2, 2))),
    ("vdot_matrices", lambda m: m.vdot(m.ones(2, 2), m.ones(2, 2))),
    ("trace_3d", lambda m: m.trace(m.ones(2, 2, 2))),
    ("tensordot_mismatch", lambda m: m.tensordot(m.ones(2, 3), m.ones(2, 3), 1)),
    ("einsum_bad_count", lambda m: m.einsum("ij,jk->ik", m.ones(2, 2))),
    ("einsum_size_mismatch", lambda m: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(2, 2))),
    ("cross_not_3", lambda m: m.linalg.cross(m.ones(2, 4), m.ones(2, 4))),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_runtime_errors(torch, name, call):
    raises_as_pytorch(torch, RuntimeError, call)
