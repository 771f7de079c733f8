"""Attention (Vaswani et al., 2017, "Attention Is All You Need"): scaled dot-product
attention and multi-head attention, composed from matmul, softmax and linear.

.. math:: \\mathrm{Attention}(Q, K, V) = \\mathrm{softmax}\\!\\left(\\frac{Q K^T}{\\sqrt{d_k}}
          + M\\right) V

Each query (a row of Q) takes a weighted average of the values, weighted by how well it
matches each key; the mask M adds -inf where a query must not look (a causal mask hides
later positions, a padding mask hides padding). Multi-head attention projects the
inputs into ``num_heads`` smaller spaces, attends in each, and projects the concatenated
results back:

.. math:: \\mathrm{MultiHead}(Q, K, V) = [\\mathrm{head}_1; \\dots; \\mathrm{head}_h] W^O,
          \\quad \\mathrm{head}_i = \\mathrm{Attention}(Q W_i^Q, K W_i^K, V W_i^V)

The gradients come from the primitives they are composed of. Masks follow PyTorch: for
``scaled_dot_product_attention`` a bool mask is True where a query *may* attend; for
``multi_head_attention_forward`` (and ``nn.MultiheadAttention``) a bool mask is True where
it may *not*; float masks are added to the scores in both.
"""

from __future__ import annotations

import math

import numpy as np

from ember import functions as em
from ember.errors import ShapeError
from ember.nn.functional.dropout import dropout
from ember.nn.functional.linear import linear
from ember.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + M) V over the last two dimensions, batched over the rest.

    Args:
        query: (..., L, E).
        key: (..., S, E).
        value: (..., S, Ev).
        attn_mask: broadcastable to (..., L, S): bool (True where a query may attend) or
            float (added to the scores).
        dropout_p: dropout probability on the attention weights (applied whenever > 0,
            as in PyTorch: pass 0 in evaluation).
        is_causal: query i attends to keys 0..i only (the top-left triangle); excludes
            ``attn_mask``.
        scale: the scores' factor (default 1/sqrt(E)).
        enable_gqa: grouped-query attention: key and value have fewer heads (dimension
            -3), each shared by ``Hq / Hkv`` consecutive query heads.

    Returns:
        (..., L, Ev). A query whose every key is masked gets zeros (PyTorch's "safe"
        softmax), not NaN.

    >>> import ember as em
    >>> q = em.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> v = em.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    >>> em.nn.functional.scaled_dot_product_attention(q, q, v, is_causal=True)
    tensor([[[1.0000, 2.0000],
             [2.3395, 3.3395]]])
    """
    L, S, E = query.shape[-2], key.shape[-2], query.shape[-1]
    if key.shape[-1] != E:
        raise ShapeError(f"scaled_dot_product_attention: query {tuple(query.shape)} and key "
                         f"{tuple(key.shape)} must have the same last dimension")
    if enable_gqa:
        key, value = _repeat_heads(query, key), _repeat_heads(query, value)
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    scores = em.matmul(query, em.transpose(key, -2, -1)) * scale
    masked = False
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: an explicit attn_mask should "
                               "not be set when is_causal=True")
        attn_mask, masked = Tensor._wrap(np.tril(np.ones((L, S), dtype=bool))), True
    if attn_mask is not None:
        if attn_mask.dtype == bool:
            scores = em.where(attn_mask, scores, -math.inf)
            masked = True
        else:
            scores = scores + attn_mask
            masked = masked or bool(np.isneginf(attn_mask._data).any())
    weights = _safe_softmax(scores) if masked else em.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return em.matmul(weights, value)


def _repeat_heads(query: Tensor, kv: Tensor) -> Tensor:
    """Key or value heads (dimension -3) each repeated for its group of query heads."""
    heads, kv_heads = query.shape[-3], kv.shape[-3]
    if heads % kv_heads:
        raise ShapeError(f"scaled_dot_product_attention: {heads} query heads cannot be shared "
                         f"among {kv_heads} key/value heads (enable_gqa)")
    group = heads // kv_heads
    shape = kv.shape
    expanded = em.expand(em.unsqueeze(kv, -3), *shape[:-2], group, *shape[-2:])
    return em.reshape(expanded, *shape[:-3], heads, *shape[-2:])


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the last dimension, with zeros for a row that is all -inf."""
    dead = em.all(scores == -math.inf, dim=-1, keepdim=True)
    if not dead._data.any():
        return em.softmax(scores, dim=-1)
    weights = em.softmax(em.where(dead, 0.0, scores), dim=-1)
    return em.where(dead, 0.0, weights)


def canonical_mask(mask, name: str, dtype) -> Tensor | None:
    """A bool mask (True = masked) as a float one (-inf = masked), as PyTorch's
    ``_canonical_mask``; a float mask as it is."""
    if mask is None:
        return None
    if mask.dtype == bool:
        return Tensor._wrap(np.where(mask._data, -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got "
                        f"{mask.dtype}")
    return mask


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn: bool,
        dropout_p: float, out_proj_weight: Tensor, out_proj_bias, training: bool = True,
        key_padding_mask=None, need_weights: bool = True, attn_mask=None,
        use_separate_proj_weight: bool = False, q_proj_weight=None, k_proj_weight=None,
        v_proj_weight=None, static_k=None, static_v=None, average_attn_weights: bool = True,
        is_causal: bool = False):
    """Multi-head attention of sequence-first inputs, as ``torch.nn.functional``'s.

    Args:
        query: (L, N, E) or unbatched (L, E).
        key, value: (S, N, kdim) and (S, N, vdim), or unbatched.
        key_padding_mask: (N, S); True (or -inf) marks keys to ignore (padding).
        attn_mask: (L, S) or (N * num_heads, L, S); True (or -inf) marks pairs to hide.
        need_weights: also return the attention weights, averaged over the heads unless
            ``average_attn_weights=False``: (N, L, S) or (N, num_heads, L, S).
        is_causal: a hint that ``attn_mask`` is the causal mask (which must be given).

    Returns:
        (attn_output (L, N, E), attn_weights or None).
    """
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = (em.unsqueeze(t, 1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = em.unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    attn_mask = canonical_mask(attn_mask, "attn_mask", query.dtype)
    if embed_dim != embed_dim_to_check:
        raise ShapeError(f"multi_head_attention_forward: was expecting embedding dimension of "
                         f"{embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ShapeError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias,
                             use_separate_proj_weight, q_proj_weight, k_proj_weight,
                             v_proj_weight)
    src_len = k.shape[0]
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ShapeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, "
                                 f"but should be {(tgt_len, src_len)}.")
            attn_mask = em.unsqueeze(attn_mask, 0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise ShapeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but "
                             f"should be {(bsz * num_heads, tgt_len, src_len)}.")
    if bias_k is not None and bias_v is not None:
        k = em.cat([k, em.repeat(bias_k, 1, bsz, 1)])
        v = em.cat([v, em.repeat(bias_v, 1, bsz, 1)])
        attn_mask = None if attn_mask is None else em.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else em.pad(key_padding_mask, (0, 1))
    q = em.transpose(em.reshape(q, tgt_len, bsz * num_heads, head_dim), 0, 1)
    k = static_k if static_k is not None else em.transpose(
        em.reshape(k, k.shape[0], bsz * num_heads, head_dim), 0, 1)
    v = static_v if static_v is not None else em.transpose(
        em.reshape(v, v.shape[0], bsz * num_heads, head_dim), 0, 1)
    if add_zero_attn:
        zeros = Tensor._wrap(np.zeros((bsz * num_heads, 1, head_dim), k.dtype))
        k, v = em.cat([k, zeros], dim=1), em.cat([v, zeros], dim=1)
        attn_mask = None if attn_mask is None else em.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else em.pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ShapeError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                             f"{tuple(key_padding_mask.shape)}")
        padding = em.reshape(em.expand(em.reshape(key_padding_mask, bsz, 1, 1, src_len),
                                       bsz, num_heads, 1, src_len), bsz * num_heads, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = em.matmul(q * math.sqrt(1.0 / head_dim), em.transpose(k, -2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = em.softmax(scores, dim=-1)  # as PyTorch: all-masked rows give NaN here
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        output = em.matmul(weights, v)
        output = em.reshape(em.transpose(output, 0, 1), tgt_len * bsz, embed_dim)
        output = em.reshape(linear(output, out_proj_weight, out_proj_bias), tgt_len, bsz, -1)
        weights = em.reshape(weights, bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = em.mean(weights, dim=1)
        if not batched:
            output, weights = em.squeeze(output, 1), em.squeeze(weights, 0)
        return output, weights
    if attn_mask is not None:
        attn_mask = (em.unsqueeze(attn_mask, 0) if attn_mask.shape[0] == 1
                     else em.reshape(attn_mask, bsz, num_heads, -1, src_len))
    q = em.reshape(q, bsz, num_heads, tgt_len, head_dim)
    k = em.reshape(k, bsz, num_heads, src_len, head_dim)
    v = em.reshape(v, bsz, num_heads, src_len, head_dim)
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p)
    output = em.reshape(em.permute(output, 2, 0, 1, 3), bsz * tgt_len, embed_dim)
    output = em.reshape(linear(output, out_proj_weight, out_proj_bias), tgt_len, bsz, -1)
    if not batched:
        output = em.squeeze(output, 1)
    return output, None


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched (3-d) or not (2-d); a ShapeError if they disagree."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise ShapeError(f"For batched (3-D) query, expected key and value to be 3-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise ShapeError(f"For batched (3-D) query, expected key_padding_mask to be None "
                             f"or 2-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise ShapeError(f"For batched (3-D) query, expected attn_mask to be None, 2-D or "
                             f"3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise ShapeError(f"For unbatched (2-D) query, expected key and value to be 2-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise ShapeError(f"For unbatched (2-D) query, expected key_padding_mask to be None "
                             f"or 1-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim == 3 and attn_mask.shape[0] != num_heads:
            raise ShapeError(f"Expected attn_mask shape to be {(num_heads,) + query.shape[:1]}"
                             f" + (S,) but got {tuple(attn_mask.shape)}")
        return False
    raise ShapeError(f"query should be unbatched 2D or batched 3D tensor but received "
                     f"{query.ndim}-D query tensor")


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate, q_weight,
                   k_weight, v_weight):
    """Q W_q^T + b_q, K W_k^T + b_k, V W_v^T + b_v; with one packed (3E, E) weight, the
    three are rows of it (self-attention projects once and splits)."""
    biases = (None, None, None) if in_proj_bias is None else em.chunk(in_proj_bias, 3)
    if separate:
        return tuple(linear(x, w, b) for x, w, b in
                     zip((query, key, value), (q_weight, k_weight, v_weight), biases,
                         strict=True))
    if query is key and key is value:  # self-attention: one product for q, k and v
        packed = linear(query, in_proj_weight, in_proj_bias)
        return em.chunk(packed, 3, dim=-1)
    weights = em.chunk(in_proj_weight, 3)
    return tuple(linear(x, w, b) for x, w, b in
                 zip((query, key, value), weights, biases, strict=True))
