"""A shared float64 problem for optimiser parity tests: ember and PyTorch step the same
parameters with the same gradients, and the trajectories are compared after every step.

The gradients are computed in NumPy from each framework's current values, so the tests
check the optimisers alone. Parameters: ``W`` and ``b`` (a linear regression), ``v`` (a
non-quadratic term), ``u`` (a gradient only on even steps: None on the others) and
``frozen`` (requires_grad False, never a gradient).
"""

from __future__ import annotations

import numpy as np
import pytest

import ember as em

NAMES = ("W", "b", "v", "u", "frozen")


class Problem:
    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.X = rng.normal(size=(16, 4))
        self.Y = rng.normal(size=(16, 3))
        self.initial = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=3),
                        "v": rng.normal(size=(2, 2)), "u": rng.normal(size=5),
                        "frozen": rng.normal(size=2)}

    def grads(self, values: dict, step: int) -> dict:
        """d loss / d value for each parameter (None: no gradient this step)."""
        W, b, v, u = values["W"], values["b"], values["v"], values["u"]
        residual = self.X @ W.T + b - self.Y                 # mean squared error
        return {"W": 2 * residual.T @ self.X / residual.size,
                "b": 2 * residual.sum(0) / residual.size,
                "v": 2 * np.tanh(v) + 0.3 * v,               # 2 log cosh v + 0.15 v^2
                "u": 0.5 * (u - 1) if step % 2 == 0 else None,
                "frozen": None}

    def ember_params(self, dtype=em.float64) -> dict:
        return {k: em.tensor(a, dtype=dtype, requires_grad=k != "frozen")
                for k, a in self.initial.items()}

    def torch_params(self, torch) -> dict:
        return {k: torch.tensor(a, dtype=torch.float64, requires_grad=k != "frozen")
                for k, a in self.initial.items()}

    def set_ember_grads(self, params: dict, step: int) -> None:
        values = {k: p.detach().numpy().astype(np.float64) for k, p in params.items()}
        for k, g in self.grads(values, step).items():
            params[k].grad = None if g is None else em.tensor(g, dtype=params[k].dtype)

    def set_torch_grads(self, torch, params: dict, step: int) -> None:
        values = {k: p.detach().numpy() for k, p in params.items()}
        for k, g in self.grads(values, step).items():
            params[k].grad = None if g is None else torch.tensor(g)

    @staticmethod
    def assert_same(ember_params: dict, torch_params: dict, step, rtol=1e-10) -> None:
        for k in ember_params:
            np.testing.assert_allclose(ember_params[k].detach().numpy(),
                                       torch_params[k].detach().numpy(), rtol=rtol,
                                       atol=1e-12, err_msg=f"parameter {k} after step {step}")


@pytest.fixture
def problem():
    return Problem()
