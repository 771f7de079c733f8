"""Every differentiable op against PyTorch in float64: forward values and every gradient.

One row per case: a name, the ember function, the PyTorch function (same arguments) and
the input shapes (with a value generator where the op needs a restricted domain). Each
row is also checked by ember's own gradcheck, so an op and its VJP are verified twice.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close, gradcheck

pos = "positive"  # inputs bounded away from 0 (log, sqrt, division, pow base)
gt1 = "greater than -1"  # log1p


def _values(rng, shape, domain):
    if domain == pos:
        return rng.uniform(0.5, 2.0, shape)
    if domain == gt1:
        return rng.uniform(-0.5, 2.0, shape)
    if domain == "distinct":  # no ties, so max/min/sort have one answer
        return rng.permutation(np.prod(shape, dtype=int)).reshape(shape) / 7.0 - 1.0
    return rng.standard_normal(shape)


# (id, ember fn, torch fn, [(shape, domain), ...])
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [((3, 4), None), ((3, 4), None)]),
    ("add_broadcast", lambda a, b: a + b, lambda a, b: a + b, [((2, 3, 4), None), ((3, 1), None)]),
    ("add_scalar_tensor", lambda a, b: a + b, lambda a, b: a + b, [((3,), None), ((), None)]),
    ("add_alpha", lambda a, b: em.add(a, b, alpha=2.5), lambda a, b: a.add(b, alpha=2.5),
     [((4,), None), ((4,), None)]),
    ("radd_python", lambda a: 2.0 + a, lambda a: 2.0 + a, [((3,), None)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [((2, 3), None), ((1, 3), None)]),
    ("rsub_python", lambda a: 1.5 - a, lambda a: 1.5 - a, [((3,), None)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [((4, 1, 3), None), ((2, 3), None)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [((3, 4), None), ((4,), pos)]),
    ("rdiv_python", lambda a: 2.0 / a, lambda a: 2.0 / a, [((3,), pos)]),
    ("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, [((3, 2), pos), ((3, 2), None)]),
    ("pow_int", lambda a: a**3, lambda a: a**3, [((5,), None)]),
    ("pow_half", lambda a: a**0.5, lambda a: a**0.5, [((5,), pos)]),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [((5,), None)]),
    ("neg", lambda a: -a, lambda a: -a, [((2, 2), None)]),
    ("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, [((3, 4), None), ((4, 5), None)]),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b,
     [((2, 3, 4), None), ((2, 4, 5), None)]),
    ("matmul_broadcast", lambda a, b: a @ b, lambda a, b: a @ b,
     [((2, 1, 3, 4), None), ((5, 4, 2), None)]),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda a, b: a @ b, [((2, 3, 4), None), ((4,), None)]),
    ("matmul_vec_mat", lambda a, b: a @ b, lambda a, b: a @ b, [((4,), None), ((2, 4, 3), None)]),
    ("matmul_vec_vec", lambda a, b: a @ b, lambda a, b: a @ b, [((4,), None), ((4,), None)]),
    ("exp", em.exp, lambda a: a.exp(), [((3, 4), None)]),
    ("log", em.log, lambda a: a.log(), [((3, 4), pos)]),
    ("log1p", em.log1p, lambda a: a.log1p(), [((3, 4), gt1)]),
    ("sqrt", em.sqrt, lambda a: a.sqrt(), [((3, 4), pos)]),
    ("rsqrt", em.rsqrt, lambda a: a.rsqrt(), [((3, 4), pos)]),
    ("abs", em.abs, lambda a: a.abs(), [((3, 4), None)]),
    ("sin", em.sin, lambda a: a.sin(), [((6,), None)]),
    ("cos", em.cos, lambda a: a.cos(), [((6,), None)]),
    ("square", em.square, lambda a: a.square(), [((6,), None)]),
    ("clamp", lambda a: em.clamp(a, -0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [((4, 5), None)]),
    ("clamp_min", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), [((4, 5), None)]),
    ("clip_max", lambda a: em.clip(a, max=0.2), lambda a: a.clip(max=0.2), [((4, 5), None)]),
    ("sigmoid", em.sigmoid, lambda a: a.sigmoid(), [((3, 4), None)]),
    ("tanh", em.tanh, lambda a: a.tanh(), [((3, 4), None)]),
    ("relu", em.relu, lambda a: a.relu(), [((3, 4), None)]),
    ("maximum", em.maximum, lambda a, b: a.maximum(b), [((3, 4), None), ((4,), None)]),
    ("minimum", em.minimum, lambda a, b: a.minimum(b), [((3, 4), None), ((3, 1), None)]),
    ("where", lambda a, b: em.where(a > 0, a, b), lambda a, b: a.where(a > 0, b),
     [((3, 4), None), ((4,), None)]),
    ("masked_fill", lambda a: a.masked_fill(a < 0, 0.5), lambda a: a.masked_fill(a < 0, 0.5),
     [((3, 4), None)]),
    ("sum_all", lambda a: a.sum(), lambda a: a.sum(), [((3, 4), None)]),
    ("sum_dim", lambda a: a.sum(dim=1), lambda a: a.sum(dim=1), [((3, 4, 2), None)]),
    ("sum_dims_keep", lambda a: a.sum(dim=(0, 2), keepdim=True),
     lambda a: a.sum(dim=(0, 2), keepdim=True), [((3, 4, 2), None)]),
    ("sum_axis_alias", lambda a: em.sum(a, axis=-1, keepdims=True),
     lambda a: a.sum(dim=-1, keepdim=True), [((3, 4), None)]),
    ("mean_all", lambda a: a.mean(), lambda a: a.mean(), [((3, 4), None)]),
    ("mean_dim", lambda a: a.mean(1), lambda a: a.mean(1), [((3, 4, 5), None)]),
    ("var_all", lambda a: a.var(), lambda a: a.var(), [((3, 4), None)]),
    ("var_dim_biased", lambda a: a.var(dim=0, correction=0), lambda a: a.var(dim=0, correction=0),
     [((5, 3), None)]),
    ("var_unbiased_keep", lambda a: a.var(1, unbiased=True, keepdim=True),
     lambda a: a.var(1, unbiased=True, keepdim=True), [((4, 6), None)]),
    ("std_all", lambda a: a.std(), lambda a: a.std(), [((3, 4), None)]),
    ("std_dim", lambda a: a.std(dim=(0, 1)), lambda a: a.std(dim=(0, 1)), [((3, 4, 2), None)]),
    ("max_all", lambda a: a.max(), lambda a: a.max(), [((3, 4), "distinct")]),
    ("min_all", lambda a: a.min(), lambda a: a.min(), [((3, 4), "distinct")]),
    ("max_dim", lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values,
     [((3, 4), "distinct")]),
    ("min_dim_keep", lambda a: a.min(dim=0, keepdim=True)[0],
     lambda a: a.min(dim=0, keepdim=True)[0], [((3, 4), "distinct")]),
    ("max_binary", lambda a, b: em.max(a, b), lambda a, b: a.max(b), [((3,), None), ((3,), None)]),
    ("amax", lambda a: a.amax(dim=(1, 2)), lambda a: a.amax(dim=(1, 2)), [((2, 3, 4), "distinct")]),
    ("amin", lambda a: em.amin(a, 0), lambda a: a.amin(0), [((3, 4), "distinct")]),
    ("logsumexp", lambda a: a.logsumexp(dim=1), lambda a: a.logsumexp(dim=1), [((3, 5), None)]),
    ("softmax", lambda a: a.softmax(dim=-1), lambda a: a.softmax(dim=-1), [((3, 5), None)]),
    ("softmax_dim0", lambda a: em.softmax(a, dim=0), lambda a: a.softmax(dim=0),
     [((3, 5, 2), None)]),
    ("log_softmax", lambda a: a.log_softmax(dim=1), lambda a: a.log_softmax(dim=1),
     [((4, 6), None)]),
    ("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), [((2, 3, 4), None)]),
    ("view_tuple", lambda a: a.view((6, 4)), lambda a: a.view((6, 4)), [((2, 3, 4), None)]),
    ("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), [((2, 3, 4), None)]),
    ("flatten_range", lambda a: em.flatten(a, 0, 1), lambda a: a.flatten(0, 1),
     [((2, 3, 4), None)]),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [((2, 3, 4), None)]),
    ("T", lambda a: a.T, lambda a: a.T, [((2, 3), None)]),
    ("mT", lambda a: a.mT, lambda a: a.mT, [((2, 3, 4), None)]),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [((2, 3, 4), None)]),
    ("squeeze", lambda a: a.squeeze(), lambda a: a.squeeze(), [((2, 1, 3, 1), None)]),
    ("squeeze_dim", lambda a: a.squeeze(1), lambda a: a.squeeze(1), [((2, 1, 3, 1), None)]),
    ("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [((2, 3), None)]),
    ("expand", lambda a: a.expand(4, -1, 3), lambda a: a.expand(4, -1, 3), [((2, 1), None)]),
    ("broadcast_to", lambda a: em.broadcast_to(a, (2, 3, 4)),
     lambda a: a.broadcast_to((2, 3, 4)), [((3, 1), None)]),
    ("repeat", lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [((2, 3), None)]),
    ("flip", lambda a: a.flip((0, 2)), lambda a: a.flip((0, 2)), [((2, 3, 4), None)]),
    ("getitem_int", lambda a: a[1], lambda a: a[1], [((3, 4), None)]),
    ("getitem_slices", lambda a: a[1:, ::2, None], lambda a: a[1:, ::2, None], [((3, 5), None)]),
    ("getitem_negative_step_free", lambda a: a[..., -1], lambda a: a[..., -1], [((2, 3, 4), None)]),
    ("getitem_int_array_repeats", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]],
     [((3, 4), None)]),
    ("getitem_2d_arrays", lambda a: a[em.tensor([0, 1, 1]), em.tensor([2, 2, 0])],
     lambda a: a[[0, 1, 1], [2, 2, 0]], [((3, 4), None)]),
    ("getitem_bool_mask", lambda a: a[a > 0], lambda a: a[a > 0], [((4, 5), None)]),
    ("getitem_mixed", lambda a: a[1:, [0, 0, 3]], lambda a: a[1:, [0, 0, 3]], [((3, 4), None)]),
    ("gather", lambda a: a.gather(1, em.tensor([[0, 0], [1, 0], [2, 1]])),
     lambda a: a.gather(1, __import__("torch").tensor([[0, 0], [1, 0], [2, 1]])),
     [((3, 3), None)]),
    ("cat", lambda a, b: em.cat([a, b], dim=1), lambda a, b: __import__("torch").cat([a, b], 1),
     [((2, 3), None), ((2, 5), None)]),
    ("cat_same_tensor", lambda a: em.cat([a, a * 2, a], dim=0),
     lambda a: __import__("torch").cat([a, a * 2, a], 0), [((2, 3), None)]),
    ("stack", lambda a, b: em.stack([a, b], dim=1), lambda a, b: __import__("torch").stack([a, b], 1),
     [((2, 3), None), ((2, 3), None)]),
    ("split", lambda a: em.split(a, 2, dim=1)[1] * 3 + em.split(a, [1, 3], dim=1)[0].sum(),
     lambda a: a.split(2, dim=1)[1] * 3 + a.split([1, 3], dim=1)[0].sum(), [((3, 4), None)]),
    ("chunk", lambda a: a.chunk(3, dim=0)[2], lambda a: a.chunk(3, dim=0)[2], [((7, 2), None)]),
    ("unbind", lambda a: a.unbind(1)[2], lambda a: a.unbind(1)[2], [((2, 3), None)]),
    ("pad_constant", lambda a: em.pad(a, (1, 2, 0, 1), value=0.5),
     lambda a: __import__("torch").nn.functional.pad(a, (1, 2, 0, 1), value=0.5),
     [((2, 3, 4), None)]),
    ("pad_reflect", lambda a: em.pad(a, (2, 1, 1, 2), mode="reflect"),
     lambda a: __import__("torch").nn.functional.pad(a, (2, 1, 1, 2), mode="reflect"),
     [((1, 2, 3, 4), None)]),
    ("pad_replicate", lambda a: em.pad(a, (2, 3), mode="replicate"),
     lambda a: __import__("torch").nn.functional.pad(a, (2, 3), mode="replicate"),
     [((2, 3, 4), None)]),
    ("pad_circular", lambda a: em.pad(a, (1, 2, 2, 0), mode="circular"),
     lambda a: __import__("torch").nn.functional.pad(a, (1, 2, 2, 0), mode="circular"),
     [((1, 2, 3, 4), None)]),
    ("clone", lambda a: a.clone() * 2, lambda a: a.clone() * 2, [((3,), None)]),
    ("float32_roundtrip", lambda a: a.float().double() * 2, lambda a: a.float().double() * 2,
     [((3,), None)]),
    ("composite", lambda a, b: ((a @ b).tanh() * a.sum(1, keepdim=True)).softmax(1).log(),
     lambda a, b: ((a @ b).tanh() * a.sum(1, keepdim=True)).softmax(1).log(),
     [((3, 4), None), ((4, 2), None)]),
]


def _inputs(torch, rng, specs):
    arrays = [_values(rng, shape, domain) for shape, domain in specs]
    ours = [em.tensor(a, dtype=em.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return ours, theirs


@pytest.mark.parametrize("name,ours,theirs,specs", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradients_match_pytorch(torch, rng, name, ours, theirs, specs):
    xs, ts = _inputs(torch, rng, specs)
    y, ty = ours(*xs), theirs(*ts)
    assert_close(y, ty, name=f"{name} forward")
    assert y.dtype == em.float64
    cotangent = rng.standard_normal(tuple(ty.shape))
    y.backward(em.tensor(cotangent, dtype=em.float64))
    ty.backward(torch.tensor(cotangent))
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        expected = t.grad if t.grad is not None else torch.zeros_like(t)
        assert x.grad is not None, f"{name}: input {i} got no gradient"
        assert_close(x.grad, expected, name=f"{name} gradient of input {i}")


# rounding to float32 inside the function makes finite differences meaningless
NOT_FINITE_DIFFERENTIABLE = {"float32_roundtrip"}


@pytest.mark.parametrize(
    "name,ours,theirs,specs",
    [c for c in CASES if c[0] not in NOT_FINITE_DIFFERENTIABLE],
    ids=[c[0] for c in CASES if c[0] not in NOT_FINITE_DIFFERENTIABLE],
)
def test_gradcheck(rng, name, ours, theirs, specs):
    arrays = [_values(rng, shape, domain) for shape, domain in specs]
    xs = [em.tensor(a, dtype=em.float64, requires_grad=True) for a in arrays]
    assert gradcheck(ours, tuple(xs))
