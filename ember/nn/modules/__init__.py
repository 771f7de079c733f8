"""``em.nn.modules.<file>.<Class>``: the layers at the paths PyTorch keeps them under.

ember groups its layers in :mod:`ember.nn.layers` (one family per file); code written for
PyTorch also imports them by PyTorch's file, ``from torch.nn.modules.linear import
Linear``. Each name below is PyTorch's; a submodule holds those of its names that ember
has, the same class objects as ``ember.nn``'s:

>>> import ember as em
>>> from ember.nn.modules.conv import Conv2d
>>> Conv2d is em.nn.Conv2d, em.nn.modules.batchnorm.BatchNorm2d is em.nn.BatchNorm2d
(True, True)
"""

from __future__ import annotations

import sys
import types

from ember import nn as _nn

# PyTorch's torch/nn/modules/<file>.py and the public classes it defines
PYTORCH_FILES = {
    "module": ["Module"],
    "container": ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"],
    "linear": ["Identity", "Linear", "Bilinear", "LazyLinear"],
    "activation": ["Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid",
                   "Hardsigmoid", "Tanh", "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU",
                   "GLU", "GELU", "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus",
                   "Softshrink", "MultiheadAttention", "PReLU", "Softsign", "Tanhshrink",
                   "Softmin", "Softmax", "Softmax2d", "LogSoftmax"],
    "conv": ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
             "ConvTranspose3d"],
    "pooling": ["MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
                "MaxUnpool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "FractionalMaxPool2d",
                "LPPool1d", "LPPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
                "AdaptiveMaxPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
                "AdaptiveAvgPool3d"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"],
    "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"],
    "normalization": ["LocalResponseNorm", "CrossMapLRN2d", "LayerNorm", "GroupNorm",
                      "RMSNorm"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                "FeatureAlphaDropout"],
    "rnn": ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "loss": ["L1Loss", "NLLLoss", "KLDivLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
             "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss",
             "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss",
             "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss",
             "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss"],
    "flatten": ["Flatten", "Unflatten"],
    "fold": ["Fold", "Unfold"],
    "padding": ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
                "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
                "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
                "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"],
    "upsampling": ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"],
    "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"],
    "distance": ["PairwiseDistance", "CosineSimilarity"],
    "transformer": ["TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
                    "TransformerDecoderLayer", "Transformer"],
}


def _submodule(file: str, names: list[str]) -> types.ModuleType:
    """``ember.nn.modules.<file>``, holding the names of ``names`` that ember.nn has."""
    qualified = f"{__name__}.{file}"
    module = types.ModuleType(qualified, f"``torch.nn.modules.{file}``'s classes (those "
                                         "ember has), the same objects as ember.nn's.")
    module.__all__ = [name for name in names if hasattr(_nn, name)]
    for name in module.__all__:
        setattr(module, name, getattr(_nn, name))
    sys.modules[qualified] = module
    return module


__all__ = []
for _file, _names in PYTORCH_FILES.items():
    globals()[_file] = _submodule(_file, _names)
    for _name in globals()[_file].__all__:  # torch.nn.modules.Linear, as PyTorch has it
        globals()[_name] = getattr(_nn, _name)
        __all__.append(_name)
del _file, _names, _name
