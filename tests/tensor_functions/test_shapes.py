"""Shape functions against PyTorch in float64 (values, dtypes, gradients): triangles and
diagonals, roll/rot90/flips, repeat_interleave, unflatten/narrow/unfold, meshgrid,
movedim, tile, splits and stacks; view's contiguity rule and its error."""

from __future__ import annotations

import numpy as np
import pytest
from op_parity import compare, ids, raises_as_pytorch

import ember as em

N = None


def T():
    return __import__("torch")


CASES = [
    ("tril", em.tril, lambda a: a.tril(), [((3, 4), N)]),
    ("tril_offset_batch", lambda a: a.tril(-1), lambda a: a.tril(-1), [((2, 3, 4), N)]),
    ("triu_offset", lambda a: em.triu(a, 1), lambda a: a.triu(1), [((4, 3), N)]),
    ("diag_vector", em.diag, lambda a: T().diag(a), [((3,), N)]),
    ("diag_vector_offset", lambda a: em.diag(a, -2), lambda a: T().diag(a, -2), [((3,), N)]),
    ("diag_matrix_offset", lambda a: a.diag(1), lambda a: a.diag(1), [((3, 4), N)]),
    ("diagonal", lambda a: a.diagonal(), lambda a: a.diagonal(), [((3, 4), N)]),
    ("diagonal_dims_offset", lambda a: em.diagonal(a, -1, 2, 0),
     lambda a: a.diagonal(-1, 2, 0), [((3, 2, 4), N)]),
    ("diag_embed", em.diag_embed, lambda a: T().diag_embed(a), [((2, 3), N)]),
    ("diag_embed_offset_dims", lambda a: em.diag_embed(a, 1, 0, 2),
     lambda a: T().diag_embed(a, 1, 0, 2), [((2, 3), N)]),
    ("diagflat", lambda a: em.diagflat(a, 1), lambda a: T().diagflat(a, 1), [((2, 2), N)]),
    ("roll_flat", lambda a: em.roll(a, 2), lambda a: a.roll(2), [((3, 4), N)]),
    ("roll_dims", lambda a: a.roll((1, -2), (0, 1)), lambda a: a.roll((1, -2), (0, 1)),
     [((3, 4), N)]),
    ("rot90", lambda a: em.rot90(a), lambda a: a.rot90(), [((2, 3), N)]),
    ("rot90_k2_dims", lambda a: a.rot90(2, (1, 2)), lambda a: a.rot90(2, (1, 2)),
     [((2, 3, 4), N)]),
    ("rot90_k3", lambda a: em.rot90(a, 3), lambda a: a.rot90(3), [((2, 3), N)]),
    ("rot90_negative", lambda a: em.rot90(a, -1, (1, 0)), lambda a: a.rot90(-1, (1, 0)),
     [((2, 3), N)]),
    ("fliplr", em.fliplr, lambda a: a.fliplr(), [((2, 3), N)]),
    ("flipud", lambda a: a.flipud(), lambda a: a.flipud(), [((2, 3), N)]),
    ("repeat_interleave_int", lambda a: a.repeat_interleave(2), lambda a: a.repeat_interleave(2),
     [((2, 3), N)]),
    ("repeat_interleave_counts_dim", lambda a: a.repeat_interleave(em.tensor([1, 0, 3]), dim=1),
     lambda a: a.repeat_interleave(T().tensor([1, 0, 3]), dim=1), [((2, 3), N)]),
    ("unflatten", lambda a: a.unflatten(1, (2, -1)), lambda a: a.unflatten(1, (2, -1)),
     [((3, 6), N)]),
    ("narrow", lambda a: a.narrow(1, 1, 2), lambda a: a.narrow(1, 1, 2), [((3, 4), N)]),
    ("narrow_negative_start", lambda a: em.narrow(a, 0, -2, 2),
     lambda a: T().narrow(a, 0, -2, 2), [((3, 4), N)]),
    ("unfold_overlapping", lambda a: a.unfold(1, 3, 1), lambda a: a.unfold(1, 3, 1),
     [((2, 5), N)]),
    ("unfold_strided", lambda a: a.unfold(0, 2, 3), lambda a: a.unfold(0, 2, 3),
     [((8, 3), N)]),
    ("movedim", lambda a: em.movedim(a, 0, -1), lambda a: a.movedim(0, -1), [((2, 3, 4), N)]),
    ("movedim_tuples", lambda a: a.movedim((0, 1), (2, 0)), lambda a: a.movedim((0, 1), (2, 0)),
     [((2, 3, 4), N)]),
    ("moveaxis", lambda a: em.moveaxis(a, 2, 0), lambda a: a.moveaxis(2, 0), [((2, 3, 4), N)]),
    ("swapdims", lambda a: a.swapdims(0, 2), lambda a: a.swapdims(0, 2), [((2, 3, 4), N)]),
    ("tile_fewer", lambda a: a.tile((2,)), lambda a: a.tile((2,)), [((2, 3), N)]),
    ("tile_more", lambda a: em.tile(a, (2, 1, 2)), lambda a: a.tile((2, 1, 2)), [((2, 3), N)]),
    ("tile_varargs_method", lambda a: a.tile(2, 3), lambda a: a.tile(2, 3), [((2, 3), N)]),
    ("tensor_split_sections", lambda a: em.tensor_split(a, 3, 1),
     lambda a: a.tensor_split(3, 1), [((2, 7), N)]),
    ("tensor_split_indices", lambda a: a.tensor_split([1, 4, 10]),
     lambda a: a.tensor_split([1, 4, 10]), [((6, 2), N)]),
    ("hsplit", lambda a: em.hsplit(a, 2), lambda a: a.hsplit(2), [((3, 4), N)]),
    ("vsplit_indices", lambda a: a.vsplit([1]), lambda a: a.vsplit([1]), [((3, 4), N)]),
    ("dsplit", lambda a: a.dsplit(2), lambda a: a.dsplit(2), [((2, 2, 4), N)]),
    ("hstack", lambda a, b: em.hstack([a, b]), lambda a, b: T().hstack([a, b]),
     [((2, 3), N), ((2, 1), N)]),
    ("hstack_vectors", lambda a, b: em.hstack((a, b)), lambda a, b: T().hstack((a, b)),
     [((3,), N), ((2,), N)]),
    ("vstack", lambda a, b: em.vstack([a, b]), lambda a, b: T().vstack([a, b]),
     [((3,), N), ((2, 3), N)]),
    ("dstack", lambda a, b: em.dstack([a, b]), lambda a, b: T().dstack([a, b]),
     [((2, 3), N), ((2, 3), N)]),
    ("column_stack", lambda a, b: em.column_stack([a, b]),
     lambda a, b: T().column_stack([a, b]), [((3,), N), ((3, 2), N)]),
    ("atleast_3d", lambda a, b: em.atleast_3d(a, b), lambda a, b: T().atleast_3d(a, b),
     [((), N), ((3,), N)]),
    ("atleast_2d", em.atleast_2d, lambda a: T().atleast_2d(a), [((3,), N)]),
    ("ravel", lambda a: a.T.ravel(), lambda a: a.T.ravel(), [((2, 3), N)]),
    ("block_diag", lambda a, b, c: em.block_diag(a, b, c),
     lambda a, b, c: T().block_diag(a, b, c), [((2, 2), N), ((3,), N), ((), N)]),
    ("cartesian_prod", lambda a, b: em.cartesian_prod(a, b),
     lambda a, b: T().cartesian_prod(a, b), [((2,), N), ((3,), N)]),
    ("combinations", lambda a: em.combinations(a, 2), lambda a: T().combinations(a, 2),
     [((4,), N)]),
    ("combinations_with_replacement", lambda a: em.combinations(a, 3, with_replacement=True),
     lambda a: T().combinations(a, 3, with_replacement=True), [((3,), N)]),
    ("meshgrid_ij", lambda a, b: em.meshgrid(a, b, indexing="ij"),
     lambda a, b: T().meshgrid(a, b, indexing="ij"), [((2,), N), ((3,), N)]),
    ("meshgrid_xy_three", lambda a, b, c: em.meshgrid(a, b, c, indexing="xy"),
     lambda a, b, c: T().meshgrid(a, b, c, indexing="xy"), [((2,), N), ((3,), N), ((4,), N)]),
    ("view_after_transpose", lambda a: a.T.view(4, 3) * 2, lambda a: a.T.view(4, 3) * 2,
     [((3, 4), N)]),
    ("view_split_dimension", lambda a: a.T.view(2, 2, 3), lambda a: a.T.view(2, 2, 3),
     [((3, 4), N)]),
]


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=ids(CASES))
def test_matches_pytorch(torch, rng, name, ours, theirs, specs):
    compare(torch, rng, name, ours, theirs, specs)


def test_view_refuses_a_tensor_whose_memory_does_not_fit(torch):
    x, t = em.arange(12.0).reshape(3, 4).T, torch.arange(12.0).reshape(3, 4).T
    assert x.is_contiguous() is t.is_contiguous() is False
    for shape in ((12,), (2, 6), (-1,)):
        with pytest.raises(RuntimeError, match="reshape"):
            t.view(*shape)
        with pytest.raises(RuntimeError, match="reshape"):
            x.view(*shape)
        assert x.reshape(*shape).tolist() == t.reshape(*shape).tolist()
    y = x.contiguous()
    assert y.is_contiguous() and y.view(12).tolist() == t.contiguous().view(12).tolist()
    assert np.shares_memory(x.view(4, 3).numpy(), x.numpy())  # a view, as in PyTorch


def test_view_as_another_dtype(torch):
    x = em.tensor([1.0, -2.0], dtype=em.float32)
    assert x.view(em.int32).tolist() == torch.tensor([1.0, -2.0]).float().view(
        torch.int32).tolist()


def test_meshgrid_without_indexing_warns_and_uses_ij(torch):
    with pytest.warns(UserWarning, match="indexing"):
        a, b = em.meshgrid(em.tensor([1, 2]), em.tensor([3, 4, 5]))
    assert a.shape == b.shape == (2, 3) and a.tolist() == [[1, 1, 1], [2, 2, 2]]


def test_index_helpers(torch):
    for fn in ("tril_indices", "triu_indices"):
        for args in ((3, 3), (4, 3, 1), (3, 5, -1)):
            assert getattr(em, fn)(*args).tolist() == getattr(torch, fn)(*args).tolist()
    assert em.broadcast_shapes((3, 1), (2, 1, 4), 4) == tuple(torch.broadcast_shapes(
        (3, 1), (2, 1, 4), 4))
    counts = em.repeat_interleave(em.tensor([2, 0, 1]))
    assert counts.tolist() == torch.repeat_interleave(torch.tensor([2, 0, 1])).tolist()


ERRORS = [
    ("tril_1d", lambda m: m.tril(m.ones(3))),
    ("diagonal_same_dims", lambda m: m.diagonal(m.ones(2, 2), 0, 1, 1)),
    ("diag_3d", lambda m: m.diag(m.ones(2, 2, 2))),
    ("roll_mismatch", lambda m: m.roll(m.ones(2, 2), (1, 1), (0,))),
    ("rot90_same_dims", lambda m: m.rot90(m.ones(2, 2), 1, (0, 0))),
    ("unflatten_bad_sizes", lambda m: m.ones(2, 6).unflatten(1, (4, 2))),
    ("narrow_too_long", lambda m: m.ones(2, 3).narrow(1, 2, 2)),
    ("unfold_too_big", lambda m: m.ones(2, 3).unfold(1, 4, 1)),
    ("movedim_lengths", lambda m: m.movedim(m.ones(2, 3), (0, 1), (1,))),
    ("hsplit_not_divisible", lambda m: m.hsplit(m.ones(2, 3), 2)),
    ("repeat_interleave_counts", lambda m: m.ones(3).repeat_interleave(m.tensor([1, 2]))),
    ("meshgrid_indexing", lambda m: m.meshgrid(m.ones(2), indexing="ji")),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_runtime_errors(torch, name, call):
    raises_as_pytorch(torch, RuntimeError, call)
