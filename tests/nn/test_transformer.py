"""The Transformer family against PyTorch in float64: each module built in both, the
PyTorch state_dict loaded key for key into ember's, then outputs and every gradient."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close

TOL = dict(rtol=1e-9, atol=1e-11)
E, H, FF = 8, 2, 16


def _layer_options(norm_first=False, activation="relu", batch_first=False, bias=True):
    return dict(dim_feedforward=FF, dropout=0.0, activation=activation,
                batch_first=batch_first, norm_first=norm_first, bias=bias)


def _compare(torch, rng, make, inputs):
    """Build the module in both frameworks, copy PyTorch's weights, run ``inputs(fw)``."""
    theirs = make(torch)
    ours = make(em)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    t_args, t_kwargs = inputs(torch)
    e_args, e_kwargs = inputs(em)
    expected, actual = theirs(*t_args, **t_kwargs), ours(*e_args, **e_kwargs)
    assert_close(actual, expected, **TOL)
    direction = rng.standard_normal(expected.shape)
    (expected * torch.tensor(direction)).sum().backward()
    (actual * em.tensor(direction)).sum().backward()
    for (name, tp), (_, ep) in zip(theirs.named_parameters(), ours.named_parameters(),
                                   strict=True):
        assert_close(ep.grad, tp.grad, name=name, **TOL)
    for t_in, e_in in zip(t_args, e_args, strict=True):
        assert_close(e_in.grad, t_in.grad, name="input", **TOL)


def _sequence(rng, *shape):
    values = rng.standard_normal(shape)
    return lambda fw: fw.tensor(values, dtype=fw.float64, requires_grad=True)


def _mask(values):
    return lambda fw: None if values is None else fw.tensor(values)


ENCODER_CASES = {
    "post_norm": dict(),
    "pre_norm_gelu": dict(norm_first=True, activation="gelu"),
    "batch_first": dict(batch_first=True),
    "no_bias": dict(bias=False),
}


@pytest.mark.parametrize("case", sorted(ENCODER_CASES))
def test_encoder_layer_matches_pytorch(torch, rng, case):
    options = _layer_options(**ENCODER_CASES[case])
    shape = (3, 5, E) if options["batch_first"] else (5, 3, E)
    src = _sequence(rng, *shape)
    padding = rng.random((3, 5)) > 0.7
    padding[:, 0] = False
    causal = np.triu(np.full((5, 5), -np.inf), 1)

    def make(fw):
        return fw.nn.TransformerEncoderLayer(E, H, dtype=fw.float64, **options)

    _compare(torch, rng, make, lambda fw: ((src(fw),), dict(
        src_mask=_mask(causal)(fw), src_key_padding_mask=_mask(padding)(fw))))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_pytorch(torch, rng, norm_first):
    tgt, memory = _sequence(rng, 4, 3, E), _sequence(rng, 6, 3, E)
    memory_padding = rng.random((3, 6)) > 0.7
    memory_padding[:, 0] = False
    causal = np.triu(np.ones((4, 4), bool), 1)

    def make(fw):
        return fw.nn.TransformerDecoderLayer(E, H, dtype=fw.float64,
                                             **_layer_options(norm_first=norm_first))

    _compare(torch, rng, make, lambda fw: ((tgt(fw), memory(fw)), dict(
        tgt_mask=_mask(causal)(fw), memory_key_padding_mask=_mask(memory_padding)(fw))))


def test_encoder_and_decoder_stacks_match_pytorch(torch, rng):
    src, tgt = _sequence(rng, 3, 5, E), _sequence(rng, 3, 4, E)

    def make_encoder(fw):
        layer = fw.nn.TransformerEncoderLayer(E, H, dtype=fw.float64,
                                              **_layer_options(batch_first=True))
        return fw.nn.TransformerEncoder(layer, 2, norm=fw.nn.LayerNorm(E, dtype=fw.float64),
                                        enable_nested_tensor=False)

    _compare(torch, rng, make_encoder, lambda fw: ((src(fw),), {}))

    def make_decoder(fw):
        layer = fw.nn.TransformerDecoderLayer(E, H, dtype=fw.float64,
                                              **_layer_options(batch_first=True))
        return fw.nn.TransformerDecoder(layer, 2)

    _compare(torch, rng, make_decoder, lambda fw: ((tgt(fw), src(fw)), dict(
        tgt_mask=fw.nn.Transformer.generate_square_subsequent_mask(4, dtype=fw.float64))))


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_pytorch(torch, rng, norm_first):
    src, tgt = _sequence(rng, 6, 2, E), _sequence(rng, 4, 2, E)
    src_padding = np.array([[False] * 6, [False] * 4 + [True] * 2])

    def make(fw):
        return fw.nn.Transformer(E, H, num_encoder_layers=2, num_decoder_layers=1,
                                 dtype=fw.float64, **_layer_options(norm_first=norm_first))

    def inputs(fw):
        return (src(fw), tgt(fw)), dict(
            tgt_mask=fw.nn.Transformer.generate_square_subsequent_mask(4, dtype=fw.float64),
            src_key_padding_mask=_mask(src_padding)(fw),
            memory_key_padding_mask=_mask(src_padding)(fw))

    _compare(torch, rng, make, inputs)


def test_transformer_structure_and_errors(torch):
    ours = em.nn.Transformer(E, H, 1, 1, FF)
    theirs = torch.nn.Transformer(E, H, 1, 1, FF)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [
        tuple(v.shape) for v in theirs.state_dict().values()]
    assert em.nn.Transformer.generate_square_subsequent_mask(3).tolist() == \
        torch.nn.Transformer.generate_square_subsequent_mask(3).tolist()
    for fw, model in ((torch, theirs), (em, ours)):
        with pytest.raises(RuntimeError, match="batch number"):
            model(fw.ones(5, 2, E), fw.ones(4, 3, E))
        with pytest.raises(RuntimeError, match="d_model"):
            model(fw.ones(5, 2, E + 1), fw.ones(4, 2, E + 1))
        with pytest.raises(RuntimeError, match="activation"):
            fw.nn.TransformerEncoderLayer(E, H, activation="tanh")
    layer = em.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, activation=em.nn.GELU())
    assert "activation" in dict(layer.named_children())  # a module activation is a child


def test_a_small_transformer_trains():
    em.manual_seed(0)
    model = em.nn.Transformer(E, H, 1, 1, FF, dropout=0.0, batch_first=True)
    optimizer = em.optim.Adam(model.parameters(), lr=1e-2)
    src, tgt = em.randn(4, 5, E), em.randn(4, 3, E)
    mask = model.generate_square_subsequent_mask(3)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = ((model(src, tgt, tgt_mask=mask) - tgt) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("batch_first, norm_first", [(True, False), (True, True)])
def test_encoder_inference_with_padding_matches_pytorch(torch, rng, batch_first, norm_first):
    """PyTorch's nested-tensor path (eval, no grad, padding at the end) zeros the padded
    positions before the final norm; ember gives the same output."""
    x = rng.standard_normal((2, 5, E))
    padding = np.array([[False] * 5, [False] * 3 + [True] * 2])
    outputs = []
    for fw in (torch, em):
        layer = fw.nn.TransformerEncoderLayer(E, H, FF, dropout=0.1, batch_first=batch_first,
                                              norm_first=norm_first, dtype=fw.float64)
        encoder = fw.nn.TransformerEncoder(layer, 2, norm=fw.nn.LayerNorm(E, dtype=fw.float64))
        if fw is em:
            encoder.load_state_dict(outputs.pop())
        with fw.no_grad():
            encoder.norm.bias.copy_(fw.tensor(np.linspace(-1, 1, E)))
            y = encoder.eval()(fw.tensor(x), src_key_padding_mask=fw.tensor(padding))
        outputs += [y.numpy(), encoder.state_dict()]
    assert_close(outputs[1], outputs[0], **TOL)
