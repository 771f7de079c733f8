"""The layers, one family per file; ``ember.nn`` re-exports them all."""

from ember.nn.layers.activation import *  # noqa: F403
from ember.nn.layers.attention import *  # noqa: F403
from ember.nn.layers.classic import *  # noqa: F403
from ember.nn.layers.conv import *  # noqa: F403
from ember.nn.layers.dropout import *  # noqa: F403
from ember.nn.layers.linear import *  # noqa: F403
from ember.nn.layers.loss import *  # noqa: F403
from ember.nn.layers.norm import *  # noqa: F403
from ember.nn.layers.perceptron import *  # noqa: F403
from ember.nn.layers.pooling import *  # noqa: F403
from ember.nn.layers.recurrent import *  # noqa: F403
from ember.nn.layers.sparse import *  # noqa: F403
from ember.nn.layers.sync_batchnorm import *  # noqa: F403
from ember.nn.layers.transformer import *  # noqa: F403
from ember.nn.layers.upsampling import *  # noqa: F403
