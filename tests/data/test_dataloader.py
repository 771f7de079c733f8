"""DataLoader and default_collate: PyTorch's batches and lengths, shuffling under the
global generator, and the array fast path."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import ember as em
from ember.data import ArrayDataset, DataLoader, Subset, TensorDataset, default_collate


def _order(loader):
    """The sample order of an epoch over a dataset whose second tensor is arange(N)."""
    return np.concatenate([batch[1].numpy() for batch in loader]).tolist()


def _indexed(n):
    return TensorDataset(em.randn(n, 3), em.arange(n))


@pytest.mark.parametrize("n", [1, 7, 8, 9, 64])
@pytest.mark.parametrize("batch_size", [1, 3, 8, 100])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_and_batches_match_pytorch(torch, n, batch_size, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    ours = DataLoader(TensorDataset(x, np.arange(n)), batch_size=batch_size,
                      drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.arange(n)),
        batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    pairs = list(zip(ours, theirs, strict=True))
    assert len(pairs) == len(theirs)
    for (xe, ye), (xt, yt) in pairs:
        assert np.array_equal(xe.numpy(), xt.numpy()) and np.array_equal(ye.numpy(), yt.numpy())
        assert xe.dtype == np.float32 and ye.dtype == np.int64


def test_default_collate_matches_pytorch(torch):
    from torch.utils.data import default_collate as theirs

    Point = collections.namedtuple("Point", "x y")
    cases = [
        [np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)],
        [np.float32(1.5), np.float32(2.5)],
        [np.int16(3), np.int16(4)],
        [3, 4, 5],
        [True, False],
        [(np.ones(2), 1), (np.zeros(2), 0)],
        [[np.ones(2), 7], [np.zeros(2), 8]],
        [{"image": np.ones((1, 2)), "label": 2}, {"image": np.zeros((1, 2)), "label": 0}],
        [Point(1, np.ones(2)), Point(2, np.zeros(2))],
    ]

    def same(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, em.Tensor)
            assert a.dtype == np.dtype(str(b.dtype).replace("torch.", ""))
            assert np.array_equal(a.numpy(), b.numpy())
        elif isinstance(b, dict):
            assert type(a) is type(b) and a.keys() == b.keys()
            for key in b:
                same(a[key], b[key])
        else:
            assert type(a) is type(b) and len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                same(x, y)

    for batch in cases:
        same(default_collate(batch), theirs(batch))
    assert default_collate(["a", "b"]) == theirs(["a", "b"]) == ["a", "b"]


def test_default_collate_tensors_floats_and_errors():
    batch = default_collate([em.ones(2, 3), em.zeros(2, 3)])
    assert batch.shape == (2, 2, 3)
    floats = default_collate([0.5, 1.0])
    assert floats.dtype == np.float32  # ember's default float (PyTorch gives float64 here)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found NoneType"):
        default_collate([None, None])
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="non-empty list"):
        default_collate([])


def test_shuffle_is_a_new_permutation_each_epoch():
    loader = DataLoader(_indexed(50), batch_size=8, shuffle=True)
    first, second = _order(loader), _order(loader)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second and first != list(range(50))


def test_manual_seed_repeats_the_order():
    loader = DataLoader(_indexed(30), batch_size=4, shuffle=True)
    em.manual_seed(123)
    a = [_order(loader), _order(loader)]
    em.manual_seed(123)
    b = [_order(loader), _order(loader)]
    assert a == b


def test_resuming_with_the_generator_state_continues_the_order():
    loader = DataLoader(_indexed(30), batch_size=4, shuffle=True)
    em.manual_seed(7)
    _order(loader)
    state = em.random.get_rng_state()
    expected = _order(loader)
    em.manual_seed(999)  # something else happens, then the run is resumed
    em.randn(10)
    em.random.set_rng_state(state)
    assert _order(loader) == expected


def test_the_order_is_drawn_when_the_epoch_starts():
    loader = DataLoader(_indexed(30), batch_size=4, shuffle=True)
    em.manual_seed(3)
    expected = _order(loader)
    em.manual_seed(3)
    batches = iter(loader)
    em.rand(100)  # draws during the epoch (dropout, augmentation) do not change it
    assert _order(batches) == expected


def test_seeded_loader_ignores_the_global_generator():
    data = _indexed(30)
    orders = []
    for global_seed in (1, 2):
        em.manual_seed(global_seed)
        loader = DataLoader(data, batch_size=5, shuffle=True, seed=42)
        orders.append([_order(loader), _order(loader)])
    assert orders[0] == orders[1] and orders[0][0] != orders[0][1]
    gen_loader = DataLoader(data, batch_size=5, shuffle=True,
                            generator=np.random.default_rng(42))
    assert _order(gen_loader) == orders[0][0]


class Counting(ArrayDataset):
    calls = 0

    def __getitem__(self, index):
        Counting.calls += 1
        return super().__getitem__(index)


def test_fast_path_indexes_arrays_and_equals_per_sample_collation():
    images = np.random.default_rng(0).random((37, 1, 4, 4), dtype=np.float32)
    data = Counting(images, np.arange(37) % 5)
    Counting.calls = 0
    em.manual_seed(5)
    fast = list(DataLoader(data, batch_size=8, shuffle=True))
    assert Counting.calls == 0
    em.manual_seed(5)
    slow = list(DataLoader(data, batch_size=8, shuffle=True, collate_fn=lambda b:
                           default_collate(b)))
    assert Counting.calls == 37
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.dtype == xs.dtype == np.float32 and yf.dtype == ys.dtype == np.int64
        assert np.array_equal(xf.numpy(), xs.numpy()) and np.array_equal(yf.numpy(),
                                                                         ys.numpy())


def test_fast_path_through_subsets_and_per_sample_with_a_transform():
    data = Counting(np.arange(20.0).reshape(20, 1), np.arange(20))
    Counting.calls = 0
    batches = list(DataLoader(Subset(data, list(range(10, 20))), batch_size=4))
    assert Counting.calls == 0 and batches[0][1].tolist() == [10, 11, 12, 13]
    data.transform = lambda x: x * 2
    x, y = next(iter(DataLoader(data, batch_size=4)))
    assert Counting.calls == 4 and x.numpy().ravel().tolist() == [0.0, 2.0, 4.0, 6.0]


def test_drop_last_and_batch_size_one_and_full_batch():
    data = _indexed(10)
    assert [len(y) for _, y in DataLoader(data, batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(data, batch_size=1)) == 10  # stochastic gradient descent
    full = list(DataLoader(data, batch_size=len(data)))  # batch gradient descent
    assert len(full) == 1 and full[0][1].tolist() == list(range(10))


def test_no_batching_custom_collate_sampler_and_batch_sampler():
    data = ArrayDataset(np.arange(6.0).reshape(3, 2), [0, 1, 2])
    samples = list(DataLoader(data, batch_size=None))
    assert len(samples) == 3 and samples[1][0].tolist() == [2.0, 3.0] and samples[1][1] == 1
    sizes = list(DataLoader(data, batch_size=2, collate_fn=len))
    assert sizes == [2, 1]
    loader = DataLoader(data, batch_size=2, sampler=[2, 0, 1])
    assert [y.tolist() for _, y in loader] == [[2, 0], [1]]
    loader = DataLoader(data, batch_sampler=[[1], [2, 0]])
    assert [y.tolist() for _, y in loader] == [[1], [2, 0]] and len(loader) == 2


def test_argument_errors():
    data = _indexed(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(data, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(data, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="generator or seed"):
        DataLoader(data, seed=1, generator=2)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(data, batch_size=0)
    with pytest.raises(TypeError, match="generator must be"):
        DataLoader(data, shuffle=True, generator="abc")
    assert "batch_size=2" in repr(DataLoader(data, batch_size=2))
