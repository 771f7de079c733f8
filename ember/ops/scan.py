"""Cumulative ops along one axis: cumsum, cumprod, logcumsumexp, and the running-extreme
indices behind cummax and cummin.

The VJP of a scan runs the scan backwards: a reversed cumulative sum,

.. math:: \\overline{x}_j = \\sum_{i \\ge j} \\overline{y}_i\\, \\partial y_i / \\partial x_j

``cumprod``'s gradient is written without dividing by x, so zeros in the input get the
exact gradient (as PyTorch's): before the first zero ``sum_{i>=j} g_i y_i / x_j`` is exact;
at the first zero only the products that skip it survive; after it every product
contains it, so the gradient is 0.
"""

from __future__ import annotations

from ember.autograd.primitives import defcomposite, defvjp, primitive


def _reverse_cumsum(xp, v, axis):
    """sum_{i >= j} v_i along ``axis``."""
    return xp.flip(xp.cumsum(xp.flip(v, axis), axis=axis), axis)


@primitive(saves="none")
def cumsum(xp, x, axis):
    """y_i = sum_{j <= i} x_j;  VJP: the reversed cumulative sum of g."""
    return xp.cumsum(x, axis=axis)


defvjp(cumsum, lambda xp, g, ans, x, axis: _reverse_cumsum(xp, g, axis))


@primitive(saves="all")
def cumprod(xp, x, axis):
    """y_i = prod_{j <= i} x_j;  d y_i / d x_j = prod_{k <= i, k != j} x_k (i >= j), exact
    with zeros in x (see the module)."""
    return xp.cumprod(x, axis=axis)


def _cumprod_vjp(xp, g, ans, x, axis):
    zero = x == 0
    zeros_so_far = xp.cumsum(zero, axis=axis)
    before = zeros_so_far == 0
    first = zero & (zeros_so_far == 1)
    # before the first zero: sum_{i >= j} g_i y_i / x_j (x_j is not zero there)
    safe = xp.where(before, x, 1)
    grad = xp.where(before, _reverse_cumsum(xp, g * ans, axis) / safe, 0)
    # at the first zero: sum_{i >= j} g_i prod_{k <= i, k != j} x_k, the cumprod with
    # that zero replaced by one
    skipped = xp.cumprod(xp.where(first, 1, x), axis=axis)
    at_first = _reverse_cumsum(xp, xp.where(zeros_so_far >= 1, g * skipped, 0), axis)
    return grad + xp.where(first, at_first, 0)


defvjp(cumprod, _cumprod_vjp)


def _logcumsumexp_array(xp, x, axis):
    return xp.logaddexp.accumulate(x, axis=axis)


@primitive(saves="all")
def logcumsumexp(xp, x, axis):
    """y_i = log sum_{j <= i} e^{x_j}, accumulated with logaddexp (never overflows);
    d y_i / d x_j = e^{x_j - y_i} (i >= j)."""
    return _logcumsumexp_array(xp, x, axis)


def _logcumsumexp_vjp(xp, g, ans, x, axis):
    """x̄_j = sum_{i >= j} g_i e^{x_j - y_i} = e^{x_j} (P_j - N_j), with
    P_j = sum_{i >= j} g_i^+ e^{-y_i} summed in log space (a reversed logcumsumexp of
    log g^+ - y), and N_j likewise for g^- = max(-g, 0): no term overflows."""

    def part(weight):
        positive = weight > 0
        logs = xp.where(positive, xp.log(xp.where(positive, weight, 1)), -xp.inf) - ans
        reverse = xp.flip(_logcumsumexp_array(xp, xp.flip(logs, axis), axis), axis)
        return xp.exp(reverse + x)

    return part(g) - part(-g)


defvjp(logcumsumexp, _logcumsumexp_vjp)


def _logcumsumexp_composite(x, axis):
    """y_i = logaddexp(y_{i-1}, x_i): the same scan as a chain of logaddexp, whose
    gradient can be differentiated again (the fused VJP's log-space terms are -inf)."""
    from ember import functions
    from ember.ops.exponential import logaddexp

    pieces = functions.unbind(x, axis)
    out = [pieces[0]]
    for piece in pieces[1:]:
        out.append(logaddexp(out[-1], piece))
    return functions.stack(out, axis)


defcomposite(logcumsumexp, _logcumsumexp_composite)


@primitive(differentiable=False)
def cumulative_argextreme(xp, x, axis, largest):
    """The index of the running maximum (``largest``) or minimum along ``axis``: where
    ties occur the later index wins, and NaN, once seen, stays the extreme (as PyTorch's
    cummax and cummin)."""
    moved = xp.moveaxis(x, axis, -1)
    running = (xp.maximum if largest else xp.minimum).accumulate(moved, axis=-1)
    hit = moved == running
    if moved.dtype.kind == "f":
        hit |= xp.isnan(moved)
    positions = xp.arange(moved.shape[-1])
    index = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=-1)
    return xp.moveaxis(index, -1, axis).astype(xp.int64)
