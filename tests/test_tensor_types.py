"""em.Size and the legacy typed constructors (em.FloatTensor, em.LongTensor, ...)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember as em

TYPES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
         "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


def _dtype_name(torch_dtype) -> str:
    return {"bool": "bool"}.get(str(torch_dtype).split(".")[1], str(torch_dtype).split(".")[1])


@pytest.mark.parametrize("name", TYPES)
def test_typed_constructor_from_data_and_sizes(torch, name):
    ours, theirs = getattr(em, name), getattr(torch, name)
    a, b = ours([1, 0, 2]), theirs([1, 0, 2])
    assert str(a.dtype) == _dtype_name(b.dtype)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ours(2, 3).shape == tuple(theirs(2, 3).shape) == (2, 3)
    assert ours(em.Size([4])).shape == (4,) and ours().shape == (0,)
    assert isinstance(a, ours) and isinstance(b, theirs)
    assert a.type() == "ember." + name and b.type() == "torch." + name
    assert em.ones(2).type(ours).dtype == a.dtype
    assert em.ones(2).type(f"torch.{name}").dtype == a.dtype


def test_isinstance_checks_the_dtype(torch):
    assert isinstance(em.randn(2), em.FloatTensor) and isinstance(torch.randn(2, dtype=torch.float32), torch.FloatTensor)
    assert not isinstance(em.randn(2).double(), em.FloatTensor)
    assert not isinstance(torch.randn(2).double(), torch.FloatTensor)
    assert not isinstance(np.ones(2, np.float32), em.FloatTensor)
    with pytest.raises(TypeError):
        torch.FloatTensor(torch.tensor([1, 2]))
    with pytest.raises(TypeError):
        em.FloatTensor(em.tensor([1, 2]))


def test_tensor_constructor_takes_sizes_as_pytorch(torch):
    assert em.Tensor(2, 3).shape == tuple(torch.Tensor(2, 3).shape)
    assert em.Tensor(2, 3).dtype == em.float32 and em.Tensor(em.Size([4])).shape == (4,)
    assert em.Tensor().shape == tuple(torch.Tensor().shape) == (0,)
    assert em.Tensor([1.5, 2.0]).tolist() == [1.5, 2.0]
    param = em.nn.Parameter(em.Tensor(3, 2))  # the pre-1.0 way to declare a weight
    assert param.shape == (3, 2) and param.requires_grad


def test_size_is_a_tuple_with_numel(torch):
    x, t = em.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    for s, ts in ((x.shape, t.shape), (x.size(), t.size())):
        assert isinstance(s, em.Size) and isinstance(s, tuple) and s == tuple(ts)
        assert s.numel() == ts.numel() == 24
        assert s[1:] == tuple(ts[1:]) and isinstance(s[1:], em.Size)
        assert isinstance(s + (5,), em.Size) and s + (5,) == tuple(ts + (5,))
        assert isinstance((1,) + s, em.Size) and s[-1] == 4 and isinstance(s[0], int)
    assert em.Size([]).numel() == torch.Size([]).numel() == 1
    assert em.zeros(0, 3).shape.numel() == 0 and x.size(1) == 3
    assert pickle.loads(pickle.dumps(x.shape)) == (2, 3, 4)
    assert np.zeros(x.shape).shape == (2, 3, 4) and em.zeros(x.shape).shape == (2, 3, 4)
    assert x.reshape(x.shape[0], -1).shape == (2, 12)
