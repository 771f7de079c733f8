"""embedding / Embedding and one_hot against PyTorch: lookups, scatter-added gradients,
padding_idx, scale_grad_by_freq, max_norm's in-place renormalisation, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, gradcheck

INDICES = [
    np.array([3, 1, 3, 3, 0]),  # repeated rows accumulate
    np.array([[0, 2, 4], [4, 4, 1]]),
    np.array(2),  # a single id: output (embedding_dim,)
    np.array([[[1], [5]], [[5], [5]]]),
]
OPTIONS = [
    {},
    {"padding_idx": 4},
    {"padding_idx": -1},
    {"scale_grad_by_freq": True},
    {"padding_idx": 1, "scale_grad_by_freq": True},
    {"max_norm": 1.0},
    {"max_norm": 0.5, "norm_type": 1.0},
    {"max_norm": 2.0, "norm_type": 3.0},
]


@pytest.mark.parametrize("indices", INDICES, ids=[str(i.shape) for i in INDICES])
@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_embedding_matches_pytorch(torch, rng, indices, options):
    table = rng.standard_normal((6, 3)) * 2
    we = em.tensor(table, dtype=em.float64, requires_grad=True)
    wt = torch.tensor(table, requires_grad=True)
    y = F.embedding(em.tensor(indices), we, **options)
    ty = torch.nn.functional.embedding(torch.tensor(indices), wt, **options)
    assert_close(y, ty, name="lookup")
    # max_norm renormalises in place, with PyTorch's factor max_norm / (norm + 1e-7)
    assert_close(we.detach(), wt.detach(), rtol=1e-13, atol=1e-13, name="table after max_norm")
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(em.tensor(g, dtype=em.float64))
    ty.backward(torch.tensor(g))
    assert_close(we.grad, wt.grad, name="table gradient")


def test_repeated_indices_accumulate_and_padding_gets_nothing():
    weight = em.zeros(4, 2, dtype=em.float64, requires_grad=True)
    F.embedding(em.tensor([1, 1, 1, 2, 0]), weight, padding_idx=0).sum().backward()
    assert weight.grad.tolist() == [[0.0, 0.0], [3.0, 3.0], [1.0, 1.0], [0.0, 0.0]]


def test_embedding_gradcheck(rng):
    weight = em.tensor(rng.standard_normal((5, 3)), dtype=em.float64, requires_grad=True)
    indices = em.tensor([[0, 4, 4], [2, 0, 1]])
    # (padding_idx and scale_grad_by_freq change the gradient on purpose: not derivatives)
    assert gradcheck(lambda w: F.embedding(indices, w), (weight,))


def test_int32_indices_and_float32_table():
    weight = em.randn(5, 3, requires_grad=True)
    y = F.embedding(em.tensor([1, 4], dtype=em.int32), weight)
    y.sum().backward()
    assert y.dtype == weight.grad.dtype == em.float32 and y.shape == (2, 3)


def test_embedding_errors():
    weight = em.randn(5, 3)
    with pytest.raises(TypeError, match="embedding: indices must be an integer tensor"):
        F.embedding(em.tensor([1.0]), weight)
    with pytest.raises(IndexError, match=r"index 5 is out of range for a table of 5 rows"):
        F.embedding(em.tensor([0, 5]), weight)
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        F.embedding(em.tensor([-1]), weight)
    with pytest.raises(ValueError, match=r"padding_idx 5 must be within num_embeddings \(5\)"):
        F.embedding(em.tensor([0]), weight, padding_idx=5)
    with pytest.raises(ValueError, match=r"weight must be a 2-d table"):
        F.embedding(em.tensor([0]), em.randn(5))
    with pytest.raises(ValueError, match=r"padding_idx -7"):
        nn.Embedding(5, 2, padding_idx=-7)


def test_layer_initialisation_and_state():
    layer = nn.Embedding(3000, 8, padding_idx=3)
    w = layer.weight.detach().numpy()
    assert np.all(w[3] == 0)
    others = np.delete(w, 3, axis=0)
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1) < 0.02  # N(0, 1)
    assert layer.weight.dtype == em.float32 and layer.weight.requires_grad
    assert list(layer.state_dict()) == ["weight"]
    assert sum(p.numel() for p in layer.parameters()) == 3000 * 8
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 0}, {"padding_idx": -2},
                                    {"max_norm": 1.0, "norm_type": 1.0},
                                    {"scale_grad_by_freq": True}])
def test_layer_loads_pytorch_state_dict_and_matches(torch, rng, kwargs):
    theirs = torch.nn.Embedding(7, 4, **kwargs)
    ours = nn.Embedding(7, 4, **kwargs).double()
    assert repr(ours) == repr(theirs)
    ours.load_state_dict(theirs.state_dict())
    indices = rng.integers(0, 7, (3, 5))
    y, ty = ours(em.tensor(indices)), theirs(torch.tensor(indices))
    assert_close(y, ty)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(em.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(ours.weight.grad, theirs.weight.grad)
    assert_close(ours.weight.detach(), theirs.weight.detach())


def test_from_pretrained():
    table = em.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    frozen = nn.Embedding.from_pretrained(table, padding_idx=1)
    assert not frozen.weight.requires_grad and frozen.padding_idx == 1
    assert frozen.weight.tolist()[1] == [3.0, 4.0]  # the padding row is not zeroed
    assert frozen(em.tensor([2, 0])).tolist() == [[5.0, 6.0], [1.0, 2.0]]
    trainable = nn.Embedding.from_pretrained(table, freeze=False)
    trainable(em.tensor([0, 0])).sum().backward()
    assert trainable.weight.grad.tolist() == [[2.0, 2.0], [0.0, 0.0], [0.0, 0.0]]
    with em.no_grad():
        table[0, 0] = 9.0
    assert frozen.weight[0, 0].item() == 9.0  # shares memory with the given table
    with pytest.raises(ValueError, match="2-d"):
        nn.Embedding.from_pretrained(em.ones(3))


def test_training_step_moves_only_the_rows_used():
    layer = nn.Embedding(4, 2)
    before = layer.weight.detach().numpy().copy()
    layer(em.tensor([1, 3])).pow(2).sum().backward()
    with em.no_grad():
        layer.weight -= 0.1 * layer.weight.grad
    changed = np.any(layer.weight.detach().numpy() != before, axis=1)
    assert changed.tolist() == [False, True, False, True]


# ---------------------------------------------------------------------------- one_hot

ONE_HOT = [(np.array([0, 2, 1]), -1), (np.array([[0, 3], [1, 1]]), 5), (np.array(2), 4),
           (np.zeros((0,), np.int64), 3), (np.array([4]), -1)]


@pytest.mark.parametrize("labels,num_classes", ONE_HOT, ids=[str(c) for c in ONE_HOT])
def test_one_hot_matches_pytorch(torch, labels, num_classes):
    ours = F.one_hot(em.tensor(labels, dtype=em.int64), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels), num_classes)
    assert ours.dtype == em.int64
    assert ours.shape == tuple(theirs.shape)
    assert np.array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"class values must be non-negative, got -1"):
        F.one_hot(em.tensor([0, -1]), 3)
    with pytest.raises(ValueError, match=r"smaller than num_classes \(3\), got 3"):
        F.one_hot(em.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="empty"):
        F.one_hot(em.tensor([], dtype=em.int64))
    with pytest.raises(TypeError, match="one_hot: expects an integer tensor"):
        F.one_hot(em.tensor([0.0, 1.0]))
