"""Training utilities: gradient clipping, parameters as one vector, and (in ``rnn``)
padded/packed variable-length sequences.

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

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]
