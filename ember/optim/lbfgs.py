"""L-BFGS: a quasi-Newton method with limited memory, and the strong-Wolfe line search.

Follows ``torch.optim.LBFGS`` step for step (itself after Schmidt's minFunc), so that a
float64 run follows PyTorch's trajectory: the same directions, the same trial step sizes
and the same stopping tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from ember.autograd.engine import enable_grad, no_grad
from ember.optim.optimizer import Optimizer, _check
from ember.tensor import Tensor


class LBFGS(Optimizer):
    r"""L-BFGS (Liu & Nocedal, 1989), as ``torch.optim.LBFGS``; ``step(closure)`` runs up to
    ``max_iter`` iterations, re-evaluating the loss through ``closure``.

    The parameters are treated as one flat vector x with gradient g. Each iteration::

        d = -H g          H: the inverse Hessian estimate from the last history_size pairs
                          s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k (kept when y.s > 1e-10),
                          applied by the two-loop recursion, starting from
                          H_0 = (y.s / y.y) I of the newest pair
        t = min(1, 1/|g|_1) lr on the first iteration, else lr
        strong Wolfe (line_search_fn="strong_wolfe"): t satisfies
                          f(x + t d) <= f(x) + c1 t g.d   and   |g(x + t d).d| <= c2 |g.d|
                          (c1 = 1e-4, c2 = 0.9; bracketing, then cubic interpolation)
        x = x + t d

    and it stops when ``max_iter`` or ``max_eval`` is reached, when max|g| <=
    tolerance_grad, when g.d > -tolerance_change, or when the step or the change of the
    loss is below tolerance_change.

    Args:
        params: the tensors to optimise (one group only, as in PyTorch).
        lr (float): the step size scale (default 1).
        max_iter (int): iterations per ``step`` (default 20).
        max_eval (int): loss evaluations per ``step`` (default max_iter * 5 // 4).
        tolerance_grad (float): stop when max|g| <= this (default 1e-7).
        tolerance_change (float): stop on smaller changes (default 1e-9).
        history_size (int): (s, y) pairs kept (default 100).
        line_search_fn (str | None): ``"strong_wolfe"`` or None (a fixed step).

    State (on the first parameter, as PyTorch keeps it): ``func_evals``, ``n_iter``, ``d``,
    ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``,
    ``prev_loss``, ``al``.

    >>> import ember as em
    >>> x = em.tensor([-1.5, 2.0], dtype=em.float64, requires_grad=True)
    >>> opt = em.optim.LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():                      # Rosenbrock's function, minimum at (1, 1)
    ...     opt.zero_grad()
    ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    ...     loss.backward()
    ...     return loss
    >>> for _ in range(5):
    ...     _ = opt.step(closure)
    >>> [round(v, 4) for v in x.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate(self, options: dict) -> None:
        _check("LBFGS", options["lr"] >= 0.0, f"invalid learning rate {options['lr']}")
        _check("LBFGS", options["line_search_fn"] in (None, "strong_wolfe"),
               f"line_search_fn must be None or 'strong_wolfe', got "
               f"{options['line_search_fn']!r}")

    # ------------------------------------------------------------------ the flat vector

    def _gather_flat_grad(self) -> np.ndarray:
        return np.concatenate([
            np.zeros(p._data.size, p._data.dtype) if p.grad is None
            else p.grad._data.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update: np.ndarray) -> None:
        """x += step_size * update, parameter by parameter, in place."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += (step_size * update[offset:offset + n]).reshape(p._data.shape)
            p._vc[0] += 1
            offset += n

    def _set_param(self, values: list) -> None:
        for p, v in zip(self._params, values, strict=True):
            np.copyto(p._data, v)
            p._vc[0] += 1

    def _directional_evaluate(self, closure, x: list, t, d: np.ndarray):
        """f and g at x + t d (the parameters are put back to x afterwards)."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ the step

    def step(self, closure: Callable):
        """Run up to ``max_iter`` iterations; ``closure`` zeroes the gradients, computes
        the loss, calls ``backward()`` and returns the loss. Returns the first loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the loss")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = _array(state.get("d")), _number(state.get("t"))
        old_dirs = [_array(v) for v in state.get("old_dirs", [])]
        old_stps = [_array(v) for v in state.get("old_stps", [])]
        ro = [_number(v) for v in state.get("ro", [])]
        H_diag = _number(state.get("H_diag"))
        prev_flat_grad = _array(state.get("prev_flat_grad"))
        prev_loss = _number(state.get("prev_loss"))

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction: steepest descent first, then the two-loop recursion
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # the step length
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = [p._data.copy() for p in self._params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # a stochastic setting gains nothing from the last one
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            # stopping tests
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"], state["t"] = _tensor(d), _scalar(t)
        state["old_dirs"] = [_tensor(v) for v in old_dirs]
        state["old_stps"] = [_tensor(v) for v in old_stps]
        state["ro"] = [_scalar(v) for v in ro]
        state["H_diag"] = _scalar(H_diag)
        state["prev_flat_grad"] = _tensor(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return orig_loss


def _array(value):
    """A state value as a NumPy array (state holds ember tensors, or PyTorch's on load)."""
    if value is None or isinstance(value, np.ndarray):
        return value
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _number(value):
    if value is None or isinstance(value, (int, float, np.generic)):
        return value
    return _array(value).item()


def _tensor(value):
    return None if value is None else Tensor._wrap(np.asarray(value))


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


# ----------------------------------------------------------------------------- line search


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clipped to ``bounds`` (default [min(x1, x2), max(x1, x2)]); their midpoint when the
    cubic has no minimum:

    .. math:: d_1 = g_1 + g_2 - 3 \\frac{f_1 - f_2}{x_1 - x_2}, \\quad
              d_2 = \\sqrt{d_1^2 - g_1 g_2}, \\quad
              x^* = x_2 - (x_2 - x_1) \\frac{g_2 + d_2 - d_1}{g_2 - g_1 + 2 d_2}

    >>> round(cubic_interpolate(0.0, 0.0, -1.0, 1.0, 0.0, 1.0), 6)   # (x^2 - x), min at 1/2
    0.5
    """
    xmin_bound, xmax_bound = bounds if bounds is not None else (
        (x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """A step t along d satisfying the strong Wolfe conditions (Nocedal & Wright, Alg. 3.5
    and 3.6): first bracket an interval holding one, extrapolating by cubic
    interpolation; then shrink the bracket (zoom) until a point satisfies both.

    Returns (f_new, g_new, t, evaluations).
    """
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # bracketing
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        previous = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:  # zoom
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                              bracket[1], bracket_f[1], bracket_gtd[1])
        # too close to an end of the bracket: move 10% of its length inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], ls_func_evals
