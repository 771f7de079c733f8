"""A convolution worked by hand: every multiply-add of every output element."""

from __future__ import annotations

import numpy as np

from ember.explain.conv_arithmetic import same_padding
from ember.explain.registry import Explanation, option, register
from ember.explain.values import (
    as_int,
    as_matrix,
    as_number,
    as_padding,
    matrix_lines,
    number,
    product,
    signed_sum,
)

__all__ = ["convolution"]


def pad_matrix(x: np.ndarray, padding, kernel: tuple[int, int], fill: float = 0.0
               ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """``x`` padded with ``fill``: ``padding`` a number, 'valid' or 'same' (stride 1).
    Returns the padded matrix and (top, bottom, left, right)."""
    if padding == "valid":
        padding = 0
    if padding == "same":
        (top, bottom), (left, right) = same_padding(kernel[0]), same_padding(kernel[1])
    else:
        top = bottom = left = right = padding
    padded = np.pad(x, ((top, bottom), (left, right)), constant_values=fill)
    return padded, (top, bottom, left, right)


@register("conv", "a convolution of a small matrix by a small kernel, every multiply-add",
          option("--input", "input", as_matrix, 'the input matrix, rows separated by ";": '
                 '"1 0 2; 5 4 2; 3 4 5"'),
          option("--kernel", "kernel", as_matrix, 'the kernel, e.g. "-1 0 1; -1 0 1; -1 0 1"'),
          option("--bias", "bias", as_number, "the bias (default 0)", default=0.0),
          option("--stride", "stride", as_int, "stride (default 1)", default=1),
          option("--padding", "padding", as_padding, "zero padding: a number, 'same' or "
                 "'valid' (default 0)", default=0))
def convolution(input, kernel, bias: float = 0.0, stride: int = 1,
                padding: int | str = 0) -> Explanation:
    """Convolve a small matrix by a small kernel, showing each output element's
    multiply-adds: ``y[i, j] = b + sum_(a, c) x'[S i + a, S j + c] w[a, c]``.

    As in PyTorch's ``conv2d`` (and every deep-learning library) this is a
    cross-correlation: the kernel is not flipped. ``x'`` is the zero-padded input.

    Args:
        input: the input matrix (a nested list, an array, or text ``"1 0 2; 5 4 2"``).
        kernel: the kernel matrix.
        bias: added to every output (default 0).
        stride: step between windows (default 1).
        padding: zero padding on each side: a number, ``"valid"`` (0) or ``"same"``
            (stride 1).

    Returns:
        the working; ``result`` (also ``output``) is the output matrix.

    >>> import ember as em
    >>> print(em.explain.convolution([[1, 0, 2], [5, 4, 2], [3, 4, 5]],
    ...                              [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], bias=1))
    Convolution: 3x3 input, 3x3 kernel, stride 1, padding 0, bias 1
      y[i,j] = b + sum_(a,c) x'[S*i + a, S*j + c]*w[a,c]   (cross-correlation, ...)
      output size: rows floor((3 - 3 + 0) / 1) + 1 = 1, columns ... = 1
      y[0,0] = 1*(-1) + 0*0 + 2*1 + 5*(-1) + 4*0 + 2*1 + 3*(-1) + 4*0 + 5*1 + 1
             = -1 + 0 + 2 - 5 + 0 + 2 - 3 + 0 + 5 + 1
             = 1
      Output:
        1
    """
    x, w = as_matrix(input, "input"), as_matrix(kernel, "kernel")
    b = as_number(bias, "bias")
    stride = as_int(stride, "stride")
    padding = as_padding(padding)
    if padding == "same" and stride != 1:
        raise ValueError(f"padding 'same' needs stride 1 (as PyTorch), got stride {stride}")
    padded, (top, bottom, left, right) = pad_matrix(x, padding, w.shape)
    (kh, kw), (ph, pw) = w.shape, padded.shape
    if kh > ph or kw > pw:
        raise ValueError(f"the kernel ({kh}x{kw}) is larger than the padded input "
                         f"({ph}x{pw})")
    out_h, out_w = (ph - kh) // stride + 1, (pw - kw) // stride + 1
    pad_text = padding if isinstance(padding, int) else f"'{padding}'"
    lines = ["y[i,j] = b + sum_(a,c) x'[S*i + a, S*j + c]*w[a,c]   (cross-correlation, as "
             "PyTorch: the kernel is not flipped)",
             f"output size: rows floor(({x.shape[0]} - {kh} + {top + bottom}) / {stride}) + 1 "
             f"= {out_h}, columns floor(({x.shape[1]} - {kw} + {left + right}) / {stride}) "
             f"+ 1 = {out_w}"]
    if padded.shape != x.shape:
        lines += ["zero-padded input x':", *("  " + row for row in matrix_lines(padded))]
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[i * stride:i * stride + kh, j * stride:j * stride + kw]
            terms = window * w
            output[i, j] = terms.sum() + b
            head = f"y[{i},{j}] = "
            products = " + ".join(product(v, k) for v, k in zip(window.flat, w.flat,
                                                                 strict=True))
            values = signed_sum([*terms.flat, b] if b else terms.flat)
            indent = " " * (len(head) - 2)
            lines += [head + products + (f" + {_bias(b)}" if b else ""),
                      f"{indent}= {values}",
                      f"{indent}= {number(output[i, j])}"]
    lines += ["Output:", *("  " + row for row in matrix_lines(output))]
    title = (f"Convolution: {x.shape[0]}x{x.shape[1]} input, {kh}x{kw} kernel, stride "
             f"{stride}, padding {pad_text}, bias {number(b)}")
    return Explanation(title, lines, output, output=output, padded=padded)


def _bias(b: float) -> str:
    text = number(b)
    return f"({text})" if text.startswith("-") else text
