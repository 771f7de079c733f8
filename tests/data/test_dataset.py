"""Dataset, TensorDataset, ArrayDataset, Subset, ConcatDataset."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.data import ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return i * i

    def __len__(self):
        return self.n


def test_dataset_is_abstract():
    class NoLength(Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError, match="__len__"):
        NoLength()
    assert Squares(3)[2] == 4
    assert Squares(3).fetch_batch(np.arange(2)) is None


def test_tensor_dataset_rows_and_dtypes():
    x = em.arange(12, dtype=em.float32).reshape(4, 3)
    y = np.array([1, 0, 1, 1], dtype=np.int32)
    data = TensorDataset(x, y)
    assert len(data) == 4
    xi, yi = data[2]
    assert xi.tolist() == [6.0, 7.0, 8.0]
    assert isinstance(yi, em.Tensor) and yi.dtype == np.int32 and yi.item() == 1
    assert data.tensors[1].dtype == np.int32  # a NumPy array keeps its dtype
    assert data.tensors[1].numpy() is y or np.shares_memory(data.tensors[1].numpy(), y)


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"same size in the first dimension, got sizes \[4, 3\]"):
        TensorDataset(em.zeros(4, 2), em.zeros(3))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="tensor 1 is 0-d"):
        TensorDataset(em.zeros(2), em.tensor(3.0))


def test_tensor_dataset_fetch_batch_equals_rows():
    x, y = em.randn(10, 2), em.randint(0, 3, (10,))
    data = TensorDataset(x, y)
    idx = np.array([7, 2, 2, 9])
    xb, yb = data.fetch_batch(idx)
    assert np.array_equal(xb.numpy(), x.numpy()[idx]) and np.array_equal(yb.numpy(),
                                                                          y.numpy()[idx])


def test_tensor_dataset_keeps_gradients_flowing():
    w = em.randn(5, 2, requires_grad=True)
    xb, = TensorDataset(w).fetch_batch(np.array([0, 0, 3]))
    xb.sum().backward()
    assert w.grad.numpy()[:, 0].tolist() == [2.0, 0.0, 0.0, 1.0, 0.0]


def test_array_dataset_samples_and_transforms():
    images = np.arange(2 * 4, dtype=np.float32).reshape(2, 1, 2, 2)
    data = ArrayDataset(images, np.array([3, 1], dtype=np.uint8), classes=["a", "b", "c", "d"])
    image, label = data[1]
    assert isinstance(image, em.Tensor) and image.shape == (1, 2, 2)
    assert label == 1 and type(label) is int
    assert data.targets.dtype == np.int64 and data.class_to_idx["c"] == 2
    image[...] = -1.0  # a sample is a copy: changing it leaves the dataset alone
    assert data.data.numpy().min() == 0.0
    shifted = ArrayDataset(images, [3, 1], transform=lambda x: x + 10,
                           target_transform=lambda t: t * 2)
    image, label = shifted[0]
    assert image.numpy().min() == 10.0 and label == 6
    assert shifted.fetch_batch(np.array([0])) is None  # transforms run per sample
    xb, yb = data.fetch_batch(np.array([1, 0]))
    assert xb.shape == (2, 1, 2, 2) and yb.tolist() == [1, 3]
    assert "samples: 2" in repr(shifted) and "transform" in repr(shifted)


def test_array_dataset_float_targets_and_errors():
    data = ArrayDataset(np.zeros((3, 2)), np.array([0.5, 1.5, 2.5]))
    assert data[1][1].item() == 1.5 and data[1][1].dtype == np.float64
    with pytest.raises(ValueError, match=r"shapes \(3, 2\) and \(2,\)"):
        ArrayDataset(np.zeros((3, 2)), [1, 2])


def test_subset():
    sub = Subset(Squares(10), [9, 0, 4])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [81, 0, 16]
    assert sub.fetch_batch(np.array([0])) is None
    arrays = ArrayDataset(np.arange(10.0)[:, None], np.arange(10))
    sub = Subset(arrays, [9, 0, 4])
    xb, yb = sub.fetch_batch(np.array([2, 0]))
    assert yb.tolist() == [4, 9] and xb.numpy().ravel().tolist() == [4.0, 9.0]


def test_concat_dataset_indexing(torch):
    a, b = Squares(3), Squares(2)
    both = a + b
    assert isinstance(both, ConcatDataset)
    assert len(both) == 5 and [both[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert both[-1] == 1 and both[-5] == 0
    with pytest.raises(IndexError):
        both[5]
    with pytest.raises(IndexError):
        both[-6]
    theirs = torch.utils.data.ConcatDataset([list(range(3)), list(range(2)), list(range(4))])
    ours = ConcatDataset([Squares(3), Squares(2), Squares(4)])
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
