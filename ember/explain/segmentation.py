"""Segmentation arithmetic: stacked dilated convolutions, spatial pyramid pooling's output
length, and the sizes through the unpadded U-Net."""

from __future__ import annotations

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int

__all__ = ["dilated_conv", "spp", "unet_crop"]


def _int_list(value, name: str) -> list[int]:
    """``"1,2,4"`` (or a list) -> [1, 2, 4], each a whole number >= 1."""
    items = str(value).replace(";", ",").replace(" ", ",").split(",") \
        if isinstance(value, str) else list(value)
    numbers = [as_int(item, name) for item in items if str(item).strip()]
    if not numbers:
        raise ValueError(f"{name} must list at least one whole number, got {value!r}")
    return numbers


@register("dilated-conv", "effective kernel size and receptive field of stacked dilated "
          "convolutions",
          option("--dilations", "dilations", lambda t: _int_list(t, "dilations"),
                 "comma-separated dilation rates of the stacked layers, e.g. 1,2,4,8"),
          option("--kernel", "kernel_size", as_int, "kernel size k of every layer (default 3)",
                 default=3))
def dilated_conv(dilations, kernel_size: int = 3) -> Explanation:
    """Stacked stride-1 convolutions with dilation rates d_l: each layer's effective
    kernel and the receptive field of the stack.

    .. math:: k_{\\mathrm{eff}} = d (k - 1) + 1, \\qquad
              r_l = r_{l-1} + (k_{\\mathrm{eff},l} - 1) = 1 + (k - 1) \\sum_{i \\le l} d_i

    A dilated kernel has the same k^2 weights but spreads them d pixels apart, so doubling
    the rates layer by layer (1, 2, 4, 8: Yu & Koltun's context module) grows the
    receptive field exponentially, ``2^(L+1) - 1`` for 3x3 kernels, where undilated
    layers grow it linearly, ``2L + 1``, all at full resolution (no pooling). Padding
    ``d (k - 1) / 2`` keeps the size.

    Args:
        dilations: the rates, one per layer (``"1,2,4,8"`` or a list).
        kernel_size: k (default 3).

    Returns:
        the working; ``result`` is the receptive field, ``effective_kernels`` and
        ``fields`` the values per layer, ``undilated`` the field without dilation.

    >>> import ember as em
    >>> e = em.explain.dilated_conv("1,2,4,8")
    >>> e.result, e.effective_kernels, e.undilated
    (31, [3, 5, 9, 17], 9)
    """
    rates = _int_list(dilations, "dilations")
    k = as_int(kernel_size, "kernel_size")
    lines = [f"k_eff = d(k - 1) + 1 (a {k}x{k} kernel's taps spread d pixels apart); "
             "r_l = r_(l-1) + k_eff - 1, r_0 = 1 (stride 1)"]
    r, effective, fields = 1, [], []
    for layer, d in enumerate(rates, 1):
        k_eff = d * (k - 1) + 1
        new_r = r + k_eff - 1
        lines.append(f"layer {layer}: d = {d}: k_eff = {d}*({k} - 1) + 1 = {k_eff}, "
                     f"r_{layer} = {r} + {k_eff} - 1 = {new_r}")
        r = new_r
        effective.append(k_eff)
        fields.append(r)
    undilated = 1 + len(rates) * (k - 1)
    lines += [f"Receptive field: {r} x {r} pixels from {len(rates)} layers of {k * k} weights "
              f"each (per channel pair), at full resolution; padding d({k} - 1)/2 per layer "
              "keeps the size.",
              f"Without dilation the same {len(rates)} layers see 1 + {len(rates)}*({k} - 1) = "
              f"{undilated} pixels."]
    return Explanation(f"Dilated convolutions, rates {', '.join(map(str, rates))}", lines, r,
                       effective_kernels=effective, fields=fields, undilated=undilated,
                       receptive_field=r)


@register("spp", "output length of spatial pyramid pooling for given levels",
          option("--channels", "channels", as_int, "channels C of the feature map"),
          option("--levels", "levels", lambda t: _int_list(t, "levels"),
                 "comma-separated grid sizes n (default 4,2,1)", default=(4, 2, 1)),
          option("--height", "height", as_int, "height of the feature map (optional: shows "
                 "the bins)", default=None),
          option("--width", "width", as_int, "width of the feature map (default: the "
                 "height)", default=None))
def spp(channels: int, levels=(4, 2, 1), height: int | None = None,
        width: int | None = None) -> Explanation:
    """The output length of spatial pyramid pooling, ``C * sum(n^2)``, and (given the
    map's size) the bins of each level.

    Level n cuts the map into an n x n grid and pools each bin, so it gives n^2 numbers
    per channel whatever H and W are; bin i along a side of H covers rows
    ``floor(i H / n)`` to ``ceil((i + 1) H / n) - 1`` (PyTorch's adaptive rule; bins
    overlap when n does not divide H).

    Args:
        channels: C.
        levels: the grid sizes (default 4, 2, 1).
        height, width: the feature map's size (optional).

    Returns:
        the working; ``result`` is the length, ``bins`` the bins per channel.

    >>> import ember as em
    >>> em.explain.spp(channels=256).result
    5376
    >>> print(em.explain.spp(channels=2, levels="2,1", height=5))
    Spatial pyramid pooling, levels 2, 1
      level 2: 2 x 2 = 4 bins per channel
        rows (and columns) of a 5 x 5 map: [0, 3) [2, 5)
      level 1: 1 x 1 = 1 bin per channel
        rows (and columns) of a 5 x 5 map: [0, 5)
      bins = 4 + 1 = 5 per channel
      length = C * bins = 2 * 5 = 10, for any input size
    """
    c = as_int(channels, "channels")
    grid = _int_list(levels, "levels")
    h = None if height is None else as_int(height, "height")
    w = h if width is None else as_int(width, "width")
    if w is not None and h is None:
        raise ValueError("spp: give --height (and optionally --width) to see the bins")
    lines = []
    for n in grid:
        lines.append(f"level {n}: {n} x {n} = {n * n} bin{'s' if n * n != 1 else ''} per "
                     "channel")
        if h is not None:
            sides = [("rows (and columns)", h)] if h == w else [("rows", h), ("columns", w)]
            for name, size in sides:
                spans = " ".join(f"[{i * size // n}, {-(-(i + 1) * size // n)})"
                                 for i in range(n))
                lines.append(f"  {name} of a {h} x {w} map: {spans}")
    bins = sum(n * n for n in grid)
    lines += [f"bins = {' + '.join(str(n * n) for n in grid)} = {bins} per channel",
              f"length = C * bins = {c} * {bins} = {c * bins}, for any input size"]
    return Explanation(f"Spatial pyramid pooling, levels {', '.join(map(str, grid))}", lines,
                       c * bins, bins=bins, length=c * bins, levels=grid)


@register("unet-crop", "the sizes through the unpadded U-Net (572 in, 388 out)",
          option("--size", "size", as_int, "input side (default 572, the paper's)",
                 default=572),
          option("--depth", "depth", as_int, "number of poolings (default 4)", default=4))
def unet_crop(size: int = 572, depth: int = 4) -> Explanation:
    """The map sizes through the paper's unpadded U-Net, and the crop of each skip.

    Every unpadded 3x3 convolution trims one pixel from each side (S -> S - 2), two per
    block; a 2x2 max pool halves (the map must be even); a 2x2 up-convolution doubles.
    A skip from the contracting path is larger than the upsampled map it joins, so it is
    centre-cropped: ``(skip - up) / 2`` pixels off each side. The output is smaller than
    the input: with the overlap-tile strategy, a large image is segmented tile by tile,
    each tile padded by mirroring its border.

    Args:
        size: the input side (default 572).
        depth: the number of poolings (default 4).

    Returns:
        the working; ``result`` is the output side, ``skips`` the encoder's sizes and
        ``crops`` the pixels cropped from each side of each skip (bottom up).

    >>> import ember as em
    >>> e = em.explain.unet_crop(572)
    >>> e.result, e.skips, e.crops
    (388, [568, 280, 136, 64], [4, 16, 40, 88])
    """
    s0 = as_int(size, "size")
    depth = as_int(depth, "depth")
    lines, skips, s = [], [], s0
    for level in range(depth):
        after = s - 4
        lines.append(f"level {level}: {s} -conv3-> {s - 2} -conv3-> {after}"
                     + (f"  (skip {after})" if after > 0 else ""))
        if after < 2 or after % 2:
            raise ValueError(f"unet-crop: an input side of {s0} gives a {after}-pixel map "
                             f"before pooling {level + 1}; it must be even and at least 2 "
                             f"(try {_valid_size(s0, depth)})")
        skips.append(after)
        lines.append(f"  pool 2x2: {after} / 2 = {after // 2}")
        s = after // 2
    bottom = s - 4
    if bottom < 1:
        raise ValueError(f"unet-crop: an input side of {s0} leaves nothing at the bottom "
                         f"(try {_valid_size(s0, depth)})")
    lines.append(f"bottom: {s} -conv3-> {s - 2} -conv3-> {bottom}")
    s, crops = bottom, []
    for level in reversed(range(depth)):
        up = 2 * s
        skip = skips[level]
        crop = (skip - up) // 2
        s = up - 4
        if s < 1:
            raise ValueError(f"unet-crop: an input side of {s0} leaves nothing after an "
                             f"up-convolution (try {_valid_size(s0, depth)})")
        crops.append(crop)
        lines.append(f"up level {level}: up-conv 2x2: {up // 2} * 2 = {up}; skip {skip} "
                     f"cropped by ({skip} - {up}) / 2 = {crop} each side -> {up}; "
                     f"concat, -conv3-> {up - 2} -conv3-> {s}")
    lines.append(f"Output: {s} x {s} from a {s0} x {s0} input (1x1 convolution to the classes "
                 f"keeps the size); the border of {(s0 - s) // 2} pixels is context only.")
    return Explanation(f"Sizes through the unpadded U-Net (depth {depth})", lines, s,
                       skips=skips, crops=crops, output_size=s)


def _valid_size(size: int, depth: int) -> int:
    from ember.models.segmentation.unet import _next_valid

    return _next_valid(size, depth)

