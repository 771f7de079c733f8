"""Autograd semantics users rely on: accumulation, no_grad, freeing, deep graphs, in-place."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close


def test_gradients_accumulate_until_zeroed():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert_close(w.grad, [6.0, 6.0])
    w.grad = None
    (w * w).sum().backward()
    assert_close(w.grad, [2.0, 4.0])
    w.grad.zero_()
    (w * 1).sum().backward()
    assert_close(w.grad, [1.0, 1.0])


def test_a_tensor_used_twice_gets_both_gradients():
    x = em.tensor(3.0, requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    # add hands the same gradient array to both inputs; changing one .grad in place must
    # not change the other, nor a gradient still flowing through the graph
    a = em.ones(3, requires_grad=True)
    b = em.ones(3, requires_grad=True)
    c = em.ones(3, requires_grad=True)
    (a + b + c * 2).sum().backward()
    a.grad.add_(100.0)
    assert_close(b.grad, [1.0, 1.0, 1.0])
    assert_close(c.grad, [2.0, 2.0, 2.0])


def test_leaf_used_twice_through_add_accumulates_correctly():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = (x + h).sum() + (x * 2).sum()  # dy/dx = 1 + e^x + 2
    y.backward()
    assert_close(x.grad, 3 + np.exp([1.0, 2.0]))


def test_no_grad_context_and_decorator():
    w = em.ones(2, requires_grad=True)
    with em.no_grad():
        y = w * 2
    assert not y.requires_grad and y.grad_fn is None

    @em.no_grad()
    def double(t):
        return t * 2

    @em.no_grad
    def triple(t):
        return t * 3

    assert not double(w).requires_grad
    assert not triple(w).requires_grad
    assert em.is_grad_enabled()
    with em.no_grad():
        with em.enable_grad():
            assert (w * 2).requires_grad
        assert not em.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context():
    with em.set_grad_enabled(False):
        assert not em.is_grad_enabled()
    assert em.is_grad_enabled()
    em.set_grad_enabled(False)
    try:
        assert not (em.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        em.set_grad_enabled(True)


def test_detach_cuts_the_graph_and_shares_memory():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    y = x * 2
    view = y.detach()
    assert np.shares_memory(view.numpy(), y._data)


def test_graph_is_freed_after_backward_unless_retained():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 2 * (np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0]))))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_of_non_scalar_needs_a_gradient():
    x = em.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs.*shape \\(3,\\)"):
        (x * 2).backward()
    (x * 2).backward(em.tensor([1.0, 0.0, -1.0]))
    assert_close(x.grad, [2.0, 0.0, -2.0])
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 2).backward(em.ones(2))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        em.ones(2).sum().backward()


def test_backward_on_a_leaf():
    x = em.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_chain_of_20000_ops_needs_no_recursion():
    x = em.tensor(1.0, dtype=em.float64, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**20000, rel=1e-9)


def test_wide_graph_with_shared_subexpressions():
    x = em.tensor(0.5, dtype=em.float64, requires_grad=True)
    terms = [x]
    for _ in range(30):  # each level uses the previous one twice: 2^30 paths, 60 nodes
        t = terms[-1]
        terms.append(t * 0.5 + t * 0.5)
    terms[-1].backward()
    assert x.grad.item() == pytest.approx(1.0)


def test_inplace_change_of_a_saved_tensor_is_detected():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = (y * y).sum()  # mul saves y
    with em.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()


def test_inplace_change_of_an_output_used_by_its_gradient_is_detected():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp's gradient reads its output
    z = y.sum()
    with em.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward.*modified in place"):
        z.backward()


def test_inplace_change_through_a_view_is_detected():
    x = em.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1.0
    z = (y.sigmoid()).sum()  # sigmoid saves its output, not y; use mul to save y
    w = (y * y).sum()
    row = y[0]
    with em.no_grad():
        row.zero_()
    z.backward()  # sigmoid did not save y: its gradient is still right
    with pytest.raises(RuntimeError, match="modified in place"):
        w.backward()


def test_inplace_ops_on_leaves_that_require_grad_are_refused_while_recording():
    w = em.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf tensor"):
        w[0] = 5.0
    with pytest.raises(RuntimeError, match="leaf tensor"):
        w += 1
    with em.no_grad():  # how optimisers update parameters
        w.sub_(0.5)
        w[1] = 2.0
    assert_close(w, [0.5, 2.0, 0.5])


def test_inplace_ops_on_recorded_tensors_are_recorded(torch):
    values = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    grads = []
    for fw in (torch, em):
        w = fw.tensor(values, dtype=fw.float64, requires_grad=True)
        v = fw.tensor([1.0, 2.0, 3.0], dtype=fw.float64, requires_grad=True)
        h = w * 2
        h.mul_(v)       # the gradient for v needs h's old values: the clone keeps them
        h[0, 1] = v[0] * 3
        h += w.exp()
        h.sub_(v, alpha=0.5)
        h.clamp_(max=5.0)
        h.relu_()
        (h * h).sum().backward()
        grads.append((h.detach().numpy(), w.grad.numpy(), v.grad.numpy()))
    for ours, theirs in zip(grads[1], grads[0], strict=True):
        assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_augmented_assignment_is_in_place_and_recorded():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    before = loss
    loss += (w * 3).sum()  # in place, as in PyTorch: the same tensor, its grad_fn an add
    assert loss is before
    loss.backward()
    assert_close(w.grad, [5.0, 7.0])
    plain = em.zeros(2)
    alias = plain
    plain += 1
    assert alias is plain
    assert_close(alias, [1.0, 1.0])


def test_inplace_change_of_a_view_of_a_recorded_tensor_is_refused():
    w = em.ones(2, 3, requires_grad=True)
    h = w * 2
    with pytest.raises(RuntimeError, match="view"):
        h[0].relu_()
    with pytest.raises(RuntimeError, match="view"):
        h.view(6).mul_(2)
    h.clone()[0].detach().zero_()  # outside the graph: allowed


def test_version_counter_is_shared_with_views_and_detach():
    x = em.zeros(4)
    v, d = x[1:3], x.detach()
    assert x._version == 0
    v.fill_(1.0)
    assert x._version == d._version == v._version == 1
    assert_close(x, [0.0, 1.0, 1.0, 0.0])


def test_read_only_views_refuse_in_place_changes():
    x = em.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="read-only view"):
        x.add_(1)


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating-point"):
        em.tensor([1, 2], requires_grad=True)
    x = em.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name == "MulBackward0"
    assert x.requires_grad_(False) is x and not x.requires_grad


def test_integer_and_comparison_results_carry_no_gradient():
    x = em.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for result in (x > 0, x.argmax(), x.argmin(dim=0), x == x, x.isnan()):
        assert not result.requires_grad
    (x * (x > 0)).sum().backward()
    assert_close(x.grad, [1.0, 0.0, 1.0])


def test_retain_grad_and_hooks():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)  # a hook may replace the gradient
    (h * h).sum().backward()
    assert_close(h.grad, [6.0, 12.0])
    assert_close(seen[0], [6.0, 12.0])
    assert_close(x.grad, [180.0, 360.0])
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert_close(x.grad, [1.0, 1.0])


def test_graph_memory_is_released_without_the_garbage_collector():
    x = em.randn(100, 100, requires_grad=True)
    e = x.exp()
    ref = weakref.ref(e)
    y = (e * x).sum()
    del e
    assert ref() is not None  # the graph keeps the intermediate alive...
    y.backward()
    del y
    assert ref() is None  # ...and reference counting alone frees it: the graph has no cycles
    gc.collect()


def test_gradient_dtype_follows_the_input():
    x32 = em.ones(3, requires_grad=True)
    x64 = em.ones(3, dtype=em.float64, requires_grad=True)
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == em.float32 and x64.grad.dtype == em.float64


def test_deepcopy_of_leaves_only():
    import copy

    x = em.ones(2, requires_grad=True)
    c = copy.deepcopy(x)
    assert c is not x and c.requires_grad and not np.shares_memory(c.numpy() if not
                                                                    c.requires_grad else
                                                                    c._data, x._data)
    with pytest.raises(RuntimeError, match="leaf"):
        copy.deepcopy(x * 2)
