"""nn.functional: the math of every layer and loss, as functions (PyTorch's names).

Modules in :mod:`ember.nn` are thin: ``Conv2d.forward`` is one call to ``conv2d``.
Each family lives in its own file; this package re-exports them all, so
``import ember.nn.functional as F`` gives ``F.conv2d``, ``F.cross_entropy``, ...
"""

from ember.functions import pad  # noqa: F401  (F.pad is em.pad)
from ember.nn.functional.activation import *  # noqa: F403
from ember.nn.functional.attention import *  # noqa: F403
from ember.nn.functional.conv import *  # noqa: F403
from ember.nn.functional.dropout import *  # noqa: F403
from ember.nn.functional.linear import *  # noqa: F403
from ember.nn.functional.loss import *  # noqa: F403
from ember.nn.functional.normalization import *  # noqa: F403
from ember.nn.functional.pooling import *  # noqa: F403
from ember.nn.functional.recurrent import *  # noqa: F403
from ember.nn.functional.sparse import *  # noqa: F403
from ember.nn.functional.unpooling import *  # noqa: F403
from ember.nn.functional.vision import *  # noqa: F403
from ember.nn.functional.volumetric import *  # noqa: F403

# PyTorch's in-place activations, F.relu_(x) ... (written into x; recorded when x is)
# isort: split
from ember.inplace import functional_inplace as _functional_inplace  # noqa: E402

for _name in ("relu", "elu", "leaky_relu", "hardtanh", "threshold", "celu", "selu", "rrelu"):
    if _name in globals():
        globals()[_name + "_"] = _functional_inplace(globals()[_name], _name + "_")
del _name
