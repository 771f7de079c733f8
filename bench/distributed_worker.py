"""One data-parallel measurement: ``[mpiexec -n R] python -m bench.distributed_worker
WORKLOAD FRAMEWORK``.

Each of the R processes (ranks) takes its 1/R of the workload's batch and runs training
steps (forward, cross-entropy, backward with the gradients averaged over the ranks,
SGD-momentum update): ember with DistributedDataParallel on MPI, PyTorch with its
DistributedDataParallel on gloo (connected over TCP on this machine; rank and size from
mpiexec's environment). Rank 0 prints one JSON line: its step times (ms) and, for
ember, the time each step spent waiting for the last gradient all-reduce after the
backward pass. Thread counts are set by the parent through the environment.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def _rank_and_size() -> tuple[int, int]:
    return int(os.environ.get("PMI_RANK", 0)), int(os.environ.get("PMI_SIZE", 1))


def _share(x: np.ndarray, rank: int, size: int) -> np.ndarray:
    n = len(x) // size
    return x[rank * n:(rank + 1) * n]


def run_ember(workload, threads: int, warmup: int, steps: int) -> dict:
    import ember as em
    from bench.workloads import data

    em.set_num_threads(threads)
    rank, size = _rank_and_size()
    em.manual_seed(0)
    model = workload.build_ember(em)
    waits = []
    if size > 1:
        em.distributed.init_process_group("mpi")
        model = em.nn.parallel.DistributedDataParallel(model)
        finish = model._finish

        def timed_finish():  # the wait for the gradient reduction after the backward pass
            started = time.perf_counter()
            finish()
            waits.append((time.perf_counter() - started) * 1e3)

        model._finish = timed_finish
    x_np, y_np = data(workload)
    x, y = em.tensor(_share(x_np, rank, size)), em.tensor(_share(y_np, rank, size))
    optimizer = em.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = em.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    times = _measure(step, warmup, steps)
    return {"times": times, "waits": waits[warmup:], "rank": rank}


def run_torch(workload, threads: int, warmup: int, steps: int, port: int) -> dict:
    import torch

    from bench.workloads import data

    torch.set_num_threads(threads)
    rank, size = _rank_and_size()
    torch.manual_seed(0)
    model = workload.build_torch(torch)
    if size > 1:
        torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                                             rank=rank, world_size=size)
        model = torch.nn.parallel.DistributedDataParallel(model)
    x_np, y_np = data(workload)
    x = torch.from_numpy(_share(x_np, rank, size))
    y = torch.from_numpy(_share(y_np, rank, size))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    times = _measure(step, warmup, steps)
    if size > 1:
        torch.distributed.destroy_process_group()
    return {"times": times, "waits": [], "rank": rank}


def _measure(step, warmup: int, steps: int) -> list[float]:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload")
    parser.add_argument("framework", choices=["ember", "torch"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--port", type=int, default=29500)
    args = parser.parse_args()
    from bench.workloads import WORKLOADS

    workload = WORKLOADS[args.workload]
    if args.framework == "ember":
        result = run_ember(workload, args.threads, args.warmup, args.steps)
    else:
        result = run_torch(workload, args.threads, args.warmup, args.steps, args.port)
    if result["rank"] == 0:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
