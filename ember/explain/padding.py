"""TensorFlow's 'same' padding at any stride, and how to write it in PyTorch (and ember)."""

from __future__ import annotations

import math

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int

__all__ = ["same_padding_any_stride"]


@register("padding", "TensorFlow's 'same' padding at any stride: output ceil(W/S) and the "
                     "split of the padding; PyTorch's explicit form",
          option("--width", "W", as_int, "input width (or height) W"),
          option("--kernel", "F", as_int, "kernel size F"),
          option("--stride", "S", as_int, "stride S (default 1)", default=1),
          option("--dilation", "D", as_int, "dilation D (default 1)", default=1))
def same_padding_any_stride(W: int, F: int, S: int = 1, D: int = 1) -> Explanation:
    """'same' padding as TensorFlow defines it for any stride:

    .. math::
        O = \\lceil W / S \\rceil, \\qquad
        P_{total} = \\max((O - 1) S + D (F - 1) + 1 - W, 0), \\qquad
        P_{before} = \\lfloor P_{total} / 2 \\rfloor, \\;
        P_{after} = P_{total} - P_{before}

    (the odd pixel goes after: bottom and right). PyTorch's ``padding='same'`` exists
    only for stride 1; its ``padding=P`` pads both sides alike, so an odd total needs
    ``F.pad(x, (left, right, top, bottom))`` before a ``padding=0`` convolution.

    Returns:
        the working; ``result`` is O; ``total``, ``before``, ``after``.

    >>> import ember as em
    >>> e = em.explain.same_padding_any_stride(W=224, F=7, S=2)
    >>> e.result, e.before, e.after
    (112, 2, 3)
    """
    W, F, S, D = (as_int(W, "W (input width)"), as_int(F, "F (kernel size)"),
                  as_int(S, "S (stride)"), as_int(D, "D (dilation)"))
    span = D * (F - 1) + 1
    out = math.ceil(W / S)
    needed = (out - 1) * S + span - W
    total = max(needed, 0)
    before, after = total // 2, total - total // 2
    lines = []
    if D > 1:
        lines.append(f"dilation {D}: the kernel spans D(F - 1) + 1 = {D}*({F} - 1) + 1 = "
                     f"{span} pixels")
    k = "D(F - 1) + 1" if D > 1 else "F"
    lines += [f"O = ceil(W / S) = ceil({W} / {S}) = {out}",
              f"P_total = max((O - 1) S + {k} - W, 0) = max(({out} - 1)*{S} + {span} - {W}, 0)"
              f" = max({needed}, 0) = {total}",
              f"P_before = floor({total} / 2) = {before}, P_after = {total} - {before} = "
              f"{after}" + (" (the odd one after: bottom/right)" if before != after else ""),
              f"Check: floor(({W} + {total} - {span}) / {S}) + 1 = "
              f"{(W + total - span) // S + 1} = O", ""]
    if before == after:
        lines.append(f"PyTorch: nn.Conv2d(..., kernel_size={F}, stride={S}"
                     + (f", dilation={D}" if D > 1 else "") + f", padding={before})")
    else:
        lines += ["PyTorch: the padding is uneven, so pad first, then convolve without "
                  "padding:",
                  f"  x = F.pad(x, ({before}, {after}, {before}, {after}))  # left, right, "
                  "top, bottom",
                  f"  nn.Conv2d(..., kernel_size={F}, stride={S}"
                  + (f", dilation={D}" if D > 1 else "") + ", padding=0)"]
    if S == 1:
        lines.append("(at stride 1 PyTorch's padding='same' gives the same padding)")
    return Explanation("'same' padding (TensorFlow's rule)", lines, out, output_size=out,
                       total=total, before=before, after=after)
