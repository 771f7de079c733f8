"""Classic architectures, built from ember.nn layers.

``mlp`` (configurable fully connected network) and ``lenet5`` (LeCun et al., 1998).
"""

from ember.models.lenet import LeNet5, lenet5
from ember.models.mlp import mlp

__all__ = ["LeNet5", "lenet5", "mlp"]
