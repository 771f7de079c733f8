"""Attention against PyTorch in float64: scaled_dot_product_attention and
nn.MultiheadAttention (loaded from a PyTorch state_dict), outputs, weights and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close

TOL = dict(rtol=1e-10, atol=1e-12)


def _pair(torch, rng, *shape, requires_grad=True):
    values = rng.standard_normal(shape)
    return (torch.tensor(values, requires_grad=requires_grad),
            em.tensor(values, requires_grad=requires_grad))


SDPA_CASES = {
    "plain": dict(),
    "scale": dict(scale=0.3),
    "causal": dict(is_causal=True),
    "bool_mask": dict(mask="bool"),
    "float_mask": dict(mask="float"),
    "fully_masked_row": dict(mask="dead"),
    "gqa": dict(enable_gqa=True),
}


@pytest.mark.parametrize("case", sorted(SDPA_CASES))
def test_scaled_dot_product_attention_matches_pytorch(torch, rng, case):
    options = dict(SDPA_CASES[case])
    heads_kv = 1 if options.get("enable_gqa") else 2
    (tq, q), (tk, k), (tv, v) = (_pair(torch, rng, 2, 2, 4, 3), _pair(torch, rng, 2, heads_kv, 5, 3),
                                 _pair(torch, rng, 2, heads_kv, 5, 6))
    mask = options.pop("mask", None)
    tm = m = None
    if mask == "bool":
        values = rng.random((4, 5)) > 0.3
        values[:, 0] = True
        tm, m = torch.tensor(values), em.tensor(values)
    elif mask == "float":
        values = rng.standard_normal((2, 1, 4, 5))
        tm, m = torch.tensor(values), em.tensor(values)
    elif mask == "dead":
        values = np.ones((4, 5), bool)
        values[1] = False  # query 1 may attend to nothing: zeros, not NaN
        tm, m = torch.tensor(values), em.tensor(values)
    F = torch.nn.functional
    expected = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm, **options)
    actual = em.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **options)
    assert_close(actual, expected, **TOL)
    weights = rng.standard_normal(expected.shape)
    (expected * torch.tensor(weights)).sum().backward()
    (actual * em.tensor(weights)).sum().backward()
    for ours, theirs in ((q, tq), (k, tk), (v, tv)):
        assert_close(ours.grad, theirs.grad, **TOL)


def test_scaled_dot_product_attention_dropout_and_errors(torch):
    q = em.ones(1, 3, 4)
    out = em.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    assert np.all(out.numpy() == 0)  # every weight dropped, as in PyTorch
    em.manual_seed(0)
    half = em.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert set(np.round(half.numpy().ravel(), 6)) <= {0.0, round(2 / 3, 6), round(4 / 3, 6),
                                                         2.0}
    for fw in (torch, em):
        x = fw.ones(1, 3, 4)
        with pytest.raises(RuntimeError):
            fw.nn.functional.scaled_dot_product_attention(x, x, x, attn_mask=fw.ones(3, 3),
                                                          is_causal=True)


MHA_CASES = {
    "self": dict(),
    "batch_first": dict(module=dict(batch_first=True)),
    "kdim_vdim": dict(module=dict(kdim=5, vdim=7)),
    "bias_kv_zero_attn": dict(module=dict(add_bias_kv=True, add_zero_attn=True)),
    "no_bias": dict(module=dict(bias=False)),
    "padding_mask_bool": dict(call=dict(key_padding_mask="bool")),
    "padding_mask_float": dict(call=dict(key_padding_mask="float")),
    "attn_mask_2d_bool": dict(call=dict(attn_mask="bool2d")),
    "attn_mask_3d_float_per_head": dict(call=dict(attn_mask="float3d", average=False)),
    "no_weights": dict(call=dict(need_weights=False, key_padding_mask="bool")),
    "causal_hint": dict(call=dict(attn_mask="causal", is_causal=True, need_weights=False)),
    "cross_attention": dict(call=dict(cross=True)),
    "unbatched": dict(call=dict(unbatched=True, key_padding_mask="bool1d")),
}


def _mha_inputs(torch, rng, case, E=8, H=2, L=4, S=5, N=3):
    module = MHA_CASES[case].get("module", {})
    call = dict(MHA_CASES[case].get("call", {}))
    batch_first, unbatched = module.get("batch_first", False), call.pop("unbatched", False)
    kdim, vdim = module.get("kdim", E), module.get("vdim", E)
    cross = call.pop("cross", False) or "kdim" in module

    def shape(length, width):
        if unbatched:
            return (length, width)
        return (N, length, width) if batch_first else (length, N, width)

    q = _pair(torch, rng, *shape(L, E))
    if cross:
        k, v = _pair(torch, rng, *shape(S, kdim)), _pair(torch, rng, *shape(S, vdim))
        src = S
    else:
        k = v = q
        src = L
    masks = {}
    kind = call.pop("key_padding_mask", None)
    if kind in ("bool", "bool1d"):
        values = rng.random((src,) if kind == "bool1d" else (N, src)) > 0.7
        values[..., 0] = False
        masks["key_padding_mask"] = (torch.tensor(values), em.tensor(values))
    elif kind == "float":
        values = rng.standard_normal((N, src))
        masks["key_padding_mask"] = (torch.tensor(values), em.tensor(values))
    kind = call.pop("attn_mask", None)
    if kind == "bool2d":
        values = rng.random((L, src)) > 0.7
        values[:, 0] = False
        masks["attn_mask"] = (torch.tensor(values), em.tensor(values))
    elif kind == "float3d":
        values = rng.standard_normal((N * H, L, src))
        masks["attn_mask"] = (torch.tensor(values), em.tensor(values))
    elif kind == "causal":
        values = np.triu(np.full((L, L), -np.inf), 1)
        masks["attn_mask"] = (torch.tensor(values), em.tensor(values))
    if call.pop("average", True) is False:
        call["average_attn_weights"] = False
    return module, (q, k, v), masks, call


@pytest.mark.parametrize("case", sorted(MHA_CASES))
def test_multihead_attention_matches_pytorch(torch, rng, case):
    module, (q, k, v), masks, call = _mha_inputs(torch, rng, case)
    theirs = torch.nn.MultiheadAttention(8, 2, **module)
    ours = em.nn.MultiheadAttention(8, 2, dtype=em.float64, **module)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    t_out, t_weights = theirs(q[0], k[0], v[0], **{n: m[0] for n, m in masks.items()}, **call)
    e_out, e_weights = ours(q[1], k[1], v[1], **{n: m[1] for n, m in masks.items()}, **call)
    assert_close(e_out, t_out, **TOL)
    assert (e_weights is None) == (t_weights is None)
    if t_weights is not None:
        assert_close(e_weights, t_weights, **TOL)
    direction = rng.standard_normal(t_out.shape)
    loss_t = (t_out * torch.tensor(direction)).sum()
    loss_e = (e_out * em.tensor(direction)).sum()
    if t_weights is not None:
        loss_t = loss_t + (t_weights ** 2).sum()
        loss_e = loss_e + (e_weights ** 2).sum()
    loss_t.backward()
    loss_e.backward()
    for (name, tp), (_, ep) in zip(theirs.named_parameters(), ours.named_parameters(),
                                   strict=True):
        assert_close(ep.grad, tp.grad, name=name, **TOL)
    for pair in {id(x[0]): x for x in (q, k, v)}.values():
        assert_close(pair[1].grad, pair[0].grad, **TOL)


def test_multihead_attention_repr_init_and_errors(torch):
    mha = em.nn.MultiheadAttention(8, 2)
    assert repr(mha) == repr(torch.nn.MultiheadAttention(8, 2))
    assert np.all(mha.in_proj_bias.detach().numpy() == 0)
    assert np.all(mha.out_proj.bias.detach().numpy() == 0)
    bound = math.sqrt(6 / (8 + 24))  # Xavier-uniform over the packed (3E, E) weight
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    with pytest.raises(ValueError, match="divisible"):
        em.nn.MultiheadAttention(8, 3)
    x = em.ones(4, 2, 8)
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=em.zeros(3, 3))
    with pytest.raises(RuntimeError):
        mha(x, x, em.ones(4, 2, 5))
