"""Image filters worked by hand: a Gaussian kernel's weights, Sobel's products at one pixel,
and Canny's non-maximum suppression at one pixel. Each result is computed by
:mod:`ember.vision` and checked against the working shown."""

from __future__ import annotations

import numpy as np

from ember.explain.registry import Explanation, option, register, switch
from ember.explain.values import (
    as_int,
    as_matrix,
    as_number,
    matrix_lines,
    number,
    product,
    signed_sum,
)

__all__ = ["gaussian_kernel_weights", "sobel_at", "canny_at"]

_SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
_SECTOR_NAMES = ("horizontal (left and right neighbours)", "vertical (above and below)",
                 "diagonal \\ (above-left and below-right)", "diagonal / (above-right and "
                 "below-left)")
_NEIGHBOURS = (((0, -1), (0, 1)), ((-1, 0), (1, 0)), ((-1, -1), (1, 1)), ((-1, 1), (1, -1)))


def _vision():
    import ember.vision as V  # the package of the operations explained

    return V


@register("gaussian-kernel", "a Gaussian kernel's weights, from the formula to the sum of 1",
          option("--size", "kernel_size", as_int, "the number of taps k (odd, default 5)",
                 default=5),
          option("--sigma", "sigma", as_number, "the standard deviation (<= 0: OpenCV's "
                 "default for the size; default 1)", default=1.0))
def gaussian_kernel_weights(kernel_size: int = 5, sigma: float = 1.0) -> Explanation:
    """The 1-d Gaussian kernel weight by weight, and the 2-d kernel as their outer product.

    .. math:: g_i = e^{-x_i^2 / (2 \\sigma^2)} / \\sum_j e^{-x_j^2 / (2 \\sigma^2)},
              \\quad x_i = i - (k - 1)/2

    >>> e = gaussian_kernel_weights(3, 1.0)
    >>> print(e.lines[1])
    x = -1: exp(-(-1)^2 / (2*1^2)) = exp(-0.5) = 0.6065
    >>> e.result.round(4).tolist()
    [0.2741, 0.4519, 0.2741]
    """
    V = _vision()
    k = as_int(kernel_size, "kernel_size")
    sigma = as_number(sigma, "sigma")
    lines = ["g_i = exp(-x_i^2 / (2 sigma^2)) / sum_j exp(-x_j^2 / (2 sigma^2)), "
             "x_i = i - (k - 1)/2"]
    if sigma <= 0:
        fixed = k % 2 == 1 and k <= 9
        used = V.filters.gaussian_sigma(k)
        lines.append(f"sigma <= 0: OpenCV uses sigma = 0.3 ((k - 1)/2 - 1) + 0.8 = {number(used)}"
                     + (", and for k <= 9 its fixed binomial-like table (below)" if fixed else ""))
    else:
        used = sigma
    offsets = np.arange(k) - (k - 1) / 2
    raw = np.exp(-offsets**2 / (2 * used**2))
    for x, value in zip(offsets, raw, strict=True):
        exponent = -x * x / (2 * used * used)
        lines.append(f"x = {number(x)}: exp(-({number(x)})^2 / (2*{number(used)}^2)) = "
                     f"exp({number(exponent)}) = {number(value)}")
    total = raw.sum()
    lines.append(f"sum = {signed_sum(raw)} = {number(total)}")
    kernel = V.gaussian_kernel(k, sigma).numpy()
    if sigma > 0 or not (k % 2 == 1 and k <= 9):
        lines.append("divide each by the sum: g = " + ", ".join(number(v) for v in raw / total))
    lines.append("kernel: " + ", ".join(number(v) for v in kernel) + f" (sums to "
                 f"{number(kernel.sum())})")
    if k <= 7:
        lines += ["2-d kernel g g^T (a separable filter: rows, then columns):",
                  *("  " + row for row in matrix_lines(np.outer(kernel, kernel)))]
    return Explanation(f"Gaussian kernel: {k} taps, sigma {number(sigma)}", lines, kernel,
                       kernel=kernel, sigma=used, sum=total)


_PIXEL_OPTIONS = (  # an image and one of its pixels
    option("--input", "input", as_matrix, 'the image, rows separated by ";" (3x3 or larger), '
           'e.g. "10 10 80; 10 10 80; 10 10 80"'),
    option("--row", "row", lambda t: as_int(t, "row", 0), "the pixel's row (default the "
           "middle)", default=None),
    option("--col", "col", lambda t: as_int(t, "col", 0), "the pixel's column (default the "
           "middle)", default=None))


def _pixel(x: np.ndarray, row, col) -> tuple[int, int]:
    h, w = x.shape
    row = h // 2 if row is None else as_int(row, "row", minimum=0)
    col = w // 2 if col is None else as_int(col, "col", minimum=0)
    if row >= h or col >= w:
        raise ValueError(f"pixel ({row}, {col}) is outside the {h}x{w} input")
    return row, col


def _neighbourhood(x: np.ndarray, row: int, col: int, border: str) -> np.ndarray:
    V = _vision()
    rows = V.border_index(np.arange(row - 1, row + 2), x.shape[0], border)
    cols = V.border_index(np.arange(col - 1, col + 2), x.shape[1], border)
    return x[np.ix_(rows, cols)]


def _correlation_lines(name: str, patch: np.ndarray, kernel: np.ndarray) -> tuple[list, float]:
    terms = [product(k, p) for k, p in zip(kernel.ravel(), patch.ravel(), strict=True)
             if k != 0]
    value = float((kernel * patch).sum())
    nonzero = [k * p for k, p in zip(kernel.ravel(), patch.ravel(), strict=True) if k != 0]
    return [f"{name} = {' + '.join(terms)}", f"{' ' * len(name)} = {signed_sum(nonzero)} = "
            f"{number(value)}"], value


@register("sobel", "the Sobel gradient at one pixel: the 3x3 products, magnitude and angle",
          *_PIXEL_OPTIONS)
def sobel_at(input, row: int | None = None, col: int | None = None) -> Explanation:
    """The Sobel derivatives at one pixel, with every product of the 3x3 window.

    .. math:: G_x = \\begin{bmatrix} -1 & 0 & 1 \\\\ -2 & 0 & 2 \\\\ -1 & 0 & 1
              \\end{bmatrix} \\star I, \\quad G_y = G_x^T \\star I, \\quad
              |G| = \\sqrt{G_x^2 + G_y^2}, \\quad \\theta = \\operatorname{atan2}(G_y, G_x)

    Pixels outside the image are mirrored (OpenCV's default ``reflect101``); y points
    down the rows.

    >>> e = sobel_at("10 10 80; 10 10 80; 10 10 80")
    >>> e.gx, e.gy, e.magnitude, e.angle
    (280.0, 0.0, 280.0, 0.0)
    """
    V = _vision()
    x = as_matrix(input, "input")
    row, col = _pixel(x, row, col)
    patch = _neighbourhood(x, row, col, "reflect101")
    lines = ["Gx (d/dx, x to the right):", *("  " + r for r in matrix_lines(_SOBEL_X)),
             f"the 3x3 window around ({row}, {col}):", *("  " + r for r in matrix_lines(patch))]
    gx_lines, gx = _correlation_lines("gx", patch, _SOBEL_X)
    gy_lines, gy = _correlation_lines("gy", patch, _SOBEL_X.T)
    lines += gx_lines + ["Gy = Gx transposed (d/dy, y down the rows):"] + gy_lines
    magnitude = float(np.hypot(gx, gy))
    angle = float(np.degrees(np.arctan2(gy, gx)))
    lines += [f"|G| = sqrt(gx^2 + gy^2) = sqrt({number(gx)}^2 + {number(gy)}^2) = "
              f"{number(magnitude)}   (L1: |gx| + |gy| = {number(abs(gx) + abs(gy))})",
              f"theta = atan2(gy, gx) = atan2({number(gy)}, {number(gx)}) = "
              f"{number(angle, 2)} degrees (the gradient points to increasing intensity; "
              f"the edge runs across it)"]
    check = (V.sobel(x, 1, 0)[row, col], V.sobel(x, 0, 1)[row, col])
    assert np.allclose(check, (gx, gy)), "the working disagrees with ember.vision.sobel"
    return Explanation(f"Sobel gradient at pixel ({row}, {col})", lines, magnitude, gx=gx,
                       gy=gy, magnitude=magnitude, angle=angle)


@register("canny", "Canny's non-maximum suppression (and thresholds) at one pixel",
          *_PIXEL_OPTIONS,
          option("--low", "low", as_number, "the low threshold (default 50)", default=50.0),
          option("--high", "high", as_number, "the high threshold (default 100)",
                 default=100.0),
          switch("--l2", "l2gradient", True, "magnitude sqrt(gx^2 + gy^2) instead of "
                 "|gx| + |gy|"))
def canny_at(input, row: int | None = None, col: int | None = None, low: float = 50.0,
             high: float = 100.0, l2gradient: bool = False) -> Explanation:
    """Steps 2 to 4 of Canny at one pixel: its Sobel gradient, the direction rounded to
    one of four, the comparison with the two neighbours along it (non-maximum
    suppression) and the double threshold.

    >>> e = canny_at("0 0 90 90 90; 0 0 90 90 90; 0 0 90 90 90", row=1, col=1)
    >>> e.sector, e.kept, e.result
    ('horizontal (left and right neighbours)', True, 'strong')
    """
    V = _vision()
    x = as_matrix(input, "input")
    row, col = _pixel(x, row, col)
    low, high = sorted((as_number(low, "low"), as_number(high, "high")))
    steps = V.canny_steps(x, low, high, l2gradient)
    gx, gy, m = steps.gx, steps.gy, steps.magnitude
    norm = "sqrt(gx^2 + gy^2)" if l2gradient else "|gx| + |gy|"
    lines = ["step 2, the Sobel gradient (edges replicated, as OpenCV's Canny):",
             f"  gx = {number(gx[row, col])}, gy = {number(gy[row, col])}, "
             f"m = {norm} = {number(m[row, col])}",
             "the magnitudes around it:",
             *("  " + r for r in matrix_lines(np.pad(m, 1)[row:row + 3, col:col + 3]))]
    sector = int(steps.sector[row, col])
    angle = float(np.degrees(np.arctan2(gy[row, col], gx[row, col])))
    padded = np.pad(m, 1)
    kept = bool(steps.suppressed[row, col] > 0)
    if m[row, col] == 0:
        lines.append("step 3: no gradient here, so no direction: not an edge")
    else:
        lines.append(f"step 3, direction atan2(gy, gx) = {number(angle, 2)} degrees, rounded to "
                     f"the nearest 45: {_SECTOR_NAMES[sector]}")
        (a, b), (c, d) = _NEIGHBOURS[sector]
        first, second = padded[row + 1 + a, col + 1 + b], padded[row + 1 + c, col + 1 + d]
        rule = ">" if sector >= 2 else ">="
        lines.append(f"  keep if m > {number(first)} and m {rule} {number(second)} (outside "
                     f"the image counts as 0; of two equal maxima the first stays): "
                     f"{number(m[row, col])} -> "
                     + ("kept, a local maximum across the edge" if kept else "suppressed"))
    value = m[row, col] if kept else 0.0
    if not kept:
        verdict = "not an edge"
    elif value > high:
        verdict = "strong"
    elif value > low:
        verdict = "weak"
    else:
        verdict = "not an edge"
    lines.append(f"step 4, thresholds low = {number(low)}, high = {number(high)}: "
                 f"{number(value)} -> {verdict}"
                 + (" (step 5 keeps it only if it touches a strong edge)" if verdict == "weak"
                    else ""))
    lines += ["the edges of the whole input (steps 1 to 5, no smoothing):",
              *("  " + r for r in matrix_lines(steps.edges // 255))]
    return Explanation(f"Canny at pixel ({row}, {col})", lines, verdict, gx=float(gx[row, col]),
                       gy=float(gy[row, col]), magnitude=float(m[row, col]),
                       sector=_SECTOR_NAMES[sector], kept=kept, edges=steps.edges)
