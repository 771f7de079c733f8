"""500 training steps do not grow memory: every graph is freed after its backward pass.

The measure is the memory of NumPy's array buffers: NumPy reports each allocation to
``tracemalloc`` under its own domain, so Python's small-object bookkeeping (which
settles slowly and differs from run to run) does not blur it. A graph kept alive keeps
its activations and gradients, which are arrays.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import ember as em
from ember import nn

NUMPY = tracemalloc.DomainFilter(inclusive=True, domain=np.lib.tracemalloc_domain)


def _array_bytes() -> int:
    """Bytes held now by NumPy array buffers (allocated since tracing started)."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([NUMPY])
    return sum(stat.size for stat in snapshot.statistics("filename"))


def _train(model, loss_fn, optimizer, x, y, steps: int, keep: list | None = None) -> None:
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward(retain_graph=keep is not None)
        optimizer.step()
        if keep is not None:
            keep.append(loss)


def _growth(model, loss_fn, optimizer, x, y, keep=None) -> tuple[int, int]:
    """Array bytes after 100 steps (optimiser state and scratch buffers exist by then)
    and after 400 more."""
    tracemalloc.start()
    try:
        _train(model, loss_fn, optimizer, x, y, 100, keep)
        warm = _array_bytes()
        _train(model, loss_fn, optimizer, x, y, 400, keep)
        return warm, _array_bytes()
    finally:
        tracemalloc.stop()


def _setup():
    em.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.1), nn.Linear(64, 10))
    optimizer = em.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = em.tensor(rng.standard_normal((16, 1, 8, 8)).astype(np.float32))
    y = em.tensor(rng.integers(0, 10, 16))
    return model, nn.CrossEntropyLoss(), optimizer, x, y


def test_500_training_steps_do_not_grow_memory():
    warm, end = _growth(*_setup())
    # one leaked graph holds over 20 kB of arrays here: 400 of them, over 8 MB
    assert end <= warm + 16 * 1024, (warm, end)


def test_a_leaked_graph_would_be_caught():
    """The measurement above can fail: keeping every loss (and so its graph) grows it."""
    kept = []
    warm, end = _growth(*_setup(), keep=kept)
    assert end > warm + 4 * 1024 * 1024, (warm, end)
