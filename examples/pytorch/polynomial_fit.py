"""Fit y = sin(x) with a third-order polynomial, autograd by hand (the "Learning PyTorch
with Examples" program): tensors that require grad, loss.backward(), and a manual
gradient-descent update inside torch.no_grad().

Plain PyTorch. To run it on ember, change the import to ``import ember as torch``
(the test suite runs it both ways and compares the results).

    python examples/pytorch/polynomial_fit.py
"""

import argparse
import math

import torch


def main(steps=2000, lr=1e-6, init=None, dtype=torch.float, log_every=500):
    """Returns the loss every ``log_every`` steps and the fitted (a, b, c, d)."""
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)

    # random weights, or given ones (to compare two runs)
    if init is None:
        a, b, c, d = (torch.randn((), dtype=dtype, requires_grad=True) for _ in range(4))
    else:
        a, b, c, d = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in init)

    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % log_every == log_every - 1:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= lr * a.grad
            b -= lr * b.grad
            c -= lr * c.grad
            d -= lr * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, [a.item(), b.item(), c.item(), d.item()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    torch.manual_seed(0)
    losses, (a, b, c, d) = main(args.steps)
    print("loss every 500 steps:", [round(v, 2) for v in losses])
    print(f"Result: y = {a:.4f} + {b:.4f} x + {c:.4f} x^2 + {d:.4f} x^3")
