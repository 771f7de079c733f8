"""A configurable multilayer perceptron (fully connected network)."""

from __future__ import annotations

from collections.abc import Sequence

from ember import nn

_ACTIVATIONS = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU",
    "elu": "ELU", "gelu": "GELU", "silu": "SiLU",
}


def mlp(in_features: int = 784, hidden: Sequence[int] = (256, 128), num_classes: int = 10,
        activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False, *,
        weights=None, progress: bool = True) -> nn.Sequential:
    """Flatten, then ``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` per hidden
    layer, then a ``Linear`` to ``num_classes`` logits.

    Parameters: sum over layers of ``n_in * n_out + n_out`` (784-256-128-10: 235,146).

    Args:
        in_features: inputs per sample after flattening (784 for 28x28 images).
        hidden: the width of each hidden layer.
        num_classes: outputs (logits; pair with ``CrossEntropyLoss``).
        activation: relu, tanh, sigmoid, leaky_relu, elu, gelu or silu.
        dropout: dropout probability after each hidden activation (0 for none).
        batch_norm: BatchNorm1d after each hidden Linear.
        weights: ``PATH`` of a state_dict file to load (ember ships no MLP weights).

    >>> import ember as em
    >>> model = em.models.mlp(784, (256, 128), 10)
    >>> sum(p.numel() for p in model.parameters())
    235146
    >>> model(em.zeros(2, 1, 28, 28)).shape
    (2, 10)
    """
    if weights is not None:
        from ember.models import pretrained

        return pretrained.build("mlp", mlp, weights, dict(
            in_features=in_features, hidden=hidden, num_classes=num_classes,
            activation=activation, dropout=dropout, batch_norm=batch_norm), progress)
    if activation not in _ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; choose from "
                         + ", ".join(_ACTIVATIONS))
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for size in hidden:
        layers.append(nn.Linear(width, size))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(getattr(nn, _ACTIVATIONS[activation])())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
