"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998, "Gradient-based learning applied to
document recognition"): the convolutional network that read cheques."""

from __future__ import annotations

from ember import nn


class LeNet5(nn.Module):
    """LeNet-5: two convolution + subsampling stages, then three fully connected layers.

    It introduced the pattern every CNN since follows: local receptive fields (5x5
    convolutions), shared weights, and spatial subsampling, trained end to end by
    backpropagation. Layout (for a 32x32 input, or 28x28 with ``padding=2``)::

        C1 conv 1->6, 5x5     -> 6x28x28      156 parameters
        S2 pool 2x2           -> 6x14x14
        C3 conv 6->16, 5x5    -> 16x10x10   2,416
        S4 pool 2x2           -> 16x5x5
        C5 linear 400->120                 48,120
        F6 linear 120->84                  10,164
        output linear 84->10                  850      total 61,706

    The original used scaled tanh and trainable average subsampling; ``activation`` and
    ``pooling`` choose between that flavour (``"tanh"``, ``"avg"``) and the modern one
    (``"relu"``, ``"max"``, the default, which trains faster).

    Args:
        num_classes: outputs of the last layer.
        in_channels: input channels (1 for grey images).
        padding: padding of C1: 2 for 28x28 inputs (MNIST), 0 for 32x32.
        activation: ``relu``, ``tanh`` or ``sigmoid``.
        pooling: ``max`` or ``avg``.

    Shape:
        (N, in_channels, 28, 28) with padding=2 (or 32x32 with padding=0) -> (N, num_classes)

    >>> import ember as em
    >>> model = em.models.lenet5()
    >>> sum(p.numel() for p in model.parameters())
    61706
    >>> model(em.zeros(1, 1, 28, 28)).shape
    (1, 10)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, padding: int = 2,
                 activation: str = "relu", pooling: str = "max") -> None:
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}.get(activation)
        pool = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}.get(pooling)
        if act is None:
            raise ValueError(f"lenet5: activation must be relu, tanh or sigmoid, got "
                             f"{activation!r}")
        if pool is None:
            raise ValueError(f"lenet5: pooling must be max or avg, got {pooling!r}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), act(),
            pool(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), act(),
            pool(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def lenet5(num_classes: int = 10, in_channels: int = 1, padding: int = 2,
           activation: str = "relu", pooling: str = "max", *, weights=None,
           progress: bool = True) -> LeNet5:
    """Build :class:`LeNet5` (61,706 parameters with 10 classes).

    ``weights="mnist"`` (:class:`~ember.models.LeNet5_Weights` ``.MNIST``) loads the
    weights ember ships, trained on MNIST (test accuracy in their ``meta``; inputs
    standardised by ``LeNet5_Weights.MNIST.transforms()``); ``weights=PATH`` loads a
    state_dict file."""
    from ember.models import pretrained

    kwargs = dict(num_classes=num_classes, in_channels=in_channels, padding=padding,
                  activation=activation, pooling=pooling)
    if weights is not None and num_classes == 10:
        del kwargs["num_classes"]
    return pretrained.build("lenet5", LeNet5, weights, kwargs, progress)
