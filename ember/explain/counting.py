"""Counting a layer: parameters, multiply-accumulates and FLOPs of a convolution or a
fully connected layer (the conventions of :func:`ember.summary`)."""

from __future__ import annotations

from ember.explain.conv_arithmetic import conv_output_size
from ember.explain.registry import Explanation, option, register, switch
from ember.explain.values import as_int, as_padding

__all__ = ["layer_params"]

_CONV, _FC = ("conv", "conv2d"), ("fc", "linear", "dense")


@register("params", "parameters, MACs and FLOPs of a convolution or fully connected layer",
          option("--layer", "layer", str, "conv or fc (default conv)", default="conv",
                 choices=("conv", "fc")),
          option("--in-channels", "in_channels", as_int, "conv: input channels C_in",
                 default=None),
          option("--out-channels", "out_channels", as_int, "conv: output channels C_out",
                 default=None),
          option("--kernel", "kernel_size", as_int, "conv: kernel size k (k x k)",
                 default=None),
          option("--input-size", "input_size", as_int, "conv: input height = width (for "
                 "MACs and FLOPs)", default=None),
          option("--padding", "padding", as_padding, "conv: a number, 'same' or 'valid' "
                 "(default 0)", default=0),
          option("--stride", "stride", as_int, "conv: stride (default 1)", default=1),
          option("--in-features", "in_features", as_int, "fc: inputs n_in", default=None),
          option("--out-features", "out_features", as_int, "fc: outputs n_out",
                 default=None),
          switch("--no-bias", "bias", False, "the layer has no bias"))
def layer_params(layer: str = "conv", *, in_channels: int | None = None,
                 out_channels: int | None = None, kernel_size: int | None = None,
                 input_size: int | None = None, padding: int | str = 0, stride: int = 1,
                 in_features: int | None = None, out_features: int | None = None,
                 bias: bool = True) -> Explanation:
    """Parameters, MACs and FLOPs of a (square) convolution or a fully connected layer.

    Convolution: parameters ``k_h k_w C_in C_out + C_out``; MACs ``H_out W_out C_out
    C_in k_h k_w``; FLOPs ``H_out W_out C_out (C_in (2 k_h k_w - 1) + (C_in - 1))``.
    Fully connected: parameters ``n_in n_out + n_out``; MACs ``n_in n_out``; FLOPs
    ``n_out (2 n_in - 1)``. FLOPs count multiplications and additions, the bias not
    included (an output summing n products costs 2n - 1), as :func:`ember.summary`.

    Args:
        layer: ``"conv"`` or ``"fc"`` (also ``"linear"``, ``"dense"``).
        in_channels, out_channels, kernel_size: the convolution's C_in, C_out and k.
        input_size: the input's height (= width); needed for MACs and FLOPs.
        padding: a number, ``"same"`` or ``"valid"``.
        stride: the convolution's stride.
        in_features, out_features: the fully connected layer's n_in and n_out.
        bias: whether the layer has a bias (default True).

    Returns:
        the working; ``result`` (also ``params``) is the parameter count; ``macs`` and
        ``flops`` (None for a convolution without ``input_size``).

    >>> import ember as em
    >>> e = em.explain.layer_params("conv", in_channels=3, out_channels=100,
    ...                             kernel_size=3, input_size=32, padding="same")
    >>> e.params, e.macs, e.flops
    (2800, 2764800, 5427200)
    """
    kind = str(layer).strip().lower()
    if kind in _CONV:
        return _conv(in_channels, out_channels, kernel_size, input_size, padding, stride,
                     bias)
    if kind in _FC:
        return _linear(in_features, out_features, bias)
    raise ValueError(f"layer must be conv or fc, got {layer!r}")


def _need(value, name: str, layer: str) -> int:
    if value is None:
        raise ValueError(f"a {layer} layer needs {name}")
    return as_int(value, name)


def _conv(in_channels, out_channels, kernel_size, input_size, padding, stride,
          bias: bool) -> Explanation:
    c_in = _need(in_channels, "in_channels", "conv")
    c_out = _need(out_channels, "out_channels", "conv")
    k = _need(kernel_size, "kernel_size", "conv")
    b = c_out if bias else 0
    weights = k * k * c_in * c_out
    params = weights + b
    lines = ["parameters = k_h*k_w*C_in*C_out" + (" + C_out" if bias else "")
             + ("   (one k x k x C_in filter and one bias per output channel)" if bias
                else "   (one k x k x C_in filter per output channel, no bias)"),
             f"           = {k}*{k}*{c_in}*{c_out}" + (f" + {c_out}" if bias else ""),
             f"           = {weights:,}" + (f" + {c_out:,} = {params:,}" if bias else "")]
    macs = flops = out = None
    if input_size is not None:
        size = conv_output_size(input_size, k, padding, stride)
        out = size.result
        lines.append(f"output size: O = floor(({size.W} - {k} + "
                     f"{sum(size.padding)}) / {stride}) + 1 = {out}, so the output is "
                     f"{out} x {out} x {c_out}")
        outputs = out * out * c_out
        n = c_in * k * k
        macs = outputs * n
        flops = outputs * (c_in * (2 * k * k - 1) + (c_in - 1))
        lines += [f"MACs = H_out*W_out*C_out*C_in*k_h*k_w = {out}*{out}*{c_out}*{c_in}*{k}*{k}"
                  f" = {macs:,}",
                  "FLOPs = H_out*W_out*C_out*(C_in*(2*k_h*k_w - 1) + (C_in - 1))"
                  "   (multiplications and additions, bias not counted)",
                  f"      = {out}*{out}*{c_out}*({c_in}*(2*{k}*{k} - 1) + ({c_in} - 1))",
                  f"      = {outputs:,}*{c_in * (2 * k * k - 1) + (c_in - 1)} = {flops:,}"]
    else:
        lines.append("(give the input size for MACs and FLOPs)")
    lines.append(f"Parameters: {params:,}" + (f"; MACs: {macs:,}; FLOPs: {flops:,}"
                                              if macs is not None else "") + ".")
    title = f"Convolution {c_in} -> {c_out} channels, {k}x{k} kernel" + (
        f", on {input_size}x{input_size}x{c_in}" if input_size is not None else "")
    return Explanation(title, lines, params, params=params, weights=weights, biases=b,
                       macs=macs, flops=flops, output_size=out)


def _linear(in_features, out_features, bias: bool) -> Explanation:
    n_in = _need(in_features, "in_features", "fc")
    n_out = _need(out_features, "out_features", "fc")
    b = n_out if bias else 0
    weights = n_in * n_out
    params = weights + b
    macs = n_in * n_out
    flops = n_out * (2 * n_in - 1)
    lines = ["parameters = n_in*n_out" + (" + n_out" if bias else "")
             + ("   (a weight per input-output pair and one bias per output)" if bias
                else "   (a weight per input-output pair, no bias)"),
             f"           = {n_in}*{n_out}" + (f" + {n_out}" if bias else ""),
             f"           = {weights:,}" + (f" + {n_out:,} = {params:,}" if bias else ""),
             f"MACs = n_in*n_out = {n_in}*{n_out} = {macs:,}",
             "FLOPs = n_out*(2*n_in - 1)   (multiplications and additions, bias not "
             "counted)",
             f"      = {n_out}*(2*{n_in} - 1) = {flops:,}",
             f"Parameters: {params:,}; MACs: {macs:,}; FLOPs: {flops:,}."]
    return Explanation(f"Fully connected layer {n_in} -> {n_out}", lines, params,
                       params=params, weights=weights, biases=b, macs=macs, flops=flops)
