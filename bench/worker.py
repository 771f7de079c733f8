"""One measurement in a fresh process: ``python -m bench.worker WORKLOAD FRAMEWORK``.

Prints one JSON line: step times (ms), peak extra memory during the steps (MB), FLOPs.
Thread counts are set by the parent through the environment before NumPy/PyTorch load.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def _rss_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # reset the peak resident set size (Linux)
        return True
    except OSError:
        return False


class Baseline:
    """Resident memory after the imports: peak memory is counted from here (the model, the
    data and everything a step allocates)."""

    def __init__(self) -> None:
        self.reset = _reset_peak()
        self.rss = _rss_kib("VmRSS")

    def peak_mb(self) -> float | None:
        peak = _rss_kib("VmHWM")
        return (peak - self.rss) / 1024 if self.reset and peak and self.rss else None


def measure(step, warmup: int, steps: int) -> list[float]:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1e3)
    return times


def _weights(path: str) -> dict:
    with np.load(path, allow_pickle=False) as saved:
        return {key: saved[key] for key in saved.files}


def init_weights(workload, path: str) -> None:
    """Build the PyTorch model (seed 0) and save its initial weights for both runners."""
    import torch

    torch.manual_seed(0)
    model = workload.build_torch(torch)
    np.savez(path, **{k: v.detach().numpy() for k, v in model.state_dict().items()})


def run_ember(workload, threads: int, warmup: int, steps: int, weights: str) -> dict:
    import ember as em
    from bench.workloads import data, forward_flops

    em.set_num_threads(threads)
    baseline = Baseline()
    model = workload.build_ember(em)
    model.load_state_dict(_weights(weights))
    x_np, y_np = data(workload)
    x, y = em.tensor(x_np), em.tensor(y_np)
    flops = forward_flops(model, em, x_np)
    if workload.train:
        optimizer = em.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = em.nn.CrossEntropyLoss()

        def step():
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with em.no_grad():
                model(x)

    times = measure(step, warmup, steps)
    return {"times": times, "peak_mb": baseline.peak_mb(),
            "flops": flops * (3 if workload.train else 1)}


def run_torch(workload, threads: int, warmup: int, steps: int, weights: str) -> dict:
    import torch

    from bench.workloads import data

    torch.set_num_threads(threads)
    baseline = Baseline()
    model = workload.build_torch(torch)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in _weights(weights).items()})
    x_np, y_np = data(workload)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    if workload.train:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)

    times = measure(step, warmup, steps)
    return {"times": times, "peak_mb": baseline.peak_mb()}


def matmul_peak(threads: int) -> float:
    """The machine's float32 matrix-multiply rate with NumPy's BLAS, GFLOP/s (best of 5)."""
    n = 1024
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload")
    parser.add_argument("framework", choices=["ember", "torch", "peak", "init"])
    parser.add_argument("--weights", help="the .npz of initial weights (written by 'init')")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    if args.framework == "peak":
        print(json.dumps({"gflops": matmul_peak(args.threads)}))
        return
    from bench.workloads import WORKLOADS

    workload = WORKLOADS[args.workload]
    if args.framework == "init":
        init_weights(workload, args.weights)
        return
    runner = run_ember if args.framework == "ember" else run_torch
    print(json.dumps(runner(workload, args.threads, args.warmup, args.steps, args.weights)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
