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

from bench.worker import measure


def _rank_and_size() -> tuple[int, int]:
    return int(os.environ.get("PMI_RANK", 0)), int(os.environ.get("PMI_SIZE", 1))


def _share(x: np.ndarray, rank: int, size: int) -> np.ndarray:
    n = len(x) // size
    return x[rank * n:(rank + 1) * n]


def _sgd_steps(framework, model, x, y, warmup: int, steps: int) -> list[float]:
    """Time training steps of ``model`` on (x, y), ``framework`` being ember or torch."""
    optimizer = framework.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = framework.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return measure(step, warmup, steps)


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
    times = _sgd_steps(em, model, x, y, warmup, steps)
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
    times = _sgd_steps(torch, model, x, y, warmup, steps)
    if size > 1:
        torch.distributed.destroy_process_group()
    return {"times": times, "waits": [], "rank": rank}


def run_all_reduce(workload, framework: str, warmup: int, steps: int, port: int) -> dict:
    """The gradients' all-reduce alone: a float32 array of the model's parameter count,
    summed over the ranks (the communication cost of a step without its computation)."""
    rank, size = _rank_and_size()
    if framework == "ember":
        import ember as em

        count = sum(p.numel() for p in workload.build_ember(em).parameters())
        em.distributed.init_process_group("mpi")
        grads = em.zeros(count)
        reduce = lambda: em.distributed.all_reduce(grads)  # noqa: E731
    else:
        import torch

        count = sum(p.numel() for p in workload.build_torch(torch).parameters())
        torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                                             rank=rank, world_size=size)
        grads = torch.zeros(count)
        reduce = lambda: torch.distributed.all_reduce(grads)  # noqa: E731
    times = measure(reduce, warmup, steps)
    if framework == "torch":
        torch.distributed.destroy_process_group()  # else gloo aborts at exit
    return {"times": times, "waits": [], "rank": rank, "count": count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload")
    parser.add_argument("framework", choices=["ember", "torch"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--port", type=int, default=29500)
    parser.add_argument("--all-reduce", action="store_true",
                        help="time the gradients' all-reduce alone (under mpiexec)")
    args = parser.parse_args()
    from bench.workloads import WORKLOADS

    workload = WORKLOADS[args.workload]
    if args.all_reduce:
        result = run_all_reduce(workload, args.framework, args.warmup, args.steps, args.port)
    elif args.framework == "ember":
        result = run_ember(workload, args.threads, args.warmup, args.steps)
    else:
        result = run_torch(workload, args.threads, args.warmup, args.steps, args.port)
    if result["rank"] == 0:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
