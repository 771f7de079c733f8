"""The Tensor object: attributes, conversions, representation, dtype rules, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close


def test_attributes():
    x = em.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dim() == 3
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and len(x) == 2
    assert x.dtype == em.float32 and x.device == em.device("cpu")
    assert x.T.shape == (4, 3, 2)
    assert x.requires_grad is False and x.grad is None and x.is_leaf


def test_python_data_becomes_pytorch_dtypes():
    assert em.tensor(1.5).dtype == em.float32
    assert em.tensor([1.0, 2.0]).dtype == em.float32
    assert em.tensor([1, 2]).dtype == em.int64
    assert em.tensor([True, False]).dtype == em.bool_
    assert em.tensor([[1, 2.5]]).dtype == em.float32


def test_numpy_arrays_keep_their_dtype():
    for dtype in ("float64", "float32", "int64", "int32", "uint8", "bool"):
        assert em.tensor(np.zeros(3, dtype)).dtype == np.dtype(dtype)
    assert em.tensor(np.zeros(2), dtype=em.float32).dtype == em.float32


def test_default_dtype_can_be_float64():
    em.set_default_dtype(em.float64)
    assert em.tensor([1.0]).dtype == em.float64 and em.randn(2).dtype == em.float64
    em.set_default_dtype(em.float32)
    with pytest.raises(TypeError, match="floating"):
        em.set_default_dtype(em.int64)


def test_unsupported_dtype_is_named():
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        em.tensor(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="unsupported dtype"):
        em.tensor(["a", "b"])
    with pytest.raises(TypeError, match="unsupported dtype"):
        em.zeros(2, dtype="complex64")


def test_tensor_copies_but_from_numpy_shares():
    a = np.zeros(3)
    t, s = em.tensor(a), em.from_numpy(a)
    a[0] = 7
    assert t[0].item() == 0 and s[0].item() == 7


def test_numpy_interop():
    x = em.tensor([[1.0, 2.0]])
    assert np.asarray(x).dtype == np.float32
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    y = np.ones(2) + x  # NumPy defers to Tensor.__radd__
    assert isinstance(y, em.Tensor) and y.shape == (1, 2)
    assert isinstance(np.float64(2.0) * x, em.Tensor)
    w = em.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert np.asarray(w).shape == (2,)


def test_item_and_python_scalars():
    assert em.tensor([3.5]).item() == 3.5
    assert float(em.tensor(2.0)) == 2.0 and int(em.tensor(7)) == 7
    assert f"{em.tensor(0.123456):.3f}" == "0.123"
    with pytest.raises(ValueError, match="one-element"):
        em.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(em.ones(2))
    with pytest.raises(TypeError, match="0-d"):
        len(em.tensor(1.0))
    assert list(range(10))[em.tensor(3)] == 3


def test_repr_looks_like_pytorch():
    assert repr(em.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(em.tensor([0.5, 1.25])) == "tensor([0.5000, 1.2500])"
    assert repr(em.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(em.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=em.float64)) == (
        "tensor([[1., 2.],\n        [3., 4.]], dtype=float64)"
    )
    w = em.tensor([1.0], requires_grad=True)
    assert repr(w) == "tensor([1.], requires_grad=True)"
    assert repr(w * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert "..." in repr(em.zeros(5000))


def test_dtype_conversions():
    x = em.tensor([1.7, -2.2])
    assert x.double().dtype == em.float64 and x.long().dtype == em.int64
    assert x.long().tolist() == [1, -2]
    assert x.to(em.float64).dtype == em.float64 and x.to("cpu") is x
    assert x.float() is x and x.type() == "ember.FloatTensor"
    assert x.to(em.tensor([1], dtype=em.int32)).dtype == em.int32


# PyTorch's type promotion (which differs from NumPy's) -----------------------------------

PROMOTIONS = [
    ("int64", "float32"), ("float32", "float64"), ("int32", "int64"), ("bool", "int64"),
    ("uint8", "int64"), ("bool", "float32"), ("float16", "int64"), ("int64", "float64"),
]


@pytest.mark.parametrize("a,b", PROMOTIONS)
@pytest.mark.parametrize("b_is_scalar_tensor", [False, True])
def test_binary_op_dtype_matches_pytorch(torch, a, b, b_is_scalar_tensor):
    shape_b = () if b_is_scalar_tensor else (3,)
    x = em.tensor(np.ones(3, a))
    y = em.tensor(np.ones(shape_b, b))
    tx = torch.from_numpy(np.ones(3, a))
    ty = torch.from_numpy(np.ones(shape_b, b))
    expected = str(torch.result_type(tx, ty)).replace("torch.", "")
    assert str((x + y).dtype) == expected
    assert str((y * x).dtype) == expected


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64", "bool"])
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_python_scalar_dtype_matches_pytorch(torch, dtype, scalar):
    torch.set_default_dtype(torch.float32)  # both frameworks' defaults
    x = em.tensor(np.ones(3, dtype))
    tx = torch.from_numpy(np.ones(3, dtype))
    assert str((x * scalar).dtype) == str((tx * scalar).dtype).replace("torch.", "")


def test_integer_true_division_and_unary_float_ops_give_default_float():
    assert (em.tensor([1, 2]) / em.tensor([2, 2])).dtype == em.float32
    assert em.tensor([1, 2]).exp().dtype == em.float32
    assert em.tensor(np.array([1.0], np.float64)).exp().dtype == em.float64


# errors name the op and the shapes ---------------------------------------------------------


def test_shape_errors_name_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"add: .*\(2, 3\).*\(4,\)"):
        em.ones(2, 3) + em.ones(4)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        em.ones(2, 3) @ em.ones(4, 5)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        em.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        em.cat([em.ones(2, 3), em.ones(2, 4)], dim=0)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape"):
        em.stack([em.ones(2), em.ones(3)])
    with pytest.raises(IndexError, match=r"sum\(\): dimension 2 is out of range for a 2-d"):
        em.ones(2, 3).sum(dim=2)
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(3,\) to"):
        em.ones(3).expand(4, 2)


# semantics of individual functions -----------------------------------------------------------


def test_max_with_dim_returns_values_and_indices(torch):
    x = em.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    assert_close(values, [5.0, 7.0])
    assert indices.tolist() == [1, 0] and indices.dtype == em.int64
    assert x.min(dim=0).indices.tolist() == [0, 1, 0]
    assert x.max().item() == 7.0
    assert x.argmax().item() == 3 and x.argmax(dim=1, keepdim=True).shape == (2, 1)


def test_max_of_ties_shares_the_gradient_like_pytorch(torch):
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    x = em.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    (x.max() + x.amax(dim=1).sum() + em.maximum(x, em.tensor(2.0, dtype=em.float64)).sum()
     ).backward()
    (t.max() + t.amax(dim=1).sum() + torch.maximum(t, torch.tensor(2.0)).sum()).backward()
    assert_close(x.grad, t.grad)


def test_relu_derivative_at_zero_is_zero():
    x = em.tensor([0.0, 1.0, -1.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_split_and_chunk_follow_pytorch_semantics(torch):
    x = em.arange(10)
    assert [p.tolist() for p in x.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.shape for p in x.split([3, 7])] == [(3,), (7,)]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    with pytest.raises(ValueError, match="do not add up"):
        x.split([3, 3])


def test_setitem_and_boolean_indexing():
    x = em.zeros(2, 3)
    x[0, 1] = 5.0
    x[:, 2] = em.tensor([1.0, 2.0])
    x[x > 4] = -1.0
    assert x.tolist() == [[0.0, -1.0, 1.0], [0.0, 0.0, 2.0]]
    assert x[em.tensor([1, 0])].tolist() == [[0.0, 0.0, 2.0], [0.0, -1.0, 1.0]]


def test_softmax_and_log_softmax_are_stable_for_huge_logits():
    x = em.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    s, ls = x.softmax(dim=1), x.log_softmax(dim=1)
    assert np.isfinite(s.detach().numpy()).all() and np.isfinite(ls.detach().numpy()[0, 0])
    assert_close(s[0], [1.0, 0.0, 0.0])
    (ls[:, 0].sum() + s[:, 1].sum() + x.logsumexp(dim=1).sum()).backward()
    assert np.isfinite(x.grad.numpy()).all()
    sig = em.tensor([1e4, -1e4], requires_grad=True)
    out = sig.sigmoid()
    out.sum().backward()
    assert out.tolist() == [1.0, 0.0] and np.isfinite(sig.grad.numpy()).all()


def test_manual_seed_makes_random_functions_repeatable():
    em.manual_seed(42)
    a = (em.rand(3), em.randn(2, 2), em.randint(0, 10, (4,)), em.randperm(5))
    em.manual_seed(42)
    b = (em.rand(3), em.randn(2, 2), em.randint(0, 10, (4,)), em.randperm(5))
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())
    assert not np.array_equal(em.rand(3).numpy(), a[0].numpy())


def test_creation_functions():
    assert em.arange(5).dtype == em.int64 and em.arange(0, 1, 0.25).tolist() == [0, .25, .5, .75]
    assert em.arange(0.0, 3).dtype == em.float32
    assert em.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert em.eye(3).numpy().trace() == 3 and em.eye(2, 3).shape == (2, 3)
    assert em.full((2,), 7).dtype == em.int64 and em.full((2,), 7.0).dtype == em.float32
    assert em.full((2,), True).dtype == em.bool_
    x = em.ones(2, 3, dtype=em.float64)
    assert em.zeros_like(x).dtype == em.float64 and em.ones_like(x).shape == (2, 3)
    assert em.zeros((2, 3)).shape == em.zeros(2, 3).shape == em.empty(2, 3).shape
    r = em.randint(3, 5, (1000,))
    assert r.min().item() == 3 and r.max().item() == 4
    assert em.randint(4, (3,)).shape == (3,)
    assert em.randn(2, requires_grad=True).requires_grad
