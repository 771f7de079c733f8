"""Gradient penalty (WGAN-GP): a loss on a gradient, trained with second-order autodiff.

A Wasserstein GAN's critic D estimates the distance between the real and the generated
distributions, :math:`W = \\max_{\\|D\\|_L \\le 1} E[D(x_{real})] - E[D(x_{fake})]`, over
1-Lipschitz functions. WGAN-GP (Gulrajani et al., 2017, "Improved Training of
Wasserstein GANs") keeps D's gradient norm near 1 with a penalty, at points
:math:`\\hat{x}` drawn on lines between real and generated samples:

.. math:: L_D = E[D(x_{fake})] - E[D(x_{real})]
          + \\lambda\\, E\\big[(\\|\\nabla_{\\hat{x}} D(\\hat{x})\\|_2 - 1)^2\\big]

The penalty is a function of a gradient, so training D needs the gradient of a
gradient: :math:`\\nabla_{\\hat{x}} D` is computed with
``em.autograd.grad(..., create_graph=True)``, which records its own graph, and
``loss.backward()`` then differentiates through it into D's weights.

First a worked case with a linear critic :math:`D(x) = w \\cdot x + b`, whose input
gradient is w: the penalty is :math:`(\\|w\\| - 1)^2` and its gradient
:math:`2 (\\|w\\| - 1)\\, w / \\|w\\|`, which the double backward pass reproduces.
Then a WGAN-GP learns a ring of eight Gaussians in the plane (the paper's toy problem)
with small MLPs; it prints the critic's Wasserstein estimate, the gradient norm at the
interpolates (held near 1 by the penalty), and how many of the eight modes the generator
covers.

    python examples/gradient_penalty.py                     # about 2 minutes on 2 cores
    python examples/gradient_penalty.py --steps 300         # a quick look
    python examples/gradient_penalty.py --plot wgan_gp.png  # also draw the samples
"""

from __future__ import annotations

import argparse
import math
import os
import time

# Small matrix products: one BLAS thread avoids hand-offs that cost more than they save,
# and stalls when the cores are shared (override it if you like).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import ember as em  # noqa: E402
from ember import nn  # noqa: E402

MODES = 8
RADIUS, SPREAD = 2.0, 0.02


def gradient_norms(critic: nn.Module, points: em.Tensor, create_graph: bool) -> em.Tensor:
    """||d critic / d x|| at each point (a small constant inside the root keeps its
    derivative finite where a gradient is 0)."""
    (grads,) = em.autograd.grad(critic(points).sum(), points, create_graph=create_graph)
    return ((grads * grads).sum(dim=1) + 1e-12).sqrt()


def gradient_penalty(critic: nn.Module, real: em.Tensor, fake: em.Tensor) -> em.Tensor:
    """E[(||grad D(x_hat)|| - 1)^2] at random points between real and fake samples."""
    t = em.rand(real.shape[0], 1)
    x_hat = (t * real + (1 - t) * fake).detach().requires_grad_()
    return ((gradient_norms(critic, x_hat, create_graph=True) - 1) ** 2).mean()


def worked_linear_case() -> dict:
    """A linear critic: the penalty and its gradient by double backward and by hand;
    returns {quantity: (by autodiff, by hand)}."""
    em.manual_seed(0)
    critic = nn.Linear(2, 1)
    with em.no_grad():
        critic.weight.copy_(em.tensor([[0.6, -1.2]]))
    points = em.randn(4, 2)
    penalty = gradient_penalty(critic, points, -points)
    penalty.backward()
    w = np.array([0.6, -1.2])
    norm = np.linalg.norm(w)
    print("worked case, a linear critic D(x) = w.x + b with w = (0.6, -1.2):")
    print(f"  penalty (||w|| - 1)^2:             by autodiff {penalty.item():.6f}, "
          f"by hand {(norm - 1) ** 2:.6f}")
    print(f"  d penalty / dw = 2 (||w|| - 1) w/||w||: by double backward "
          f"{np.round(critic.weight.grad.numpy()[0], 6)}, by hand "
          f"{np.round(2 * (norm - 1) * w / norm, 6)}")
    print()
    return {"penalty": (penalty.item(), (norm - 1) ** 2),
            "gradient": (critic.weight.grad.numpy()[0], 2 * (norm - 1) * w / norm)}


def real_batch(n: int) -> em.Tensor:
    """n points from the ring of MODES Gaussians (radius RADIUS, std SPREAD)."""
    generator = em.random.generator()
    angles = 2 * math.pi * generator.integers(0, MODES, n) / MODES
    centres = RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return em.tensor((centres + SPREAD * generator.standard_normal((n, 2))).astype(np.float32))


def coverage(samples: np.ndarray) -> tuple[int, float]:
    """(modes with at least 2% of the samples within 0.25 of them, share of samples near
    some mode)."""
    angles = 2 * math.pi * np.arange(MODES) / MODES
    centres = RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    distances = np.linalg.norm(samples[:, None, :] - centres[None], axis=2)
    near = distances.min(axis=1) < 0.25
    counts = np.bincount(distances.argmin(axis=1)[near], minlength=MODES)
    return int((counts >= 0.02 * len(samples)).sum()), float(near.mean())


def mlp(inputs: int, outputs: int, width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, width), nn.ReLU(), nn.Linear(width, width),
                         nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, outputs))


def train(steps: int, critic_steps: int, batch: int, weight: float, width: int, lr: float,
          seed: int):
    em.manual_seed(seed)
    generator, critic = mlp(2, 2, width), mlp(2, 1, width)
    g_optimizer = em.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.9))
    d_optimizer = em.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
    started = time.perf_counter()
    print(f"{'step':>6}{'W estimate':>12}{'grad norm':>11}{'modes':>7}{'near a mode':>13}")
    for step in range(1, steps + 1):
        for _ in range(critic_steps):
            real = real_batch(batch)
            with em.no_grad():
                fake = generator(em.randn(batch, 2))
            distance = critic(real).mean() - critic(fake).mean()
            loss = -distance + weight * gradient_penalty(critic, real, fake)
            d_optimizer.zero_grad()
            loss.backward()
            d_optimizer.step()
        g_loss = -critic(generator(em.randn(batch, 2))).mean()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()
        if step % max(1, steps // 10) == 0 or step == steps:
            with em.no_grad():
                samples = generator(em.randn(2000, 2)).numpy()
            real = real_batch(batch)
            t = em.rand(batch, 1)
            points = (t * real + (1 - t) * em.tensor(samples[:batch])).requires_grad_()
            norm = gradient_norms(critic, points, create_graph=False).mean().item()
            modes, near = coverage(samples)
            print(f"{step:>6}{distance.item():>12.4f}{norm:>11.3f}{modes:>7}{near:>13.1%}")
    print(f"\n{steps} generator steps ({steps * critic_steps} critic steps with a double "
          f"backward pass) in {time.perf_counter() - started:.0f} s")
    return generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1500, help="generator steps")
    parser.add_argument("--critic-steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--penalty", type=float, default=10.0, help="lambda")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's, betas (0.5, 0.9)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="write a scatter plot of the samples to this file")
    args = parser.parse_args()
    worked_linear_case()
    generator = train(args.steps, args.critic_steps, args.batch, args.penalty, args.width,
                      args.lr, args.seed)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        with em.no_grad():
            samples = generator(em.randn(2000, 2)).numpy()
        real = real_batch(2000).numpy()
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(real[:, 0], real[:, 1], s=2, alpha=0.3, label="real")
        ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.3, label="generated")
        ax.set(title="WGAN-GP on a ring of 8 Gaussians", aspect="equal")
        ax.legend()
        fig.savefig(args.plot, dpi=100)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
