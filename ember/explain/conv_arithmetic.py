"""Convolution arithmetic: the output size of a convolution or pooling layer, and the
receptive field of a stack of them."""

from __future__ import annotations

import re

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int, as_padding

__all__ = ["conv_output_size", "receptive_field", "same_padding"]


def same_padding(F: int, D: int = 1) -> tuple[int, int]:
    """The (before, after) padding that keeps the size at stride 1: D (F - 1) in all,
    the extra one after (bottom/right) when it is odd, as PyTorch."""
    total = D * (F - 1)
    return total // 2, total - total // 2


@register("conv-output", "output size of a convolution or pooling layer",
          option("--width", "W", as_int, "input width (or height) W"),
          option("--kernel", "F", as_int, "kernel (filter) size F"),
          option("--padding", "P", as_padding, "padding P: a number, 'same' or 'valid' "
                 "(default 0)", default=0),
          option("--stride", "S", as_int, "stride S (default 1)", default=1),
          option("--dilation", "D", as_int, "dilation D (default 1)", default=1))
def conv_output_size(W: int, F: int, P: int | str = 0, S: int = 1, D: int = 1
                     ) -> Explanation:
    """Output width of a convolution (or pooling) over a width-``W`` input:
    ``O = floor((W - F + 2P) / S) + 1`` (CS231n's notation; PyTorch's
    ``floor((W + 2P - D (F - 1) - 1) / S) + 1`` with dilation D).

    Args:
        W: input width (or height).
        F: kernel size.
        P: padding on each side; ``"valid"`` is 0, ``"same"`` keeps the size (stride 1,
            as PyTorch; D (F - 1) padding in all, the odd one at the end).
        S: stride.
        D: dilation (spacing between kernel taps; the kernel spans D (F - 1) + 1).

    Returns:
        the working; ``result`` (also ``output_size``) is O.

    >>> import ember as em
    >>> print(em.explain.conv_output_size(W=32, F=5, P=2, S=1))
    Convolution output size
      O = floor((W - F + 2P) / S) + 1
        = floor((32 - 5 + 2*2) / 1) + 1
        = floor(31 / 1) + 1
        = 32
      Output: 32 x 32 from a 32 x 32 input.
    """
    W, F = as_int(W, "W (input width)"), as_int(F, "F (kernel size)")
    S, D = as_int(S, "S (stride)"), as_int(D, "D (dilation)")
    P = as_padding(P, "P (padding)")
    lines = []
    span = D * (F - 1) + 1
    if D > 1:
        lines.append(f"dilation {D}: the kernel spans F' = D(F - 1) + 1 = {D}*({F} - 1) + 1 "
                     f"= {span} input pixels")
    K, k_text = (span, "F'") if D > 1 else (F, "F")
    if P == "valid":
        lines.append("padding 'valid': no padding, P = 0")
        P = 0
    if P == "same":
        if S != 1:
            raise ValueError(f"padding 'same' needs stride 1 (as PyTorch), got stride {S}; "
                             f"give the padding as a number")
        before, after = same_padding(F, D)
        lines.append(f"padding 'same': {k_text} - 1 = {K - 1} padding in all, "
                     + (f"P = {before} on each side" if before == after else
                        f"{before} before and {after} after"))
        total, pad_text, pad_numbers = before + after, "P_before + P_after", f"{before} + {after}"
        padding = (before, after)
    else:
        total, pad_text, pad_numbers = 2 * P, "2P", f"2*{P}"
        padding = (P, P)
    span_total = W - K + total
    if span_total < 0:
        raise ValueError(f"the kernel ({K} wide) is larger than the padded input "
                         f"({W} + {total} = {W + total} wide)")
    out = span_total // S + 1
    lines += [f"O = floor((W - {k_text} + {pad_text}) / S) + 1",
              f"  = floor(({W} - {K} + {pad_numbers}) / {S}) + 1",
              f"  = floor({span_total} / {S}) + 1",
              f"  = {out}"]
    if span_total % S:
        lines.append(f"{span_total} is not a multiple of the stride {S}: the last "
                     f"{span_total % S} column(s) of the padded input are never the start "
                     f"of a window (PyTorch rounds down).")
    lines.append(f"Output: {out} x {out} from a {W} x {W} input.")
    return Explanation("Convolution output size", lines, out, W=W, F=F, P=P,
                       padding=padding, S=S, D=D, output_size=out)


_LAYER = re.compile(r"^(conv|maxpool|avgpool|pool)(\d+)(?:s(\d+))?(?:d(\d+))?$")


def _parse_layers(layers) -> list[tuple[str, int, int, int]]:
    """``"conv3,conv3,pool2"`` -> [(name, kernel, stride, dilation), ...]."""
    items = layers.replace(";", ",").split(",") if isinstance(layers, str) else list(layers)
    parsed = []
    for item in items:
        text = str(item).strip().lower().replace(" ", "")
        match = _LAYER.match(text)
        if not match:
            raise ValueError(f"receptive field: cannot read layer {item!r}; write convN or "
                             "poolN (N the kernel size), optionally with sM (stride) and dM "
                             "(dilation): conv3, conv7s2, pool2, pool3s2, conv3d2")
        kind, k, s, d = match.groups()
        k = int(k)
        stride = int(s) if s else (1 if kind == "conv" else k)
        dilation = int(d) if d else 1
        if min(k, stride, dilation) < 1:
            raise ValueError(f"receptive field: kernel, stride and dilation must be at "
                             f"least 1 in {item!r}")
        parsed.append((text, k, stride, dilation))
    return parsed


@register("receptive-field", "receptive field of a stack of convolution/pooling layers",
          option("--layers", "layers", str, "comma-separated layers: convK or poolK, "
                 "optionally sS (stride), dD (dilation), e.g. conv3,conv3,pool2,conv3"))
def receptive_field(layers) -> Explanation:
    """Receptive field of a stack of convolutions and poolings: how many input pixels
    (along one side) one output pixel sees.

    .. math:: r_l = r_{l-1} + (k_l - 1)\\, d_l\\, j_{l-1}, \\qquad j_l = j_{l-1}\\, s_l

    starting from r_0 = 1, j_0 = 1; j is the jump, the distance in input pixels between
    neighbouring outputs of a layer. Padding does not change the receptive field.

    Args:
        layers: ``"conv3,conv3,pool2,conv3"`` or a list of such names: ``convK`` (stride
            1) or ``poolK`` (stride K), optionally ``sS`` for the stride and ``dD`` for the
            dilation (``conv7s2``, ``pool3s2``, ``conv3d2``).

    Returns:
        the working; ``result`` is the final receptive field, ``fields`` and ``jumps``
        the values after each layer.

    >>> import ember as em
    >>> em.explain.receptive_field("conv3,conv3,pool2,conv3").result
    10
    """
    parsed = _parse_layers(layers)
    r, j = 1, 1
    fields, jumps = [], []
    lines = ["r_0 = 1, j_0 = 1   (r: receptive field, j: jump between outputs, in input "
             "pixels)",
             "r_l = r_(l-1) + (k_l - 1)*d_l*j_(l-1),   j_l = j_(l-1)*s_l"]
    for i, (name, k, s, d) in enumerate(parsed, 1):
        dil = f"*{d}" if d != 1 else ""
        new_r, new_j = r + (k - 1) * d * j, j * s
        lines.append(f"layer {i} {name} (k={k}, s={s}{f', d={d}' if d != 1 else ''}): "
                     f"r_{i} = {r} + ({k} - 1){dil}*{j} = {new_r},  j_{i} = {j}*{s} = {new_j}")
        r, j = new_r, new_j
        fields.append(r)
        jumps.append(j)
    lines.append(f"Receptive field: {r} x {r} input pixels.")
    names = ", ".join(p[0] for p in parsed)
    return Explanation(f"Receptive field of {names}", lines, r, fields=fields, jumps=jumps,
                       receptive_field=r)
