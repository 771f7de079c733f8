"""Errors: where PyTorch raises RuntimeError, ember's exception is a RuntimeError too (and
a ValueError, as before), and its message names the op and the shapes."""

from __future__ import annotations

import pytest

import ember as em
from ember.errors import DtypeError, OpError, ShapeError, StateDictError


def _cases(fw):
    F = fw.nn.functional
    return {
        "matmul": lambda: fw.ones(2, 3) @ fw.ones(4, 5),
        "mm": lambda: fw.mm(fw.ones(2, 3), fw.ones(4)),
        "broadcast_add": lambda: fw.ones(2, 3) + fw.ones(4),
        "reshape": lambda: fw.ones(2, 3).reshape(4, 2),
        "view": lambda: fw.ones(2, 3).view(5, -1),
        "permute": lambda: fw.ones(2, 3).permute(0, 0),
        "expand": lambda: fw.ones(2, 3).expand(4, 3),
        "cat": lambda: fw.cat([fw.ones(2, 3), fw.ones(2, 4)]),
        "stack": lambda: fw.stack([fw.ones(2, 3), fw.ones(3, 2)]),
        "split": lambda: fw.ones(5).split([2, 2]),
        "item": lambda: fw.ones(3).item(),
        "copy_": lambda: fw.ones(2, 3).copy_(fw.ones(4)),
        "conv_kernel_larger": lambda: F.conv2d(fw.ones(1, 1, 2, 2), fw.ones(1, 1, 3, 3)),
        "conv_channels": lambda: F.conv2d(fw.ones(1, 2, 5, 5), fw.ones(1, 3, 3, 3)),
        "linear": lambda: fw.nn.Linear(3, 2)(fw.ones(4, 5)),
        "batch_norm": lambda: fw.nn.BatchNorm1d(3)(fw.ones(4, 5)),
        "layer_norm": lambda: fw.nn.LayerNorm(3)(fw.ones(4, 5)),
        "lstm_input": lambda: fw.nn.LSTM(3, 4)(fw.ones(2, 1, 5)),
        "pow_negative": lambda: fw.tensor([2, 3]) ** -1,
        "mean_of_ints": lambda: fw.tensor([1, 2]).mean(),
        "load_state_dict_size": lambda: fw.nn.Linear(2, 3).load_state_dict(
            fw.nn.Linear(2, 4).state_dict()),
        "load_state_dict_keys": lambda: fw.nn.Linear(2, 3).load_state_dict({"weight": 1}),
    }


@pytest.mark.parametrize("case", sorted(_cases(em)))
def test_runtime_error_where_pytorch_raises_one(torch, case):
    with pytest.raises(RuntimeError):
        _cases(torch)[case]()
    with pytest.raises(RuntimeError) as caught:
        _cases(em)[case]()
    error = caught.value
    assert isinstance(error, (ValueError, TypeError, KeyError))  # and still what it was
    assert isinstance(error, (OpError, DtypeError, StateDictError))


def test_value_error_where_pytorch_raises_one(torch):
    for fw in (torch, em):  # a Python-level check in PyTorch: ValueError there and here
        with pytest.raises(ValueError, match="[45].*[45]"):
            fw.nn.functional.cross_entropy(fw.ones(4, 3), fw.zeros(5).long())


def test_messages_name_the_op_and_the_shapes():
    with pytest.raises(ShapeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        em.ones(2, 3) @ em.ones(4, 5)
    with pytest.raises(ShapeError, match=r"add.*\(2, 3\), \(4,\)"):
        em.ones(2, 3) + em.ones(4)
    with pytest.raises(ShapeError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        em.ones(2, 3).reshape(4, 2)
    with pytest.raises(ShapeError, match=r"conv2d: kernel size \(3, 3\).*\(1, 1, 2, 2\)"):
        em.nn.functional.conv2d(em.ones(1, 1, 2, 2), em.ones(1, 1, 3, 3))
    with pytest.raises(ShapeError, match=r"linear.*\(4, 5\)"):
        em.nn.Linear(3, 2)(em.ones(4, 5))
    with pytest.raises(StateDictError, match="missing keys bias") as caught:
        em.nn.Linear(2, 3).load_state_dict({"weight": em.ones(3, 2)})
    assert str(caught.value).startswith("load_state_dict")  # not quoted as a KeyError would be


def test_except_clauses_written_for_pytorch_keep_working():
    def safe_matmul(a, b):
        try:
            return a @ b
        except RuntimeError:  # PyTorch-style error handling
            return None

    assert safe_matmul(em.ones(2, 3), em.ones(4, 5)) is None
    assert safe_matmul(em.ones(2, 3), em.ones(3, 5)).shape == (2, 5)
