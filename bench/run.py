"""Run the benchmarks and print a table of ember against PyTorch CPU.

Each (workload, framework) runs in its own process with the same thread count (set
through OMP/OpenBLAS/MKL environment variables and torch.set_num_threads), the same
initial weights and the same data. A training step is forward + cross-entropy +
backward + SGD-momentum step; times are the median of >= 30 steps after warm-up, in
``--rounds`` pairs of processes (ember and PyTorch back to back), the ratio being the
median of the rounds' paired ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from statistics import median

from bench.workloads import WORKLOADS

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _worker(args: list[str], threads: int, checkout: str | None = None) -> dict:
    """``python -m bench.worker ARGS`` in a fresh process; with ``checkout``, the ember and
    bench of that source folder (an older commit's worktree) instead of the installed one."""
    env = dict(os.environ, **{v: str(threads) for v in THREAD_VARIABLES})
    if checkout is not None:
        env["PYTHONPATH"] = os.path.abspath(checkout)
    done = subprocess.run([sys.executable, "-m", "bench.worker", *args], env=env,
                          capture_output=True, text=True, check=False, cwd=checkout)
    if done.returncode != 0:
        raise RuntimeError(f"bench worker {' '.join(args)} failed:\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def run_workload(name: str, threads: int, warmup: int, steps: int, rounds: int = 1) -> dict:
    """Time the workload in ``rounds`` pairs of processes, ember and PyTorch back to back
    (alternating which goes first), so that a slow spell of a shared machine falls on
    both; each round gives one paired ratio of medians."""
    workload = WORKLOADS[name]
    per_round = []
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "weights.npz")
        _worker([name, "init", "--weights", weights], threads)
        common = ["--threads", str(threads), "--warmup", str(warmup), "--steps", str(steps),
                  "--weights", weights]
        for r in range(rounds):
            order = ("ember", "torch") if r % 2 == 0 else ("torch", "ember")
            done = {fw: _worker([name, fw, *common], threads) for fw in order}
            per_round.append(done)
    ours = _merge([d["ember"] for d in per_round])
    theirs = _merge([d["torch"] for d in per_round])
    ratios = [median(d["ember"]["times"]) / median(d["torch"]["times"]) for d in per_round]
    return {"workload": workload, "ember": ours, "torch": theirs, "ratios": ratios}


def _merge(results: list[dict]) -> dict:
    """One framework's rounds: every round's median, their median as the time, the
    largest peak memory."""
    merged = dict(results[0])
    merged["round_medians"] = [median(r["times"]) for r in results]
    merged["median"] = median(merged["round_medians"])
    peaks = [r["peak_mb"] for r in results if r["peak_mb"] is not None]
    merged["peak_mb"] = max(peaks) if peaks else None
    return merged


def _mb(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def report(results: list[dict], peak_gflops: float, threads: int) -> str:
    header = (f"{'workload':<14}{'ember ms':>10}{'torch ms':>10}{'ratio':>8}{'range':>12}"
              f"{'ember smp/s':>13}{'torch smp/s':>13}{'ember MB':>10}{'torch MB':>10}"
              f"{'GFLOP/s':>9}{'% peak':>8}")
    lines = [f"threads: {threads}; float32 matmul peak (NumPy BLAS, 1024^3): "
             f"{peak_gflops:.1f} GFLOP/s", "", header, "-" * len(header)]
    for r in results:
        w = r["workload"]
        ours, theirs = r["ember"]["median"], r["torch"]["median"]
        ratios = r["ratios"]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else "-"
        gflops = r["ember"]["flops"] / (ours / 1e3) / 1e9
        lines.append(
            f"{w.name:<14}{ours:>10.2f}{theirs:>10.2f}{median(ratios):>8.2f}{spread:>12}"
            f"{w.batch / ours * 1e3:>13.0f}{w.batch / theirs * 1e3:>13.0f}"
            f"{_mb(r['ember']['peak_mb']):>10}{_mb(r['torch']['peak_mb']):>10}"
            f"{gflops:>9.1f}{100 * gflops / peak_gflops:>7.0f}%")
    lines += ["", "ms = median over rounds of each round's median step time; ratio = median",
              "over rounds of ember / PyTorch in the same round (lower is better; < 1 means",
              "ember is faster), range = its smallest and largest round; MB = peak resident",
              "memory of the model, data and steps (above the process after its imports);",
              "GFLOP/s counts the Conv2d/Linear multiply-adds (x3 for training)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3,
                        help="ember/PyTorch process pairs per workload (default 3)")
    parser.add_argument("--only", help="comma-separated workloads: " + ", ".join(WORKLOADS))
    parser.add_argument("--no-ops", action="store_true", help="skip the per-op overhead table")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    if args.steps < 30:
        print("note: fewer than 30 timed steps", file=sys.stderr)
    if not args.no_ops:
        from bench.ops import overhead

        print("per-op overhead, 4x4 float32 tensors, 1 thread (microseconds per call)")
        print(f"{'op':<18}{'ember':>8}{'torch':>8}{'ratio':>8}")
        for name, ours, theirs in overhead():
            print(f"{name:<18}{ours:>8.2f}{theirs:>8.2f}{ours / theirs:>8.2f}")
        print()
    peak = _worker(["-", "peak", "--threads", str(args.threads)], args.threads)["gflops"]
    results = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(run_workload(name, args.threads, args.warmup, args.steps,
                                    max(args.rounds, 1)))
    print(report(results, peak, args.threads))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([{"workload": r["workload"].name, "ember": r["ember"],
                        "torch": r["torch"], "ratios": r["ratios"]} for r in results], handle,
                      indent=1)
    return 0
