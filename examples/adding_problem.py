"""The adding problem: a long-term dependency that an LSTM learns and a vanilla RNN cannot.

Each input is a sequence of T steps with two channels: a random number in [0, 1], and a
marker that is 1 at exactly two steps (one in each half of the sequence) and 0 elsewhere.
The target is the sum of the two marked numbers (Hochreiter & Schmidhuber, 1997, "Long
Short-Term Memory", experiment 4). Always answering 1 (the mean) scores the chance MSE,
Var(u_1 + u_2) = 2/12 = 0.167; to do better, a network must carry a number across up to
T steps, through T multiplications of its recurrent Jacobian.

This script trains a vanilla (tanh) RNN and an LSTM of the same width, with the same
optimiser, gradient clipping and data, and prints both learning curves (MSE on a fixed
test set after every block of updates). At T = 100 the RNN's gradient from the marked
steps has vanished and it stays at chance; the LSTM's cell state carries it, and its MSE
drops to a few thousandths.

    python examples/adding_problem.py                  # T = 100, about 1.5 minutes on 2 cores
    python examples/adding_problem.py --length 20      # short enough for the RNN too
"""

from __future__ import annotations

import argparse
import os
import time

# Recurrent steps multiply small matrices; one BLAS thread avoids thread hand-offs that
# cost more than they save, and stalls when the cores are shared (override it if you like).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import ember as em  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn.layers.recurrent import LSTM, RNN  # noqa: E402

CHANCE = 1 / 6  # Var(u_1 + u_2) for u_i ~ U(0, 1): the MSE of always predicting 1


def adding_batch(batch: int, length: int) -> tuple[em.Tensor, em.Tensor]:
    """Inputs (batch, length, 2) and targets (batch, 1), from ember's global generator."""
    rng = em.random.generator()
    values = rng.uniform(0, 1, (batch, length)).astype(np.float32)
    markers = np.zeros_like(values)
    rows = np.arange(batch)
    first = rng.integers(0, length // 2, batch)
    second = rng.integers(length // 2, length, batch)
    markers[rows, first] = markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return em.tensor(np.stack([values, markers], axis=2)), em.tensor(targets[:, None])


class FreshBatches:
    """``updates`` new random batches every time it is iterated (an endless training set)."""

    def __init__(self, updates: int, batch: int, length: int) -> None:
        self.updates, self.batch, self.length = updates, batch, length

    def __len__(self) -> int:
        return self.updates

    def __iter__(self):
        for _ in range(self.updates):
            yield adding_batch(self.batch, self.length)


class Regressor(nn.Module):
    """A recurrent layer read out by a Linear layer at the last step."""

    def __init__(self, cell: str, hidden: int) -> None:
        super().__init__()
        layer = LSTM if cell == "LSTM" else RNN
        self.recurrent = layer(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: em.Tensor) -> em.Tensor:
        output, _ = self.recurrent(x)
        return self.head(output[:, -1])


def train(cell: str, args, test) -> list[float]:
    em.manual_seed(args.seed)
    model = Regressor(cell, args.hidden)
    trainer = em.train.Trainer(model, nn.MSELoss(),
                               em.optim.Adam(model.parameters(), lr=args.lr),
                               clip_grad_norm=1.0, progress=False)
    started = time.perf_counter()
    history = trainer.fit(FreshBatches(args.block, args.batch, args.length), test,
                          epochs=args.updates // args.block)
    print(f"{cell:>4}: {args.updates} updates in {time.perf_counter() - started:.0f} s, "
          f"final test MSE {history['val_loss'][-1]:.4f}", flush=True)
    return history["val_loss"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=100, help="sequence length T")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--block", type=int, default=150, help="updates between test points")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="also save the learning curves to this PNG")
    args = parser.parse_args()

    em.manual_seed(12345)
    test = [adding_batch(500, args.length) for _ in range(2)]  # one fixed test set
    targets = np.concatenate([y.numpy() for _, y in test])
    chance = float(((targets - 1.0) ** 2).mean())  # always answering 1, on this test set
    print(f"adding problem, T = {args.length}: chance MSE {CHANCE:.3f} (on the test set "
          f"{chance:.3f}); hidden {args.hidden}, batch {args.batch}, Adam lr {args.lr}, "
          "gradients clipped to norm 1")
    curves = {cell: train(cell, args, test) for cell in ("RNN", "LSTM")}

    print("\nlearning curves (test MSE):\n  updates      RNN     LSTM")
    for i, (rnn, lstm) in enumerate(zip(curves["RNN"], curves["LSTM"], strict=True)):
        print(f"  {(i + 1) * args.block:7d}   {rnn:.4f}   {lstm:.4f}")
    for cell, curve in curves.items():
        final = float(np.mean(curve[-5:]))  # the last five test points, smoothing the noise
        verdict = ("solved it" if final < 0.1 * chance else
                   "stayed at chance" if final > 0.8 * chance else "partly learnt it")
        print(f"{cell:>4} {verdict}: test MSE over the last {5 * args.block} updates "
              f"{final:.4f} = {final / chance:.1%} of chance")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        steps = [(i + 1) * args.block for i in range(len(curves["RNN"]))]
        for cell, curve in curves.items():
            plt.plot(steps, curve, marker="o", ms=3, label=cell)
        plt.axhline(chance, color="gray", ls="--", label="chance")
        plt.yscale("log")
        plt.xlabel("updates")
        plt.ylabel("test MSE")
        plt.title(f"adding problem, T = {args.length}")
        plt.legend()
        plt.savefig(args.plot, dpi=110)
        print(f"curves saved to {args.plot}")


if __name__ == "__main__":
    main()
