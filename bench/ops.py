"""Per-op autograd overhead: small tensors, where the Python cost of building and walking
the graph is all there is. Runs in-process, one thread, ember against PyTorch."""

from __future__ import annotations

import timeit

import numpy as np


def overhead(number: int = 20000) -> list[tuple[str, float, float]]:
    import torch

    import ember as em

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((2, 4, 4)).astype(np.float32)
    a, b = em.tensor(a_np, requires_grad=True), em.tensor(b_np, requires_grad=True)
    ta = torch.tensor(a_np, requires_grad=True)
    tb = torch.tensor(b_np, requires_grad=True)

    def graph(x, y):
        return ((x * y).exp() + x).sum()

    cases = [
        ("add", lambda: a + b, lambda: ta + tb),
        ("mul", lambda: a * b, lambda: ta * tb),
        ("matmul", lambda: a @ b, lambda: ta @ tb),
        ("exp", lambda: a.exp(), lambda: ta.exp()),
        ("sum", lambda: a.sum(), lambda: ta.sum()),
        ("sum(dim)", lambda: a.sum(1), lambda: ta.sum(1)),
        ("reshape", lambda: a.reshape(16), lambda: ta.reshape(16)),
        ("index", lambda: a[1:3], lambda: ta[1:3]),
        ("4 ops + backward", lambda: graph(a, b).backward(), lambda: graph(ta, tb).backward()),
    ]
    rows = []
    for name, ours, theirs in cases:
        n = number // 5 if "backward" in name else number
        t_ours = min(timeit.repeat(ours, number=n, repeat=5)) / n * 1e6
        t_theirs = min(timeit.repeat(theirs, number=n, repeat=5)) / n * 1e6
        rows.append((name, t_ours, t_theirs))
    return rows
