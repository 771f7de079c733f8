"""Variable-length sequences for the recurrent layers: padding, packing, masks.

A batch of sequences of different lengths is stored either

* **padded**: one (T, N, *) tensor (``pad_sequence``), plus the lengths; or
* **packed** (PyTorch's choice, kept here key for key): a :class:`PackedSequence`
  whose ``data`` holds, time step by time step, only the sequences still running
  (``batch_sizes[t]`` of them), sorted from longest to shortest.

``em.nn.RNN``, ``LSTM`` and ``GRU`` accept a PackedSequence and return one, exactly as in
PyTorch: each sequence's output stops at its length and ``h_n`` is its state after its last
element (not after the padding). Internally the layers run the padded batch with the lengths
(ember's functional ``lengths=`` argument, which you may also use directly), so a packed
sequence costs no more than a padded one. Every function here is differentiable.

A mask (True on real elements, a prefix of each row) converts to lengths with
:func:`mask_to_lengths`, and :func:`lengths_to_mask` gives the mask that excludes padding
from a per-step loss.

>>> import ember as em
>>> from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
>>> seqs = [em.tensor([1.0, 2.0, 3.0]), em.tensor([4.0])]
>>> padded = pad_sequence(seqs, batch_first=True)
>>> padded
tensor([[1., 2., 3.],
        [4., 0., 0.]])
>>> packed = pack_padded_sequence(padded, [3, 1], batch_first=True)
>>> packed.data, packed.batch_sizes
(tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
>>> pad_packed_sequence(packed, batch_first=True)[1]
tensor([3, 1])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ember import creation, functions
from ember.tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence", "lengths_to_mask",
           "mask_to_lengths"]


class PackedSequence(NamedTuple):
    """Sequences of different lengths packed time step by time step (PyTorch's layout).

    Attributes:
        data: (sum of lengths, *): step 0 of every sequence, then step 1 of those at least
            2 long, and so on, the sequences in order of decreasing length.
        batch_sizes: int64 (T,): how many sequences are still running at each step.
        sorted_indices: int64 (N,): original batch index of each sorted sequence (None when
            the batch was already sorted).
        unsorted_indices: the inverse permutation (None when sorted).
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data.to(...)`` (e.g. a dtype)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    @property
    def is_cuda(self) -> bool:
        return False


def _lengths_array(lengths, name: str) -> np.ndarray:
    array = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"{name}: lengths must be a 1-d list of integers, got {array!r}")
    return array.astype(np.int64)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into one (T, N, *) tensor, T = max L_i.

    Args:
        sequences: a list of tensors with equal trailing shapes.
        batch_first: return (N, T, *) instead.
        padding_value: the value of the added elements.
        padding_side: ``"right"`` (after each sequence) or ``"left"``.
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got "
                         f"{padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for i, s in enumerate(sequences):
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise ValueError(f"pad_sequence: sequence {i} has shape {tuple(s.shape)}; every "
                             f"sequence must be (L, {', '.join(map(str, trailing))})")
    T = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = T - s.shape[0]
        widths = (0, 0) * len(trailing) + ((0, extra) if padding_side == "right" else (extra, 0))
        padded.append(functions.pad(s, widths, value=padding_value) if extra else s)
    return functions.stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The inverse of :func:`pad_sequence`: a list of the N sequences, each (L_i, *)."""
    lengths = _lengths_array(lengths, "unpad_sequence")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(lengths)]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, N, *) (or (N, T, *)) whose sequence i has ``lengths[i]``.

    Args:
        input: the padded batch.
        lengths: (N,) lengths, each in [1, T].
        batch_first: the input is (N, T, *).
        enforce_sorted: require lengths in decreasing order; with False the batch is sorted
            here and the permutation kept in ``sorted_indices`` / ``unsorted_indices``.
    """
    lengths = _lengths_array(lengths, "pack_padded_sequence")
    x = input.transpose(0, 1) if batch_first else input
    if x.ndim < 2 or lengths.shape[0] != x.shape[1]:
        raise ValueError(f"pack_padded_sequence: {lengths.shape[0]} lengths for an input of "
                         f"shape {tuple(input.shape)} (batch_first={batch_first})")
    if lengths.size and (lengths.min() < 1 or lengths.max() > x.shape[0]):
        raise ValueError(f"pack_padded_sequence: lengths must be in [1, {x.shape[0]}], got "
                         f"{lengths.tolist()}")
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in "
                               "decreasing order when `enforce_sorted` is True; pass "
                               "enforce_sorted=False to sort it here")
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        x = x[:, order]
        sorted_indices = creation.tensor(order)
        unsorted_indices = creation.tensor(np.argsort(order))
    batch_sizes = (lengths[None, :] > np.arange(int(lengths[0]) if lengths.size else 0)[:, None]
                   ).sum(axis=1)
    return PackedSequence(_pack_sorted(x, batch_sizes), creation.tensor(batch_sizes),
                          sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """Unpack to ``(padded, lengths)``, in the original batch order (the inverse of
    :func:`pack_padded_sequence`). ``total_length`` pads to that many steps."""
    padded, lengths = _unpack_sorted(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices._data
        padded, lengths = padded[:, order], lengths[order]
    return (padded.transpose(0, 1) if batch_first else padded), creation.tensor(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *): ``pack_padded_sequence(pad_sequence(...))``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences in a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def lengths_to_mask(lengths, max_length: int | None = None, batch_first: bool = True
                    ) -> Tensor:
    """A bool mask, True where step t < length: (N, T), or (T, N) with batch_first=False.

    >>> lengths_to_mask([3, 1])
    tensor([[ True,  True,  True],
            [ True, False, False]])
    """
    lengths = _lengths_array(lengths, "lengths_to_mask")
    T = int(lengths.max(initial=0)) if max_length is None else int(max_length)
    mask = np.arange(T)[None, :] < lengths[:, None]
    return creation.tensor(mask if batch_first else mask.T)


def mask_to_lengths(mask, batch_first: bool = True) -> Tensor:
    """The lengths (int64, (N,)) of a mask that is True on each row's first elements.

    >>> mask_to_lengths(lengths_to_mask([2, 4]))
    tensor([2, 4])
    """
    m = np.asarray(mask._data if isinstance(mask, Tensor) else mask).astype(bool)
    if m.ndim != 2:
        raise ValueError(f"mask_to_lengths: expected a 2-d mask, got shape {m.shape}")
    m = m if batch_first else m.T
    lengths = m.sum(axis=1)
    if not (m == (np.arange(m.shape[1])[None, :] < lengths[:, None])).all():
        raise ValueError("mask_to_lengths: each row of the mask must be True on a prefix "
                         "(its first elements) and False after it")
    return creation.tensor(lengths.astype(np.int64))


# ----------------------------------------------------------------------------- internal


def _pack_sorted(x: Tensor, batch_sizes: np.ndarray) -> Tensor:
    """The rows x[t, :batch_sizes[t]] of a time-major, length-sorted batch, in one gather."""
    steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    batch = np.concatenate([np.arange(n) for n in batch_sizes]) if len(batch_sizes) else steps
    return x[steps, batch]


def _unpack_sorted(sequence: PackedSequence, padding_value=0.0, total_length=None):
    """(padded (T, N, *) in sorted order, lengths in sorted order) of a PackedSequence."""
    data = sequence.data
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    T, N = len(batch_sizes), int(batch_sizes[0]) if len(batch_sizes) else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter "
                             f"than the longest sequence ({T})")
        T = total_length
    lengths = (batch_sizes[None, :] > np.arange(N)[:, None]).sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)
    index = np.full((T, N), data.shape[0], dtype=np.int64)  # padding: the extra row
    for t, (start, n) in enumerate(zip(starts, batch_sizes, strict=True)):
        index[t, :n] = start + np.arange(n)
    pad_row = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    return functions.cat([data, pad_row])[index], lengths
