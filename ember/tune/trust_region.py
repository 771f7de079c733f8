"""The trust-region step of LIPO: a quadratic model around the best point, minimised
within a radius and inside the box.

This is the local refinement that dlib's ``find_min_global`` alternates with its global
LIPO steps (the BOBYQA-like part of the MITIE approach):

* :func:`fit_quadratic` fits :math:`Q(s) = \\tfrac12 s^\\top H s + g^\\top s + c` to the
  best point and its neighbours;
* :func:`solve_trust_region` minimises it within :math:`\\lVert s \\rVert \\le r` and
  the box.

Reference: M. J. D. Powell, "The NEWUOA software for unconstrained optimization without
derivatives" (2004); J. Moré, D. Sorensen, "Computing a trust region step" (1983).
"""

from __future__ import annotations

import math

import numpy as np


def fit_quadratic(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(H, g, c)`` of :math:`Q(s) = \\tfrac12 s^\\top H s + g^\\top s + c` through the
    points ``s`` (one per row) with values ``y``.

    With at least :math:`(d+1)(d+2)/2` points (as many as Q has coefficients) Q is the
    least-squares fit. With fewer, Q interpolates the points and, of all interpolants,
    has the smallest :math:`\\lVert H \\rVert_F`: then :math:`H = \\sum_i \\lambda_i s_i
    s_i^\\top`, and :math:`\\lambda, c, g` solve (Powell 2004, eqs. 3.9-3.12)

    .. math::
        \\begin{pmatrix} A & \\mathbf 1 & S \\\\ \\mathbf 1^\\top & 0 & 0 \\\\
        S^\\top & 0 & 0 \\end{pmatrix}
        \\begin{pmatrix} \\lambda \\\\ c \\\\ g \\end{pmatrix} =
        \\begin{pmatrix} y \\\\ 0 \\\\ 0 \\end{pmatrix},
        \\qquad A_{ij} = \\tfrac12 (s_i^\\top s_j)^2.

    >>> s = np.array([[0.0], [1.0], [-1.0]])
    >>> H, g, c = fit_quadratic(s, 2 * s[:, 0] ** 2 + s[:, 0] + 3)   # Q = 2s^2 + s + 3
    >>> np.round(H, 6).tolist(), np.round(g, 6).tolist(), round(c, 6)
    ([[4.0]], [1.0], 3.0)
    """
    s, y = np.asarray(s, np.float64), np.asarray(y, np.float64)
    n, d = s.shape
    if n < d + 1:
        raise ValueError(f"fit_quadratic: needs at least d + 1 = {d + 1} points, got {n}")
    rows, cols = np.triu_indices(d)
    if n >= (d + 1) * (d + 2) // 2:
        # columns: s_1..s_d, 1, then s_j s_l (j <= l), halved on the diagonal
        products = s[:, rows] * s[:, cols] * np.where(rows == cols, 0.5, 1.0)
        basis = np.hstack([s, np.ones((n, 1)), products])
        z = np.linalg.lstsq(basis, y, rcond=None)[0]
        H = np.zeros((d, d))
        H[rows, cols] = z[d + 1:]
        H[cols, rows] = z[d + 1:]
        return H, z[:d], float(z[d])
    system = np.zeros((n + 1 + d, n + 1 + d))
    system[:n, :n] = 0.5 * (s @ s.T) ** 2
    system[:n, n] = system[n, :n] = 1.0
    system[:n, n + 1:] = s
    system[n + 1:, :n] = s.T
    z = np.linalg.lstsq(system, np.concatenate([y, np.zeros(d + 1)]), rcond=None)[0]
    weights = z[:n]
    return (s.T * weights) @ s, z[n + 1:], float(z[n])


def solve_trust_region(H: np.ndarray, g: np.ndarray, radius: float,
                       lower: np.ndarray | None = None,
                       upper: np.ndarray | None = None) -> np.ndarray:
    """The step :math:`p` minimising :math:`m(p) = g^\\top p + \\tfrac12 p^\\top H p`
    subject to :math:`\\lVert p \\rVert \\le r` (and ``lower <= p <= upper``, with
    ``lower <= 0 <= upper``).

    Without the box this is exact (Moré and Sorensen): :math:`p = -(H + \\mu I)^{-1} g`
    with the smallest :math:`\\mu \\ge \\max(0, -\\lambda_{min}(H))` that puts p inside
    the ball, found by bisection on :math:`\\lVert p(\\mu) \\rVert = r`, with the "hard
    case" (g orthogonal to the lowest eigenvector) completed along that eigenvector.
    With the box, projected gradient descent on the ball-and-box set runs from that
    step, from 0 and from both ends of every eigenvector of H (scaled to the radius);
    each end point is polished coordinate by coordinate, and the best is kept (see
    :func:`_project` for the exact projection onto the set).

    >>> solve_trust_region(np.eye(2), np.array([-1.0, 0.0]), radius=10.0).tolist()
    [1.0, 0.0]
    >>> solve_trust_region(np.eye(2), np.array([-1.0, 0.0]), radius=0.5).tolist()
    [0.5, 0.0]
    >>> solve_trust_region(np.eye(2), np.array([-1.0, 0.0]), 0.5, [-1, -1], [0.2, 1]).tolist()
    [0.2, 0.0]
    """
    H, g = np.asarray(H, np.float64), np.asarray(g, np.float64)
    H = 0.5 * (H + H.T)
    d = len(g)
    lower = np.full(d, -np.inf) if lower is None else np.asarray(lower, np.float64)
    upper = np.full(d, np.inf) if upper is None else np.asarray(upper, np.float64)
    step = _ball_step(H, g, radius)
    if np.all(step >= lower) and np.all(step <= upper):
        return step

    def model(p: np.ndarray) -> float:
        return float(g @ p + 0.5 * p @ H @ p)

    eigenvalues, vectors = np.linalg.eigh(H)
    starts = np.vstack([step, np.zeros(d), radius * vectors.T, -radius * vectors.T])
    curvature = max(float(np.abs(eigenvalues).max()), 1e-12)
    points = _project(starts, radius, lower, upper)
    for _ in range(100):  # projected gradient descent from every start at once
        moved = _project(points - (g + points @ H) / curvature, radius, lower, upper)
        done = np.abs(moved - points).max() <= 1e-12 * max(1.0, radius)
        points = moved
        if done:
            break
    best, best_value = np.zeros(d), 0.0
    for point in points:
        point = _coordinate_descent(point, H, g, radius, lower, upper)
        value = float(g @ point + 0.5 * point @ H @ point)
        if value < best_value:
            best, best_value = point, value
    return best


def _coordinate_descent(p: np.ndarray, H: np.ndarray, g: np.ndarray, radius: float,
                        lower: np.ndarray, upper: np.ndarray, sweeps: int = 20) -> np.ndarray:
    """Move one coordinate at a time to the best point of its feasible segment (the
    box's interval cut by the ball): escapes the corners where gradient steps stall."""
    p = p.copy()
    for _ in range(sweeps):
        moved = False
        for i in range(len(p)):
            others = float(p @ p - p[i] ** 2)
            reach = math.sqrt(max(radius ** 2 - others, 0.0))
            low, high = max(lower[i], -reach), min(upper[i], reach)
            # m along coordinate i: a/2 t^2 + b t + const
            a, b = H[i, i], g[i] + H[i] @ p - H[i, i] * p[i]
            options = [low, high]
            if a > 0 and low < -b / a < high:
                options.append(-b / a)
            values = [0.5 * a * t * t + b * t for t in options]
            t = options[int(np.argmin(values))]
            if 0.5 * a * t * t + b * t < 0.5 * a * p[i] ** 2 + b * p[i] - 1e-15:
                p[i], moved = t, True
        if not moved:
            break
    return p


def _project(y: np.ndarray, radius: float, lower: np.ndarray, upper: np.ndarray
             ) -> np.ndarray:
    """The nearest points to the rows of ``y`` in the box that are also in the ball:
    :math:`\\mathrm{clip}(y / (1 + \\nu))` with the smallest :math:`\\nu \\ge 0` that
    lands in the ball (bisection, all rows at once)."""
    y = np.atleast_2d(y)

    def inside(nu: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.clip(y / (1 + nu[:, None]), lower, upper), axis=1) <= radius

    low, high = np.zeros(len(y)), np.zeros(len(y))
    while not inside(high).all():
        high = np.where(inside(high), high, 2 * high + 1)
    done = inside(low)
    high[done] = 0.0
    while not done.all():
        middle = 0.5 * (low + high)
        fits = inside(middle)
        high, low = np.where(fits, middle, high), np.where(fits, low, middle)
        done = high - low <= 1e-12 * (1 + high)
    return np.clip(y / (1 + high[:, None]), lower, upper)


def _ball_step(H: np.ndarray, g: np.ndarray, radius: float) -> np.ndarray:
    """The exact minimiser of :math:`g^\\top p + \\tfrac12 p^\\top H p` in the ball."""
    eigenvalues, vectors = np.linalg.eigh(0.5 * (H + H.T))
    g_hat = vectors.T @ g
    lowest = float(eigenvalues[0])
    scale = max(1.0, float(np.abs(eigenvalues).max()))

    def step(mu: float) -> np.ndarray:
        shifted = eigenvalues + mu
        safe = np.abs(shifted) > 1e-12 * scale
        coefficients = np.zeros_like(g_hat)
        coefficients[safe] = -g_hat[safe] / shifted[safe]
        return vectors @ coefficients

    if lowest > 1e-12 * scale:
        newton = step(0.0)
        if np.linalg.norm(newton) <= radius:
            return newton
    floor = max(0.0, -lowest)
    at_floor = step(floor)
    lowest_space = np.abs(eigenvalues - lowest) <= 1e-10 * scale
    orthogonal = np.linalg.norm(g_hat[lowest_space]) <= 1e-12 * max(1.0, np.linalg.norm(g))
    if lowest <= 1e-12 * scale and orthogonal and np.linalg.norm(at_floor) <= radius:
        # the hard case: go along the lowest eigenvector to the boundary
        q = vectors[:, 0]
        a, b, c = 1.0, 2.0 * float(at_floor @ q), float(at_floor @ at_floor) - radius ** 2
        tau = (-b + math.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)
        return at_floor + tau * q
    low, high = floor, floor + float(np.linalg.norm(g)) / radius + 1e-12
    for _ in range(200):
        middle = 0.5 * (low + high)
        if np.linalg.norm(step(middle)) > radius:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * max(1.0, high):
            break
    p = step(high)
    return p * (radius / float(np.linalg.norm(p)))  # on the boundary, to the last bit
