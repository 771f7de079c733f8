"""MultiheadAttention: ``num_heads`` attentions in parallel (Vaswani et al., 2017).

A thin module over :func:`ember.nn.functional.multi_head_attention_forward`, with
PyTorch's parameters, names and initialisation, so a PyTorch state_dict loads key for key.
"""

from __future__ import annotations

from ember import creation, dtypes
from ember.devices import check_device
from ember.nn import functional as F
from ember.nn import init
from ember.nn.functional.attention import canonical_mask
from ember.nn.layers.linear import Linear
from ember.nn.module import Module, Parameter
from ember.tensor import Tensor

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear (``MultiheadAttention.out_proj``), under the class name PyTorch gives it."""


class MultiheadAttention(Module):
    r"""Multi-head attention: :math:`[\mathrm{head}_1; \dots; \mathrm{head}_h] W^O` with
    :math:`\mathrm{head}_i = \mathrm{softmax}(Q W_i^Q (K W_i^K)^T / \sqrt{d}) V W_i^V`.

    Args:
        embed_dim: E, the model's width (split into ``num_heads`` heads of E/num_heads).
        num_heads: h.
        dropout: dropout probability on the attention weights (in training).
        bias: biases on the input and output projections.
        add_bias_kv: learn a bias key and value appended to the sequence (``bias_k``,
            ``bias_v``).
        add_zero_attn: append a zero key and value.
        kdim, vdim: the keys' and values' widths (default E); when they differ from E the
            projections are ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``,
            otherwise one packed ``in_proj_weight`` (3E, E).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Shape:
        query (L, N, E), key (S, N, kdim), value (S, N, vdim) (or batch first, or
        unbatched (L, E)) -> output (L, N, E) and, with ``need_weights``, the weights
        (N, L, S) averaged over heads, or (N, h, L, S).

    Parameters are initialised as PyTorch's: Xavier-uniform projections, zero biases.

    >>> import ember as em
    >>> mha = em.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = em.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    >>> [name for name, _ in mha.named_parameters()]
    ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        check_device(device, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError("embed_dim must be divisible by num_heads")
        dtype = dtypes.as_dtype(dtype)

        def weight(*shape) -> Parameter:
            return Parameter(creation.empty(*shape, dtype=dtype))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = weight(embed_dim, embed_dim)
            self.k_proj_weight = weight(embed_dim, self.kdim)
            self.v_proj_weight = weight(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = weight(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        if bias:
            self.in_proj_bias = weight(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k, self.bias_v = weight(1, 1, embed_dim), weight(1, 1, embed_dim)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        """Attend from ``query`` to ``key``/``value``; returns (output, weights or None).

        ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N h, L, S): True (or
        -inf) where attention is not allowed; float masks are added to the scores.
        """
        batched = query.ndim == 3
        key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
        attn_mask = canonical_mask(attn_mask, "attn_mask", query.dtype)
        if self.batch_first and batched:  # keep `key is value` (self-attention) visible
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        output, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if self.batch_first and batched:
            return output.transpose(1, 0), weights
        return output, weights

    def extra_repr(self) -> str:
        return ""
