"""Padding, packing and masks for variable-length sequences, against torch.nn.utils.rnn."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.nn.utils.rnn import (
    PackedSequence,
    lengths_to_mask,
    mask_to_lengths,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from ember.testing import assert_close

LENGTHS = [3, 5, 1, 4]


def _sequences(torch, rng, lengths=LENGTHS, features=(2,)):
    arrays = [rng.standard_normal((n, *features)) for n in lengths]
    ours = [em.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_pytorch_with_gradients(torch, rng, batch_first, padding_side):
    ours, theirs = _sequences(torch, rng)
    padded = pad_sequence(ours, batch_first, -1.0, padding_side)
    tpadded = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -1.0, padding_side)
    assert_close(padded, tpadded, rtol=0, atol=0)
    weight = rng.standard_normal(tuple(tpadded.shape))
    (padded * em.tensor(weight)).sum().backward()
    (tpadded * torch.tensor(weight)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a.grad, b.grad, rtol=0, atol=0)


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_unpack_match_pytorch(torch, rng, batch_first, enforce_sorted):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    ex, tx = em.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    packed = pack_padded_sequence(ex, lengths, batch_first, enforce_sorted)
    tpacked = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first,
                                                      enforce_sorted)
    assert isinstance(packed, PackedSequence)
    assert_close(packed.data, tpacked.data, rtol=0, atol=0)
    assert packed.batch_sizes.tolist() == tpacked.batch_sizes.tolist()
    assert packed.batch_sizes.dtype == em.int64
    for ours, theirs in ((packed.sorted_indices, tpacked.sorted_indices),
                         (packed.unsorted_indices, tpacked.unsorted_indices)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.tolist() == theirs.tolist()
    padded, out_lengths = pad_packed_sequence(packed, batch_first, 0.5, total_length=7)
    tpadded, tlengths = torch.nn.utils.rnn.pad_packed_sequence(tpacked, batch_first, 0.5,
                                                               total_length=7)
    assert_close(padded, tpadded, rtol=0, atol=0)
    assert out_lengths.tolist() == tlengths.tolist() == lengths
    weight = rng.standard_normal(tuple(tpadded.shape))
    (padded * em.tensor(weight)).sum().backward()
    (tpadded * torch.tensor(weight)).sum().backward()
    assert_close(ex.grad, tx.grad, rtol=0, atol=0)


def test_pack_sequence_and_the_inverses(torch, rng):
    ours, theirs = _sequences(torch, rng)
    packed = pack_sequence(ours, enforce_sorted=False)
    tpacked = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted=False)
    assert_close(packed.data, tpacked.data, rtol=0, atol=0)
    for a, b in zip(unpack_sequence(packed), ours, strict=True):
        assert_close(a, b, rtol=0, atol=0)
    padded = pad_sequence(ours, batch_first=True)
    for a, b in zip(unpad_sequence(padded, LENGTHS, batch_first=True), ours, strict=True):
        assert_close(a, b, rtol=0, atol=0)
    assert packed.to(em.float32).data.dtype == em.float32


def test_masks_and_lengths():
    mask = lengths_to_mask(em.tensor([2, 4, 1]))
    assert mask.tolist() == [[True, True, False, False], [True, True, True, True],
                             [True, False, False, False]]
    assert lengths_to_mask([1, 2], max_length=3, batch_first=False).shape == (3, 2)
    assert mask_to_lengths(mask).tolist() == [2, 4, 1]
    assert mask_to_lengths(mask.numpy().T, batch_first=False).tolist() == [2, 4, 1]
    with pytest.raises(ValueError, match="prefix"):
        mask_to_lengths([[True, False, True]])


def test_a_mask_selects_the_same_sequences_as_packing(rng):
    """A padded batch run with lengths from a mask gives the packed run's final states."""
    from ember.nn.layers.recurrent import GRU

    gru = GRU(3, 4, batch_first=True)
    x = em.tensor(rng.standard_normal((3, 5, 3)).astype(np.float32))
    mask = lengths_to_mask([5, 2, 3])
    packed = pack_padded_sequence(x, mask_to_lengths(mask), True, enforce_sorted=False)
    _, h_packed = gru(packed)
    for i, n in enumerate([5, 2, 3]):
        _, h_alone = gru(x[i:i + 1, :n])
        assert_close(h_packed[:, i], h_alone[:, 0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call,error,match", [
    (lambda x: pack_padded_sequence(x, [2, 3]), RuntimeError, "decreasing"),
    (lambda x: pack_padded_sequence(x, [6, 3]), ValueError, r"\[1, 5\]"),
    (lambda x: pack_padded_sequence(x, [2, 3, 1]), ValueError, "3 lengths"),
    (lambda x: pad_packed_sequence(pack_padded_sequence(x, [5, 3]), total_length=4),
     ValueError, "total_length"),
    (lambda x: pad_sequence([x[0], x[0, :, :1]]), ValueError, "sequence 1"),
    (lambda x: pad_sequence([]), ValueError, "empty"),
])
def test_bad_input_is_explained(call, error, match):
    with pytest.raises(error, match=match):
        call(em.zeros(5, 2, 3))
