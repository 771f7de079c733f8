"""ember.parallel: the thread count, the batch split, and ops that give the same results
with one thread and with several."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn, parallel
from ember.nn import functional as F


@pytest.fixture
def threads():
    """Restore the thread count a test changes."""
    before = em.get_num_threads()
    yield
    em.set_num_threads(before)


def test_set_and_get_num_threads(threads):
    em.set_num_threads(3)
    assert em.get_num_threads() == 3
    em.set_num_threads(1)
    assert em.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_non_positive_ints(bad):
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
        em.set_num_threads(bad)


def test_default_threads_follow_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert parallel._default_threads() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert parallel._default_threads() >= 1


def test_batch_slices_cover_the_batch_in_order(threads):
    em.set_num_threads(3)
    slices = parallel.batch_slices(10, work=10**9)
    assert [(s.start, s.stop) for s in slices] == [(0, 3), (3, 6), (6, 10)]
    assert parallel.batch_slices(10, work=10) == [slice(0, 10)]  # too little work
    assert parallel.batch_slices(2, work=10**9) == [slice(0, 1), slice(1, 2)]  # n < threads
    em.set_num_threads(1)
    assert parallel.batch_slices(10, work=10**9) == [slice(0, 10)]


def test_map_batch_keeps_the_order_and_runs_on_worker_threads(threads):
    import threading

    em.set_num_threads(4)
    seen = []

    def piece(s):
        seen.append(threading.current_thread().name)
        return s.start, s.stop

    assert parallel.map_batch(piece, 8, work=10**9) == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert sum(name.startswith("ember-worker") for name in seen) == 3


def test_map_batch_raises_a_worker_error(threads):
    em.set_num_threads(2)

    def piece(s):
        if s.start > 0:
            raise ValueError("second piece failed")
        return 1

    with pytest.raises(ValueError, match="second piece failed"):
        parallel.map_batch(piece, 4, work=10**9)
    assert parallel.map_batch(lambda s: s.stop - s.start, 4, work=10**9) == [2, 2]  # still works


def test_no_nested_split_inside_a_worker(threads):
    em.set_num_threads(2)
    inner = parallel.map_batch(lambda s: len(parallel.batch_slices(100, 10**9)), 2, 10**9)
    assert inner[1] == 1  # the worker's piece does not split again
    assert inner[0] == 2  # the calling thread's piece may


def test_matmul_equals_numpy(threads):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 300)), rng.standard_normal((300, 40))
    em.set_num_threads(2)
    if not parallel._blas_pinned():
        pytest.skip("threadpoolctl is not installed: products are left to BLAS")
    calls = []
    real = parallel.map_batch
    parallel.map_batch = lambda fn, n, work: calls.append(n) or real(fn, n, work)
    try:
        np.testing.assert_allclose(parallel.matmul(np, a, b), a @ b, rtol=1e-12)
    finally:
        parallel.map_batch = real
    assert calls == [256]  # the rows were split
    np.testing.assert_allclose(parallel.matmul(np, a, b), a @ b, rtol=1e-12)
    np.testing.assert_allclose(parallel.matmul(np, a.T[:40].T, b[:40]), a[:, :40] @ b[:40],
                               rtol=1e-12)


def _conv_pool_step(x):
    """Outputs and gradients of a conv-pool-conv-linear net on x."""
    em.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(16 * 7 * 7, 10)).double()
    xt = em.tensor(x, requires_grad=True)
    out = model(xt)
    F.cross_entropy(out, em.tensor(np.arange(len(x)) % 10)).backward()
    grads = [p.grad.numpy() for p in model.parameters()]
    return out.detach().numpy(), xt.grad.numpy(), grads


@pytest.mark.parametrize("n", [1, 3, 64])
def test_split_ops_give_the_same_results_as_one_thread(threads, n):
    x = np.random.default_rng(1).standard_normal((n, 3, 32, 32))
    em.set_num_threads(1)
    out1, dx1, grads1 = _conv_pool_step(x)
    em.set_num_threads(3)
    out3, dx3, grads3 = _conv_pool_step(x)
    np.testing.assert_array_equal(out3, out1)  # per-sample work: the same bits
    np.testing.assert_array_equal(dx3, dx1)
    for g3, g1 in zip(grads3, grads1, strict=True):  # sums over the batch: another order
        np.testing.assert_allclose(g3, g1, rtol=1e-12, atol=1e-14)


def test_split_conv_transpose_matches_one_thread(threads):
    rng = np.random.default_rng(2)
    x = em.tensor(rng.standard_normal((32, 6, 16, 16)), requires_grad=True)
    w = em.tensor(rng.standard_normal((6, 4, 3, 3)), requires_grad=True)
    results = []
    for count in (1, 2):
        em.set_num_threads(count)
        x.grad = w.grad = None
        y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_split_step_matches_pytorch(threads, torch):
    """A batch large enough to be split and chunked, with BLAS pinned: outputs and every
    gradient equal PyTorch's in float64."""
    x = np.random.default_rng(3).standard_normal((64, 3, 32, 32))
    em.set_num_threads(3)
    assert len(parallel.batch_slices(64, 64 * 3 * 32 * 32 * 27)) == 3  # it does split
    out, dx, grads = _conv_pool_step(x)

    em.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(16 * 7 * 7, 10)).double()
    tnn = torch.nn
    reference = tnn.Sequential(tnn.Conv2d(3, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                               tnn.Conv2d(8, 16, 3, stride=2), tnn.ReLU(), tnn.Flatten(),
                               tnn.Linear(16 * 7 * 7, 10)).double()
    reference.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                               for k, v in model.state_dict().items()})
    xt = torch.from_numpy(x).requires_grad_(True)
    y = reference(xt)
    torch.nn.functional.cross_entropy(y, torch.from_numpy(np.arange(64) % 10)).backward()
    np.testing.assert_allclose(out, y.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
    for ours, p in zip(grads, reference.parameters(), strict=True):
        np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-10, atol=1e-14)
