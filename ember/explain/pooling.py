"""Max and average pooling of a small matrix, window by window."""

from __future__ import annotations

import numpy as np

from ember.explain.convolution import pad_matrix
from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int, as_matrix, matrix_lines, number, signed_sum

__all__ = ["pooling"]


@register("pool", "max or average pooling of a small matrix, window by window",
          option("--input", "input", as_matrix, 'the input matrix, rows separated by ";"'),
          option("--size", "kernel_size", as_int, "window size k (k x k, default 2)",
                 default=2),
          option("--stride", "stride", as_int, "stride (default: the window size)",
                 default=None),
          option("--padding", "padding", lambda text: as_int(text, "padding", minimum=0),
                 "padding on each side (default 0)", default=0),
          option("--mode", "mode", str, "max or avg (default max)", default="max",
                 choices=("max", "avg")))
def pooling(input, kernel_size: int = 2, stride: int | None = None, padding: int = 0,
            mode: str = "max") -> Explanation:
    """Max or average pooling of a matrix, each window written out.

    Max pooling keeps the largest value of each window; average pooling the mean. As in
    PyTorch, max pooling pads with -inf (padding never wins) and average pooling with
    zeros that count in the mean (``count_include_pad=True``); the padding is at most
    half the window.

    Args:
        input: the matrix (a nested list, an array, or text ``"1 3; 5 6"``).
        kernel_size: the window is kernel_size x kernel_size (default 2).
        stride: step between windows (default: ``kernel_size``, non-overlapping).
        padding: padding on each side (default 0).
        mode: ``"max"`` or ``"avg"``.

    Returns:
        the working; ``result`` (also ``output``) is the pooled matrix.

    >>> import ember as em
    >>> print(em.explain.pooling([[1, 3, 2, 1], [5, 6, 0, 8], [3, 2, 1, 0], [1, 2, 3, 4]]))
    Max pooling: 4x4 input, 2x2 windows, stride 2, padding 0
      output size: floor((4 - 2 + 0) / 2) + 1 = 2 by floor((4 - 2 + 0) / 2) + 1 = 2
      y[0,0] = max(1, 3, 5, 6) = 6
      y[0,1] = max(2, 1, 0, 8) = 8
      y[1,0] = max(3, 2, 1, 2) = 3
      y[1,1] = max(1, 0, 3, 4) = 4
      Output:
        6  8
        3  4
    """
    x = as_matrix(input, "input")
    k = as_int(kernel_size, "kernel_size")
    stride = k if stride is None else as_int(stride, "stride")
    padding = as_int(padding, "padding", minimum=0)
    mode = str(mode).strip().lower()
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be max or avg, got {mode!r}")
    if padding > k // 2:
        raise ValueError(f"padding ({padding}) must be at most half the window size ({k}), "
                         "as in PyTorch")
    padded, _ = pad_matrix(x, padding, (k, k), -np.inf if mode == "max" else 0.0)
    (h, w), (ph, pw) = x.shape, padded.shape
    if k > ph or k > pw:
        raise ValueError(f"the window ({k}x{k}) is larger than the padded input ({ph}x{pw})")
    out_h, out_w = (ph - k) // stride + 1, (pw - k) // stride + 1
    lines = [f"output size: floor(({h} - {k} + {2 * padding}) / {stride}) + 1 = {out_h} by "
             f"floor(({w} - {k} + {2 * padding}) / {stride}) + 1 = {out_w}"]
    if padding:
        fill = "-inf, which never wins" if mode == "max" else "zeros, counted in the mean"
        lines += [f"padded with {fill}:", *("  " + row for row in matrix_lines(padded))]
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[i * stride:i * stride + k, j * stride:j * stride + k].ravel()
            values = ", ".join(number(v) for v in window)
            if mode == "max":
                output[i, j] = window.max()
                lines.append(f"y[{i},{j}] = max({values}) = {number(output[i, j])}")
            else:
                total = window.sum()
                output[i, j] = total / window.size
                lines.append(f"y[{i},{j}] = ({signed_sum(window)}) / {window.size} "
                             f"= {number(total)} / {window.size} = {number(output[i, j])}")
    lines += ["Output:", *("  " + row for row in matrix_lines(output))]
    title = (f"{'Max' if mode == 'max' else 'Average'} pooling: {h}x{w} input, {k}x{k} "
             f"windows, stride {stride}, padding {padding}")
    return Explanation(title, lines, output, output=output)
