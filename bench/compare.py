"""Speed of this ember against an earlier one, and both against PyTorch, in the same run:
``python -m bench.compare --before DIR``.

``DIR`` is a source checkout of the earlier ember (``git worktree add /tmp/before REF``).
Each round times, in fresh processes and an order that alternates between rounds, the
earlier ember, this ember and PyTorch on the same workload, weights, data and thread
count, so that a slow spell of a shared machine falls on all three; the table gives the
medians of the rounds' paired ratios with their ranges. This is how a change to the core
shows that first-order speed did not regress.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from statistics import median

from bench.run import _worker
from bench.workloads import WORKLOADS


def compare(name: str, before: str, threads: int, warmup: int, steps: int,
            rounds: int) -> dict[str, list[float]]:
    """Per-round median step times (ms) of ``before``, ``after`` and ``torch``."""
    times: dict[str, list[float]] = {"before": [], "after": [], "torch": []}
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "weights.npz")
        _worker([name, "init", "--weights", weights], threads)
        common = ["--threads", str(threads), "--warmup", str(warmup), "--steps", str(steps),
                  "--weights", weights]
        order = [("before", "ember", before), ("after", "ember", None),
                 ("torch", "torch", None)]
        for r in range(rounds):
            for label, framework, checkout in (order if r % 2 == 0 else order[::-1]):
                done = _worker([name, framework, *common], threads, checkout)
                times[label].append(median(done["times"]))
    return times


def workloads_of(checkout: str) -> set[str]:
    """The workload names the bench of an earlier checkout knows."""
    done = subprocess.run([sys.executable, "-c", "from bench.workloads import WORKLOADS; "
                           "print(' '.join(WORKLOADS))"], cwd=checkout, check=True,
                          env=dict(os.environ, PYTHONPATH=os.path.abspath(checkout)),
                          capture_output=True, text=True)
    return set(done.stdout.split())


def _summary(values: list[float]) -> str:
    spread = f" ({min(values):.2f}-{max(values):.2f})" if len(values) > 1 else ""
    return f"{median(values):.2f}{spread}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--before", required=True,
                        help="source folder of the earlier ember (a git worktree)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated workloads: " + ", ".join(WORKLOADS))
    args = parser.parse_args(argv)
    if not os.path.isfile(os.path.join(args.before, "ember", "__init__.py")):
        parser.error(f"{args.before}: not a source folder of ember (no ember/__init__.py)")
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    known = workloads_of(args.before)
    header = (f"{'workload':<14}{'before/torch':>20}{'after/torch':>20}{'after/before':>20}"
              f"{'ms before':>11}{'ms after':>10}{'ms torch':>10}")
    print(f"threads: {args.threads}, rounds: {args.rounds}; medians of the rounds' paired "
          "ratios (range)\n" + header + "\n" + "-" * len(header))
    for name in names:
        if name not in known:
            print(f"{name:<14}not in the earlier checkout's bench", flush=True)
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        t = compare(name, args.before, args.threads, args.warmup, args.steps,
                    max(args.rounds, 1))
        ratio = {k: [a / b for a, b in zip(t[x], t[y], strict=True)]
                 for k, (x, y) in {"b": ("before", "torch"), "a": ("after", "torch"),
                                   "ab": ("after", "before")}.items()}
        print(f"{name:<14}{_summary(ratio['b']):>20}{_summary(ratio['a']):>20}"
              f"{_summary(ratio['ab']):>20}{median(t['before']):>11.2f}"
              f"{median(t['after']):>10.2f}{median(t['torch']):>10.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
