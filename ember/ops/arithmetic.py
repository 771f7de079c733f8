"""Arithmetic: + - * / ** neg and batched matrix multiplication, with their VJPs.

Binary ops broadcast like NumPy; each input's gradient is summed back to its own shape
(:func:`~ember.autograd.primitive.unbroadcast`). Result dtypes follow PyTorch.
"""

from __future__ import annotations

from ember.autograd.primitives import defvjp, primitive, unbroadcast
from ember.errors import ShapeError


@primitive(promote=True, saves="none")
def add(xp, x, y):
    """x + y;  dz/dx = 1, dz/dy = 1."""
    return x + y


defvjp(add,
       lambda xp, g, ans, x, y: unbroadcast(g, xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(g, xp.shape(y)))


@primitive(promote=True, saves="none")
def sub(xp, x, y):
    """x - y;  dz/dx = 1, dz/dy = -1."""
    if _is_bool(x) or _is_bool(y):
        raise RuntimeError("sub: subtraction, the `-` operator, with a bool tensor is not "
                           "supported; to invert a mask use `~` or logical_not()")
    return x - y


def _is_bool(x) -> bool:
    return isinstance(x, bool) or getattr(getattr(x, "dtype", None), "kind", None) == "b"


defvjp(sub,
       lambda xp, g, ans, x, y: unbroadcast(g, xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(-g, xp.shape(y)))


@primitive(promote=True, saves="inputs")
def mul(xp, x, y):
    """x * y;  dz/dx = y, dz/dy = x."""
    return x * y


defvjp(mul,
       lambda xp, g, ans, x, y: unbroadcast(g * y, xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(g * x, xp.shape(y)))


@primitive(promote=True, saves="inputs")
def div(xp, x, y):
    """x / y (true division);  dz/dx = 1/y, dz/dy = -x/y^2."""
    return x / y


defvjp(div,
       lambda xp, g, ans, x, y: unbroadcast(g / y, xp.shape(x)),
       lambda xp, g, ans, x, y: unbroadcast(-g * x / (y * y), xp.shape(y)))


@primitive(promote=True)
def pow(xp, x, y):
    """x ** y;  dz/dx = y x^(y-1) (0 where y = 0),  dz/dy = x^y log x (0 where x = 0, y >= 0)."""
    return x**y


def _pow_vjp_base(xp, g, ans, x, y):
    grad = g * y * x ** (y - 1)
    return unbroadcast(xp.where(y == 0, 0.0, grad), xp.shape(x))


def _pow_vjp_exponent(xp, g, ans, x, y):
    safe_x = xp.where((x == 0) & (y >= 0), 1.0, x)
    return unbroadcast(g * ans * xp.log(safe_x), xp.shape(y))


defvjp(pow, _pow_vjp_base, _pow_vjp_exponent)


@primitive(saves="none")
def neg(xp, x):
    """-x;  dz/dx = -1."""
    if _is_bool(x):
        raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not "
                           "supported; to invert a mask use `~` or logical_not()")
    return -x


defvjp(neg, lambda xp, g, ans, x: -g)


@primitive(promote=True, saves="inputs")
def matmul(xp, x, y):
    """x @ y: matrix product, batched over leading dimensions (which broadcast).

    1-D operands are a row vector on the left and a column vector on the right, and that
    dimension is dropped from the result, as in NumPy and PyTorch.
    """
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{x.shape} and {y.shape}")
    inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if x.shape[-1] != inner_y:
        raise ShapeError(f"matmul: shapes {x.shape} and {y.shape} cannot be multiplied "
                         f"({x.shape[-1]} columns on the left, {inner_y} rows on the right)")
    return xp.matmul(x, y)


def _matmul_vjp_x(xp, g, ans, x, y):
    """dL/dx = dL/dz @ y^T, summed over broadcast batch dimensions."""
    if y.ndim == 1:  # (..., k) @ (k,) -> (...): dL/dx[..., k] = g[...] y[k]
        return g[..., None] * y
    if x.ndim == 1:  # (k,) @ (..., k, n) -> (..., n): sum_{..., n} y[..., k, n] g[..., n]
        return xp.matmul(y, g[..., None])[..., 0].reshape(-1, x.shape[0]).sum(axis=0)
    return unbroadcast(xp.matmul(g, xp.swapaxes(y, -1, -2)), x.shape)


def _matmul_vjp_y(xp, g, ans, x, y):
    """dL/dy = x^T @ dL/dz, summed over broadcast batch dimensions."""
    if y.ndim == 1:
        if x.ndim == 1:  # dot product
            return g * x
        # (..., m, k) @ (k,) -> (..., m): sum_{..., m} x[..., m, k] g[..., m]
        grad = xp.matmul(xp.swapaxes(x, -1, -2), g[..., None])[..., 0]
        return grad.reshape(-1, y.shape[0]).sum(axis=0)
    if x.ndim == 1:  # (k,) @ (..., k, n) -> (..., n): dL/dy[..., k, n] = x[k] g[..., n]
        return unbroadcast(g[..., None, :] * x[:, None], y.shape)
    return unbroadcast(xp.matmul(xp.swapaxes(x, -1, -2), g), y.shape)


defvjp(matmul, _matmul_vjp_x, _matmul_vjp_y)
