"""Data-parallel scaling from 1 to 2 processes: ``python -m bench.distributed``.

For each workload the same global batch is trained (strong scaling) by

* one process with one thread (the baseline),
* two processes with one thread each and half the batch each (``mpiexec -n 2``;
  gradients averaged by DistributedDataParallel: ember's on MPI, PyTorch's on gloo),
* one process with two threads (the other way to use two cores),

ember and PyTorch alike, in ``--rounds`` rounds (the configurations back to back in each
round), reporting the median step time over the rounds and the speed-up of two processes
over one, with its range. ember's two-process runs also report how long each step waited
after its backward pass for the last gradient all-reduce to finish, and the all-reduce of
a gradient-sized array is timed alone, ember's on MPI against PyTorch's on gloo. The machine's load
average is printed: on a shared machine the second process competes with whatever else
runs, and the figures say so.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from statistics import median

from bench.workloads import WORKLOADS

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CONFIGS = [("1 process", 1, 1), ("2 processes", 2, 1), ("1 process, 2 threads", 1, 2)]


def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(workload: str, framework: str, processes: int, threads: int, warmup: int,
         steps: int, *extra: str) -> dict:
    env = dict(os.environ, **{v: str(threads) for v in THREAD_VARIABLES})
    command = [sys.executable, "-m", "bench.distributed_worker", workload, framework,
               "--threads", str(threads), "--warmup", str(warmup), "--steps", str(steps),
               "--port", str(_free_port()), *extra]
    if processes > 1:
        command = [_mpiexec(), "-n", str(processes), *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                          timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(workload: str, rounds: int, warmup: int, steps: int) -> dict:
    """{framework: {config: [median step ms per round]}, and ember's waits}."""
    results = {fw: {name: [] for name, _, _ in CONFIGS} for fw in ("ember", "torch")}
    waits, reduces = [], {"ember": [], "torch": []}
    for r in range(rounds):
        for framework in (("ember", "torch") if r % 2 == 0 else ("torch", "ember")):
            for name, processes, threads in CONFIGS:
                out = _run(workload, framework, processes, threads, warmup, steps)
                results[framework][name].append(median(out["times"]))
                if out["waits"]:
                    waits.append(median(out["waits"]))
            out = _run(workload, framework, 2, 1, warmup, steps, "--all-reduce")
            reduces[framework].append(median(out["times"]))
            results["parameters"] = out["count"]
    results["ember_wait_ms"] = waits
    results["all_reduce_ms"] = reduces
    return results


def _speedups(config: dict, name: str) -> list[float]:
    return [a / b for a, b in zip(config["1 process"], config[name], strict=True)]


def report(all_results: dict, rounds: int, load: tuple) -> str:
    header = (f"{'workload':<22}{'framework':<11}{'1 proc ms':>10}{'2 procs ms':>11}"
              f"{'speed-up (range)':>19}{'2 thr ms':>10}{'speed-up':>10}")
    lines = [f"strong scaling, the same global batch; median over {rounds} rounds; load "
             f"average before/after: {load[0]:.2f} / {load[1]:.2f} on {os.cpu_count()} "
             "CPUs", "", header, "-" * len(header)]
    for workload, results in all_results.items():
        for framework in ("ember", "torch"):
            config = results[framework]
            two = _speedups(config, "2 processes")
            threads = _speedups(config, "1 process, 2 threads")
            lines.append(
                f"{workload:<22}{framework:<11}{median(config['1 process']):>10.2f}"
                f"{median(config['2 processes']):>11.2f}"
                f"{median(two):>9.2f} ({min(two):.2f}-{max(two):.2f})"
                f"{median(config['1 process, 2 threads']):>10.2f}{median(threads):>10.2f}")
        lines.append(f"{'':<22}ember, 2 processes: {median(results['ember_wait_ms']):.2f} "
                     "ms a step waiting for the last all-reduce after backward")
        reduces = results["all_reduce_ms"]
        lines.append(f"{'':<22}the all-reduce alone, {results['parameters']:,} float32 on 2 "
                     f"processes: ember (MPI) {median(reduces['ember']):.2f} ms, PyTorch "
                     f"(gloo) {median(reduces['torch']):.2f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD",
                        help=f"default: mlp lenet5-64 lenet5-256; any of {sorted(WORKLOADS)}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args(argv)
    args.workloads = args.workloads or ["mlp", "lenet5-64", "lenet5-256"]
    unknown = sorted(set(args.workloads) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {sorted(WORKLOADS)}")
    before = os.getloadavg()
    results = {w: measure(w, args.rounds, args.warmup, args.steps) for w in args.workloads}
    print(report(results, args.rounds, (before[0], os.getloadavg()[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
