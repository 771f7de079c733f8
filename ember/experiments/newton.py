"""Newton's method: the exact Hessian rescales each step, and a ravine is solved in one step.

Gradient descent takes :math:`\\theta \\leftarrow \\theta - \\eta \\nabla f`, one step size for
every direction; where the curvature across a valley (:math:`L`) is much larger than
along it (:math:`\\mu`), :math:`\\eta < 2/L` makes the way along the floor slow. Newton's
method minimises the local quadratic model instead,

.. math:: \\theta \\leftarrow \\theta - H^{-1} \\nabla f, \\qquad
          H = \\nabla^2 f \\text{ (the Hessian)},

which divides each direction by its own curvature: on a quadratic it lands on the minimum
in one step, whatever the condition number, and near a minimum of a smooth function the
error is squared at every step (quadratic convergence). Far from one the model can be
poor: a pure Newton step may overshoot (and where H is not positive definite, go
uphill), so a backtracking line search (halve the step until the loss falls enough,
Armijo's rule) makes it descend every time.

The Hessian is exact, from second-order automatic differentiation
(``em.autograd.functional.hessian``: the Jacobian of the gradient, whose backward pass
is recorded with ``create_graph=True``), and is checked against the analytic one. The
problems and starting points are those of the ``optimizers`` experiment: a rotated
quadratic ravine (condition number 100) and the Rosenbrock valley; gradient descent uses
the learning rate of a common grid that ends lowest, momentum (0.9) the same rate.

References: J. Nocedal, S. Wright, *Numerical Optimization*, ch. 3 (Newton's method,
line searches) (2006); S. Boyd, L. Vandenberghe, *Convex Optimization*, §9.5 (2004);
I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, §8.6.1 (2016).
"""

from __future__ import annotations

import os

import numpy as np

from ember import creation, dtypes, random
from ember.autograd.engine import grad
from ember.autograd.functional import hessian
from ember.experiments.common import Result, pyplot, save_figure, verdict
from ember.experiments.optimizers import PROBLEMS, TOLERANCE, _best_run, trajectory

NAME = "newton"
CLAIM = ("Newton's method, stepping by the exact Hessian, reaches the minimum of a ravine in "
         "one step and of the Rosenbrock valley in a handful, where gradient descent and "
         "momentum take hundreds")
SIZES = {
    "full": {"steps": {"ravine": 150, "Rosenbrock valley": 600}, "grid": np.logspace(-4, 1, 11),
             "newton_steps": 50},
    "smoke": {"steps": {"ravine": 15, "Rosenbrock valley": 15}, "grid": np.logspace(-3, 0, 3),
              "newton_steps": 5},
}
METHODS = ("gradient descent", "momentum", "Newton", "Newton, line search")


def analytic_hessian(problem: str, p) -> np.ndarray:
    """The Hessians written out by hand, to check the automatic ones."""
    if problem == "ravine":  # 1/2 (0.1 u^2 + 10 v^2), u, v the point rotated by 45 degrees
        return np.array([[5.05, -4.95], [-4.95, 5.05]])
    x, y = p
    return np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])


def gradient_and_hessian(function, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f's gradient and exact Hessian at ``point``, by automatic differentiation."""
    x = creation.tensor(point, dtype=dtypes.float64, requires_grad=True)
    (g,) = grad(function(x), x)
    h = hessian(function, creation.tensor(point, dtype=dtypes.float64))
    return g.numpy(), h.numpy()


def newton_path(function, start, steps: int, line_search: bool) -> tuple[np.ndarray, int]:
    """The points Newton's method visits (until its step is below 1e-12 of the point's
    size), and how many Hessians it computed. With ``line_search``, each step is halved until
    f(x + t d) <= f(x) + 1e-4 t g.d (Armijo)."""
    point = np.asarray(start, dtype=np.float64)
    path, hessians = [point], 0
    for _ in range(steps):
        g, h = gradient_and_hessian(function, point)
        hessians += 1
        direction = -np.linalg.solve(h, g)
        if np.abs(direction).max() <= 1e-12 * (1 + np.abs(point).max()):  # converged
            break
        t = 1.0
        if line_search:
            while (function(point + t * direction) > function(point) + 1e-4 * t * g @ direction
                   and t > 1e-10):
                t /= 2
        point = point + t * direction
        path.append(point)
    return np.array(path), hessians


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Gradient descent, momentum and Newton (with and without a line search) on the two
    valleys; plot the paths and the losses."""
    config = SIZES[size]
    random.manual_seed(seed)
    table, paths, errors = [], {}, {}
    for problem, (function, start, _) in PROBLEMS.items():
        errors[problem] = float(np.abs(gradient_and_hessian(function, np.array(start))[1]
                                       - analytic_hessian(problem, start)).max())
        start_loss, steps = function(np.array(start)), config["steps"][problem]
        lr, paths[f"{problem}/gradient descent"] = _best_run("SGD", function, start,
                                                             config["grid"], steps)
        paths[f"{problem}/momentum"] = trajectory("momentum", function, start, lr, steps)
        hessians = {}
        for method, line_search in (("Newton", False), ("Newton, line search", True)):
            paths[f"{problem}/{method}"], hessians[method] = newton_path(
                function, start, config["newton_steps"], line_search)
        for method in METHODS:
            losses = np.array([function(p) for p in paths[f"{problem}/{method}"]])
            reached = np.flatnonzero(losses <= TOLERANCE * start_loss)
            table.append({"problem": problem, "method": method,
                          "lr": lr if method in ("gradient descent", "momentum") else None,
                          "steps to minimum": int(reached[0]) if len(reached) else None,
                          "final loss": float(losses[-1]), "Hessians": hessians.get(method, 0),
                          "Hessian error": errors[problem] if method == "Newton" else None})

    held, parts = True, []
    for problem, (_, _, _) in PROBLEMS.items():
        rows = {row["method"]: row for row in table if row["problem"] == problem}
        limit = config["steps"][problem] + 1
        newton = rows["Newton"]["steps to minimum"]
        first_order = min(rows[m]["steps to minimum"] or limit
                          for m in ("gradient descent", "momentum"))
        held &= newton is not None and newton < first_order
        parts.append(f"to cut the loss {1 / TOLERANCE:,.0f}-fold on the {problem}, Newton "
                     f"took {_steps(rows['Newton'], limit)} (with a line search "
                     f"{_steps(rows['Newton, line search'], limit)}), momentum "
                     f"{_steps(rows['momentum'], limit)} and gradient descent "
                     f"{_steps(rows['gradient descent'], limit)}")
    held &= (next(r for r in table if r["problem"] == "ravine" and r["method"] == "Newton")
             ["steps to minimum"] == 1)
    parts.append("the automatic Hessians equal the analytic ones within "
                 f"{max(errors.values()):.1e}")
    plot = _plot(paths, out, size)
    return Result(NAME, CLAIM, table, verdict(held, "; ".join(parts)), held, plot,
                  data={"paths": paths, "hessian_errors": errors}, size=size)


def _steps(row: dict, limit: int) -> str:
    steps = row["steps to minimum"]
    if steps is None:
        return f"more than {limit - 1}"
    return f"{steps} step" + ("s" if steps != 1 else "")


def _plot(paths: dict, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 10))
    colors = dict(zip(METHODS, ("tab:blue", "tab:orange", "tab:red", "tab:green"), strict=True))
    styles = {method: "--" if method == "Newton, line search" else "-" for method in METHODS}
    for row, (problem, (function, start, minimum)) in enumerate(PROBLEMS.items()):
        box = (-8, 3, -6, 4) if problem == "ravine" else (-2, 2, -3, 3)
        n = 300 if size == "full" else 40  # a smoke run's rough drawing
        x, y = np.meshgrid(np.linspace(box[0], box[1], n), np.linspace(box[2], box[3], n))
        ax = axes[row, 0]
        ax.contour(x, y, np.log10(function(np.stack([x, y])) + 1e-3), levels=25, cmap="Greys",
                   linewidths=0.6)
        for method in METHODS:
            path = paths[f"{problem}/{method}"]
            ax.plot(path[:, 0], path[:, 1], marker=".", ls=styles[method], ms=3, lw=1,
                    color=colors[method], label=method)
        ax.plot(*start, "ko", ms=5)
        ax.plot(*minimum, "k*", ms=11)
        ax.set(xlim=box[:2], ylim=box[2:], title=f"{problem}: paths", xlabel="x", ylabel="y")
        ax.legend(fontsize=8, loc="lower right")
        ax = axes[row, 1]
        for method in METHODS:
            losses = [function(p) for p in paths[f"{problem}/{method}"]]
            ax.plot(np.maximum(losses, 1e-30), marker=".", ls=styles[method], ms=3,
                    color=colors[method], label=method)
        ax.set_xscale("symlog", linthresh=1)
        ax.set(title=f"{problem}: loss per step (0 drawn at 1e-30)", xlabel="step",
               yscale="log", xlim=(0, None))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out, NAME, size)
