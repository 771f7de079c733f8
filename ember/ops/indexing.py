"""Writing through an index: ``index_put`` (which scatter, index_add, index_copy,
index_fill and put are made of) and the scatter reductions that no sum can express.

An index ``key`` is a NumPy index (arrays, slices, broadcasting): ``out[key] = values``
replaces, ``out[key] += values`` with ``accumulate`` adds, each repeated place once per
occurrence. The gradients are the reading side of the same index:

.. math:: \\overline{\\mathrm{values}} = \\overline{y}[\\mathrm{key}], \\qquad
          \\overline{x} = \\overline{y} \\text{ (accumulate) or } \\overline{y}
          \\text{ with zeros at key (replace)}
"""

from __future__ import annotations

from ember.autograd.primitives import defcomposite, defvjp, primitive, unbroadcast


@primitive(saves="none")
def index_put(xp, x, values, key, accumulate=False):
    """A copy of x with ``values`` written at ``key`` (``x[key] = values``), or added there
    (``accumulate``: repeated places receive every value);
    VJP: g for x (zero where replaced), g[key] for values."""
    out = x.copy()
    if accumulate:
        xp.add.at(out, key, values)
    else:
        out[key] = values
    return out


def _index_put_vjp_x(xp, g, ans, x, values, key, accumulate=False):
    if accumulate:
        return g
    kept = xp.ones(x.shape, dtype=bool)
    kept[key] = False
    return xp.where(kept, g, 0)


defvjp(index_put, _index_put_vjp_x,
       lambda xp, g, ans, x, values, key, accumulate=False: unbroadcast(g[key],
                                                                        xp.shape(values)))


def _hit(xp, shape, key):
    """True at the places ``key`` writes."""
    hit = xp.zeros(shape, dtype=bool)
    hit[key] = True
    return hit


def _scatter_count(xp, shape, key, weights, dtype):
    """How many of ``weights`` (booleans, one per source element) land on each place."""
    counts = xp.zeros(shape, dtype=dtype)
    xp.add.at(counts, key, weights.astype(dtype))
    return counts


@primitive(saves="all")
def scatter_extreme(xp, x, src, key, largest=True, include_self=True):
    """out[key] = max (``largest``) or min of the values landing there, with x's own value
    among them when ``include_self``; elsewhere x.
    VJP: each place's gradient is shared equally among the values equal to the result
    (x's included), as PyTorch's ``scatter_reduce`` with ``amax``/``amin``."""
    out = x.copy()
    if not include_self:  # start from the identity of max (the lowest value) or min
        if x.dtype.kind == "f":
            out[key] = -xp.inf if largest else xp.inf
        else:
            out[key] = xp.iinfo(x.dtype).min if largest else xp.iinfo(x.dtype).max
    (xp.maximum if largest else xp.minimum).at(out, key, src)
    return out


def _extreme_shares(xp, g, ans, x, src, key, include_self):
    """(x is a winner, src is a winner, winners per place)."""
    self_wins = x == ans
    if not include_self:
        self_wins &= ~_hit(xp, x.shape, key)
    src_wins = src == ans[key]
    count = self_wins.astype(g.dtype) + _scatter_count(xp, x.shape, key, src_wins, g.dtype)
    return self_wins, src_wins, xp.where(count == 0, 1, count)


def _scatter_extreme_vjp_x(xp, g, ans, x, src, key, largest=True, include_self=True):
    self_wins, _, count = _extreme_shares(xp, g, ans, x, src, key, include_self)
    return xp.where(self_wins, g / count, 0)


def _scatter_extreme_vjp_src(xp, g, ans, x, src, key, largest=True, include_self=True):
    _, src_wins, count = _extreme_shares(xp, g, ans, x, src, key, include_self)
    return xp.where(src_wins, (g / count)[key], 0)


defvjp(scatter_extreme, _scatter_extreme_vjp_x, _scatter_extreme_vjp_src)


@primitive(saves="all")
def scatter_prod(xp, x, src, key, include_self=True):
    """out[key] = the product of the values landing there (times x's own with
    ``include_self``); elsewhere x.
    VJP: each value receives g times the product of the OTHER values at its place, exact
    with zeros (one zero: only it gets a gradient; two or more: none does)."""
    out = x.copy()
    if not include_self:
        out[key] = 1
    xp.multiply.at(out, key, src)
    return out


def _prod_parts(xp, x, src, key, include_self):
    """(product of the nonzero values, number of zeros) at each place, x's included."""
    own = x if include_self else xp.where(_hit(xp, x.shape, key), 1, x)
    nonzero = xp.where(own == 0, 1, own)
    xp.multiply.at(nonzero, key, xp.where(src == 0, 1, src))
    zeros = _scatter_count(xp, x.shape, key, src == 0, xp.int64) + (own == 0)
    return nonzero, zeros


def _others(xp, value, product, zeros):
    """The product of the other values at a place, for a value there."""
    safe = xp.where(value == 0, 1, value)
    return xp.where(zeros == 0, product / safe,
                    xp.where((zeros == 1) & (value == 0), product, 0))


def _scatter_prod_vjp_x(xp, g, ans, x, src, key, include_self=True):
    product, zeros = _prod_parts(xp, x, src, key, include_self)
    grad = g * _others(xp, x, product, zeros)
    return grad if include_self else xp.where(_hit(xp, x.shape, key), 0, g)


def _scatter_prod_vjp_src(xp, g, ans, x, src, key, include_self=True):
    product, zeros = _prod_parts(xp, x, src, key, include_self)
    return g[key] * _others(xp, src, product[key], zeros[key])


defvjp(scatter_prod, _scatter_prod_vjp_x, _scatter_prod_vjp_src)


def _scatter_prod_composite(x, src, key, include_self=True):
    """The same products composed of differentiable ops, for higher-order gradients: the
    values landing on each place gathered into a row (padded with ones), ``prod`` of each
    row, and x multiplied by 1 + (product - 1) at those places."""
    import numpy as np

    from ember import creation, functions
    from ember.ops.shape import index_backward

    places = np.arange(int(np.prod(x.shape))).reshape(x.shape)[key]
    values = functions.broadcast_to(src, places.shape).reshape(-1)
    places = places.reshape(-1)
    unique, inverse, counts = np.unique(places, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    column = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = np.full((len(unique), counts.max()), len(places))  # the padding: a one
    rows[inverse[order], column] = order
    padded = functions.cat([values, creation.ones(1, dtype=values.dtype)])[rows]
    factors = index_backward(functions.prod(padded, dim=1) - 1, key=unique,
                             shape=(int(np.prod(x.shape)),)) + 1
    base = x if include_self else functions.where(_hit(np, x.shape, key), 1.0, x)
    return base * factors.reshape(x.shape)


defcomposite(scatter_prod, _scatter_prod_composite)
