"""DataLoader workers: an epoch of a dataset whose per-sample transform is slow Python,
loaded by ember's and PyTorch's DataLoaders with 0, 2 and 4 worker processes.

    python -m bench.dataloader [--samples 256] [--batch-size 32] [--work 20000] [--io-ms 0]
                               [--rounds 3]

The transform is CPU-bound pure Python (``--work`` loop iterations per sample, about a
millisecond per 10,000), the kind of decoding or augmentation that workers exist for;
``--io-ms`` adds a wait per sample (reading a file from a slow disk or the network), which
workers overlap even when the CPUs are busy.
Each round times one epoch per (framework, num_workers), worker start-up included,
alternating which framework goes first; the table gives the median epoch time, the
speed-up over ``num_workers=0`` and the ember/PyTorch ratio. Both loaders deliver the
same batches in the same order (checked on every run).
"""

from __future__ import annotations

import argparse
import os
import time
from statistics import median

import numpy as np


def slow_transform(image: np.ndarray, work: int, io_ms: float = 0.0) -> np.ndarray:
    """A deliberately slow, CPU-bound, pure-Python 'augmentation' (after an I/O wait)."""
    if io_ms:
        time.sleep(io_ms / 1000)
    acc = 0
    for i in range(work):
        acc = (acc * 31 + i) % 1_000_003
    return image * (1.0 + acc / 1e9)


class SlowImages:
    """``len`` and ``[i]``: (image, label) with the slow transform (for both frameworks)."""

    def __init__(self, n: int, work: int, to_tensor, io_ms: float = 0.0) -> None:
        rng = np.random.default_rng(0)
        self.images = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
        self.labels = rng.integers(0, 10, n)
        self.work, self.to_tensor, self.io_ms = work, to_tensor, io_ms

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = slow_transform(self.images[i], self.work, self.io_ms)
        return self.to_tensor(image), int(self.labels[i])


def epoch(framework: str, workers: int, args) -> tuple[float, list]:
    if framework == "ember":
        import ember as em
        from ember.utils.data import DataLoader

        data = SlowImages(args.samples, args.work, em.from_numpy, args.io_ms)
    else:
        import torch
        from torch.utils.data import DataLoader

        data = SlowImages(args.samples, args.work, torch.from_numpy, args.io_ms)
    loader = DataLoader(data, batch_size=args.batch_size, num_workers=workers)
    start = time.perf_counter()
    sums = [float(x.sum()) for x, _ in loader]
    return time.perf_counter() - start, sums


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--work", type=int, default=20000)
    parser.add_argument("--io-ms", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2, 4])
    args = parser.parse_args(argv)
    times = {(fw, w): [] for fw in ("ember", "torch") for w in args.workers}
    for r in range(args.rounds):
        for w in args.workers:
            order = ("ember", "torch") if r % 2 == 0 else ("torch", "ember")
            results = {fw: epoch(fw, w, args) for fw in order}
            if not np.allclose(results["ember"][1], results["torch"][1], rtol=1e-5):
                raise SystemExit("the two loaders delivered different batches")
            for fw in order:
                times[fw, w].append(results[fw][0])
    print(f"{args.samples} samples, batch {args.batch_size}, {args.work} transform "
          f"iterations and {args.io_ms} ms of waiting each, {args.rounds} rounds, "
          f"{os.cpu_count()} CPUs")
    print(f"{'workers':>8} {'ember s':>9} {'speed-up':>9} {'torch s':>9} {'speed-up':>9} "
          f"{'ember/torch':>12}")
    base = {fw: median(times[fw, args.workers[0]]) for fw in ("ember", "torch")}
    for w in args.workers:
        e, t = median(times["ember", w]), median(times["torch", w])
        print(f"{w:>8} {e:>9.3f} {base['ember'] / e:>8.2f}x {t:>9.3f} "
              f"{base['torch'] / t:>8.2f}x {e / t:>12.2f}")


if __name__ == "__main__":
    main()
