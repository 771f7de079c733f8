"""ember: a complete deep-learning framework on NumPy, readable end to end.

>>> import ember as em
>>> w = em.tensor([2.0, -1.0], requires_grad=True)
>>> loss = ((w * 3.0).sum() - 1.0) ** 2     # (3 w_0 + 3 w_1 - 1)^2
>>> loss.backward()                          # d/dw_i = 2 (3 w_0 + 3 w_1 - 1) * 3
>>> w.grad
tensor([12., 12.])
"""

import os as _os

from ember import autograd, dtypes, random
from ember.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ember.backend import keep_freed_memory as _keep_freed_memory
from ember.creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ember.dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from ember.functions import *  # noqa: F403  (the tensor functions: em.sum, em.cat, ...)
from ember.functions import __all__ as _function_names
from ember.parallel import get_num_threads, set_num_threads
from ember.random import initial_seed, manual_seed, seed
from ember.serialization import load, save
from ember.tensor import Tensor  # noqa: I001  (Tensor first: the modules below use it)

bool = bool_  # noqa: A001  (as torch.bool)
float = float32  # noqa: A001
int = int32  # noqa: A001

__version__ = "0.1.0"

if _os.environ.get("EMBER_KEEP_MEMORY", "1") != "0":
    _keep_freed_memory()  # reuse freed array memory instead of faulting it in every step

from ember import (  # noqa: E402
    data,
    datasets,
    explain,
    linalg,
    metrics,
    models,
    nn,
    optim,
    special,
    train,
)
from ember.summary import summary  # noqa: E402

# PyTorch's API surface (issue 13): devices, Size, typed constructors, namespaces
# isort: split
from ember import accelerator, backends, cuda, utils  # noqa: E402
from ember.devices import device, get_default_device, set_default_device  # noqa: E402
from ember.size import Size  # noqa: E402
from ember.tensor_types import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)

# isort: split
from ember.inplace import *  # noqa: E402, F403  (em.relu_(x), em.zero_(x), ...)

# Optional packages that need extras, imported on first use: `em.tune` needs Optuna.
_LAZY_SUBPACKAGES = ("tune",)


def __getattr__(name: str):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"ember.{name}")
    raise AttributeError(f"module 'ember' has no attribute {name!r}")

from ember import onnx  # noqa: E402  (em.onnx.export, em.onnx.load)
