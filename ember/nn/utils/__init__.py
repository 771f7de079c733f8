"""Training utilities: gradient clipping, parameters as one vector, (in ``rnn``)
padded/packed variable-length sequences, and (in ``fine_tuning``) freezing, replacing the
head and per-layer learning rates for transfer learning.

>>> import ember as em
>>> model = em.nn.Linear(4, 2)
>>> em.nn.utils.parameters_to_vector(model.parameters()).shape
(10,)
"""

from ember.nn.utils import clip_grad, convert_parameters, rnn
from ember.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from ember.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from ember.nn.utils.fine_tuning import (
    discriminative_lr,
    freeze,
    frozen_batch_norms,
    param_groups,
    replace_head,
    unfreeze,
)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "freeze", "unfreeze",
           "frozen_batch_norms", "replace_head", "param_groups", "discriminative_lr"]
