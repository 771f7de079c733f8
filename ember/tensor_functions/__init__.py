"""PyTorch's wider tensor API beyond :mod:`ember.functions`, one family per module:

``indexing`` (gather, scatter, index_*, masks, ``x[key]`` in PyTorch's order),
``sorting`` (sort, topk, median, mode, unique, searchsorted), ``scans`` (cumsum,
cumprod, cummax, logcumsumexp), ``reductions`` (prod, std_mean, nansum), ``maths``
(trigonometry, logarithms, remainders, lerp), ``products`` (bmm, addmm, einsum,
tensordot) and ``shapes`` (tril, diagonal, roll, meshgrid, view). All of them are
re-exported by :mod:`ember.functions`, so ``em.sort`` and ``x.sort()`` work as in
PyTorch.
"""

from ember.tensor_functions import (
    indexing,
    maths,
    products,
    reductions,
    scans,
    shapes,
    sorting,
)
from ember.tensor_functions.indexing import *  # noqa: F403
from ember.tensor_functions.maths import *  # noqa: F403
from ember.tensor_functions.products import *  # noqa: F403
from ember.tensor_functions.reductions import *  # noqa: F403
from ember.tensor_functions.scans import *  # noqa: F403
from ember.tensor_functions.shapes import *  # noqa: F403
from ember.tensor_functions.sorting import *  # noqa: F403

__all__ = [name for module in (indexing, maths, products, reductions, scans, shapes, sorting)
           for name in module.__all__]
