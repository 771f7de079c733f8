"""The Transformer (Vaswani et al., 2017): encoder and decoder layers and stacks, with
PyTorch's structure, parameter names and defaults, so a PyTorch state_dict loads key for key.

An encoder layer is self-attention then a position-wise feed-forward network, each
wrapped in a residual connection and layer normalisation; a decoder layer puts
cross-attention to the encoder's output (``memory``) between them. Post-norm (the paper,
and the default) normalises after each residual sum; pre-norm (``norm_first=True``)
normalises each block's input instead:

.. math::
    \\text{post-norm: } x \\leftarrow \\mathrm{LN}(x + \\mathrm{Block}(x)) \\qquad
    \\text{pre-norm: } x \\leftarrow x + \\mathrm{Block}(\\mathrm{LN}(x))

.. math:: \\mathrm{FFN}(x) = W_2\\, \\mathrm{dropout}(\\mathrm{act}(W_1 x + b_1)) + b_2
"""

from __future__ import annotations

import copy

import numpy as np

from ember import dtypes
from ember.autograd import is_grad_enabled
from ember.devices import check_device
from ember.nn import functional as F
from ember.nn import init
from ember.nn.container import ModuleList
from ember.nn.layers.attention import MultiheadAttention
from ember.nn.layers.dropout import Dropout
from ember.nn.layers.linear import Linear
from ember.nn.layers.norm import LayerNorm
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]


def _activation(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _add_feed_forward(layer: Module, blocks: int, d_model: int, dim_feedforward: int,
                      dropout: float, activation, eps: float, norm_first: bool, bias: bool,
                      dtype) -> None:
    """The parts after a layer's attention, in PyTorch's order (so state_dict keys match):
    linear1, dropout, linear2, then one LayerNorm and one Dropout per residual block."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
    layer.norm_first = norm_first
    for i in range(1, blocks + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=eps, bias=bias, dtype=dtype))
    for i in range(1, blocks + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))
    layer.activation = _activation(activation)


def _clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network, each with a residual connection, dropout
    and LayerNorm.

    Args:
        d_model: the width E of the inputs.
        nhead: attention heads.
        dim_feedforward: the feed-forward network's hidden width (default 2048).
        dropout: dropout after attention, inside and after the feed-forward network
            (default 0.1).
        activation: ``"relu"`` (default), ``"gelu"`` or a callable.
        layer_norm_eps: LayerNorm's eps (default 1e-5).
        batch_first: (N, S, E) inputs instead of (S, N, E).
        norm_first: pre-norm instead of post-norm.
        bias: biases in the linear layers and LayerNorms.

    Shape:
        src (S, N, E), (N, S, E) or unbatched (S, E) -> the same shape.

    >>> import ember as em
    >>> layer = em.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(em.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        check_device(device, "TransformerEncoderLayer")
        dtype = dtypes.as_dtype(dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        _add_feed_forward(self, 2, d_model, dim_feedforward, dropout, activation,
                          layer_norm_eps, norm_first, bias, dtype)

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, cross-attention to ``memory`` and a feed-forward network, each with
    a residual connection, dropout and LayerNorm (arguments as
    :class:`TransformerEncoderLayer`).

    Shape:
        tgt (T, N, E), memory (S, N, E) (or batch first, or unbatched) -> (T, N, E).

    >>> import ember as em
    >>> layer = em.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(em.randn(4, 3, 8), em.randn(6, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        check_device(device, "TransformerDecoderLayer")
        dtype = dtypes.as_dtype(dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        _add_feed_forward(self, 3, d_model, dim_feedforward, dropout, activation,
                          layer_norm_eps, norm_first, bias, dtype)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal) -> Tensor:
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` copies of an encoder layer (deep copies: separate weights), then an
    optional final ``norm``.

    In inference (eval mode, nothing to record) with a ``src_key_padding_mask`` and
    ``enable_nested_tensor``, PyTorch runs the stack on nested tensors, which returns zeros
    at the padded positions (before the final norm); ember computes the same values and
    zeros those positions alike, under the same conditions (a post-norm, batch-first
    :class:`TransformerEncoderLayer` with an even number of heads, padding at the end).

    >>> import ember as em
    >>> layer = em.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> encoder = em.nn.TransformerEncoder(layer, num_layers=2)
    >>> encoder(em.randn(5, 3, 8)).shape, len(encoder.layers)
    ((5, 3, 8), 2)
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor and _nested_capable(encoder_layer)
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> Tensor:
        output = src
        causal = bool(is_causal) if is_causal is not None else _is_causal(mask)
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=causal)
        if self._as_nested(src, mask, src_key_padding_mask):
            padding = src_key_padding_mask._data
            padding = padding if padding.dtype == bool else np.isneginf(padding)
            output = output.masked_fill(Tensor._wrap(padding[..., None]), 0.0)
        return self.norm(output) if self.norm is not None else output

    def _as_nested(self, src, mask, padding) -> bool:
        """Whether PyTorch takes its nested-tensor path here (its conditions, in order)."""
        if (not self.use_nested_tensor or self.layers[0].training or src.ndim != 3
                or padding is None or mask is not None):
            return False
        keep = ~(padding._data if padding.dtype == bool else np.isneginf(padding._data))
        if self.mask_check and not np.all(np.sort(keep, axis=1)[:, ::-1] == keep):
            return False  # not left-aligned: PyTorch keeps the padded tensor
        first = self.layers[0]
        arguments = [src] + [p for p in first.parameters()]
        return not (is_grad_enabled() and any(t.requires_grad for t in arguments))


class TransformerDecoder(Module):
    """``num_layers`` copies of a decoder layer, then an optional final ``norm``.

    >>> import ember as em
    >>> layer = em.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> decoder = em.nn.TransformerDecoder(layer, num_layers=2)
    >>> decoder(em.randn(4, 3, 8), em.randn(6, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, decoder_layer: Module, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        output = tgt
        causal = bool(tgt_is_causal) if tgt_is_causal is not None else _is_causal(tgt_mask)
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=causal, memory_is_causal=memory_is_causal)
        return self.norm(output) if self.norm is not None else output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need".

    Args:
        d_model: model width (default 512).
        nhead: attention heads (default 8).
        num_encoder_layers, num_decoder_layers: depth of each stack (default 6).
        dim_feedforward: feed-forward hidden width (default 2048).
        dropout: default 0.1.
        activation: ``"relu"``, ``"gelu"`` or a callable.
        custom_encoder, custom_decoder: modules to use instead of the stacks.
        layer_norm_eps, batch_first, norm_first, bias: as the layers'.

    Both stacks end with a LayerNorm; every weight matrix is initialised Xavier-uniform.

    Shape:
        src (S, N, E), tgt (T, N, E) (or batch first) -> (T, N, E).

    >>> import ember as em
    >>> model = em.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
    ...                           num_decoder_layers=1, dim_feedforward=16)
    >>> src, tgt = em.randn(6, 2, 8), em.randn(4, 2, 8)
    >>> model(src, tgt, tgt_mask=model.generate_square_subsequent_mask(4)).shape
    (4, 2, 8)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        check_device(device, "Transformer")
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                       norm_first=norm_first, bias=bias, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, **options)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, **options)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask=None, tgt_mask=None,
                memory_mask=None, src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        batched = src.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if batched and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask: a (sz, sz) float tensor, -inf above the diagonal, 0 elsewhere
        (position i may attend to positions 0..i).

        >>> import ember as em
        >>> em.nn.Transformer.generate_square_subsequent_mask(3)
        tensor([[  0., -inf, -inf],
                [  0.,   0., -inf],
                [  0.,   0.,   0.]])
        """
        check_device(device, "generate_square_subsequent_mask")
        dtype = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        mask = np.triu(np.full((sz, sz), -np.inf), k=1).astype(dtype)
        return Tensor._wrap(mask)


def _nested_capable(layer) -> bool:
    """PyTorch's construction-time conditions for the encoder's nested-tensor path."""
    return (isinstance(layer, TransformerEncoderLayer) and not layer.norm_first
            and layer.self_attn.batch_first and layer.self_attn._qkv_same_embed_dim
            and layer.self_attn.in_proj_bias is not None
            and layer.activation in (F.relu, F.gelu)
            and layer.norm1.eps == layer.norm2.eps and layer.self_attn.num_heads % 2 == 0)


def _is_causal(mask) -> bool:
    """Whether ``mask`` is the causal mask (PyTorch's ``_detect_is_causal_mask``)."""
    if mask is None or mask.ndim != 2 or mask.shape[0] != mask.shape[1]:
        return False
    causal = Transformer.generate_square_subsequent_mask(mask.shape[0])._data
    values = np.where(mask._data, -np.inf, 0.0) if mask.dtype == bool else mask._data
    return bool(np.array_equal(values, causal))
