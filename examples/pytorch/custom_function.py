"""A custom autograd Function (the "Learning PyTorch with Examples" Legendre program):
fit y = sin(x) with y = a + b P3(c + d x), where P3(x) = (5x^3 - 3x) / 2 is a
torch.autograd.Function with its own forward and backward.

Plain PyTorch. To run it on ember, change the import to ``import ember as torch``.

    python examples/pytorch/custom_function.py
"""

import argparse
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = 1/2 (5 x^3 - 3 x); its derivative is 3/2 (5 x^2 - 1)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def main(steps=2000, lr=5e-6, dtype=torch.float, log_every=500):
    """Returns the loss every ``log_every`` steps and the fitted (a, b, c, d)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)

    # weights start near the solution so that the fit converges (as in the tutorial)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % log_every == log_every - 1:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for weight in (a, b, c, d):
                weight -= lr * weight.grad
                weight.grad = None
    return losses, [a.item(), b.item(), c.item(), d.item()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    losses, (a, b, c, d) = main(args.steps)
    print("loss every 500 steps:", [round(v, 2) for v in losses])
    print(f"Result: y = {a:.4f} + {b:.4f} * P3({c:.4f} + {d:.4f} x)")
