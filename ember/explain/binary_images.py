"""Binary images worked by hand: Otsu's threshold as the full table of its search, and
erosion and dilation of a small binary image pixel by pixel."""

from __future__ import annotations

import numpy as np

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int, as_matrix, as_vector, matrix_lines, number

__all__ = ["otsu", "morphology"]


def _vision():
    import ember.vision as V  # the package of the operations explained

    return V


def _levels(value) -> np.ndarray:
    x = as_matrix(value, "input")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("input: grey levels must be whole numbers >= 0")
    return x.astype(np.int64)


@register("otsu", "Otsu's threshold: the table of t, w0, w1, mu0, mu1 and the between-class "
                  "variance",
          option("--input", "input", as_matrix, 'the grey levels, rows separated by ";" '
                 '(e.g. "0 1 1 2; 5 6 6 7"); or give --histogram', default=None),
          option("--histogram", "histogram", as_vector, "pixel counts of levels 0, 1, 2, ... "
                 'instead of an image, e.g. "2 3 1 0 0 2 4 2"', default=None))
def otsu(input=None, histogram=None) -> Explanation:
    """Otsu's exhaustive search, one row per candidate threshold t (class 0: levels <= t).

    .. math:: \\omega_0 = \\sum_{i \\le t} p_i, \\ \\omega_1 = 1 - \\omega_0, \\
              \\mu_0 = \\frac{\\sum_{i \\le t} i p_i}{\\omega_0}, \\
              \\mu_1 = \\frac{\\sum_{i > t} i p_i}{\\omega_1}, \\
              \\sigma_B^2 = \\omega_0 \\omega_1 (\\mu_0 - \\mu_1)^2

    >>> e = otsu(histogram=[2, 3, 1, 0, 0, 2, 4, 2])
    >>> e.result, round(e.between, 4)
    (2.0, 6.5374)
    """
    V = _vision()
    if (input is None) == (histogram is None):
        raise ValueError("otsu: give either --input (an image) or --histogram (counts)")
    if histogram is not None:
        counts = as_vector(histogram, "histogram")
        if np.any(counts < 0):
            raise ValueError("histogram: counts must be >= 0")
    else:
        counts = np.bincount(_levels(input).ravel()).astype(np.float64)
    if counts.sum() <= 0:
        raise ValueError("otsu: the histogram is empty")
    table = V.otsu_table(counts)
    n = counts.sum()
    levels = np.arange(len(counts))
    mu = float((levels * counts).sum() / n)
    lines = [f"{number(n)} pixels; p_i = count_i / {number(n)}; overall mean mu = "
             f"{number(mu)}",
             "counts: " + ", ".join(f"{i}:{number(c)}" for i, c in enumerate(counts) if c),
             "sigma_B^2(t) = w0 w1 (mu0 - mu1)^2, class 0 = levels <= t",
             "   t      w0      w1     mu0     mu1  sigma_B^2"]
    last = int(np.flatnonzero(counts)[-1])
    for t in range(int(np.flatnonzero(counts)[0]), last):
        lines.append(f"{t:4d}  {table.w0[t]:6.4f}  {table.w1[t]:6.4f}  {table.mu0[t]:6.3f}  "
                     f"{table.mu1[t]:6.3f}  {table.between[t]:9.4f}"
                     + ("  <- maximum" if t == table.threshold else ""))
    t = int(table.threshold)
    lines.append(f"threshold t* = {t}: pixels > {t} are foreground (maximising the "
                 f"between-class variance minimises the within-class variance)")
    return Explanation("Otsu's threshold", lines, float(t), threshold=float(t),
                       between=float(table.between[t]), table=table)


def _element(kernel, shape, size):
    V = _vision()
    if kernel is not None:
        element = as_matrix(kernel, "kernel")
        if not np.isin(element, (0, 1)).all():
            raise ValueError("kernel: the structuring element must hold 0s and 1s")
        return element.astype(np.uint8)
    return V.structuring_element(shape, as_int(size, "size"))


@register("morphology", "erosion and dilation of a small binary image, pixel by pixel",
          option("--input", "input", as_matrix, 'the binary image (0/1), rows separated by '
                 '";"'),
          option("--kernel", "kernel", as_matrix, 'the structuring element (0/1, anchored at '
                 'its centre); default --shape and --size', default=None),
          option("--shape", "shape", str, "rect, cross or ellipse (default rect)",
                 default="rect", choices=("rect", "cross", "ellipse")),
          option("--size", "size", as_int, "the element's size (default 3)", default=3))
def morphology(input, kernel=None, shape: str = "rect", size: int = 3) -> Explanation:
    """Erosion (the element must fit inside the shape) and dilation (the element must touch
    it) of a binary image, the changed pixels explained, then opening and closing.
    Pixels outside the image are ignored, as OpenCV's default.

    >>> e = morphology("0 0 0 0 0; 0 1 1 1 0; 0 1 1 1 0; 0 1 1 1 0; 0 0 0 0 1")
    >>> e.erosion.tolist()[2], e.dilation.tolist()[0]
    ([0, 0, 1, 0, 0], [1, 1, 1, 1, 1])
    """
    V = _vision()
    x = as_matrix(input, "input")
    if not np.isin(x, (0, 1)).all():
        raise ValueError("input: a binary image holds 0s and 1s")
    x = x.astype(np.uint8)
    element = _element(kernel, shape, size)
    eroded, dilated = V.erosion(x, element), V.dilation(x, element)
    kh, kw = element.shape
    offsets = [(a - kh // 2, b - kw // 2) for a, b in zip(*np.nonzero(element), strict=True)]
    lines = ["structuring element (anchored at its centre):",
             *("  " + r for r in matrix_lines(element)), "input:",
             *("  " + r for r in matrix_lines(x)),
             "erosion: a pixel stays 1 only if every pixel under the element is 1"]
    lines += _changes(x, eroded, offsets, 0)
    lines += [*("  " + r for r in matrix_lines(eroded)),
              "dilation: a pixel becomes 1 if any pixel under the element is 1"]
    lines += _changes(x, dilated, offsets, 1)
    lines += [*("  " + r for r in matrix_lines(dilated)),
              "opening (erode, then dilate): removes specks smaller than the element",
              *("  " + r for r in matrix_lines(V.opening(x, element))),
              "closing (dilate, then erode): fills holes smaller than the element",
              *("  " + r for r in matrix_lines(V.closing(x, element)))]
    return Explanation(f"Erosion and dilation by a {kh}x{kw} element", lines, (eroded, dilated),
                       erosion=eroded, dilation=dilated, element=element)


def _changes(x, y, offsets, value):
    """One line per pixel that changed, naming the pixel under the element that did it."""
    lines = []
    h, w = x.shape
    for i, j in zip(*np.nonzero(x != y), strict=True):
        for a, b in offsets:
            r, c = i + a, j + b
            if 0 <= r < h and 0 <= c < w and x[r, c] == value:
                lines.append(f"  ({i}, {j}): {1 - value} -> {value}, because ({r}, {c}) is "
                             f"{value}")
                break
    return lines or ["  (no pixel changes)"]
