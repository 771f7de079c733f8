"""Image gradients: Sobel, Scharr, Prewitt, Roberts, the Laplacian; magnitude, direction.

A derivative filter is the difference ``[-1, 0, 1]`` (or ``[1, -2, 1]`` for the second
derivative) along one axis, smoothed along the other; Sobel's 3x3 kernel for d/dx is

.. math:: G_x = \\begin{bmatrix} -1 & 0 & 1 \\\\ -2 & 0 & 2 \\\\ -1 & 0 & 1 \\end{bmatrix}
          = \\begin{bmatrix} 1 \\\\ 2 \\\\ 1 \\end{bmatrix}
            \\begin{bmatrix} -1 & 0 & 1 \\end{bmatrix}

(x to the right, y downwards, as image rows run), and from the two derivatives

.. math:: |\\nabla I| = \\sqrt{G_x^2 + G_y^2}, \\qquad \\theta = \\operatorname{atan2}(G_y, G_x)

Every filter here is a (separable) correlation (:mod:`ember.vision.correlate`, on
ember's ``conv2d`` when a graph is recorded): differentiable on tensors, equal to
``cv2.Sobel`` / ``cv2.Scharr`` / ``cv2.Laplacian`` with ``ddepth=CV_64F``. Integer images
give float32 results (exact: the sums are whole numbers), floats keep their dtype.
"""

from __future__ import annotations

import numpy as np

from ember import functions as fn
from ember.autograd.primitives import defvjp, primitive
from ember.tensor import Tensor
from ember.vision.correlate import correlate2d, correlate_separable
from ember.vision.layout import Planes, needs_grad, to_float

__all__ = ["deriv_kernels", "sobel", "scharr", "laplacian", "gradient", "magnitude",
           "direction", "OPERATORS"]

OPERATORS = ("sobel", "scharr", "prewitt", "roberts")


def _binomial(n: int) -> np.ndarray:
    """Row n of Pascal's triangle: [1], [1, 1], [1, 2, 1], ... (n + 1 numbers)."""
    row = np.ones(1)
    for _ in range(n):
        row = np.convolve(row, [1.0, 1.0])
    return row


def _sobel_kernel(order: int, ksize: int) -> np.ndarray:
    """The 1-d Sobel factor of derivative ``order`` and size ``ksize``: binomial
    smoothing of size ``ksize - order`` differenced ``order`` times (convolved with
    ``[-1, 1]``). ksize 1 means 3 taps for a derivative, [1] for none."""
    if ksize == 1:
        ksize = 1 if order == 0 else 3
    kernel = _binomial(ksize - order - 1)
    for _ in range(order):
        kernel = np.convolve(kernel, [-1.0, 1.0])
    return kernel


def deriv_kernels(dx: int, dy: int, ksize: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(kernel_x, kernel_y) of ``cv2.getDerivKernels``: the row and column factors of the
    Sobel (ksize 1, 3, 5, 7) or Scharr (ksize -1, first derivatives only) filter.

    >>> kx, ky = deriv_kernels(1, 0, 3)
    >>> kx.tolist(), ky.tolist()
    ([-1.0, 0.0, 1.0], [1.0, 2.0, 1.0])
    >>> [k.tolist() for k in deriv_kernels(0, 1, -1)]
    [[3.0, 10.0, 3.0], [-1.0, 0.0, 1.0]]
    """
    if ksize == -1:
        if sorted((dx, dy)) != [0, 1]:
            raise ValueError(f"scharr: needs one first derivative (dx, dy) = (1, 0) or (0, 1), "
                             f"got ({dx}, {dy})")
        smooth, diff = np.array([3.0, 10.0, 3.0]), np.array([-1.0, 0.0, 1.0])
        return (diff, smooth) if dx else (smooth, diff)
    if ksize not in (1, 3, 5, 7):
        raise ValueError(f"sobel: ksize must be 1, 3, 5 or 7 (or -1 for Scharr), got {ksize}")
    if dx < 0 or dy < 0 or dx + dy == 0:
        raise ValueError(f"sobel: dx and dy must be >= 0 and not both 0, got ({dx}, {dy})")
    limit = 2 if ksize == 1 else ksize - 1
    if dx > limit or dy > limit:
        raise ValueError(f"sobel: derivative order ({dx}, {dy}) is too high for ksize {ksize} "
                         f"(at most {limit})")
    return _sobel_kernel(dx, ksize), _sobel_kernel(dy, ksize)


def sobel(x, dx: int = 1, dy: int = 0, ksize: int = 3, scale: float = 1.0,
          delta: float = 0.0, border: str = "reflect101"):
    """Sobel derivative of order (dx, dy) (``cv2.Sobel(x, cv2.CV_64F, dx, dy, ksize)``).

    .. math:: y = \\text{scale} \\cdot (k_y k_x^T) \\star x + \\delta

    Args:
        x: image (see :mod:`ember.vision.layout`).
        dx, dy: derivative orders along x (columns) and y (rows).
        ksize: 1, 3, 5 or 7; -1 for the Scharr kernel ([3, 10, 3] smoothing).
        scale, delta: the result is scaled, then shifted.
        border: border mode (default ``reflect101``, OpenCV's).

    >>> import numpy as np
    >>> ramp = np.tile(np.arange(5.0) ** 2, (3, 1))      # x^2 along every row
    >>> sobel(ramp, 1, 0)[1]                             # 4 * (x+1)^2 - 4 * (x-1)^2 ...
    array([ 0.,  16., 32., 48.,  0.])
    """
    planes = Planes(x, "sobel")
    kx, ky = deriv_kernels(dx, dy, ksize)
    dtype = to_float(planes.tensor).dtype
    return _derivative(planes, kx * scale, ky, border, delta, dtype)


def scharr(x, dx: int = 1, dy: int = 0, scale: float = 1.0, delta: float = 0.0,
           border: str = "reflect101"):
    """Scharr derivative (``cv2.Scharr``): ``[-1, 0, 1]`` smoothed by ``[3, 10, 3]``,
    more rotation-invariant than the 3x3 Sobel.

    >>> import numpy as np
    >>> scharr(np.tile(np.arange(4.0), (3, 1)), 1, 0)[1]
    array([ 0., 32., 32.,  0.])
    """
    return sobel(x, dx, dy, -1, scale, delta, border)


def laplacian(x, ksize: int = 1, scale: float = 1.0, delta: float = 0.0,
              border: str = "reflect101"):
    """The Laplacian ``d2/dx2 + d2/dy2`` (``cv2.Laplacian(x, cv2.CV_64F, ksize=ksize)``).

    ksize 1 is the 4-neighbour kernel ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``; 3, 5, 7
    sum the Sobel second derivatives of that size (for 3: ``[[2, 0, 2], [0, -8, 0],
    [2, 0, 2]]``).

    >>> import numpy as np
    >>> x = np.zeros((5, 5)); x[2, 2] = 1
    >>> laplacian(x)[1:4, 1:4]
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    """
    planes = Planes(x, "laplacian")
    dtype = to_float(planes.tensor).dtype
    source = to_float(planes.flat())
    if ksize in (1, 3):  # OpenCV's fixed 3x3 kernels
        kernel = (np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]) if ksize == 1 else
                  np.array([[2.0, 0, 2], [0, -8, 0], [2, 0, 2]]))
        y = correlate2d(source, (kernel * scale).astype(dtype), border, 0.0, "laplacian")
        return _finish_float(planes, y, delta)
    second, smooth = (k.astype(dtype) for k in deriv_kernels(2, 0, ksize))
    y = correlate_separable(source, second * scale, smooth, border, 0.0, "laplacian")
    y = y + correlate_separable(source, smooth * scale, second, border, 0.0, "laplacian")
    return _finish_float(planes, y, delta)


def gradient(x, operator: str = "sobel", border: str = "reflect101"):
    """The pair (gx, gy) of first derivatives with a textbook operator.

    ============ ====================================== ==========================
    operator     gx                                     gy
    ============ ====================================== ==========================
    ``sobel``    ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` its transpose
    ``scharr``   ``[[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]`` its transpose
    ``prewitt``  ``[[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]`` its transpose
    ``roberts``  ``[[1, 0], [0, -1]]``                  ``[[0, 1], [-1, 0]]``
    ============ ====================================== ==========================

    Roberts' cross differences lie along the diagonals (its 2x2 window is anchored at
    the bottom-right pixel: ``gx[i, j] = x[i-1, j-1] - x[i, j]``); the others are
    centred.

    >>> import numpy as np
    >>> x = np.zeros((3, 3)); x[:, 2] = 1                # a vertical step edge
    >>> gx, gy = gradient(x, "prewitt", border="replicate")
    >>> gx[1].tolist(), gy[1].tolist()
    ([0.0, 3.0, 3.0], [0.0, 0.0, 0.0])
    """
    name = str(operator).lower()
    if name == "sobel":
        return sobel(x, 1, 0, 3, border=border), sobel(x, 0, 1, 3, border=border)
    if name == "scharr":
        return scharr(x, 1, 0, border=border), scharr(x, 0, 1, border=border)
    planes = Planes(x, "gradient")
    dtype = to_float(planes.tensor).dtype
    if name == "prewitt":
        diff, smooth = np.array([-1.0, 0.0, 1.0]), np.ones(3)
        return (_derivative(planes, diff, smooth, border, 0.0, dtype),
                _derivative(planes, smooth, diff, border, 0.0, dtype))
    if name == "roberts":
        source = to_float(planes.flat())
        kernels = (np.array([[1.0, 0.0], [0.0, -1.0]]), np.array([[0.0, 1.0], [-1.0, 0.0]]))
        return tuple(_finish_float(planes, correlate2d(source, k.astype(dtype), border, 0.0,
                                                       "gradient")) for k in kernels)
    raise ValueError(f"gradient: unknown operator {operator!r}; expected one of "
                     + ", ".join(OPERATORS))


def magnitude(gx, gy, norm: str = "l2"):
    """Gradient magnitude: ``sqrt(gx^2 + gy^2)`` (``cv2.magnitude``), or ``|gx| + |gy|``
    with ``norm="l1"`` (Canny's default).

    On tensors the L2 gradient is ``(gx, gy) / |g|``, taken as 0 where ``|g| = 0`` (the
    subgradient of smallest norm, as ``torch.linalg.vector_norm``).

    >>> import numpy as np
    >>> magnitude(np.array([[3.0, 0.0]]), np.array([[4.0, 0.0]]))
    array([[5., 0.]])
    """
    if str(norm).lower() == "l1":
        return _apply(gx, gy, lambda a, b: fn.abs(a) + fn.abs(b), np.abs, "magnitude")
    if str(norm).lower() != "l2":
        raise ValueError(f"magnitude: norm must be 'l1' or 'l2', got {norm!r}")
    return _apply(gx, gy, _hypot, None, "magnitude")


def direction(gx, gy, degrees: bool = False):
    """Gradient direction ``atan2(gy, gx)`` in (-pi, pi] (y downwards, so a positive
    angle turns clockwise on screen). ``cv2.phase`` gives the same angle in [0, 2 pi).

    On tensors it is differentiable: ``d theta = (gx d gy - gy d gx) / (gx^2 + gy^2)``.

    >>> import numpy as np
    >>> direction(np.array([[1.0, 0.0, -1.0]]), np.array([[0.0, 1.0, 0.0]]), degrees=True)
    array([[  0.,  90., 180.]])
    """
    angle = _apply(gx, gy, lambda a, b: _atan2(b, a), None, "direction")
    return angle * (180.0 / np.pi) if degrees else angle


# ----------------------------------------------------------------------------- helpers


@primitive(saves="inputs")
def _atan2(xp, y, x):
    """atan2(y, x);  VJP: dy = x g / (x^2 + y^2), dx = -y g / (x^2 + y^2) (0 at the origin)."""
    return xp.arctan2(y, x)


def _atan2_grad(xp, g, y, x, sign):
    r2 = x * x + y * y
    numerator = x if sign > 0 else -y
    return xp.where(r2 > 0, g * numerator / xp.where(r2 > 0, r2, 1), 0 * g)


# NOTE: a private primitive until ember.ops has atan2; its VJPs use only xp.
defvjp(_atan2,
       lambda xp, g, ans, y, x: _atan2_grad(xp, g, y, x, +1),
       lambda xp, g, ans, y, x: _atan2_grad(xp, g, y, x, -1))


def _hypot(a: Tensor, b: Tensor) -> Tensor:
    squared = a * a + b * b
    if not needs_grad(squared):
        return fn.sqrt(squared)
    zero = squared.detach() == 0
    return fn.where(zero, 0 * squared, fn.sqrt(fn.where(zero, squared.detach() + 1, squared)))


def _apply(gx, gy, tensor_op, array_op, op):
    """Apply an elementwise op to two gradient images of the same kind and shape."""
    if isinstance(gx, Tensor) or isinstance(gy, Tensor):
        a = gx if isinstance(gx, Tensor) else Tensor._wrap(np.asarray(gx))
        b = gy if isinstance(gy, Tensor) else Tensor._wrap(np.asarray(gy))
        if a.shape != b.shape:
            raise ValueError(f"{op}: gx and gy must have the same shape, got "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        return tensor_op(to_float(a), to_float(b))
    a, b = np.asarray(gx), np.asarray(gy)
    if a.shape != b.shape:
        raise ValueError(f"{op}: gx and gy must have the same shape, got {a.shape} and "
                         f"{b.shape}")
    a = a if a.dtype.kind == "f" else a.astype(np.float32)
    b = b if b.dtype.kind == "f" else b.astype(np.float32)
    if array_op is not None:
        return array_op(a) + array_op(b)
    return tensor_op(Tensor._wrap(a), Tensor._wrap(b)).numpy()


def _derivative(planes, kx, ky, border, delta, dtype):
    y = correlate_separable(to_float(planes.flat()), np.asarray(kx, dtype),
                            np.asarray(ky, dtype), border, 0.0, "gradient")
    return _finish_float(planes, y, delta)


def _finish_float(planes, y, delta=0.0):
    """Derivatives stay floating point: regroup and return (integer images give float32)."""
    if delta:
        y = y + delta
    return planes.back(planes.stack(y))
