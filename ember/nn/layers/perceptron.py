"""Rosenblatt's perceptron (1958): a threshold unit and the learning rule that needs no
gradient, the first trainable neural network.

.. math::
    \\hat y = \\text{step}(w \\cdot x + b), \\qquad
    w \\leftarrow w + \\eta (y - \\hat y) x, \\quad b \\leftarrow b + \\eta (y - \\hat y)

Presented one sample at a time, the rule changes the weights only on a mistake, moving
the boundary towards the misclassified point. Novikoff's theorem (1962): on linearly
separable data it stops changing after finitely many mistakes, at most (R / gamma)^2 for
inputs of norm at most R separated with margin gamma. On data that no line separates (XOR)
it never stops; with integer inputs it revisits the same weights, cycling forever
(the perceptron cycling theorem, Minsky & Papert 1969).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ember import creation, dtypes
from ember.autograd.engine import no_grad
from ember.nn.module import Module, Parameter
from ember.tensor import Tensor

__all__ = ["Step", "Perceptron", "PerceptronHistory"]


class Step(Module):
    """The Heaviside step: ``1`` where ``x >= threshold``, else ``0`` (as
    ``torch.heaviside(x - threshold, 1)``). Its derivative is 0 almost everywhere, which
    is why networks trained by gradients replaced it with the sigmoid.

    >>> import ember as em
    >>> Step()(em.tensor([-1.0, 0.0, 2.0])).tolist()
    [0.0, 1.0, 1.0]
    """

    def __init__(self, threshold: float = 0.0) -> None:
        super().__init__()
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        return (x >= self.threshold).to(x.dtype if x.is_floating_point() else
                                        dtypes.get_default_dtype())

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}"


@dataclass
class PerceptronHistory:
    """What :meth:`Perceptron.fit` saw, epoch by epoch.

    Attributes:
        mistakes: misclassified samples in each epoch (weights change on each).
        weights: ``(w, b)`` at the start of each epoch, and after the last one.
        converged: an epoch passed without a mistake.
        cycle: ``(first, period)`` if the weights at the start of an epoch repeated those
            of epoch ``first`` (counted from 0), ``period`` epochs earlier: the rule
            cycles and will never converge; None otherwise.
    """

    mistakes: list[int] = field(default_factory=list)
    weights: list[tuple[np.ndarray, float]] = field(default_factory=list)
    converged: bool = False
    cycle: tuple[int, int] | None = None

    @property
    def epochs(self) -> int:
        return len(self.mistakes)


class Perceptron(Module):
    """A single threshold unit, ``step(w . x + b)``, trained by Rosenblatt's rule.

    Args:
        in_features: inputs per sample.
        weight_init: ``"zeros"`` (the textbook start: every run is the same) or
            ``"uniform"`` (like ``nn.Linear``).

    Shape:
        (N, in_features) -> (N,) of 0 and 1

    >>> import ember as em
    >>> x = em.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> perceptron = Perceptron(2)
    >>> history = perceptron.fit(x, em.tensor([0.0, 0.0, 0.0, 1.0]))  # AND
    >>> history.converged, perceptron(x).tolist()
    (True, [0.0, 0.0, 0.0, 1.0])
    """

    def __init__(self, in_features: int, weight_init: str = "zeros") -> None:
        super().__init__()
        self.in_features = in_features
        if weight_init == "zeros":
            self.weight = Parameter(creation.zeros(in_features), requires_grad=False)
            self.bias = Parameter(creation.zeros(()), requires_grad=False)
        elif weight_init == "uniform":
            bound = 1 / np.sqrt(in_features)
            self.weight = Parameter(creation.rand(in_features) * 2 * bound - bound,
                                    requires_grad=False)
            self.bias = Parameter(creation.rand(()) * 2 * bound - bound, requires_grad=False)
        else:
            raise ValueError(f"Perceptron: weight_init must be 'zeros' or 'uniform', got "
                             f"{weight_init!r}")
        self.step = Step()

    def forward(self, x: Tensor) -> Tensor:
        return self.step(x @ self.weight + self.bias)

    def fit(self, x, y, epochs: int = 100, lr: float = 1.0) -> PerceptronHistory:
        """Rosenblatt's rule, one sample at a time in the given order, for at most
        ``epochs`` passes; stops early when an epoch makes no mistake (converged) or the
        weights at the start of an epoch repeat (cycling).

        Args:
            x: (N, in_features) inputs.
            y: (N,) targets, 0 or 1.
            epochs: the most passes over the data.
            lr: the step size eta.
        """
        inputs = np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=np.float64)
        targets = np.asarray(y.numpy() if isinstance(y, Tensor) else y, dtype=np.float64)
        if inputs.ndim != 2 or inputs.shape[1] != self.in_features:
            raise ValueError(f"Perceptron.fit: x must be (N, {self.in_features}), got shape "
                             f"{inputs.shape}")
        if targets.shape != (len(inputs),) or not np.isin(targets, (0.0, 1.0)).all():
            raise ValueError(f"Perceptron.fit: y must be {len(inputs)} targets of 0 or 1")
        w = self.weight.numpy().astype(np.float64)
        b = float(self.bias.item())
        history = PerceptronHistory()
        seen: dict[bytes, int] = {}
        for epoch in range(epochs):
            key = np.append(w, b).tobytes()
            if key in seen:
                history.cycle = (seen[key], epoch - seen[key])
                break
            seen[key] = epoch
            history.weights.append((w.copy(), b))
            mistakes = 0
            for xi, yi in zip(inputs, targets, strict=True):
                error = yi - (1.0 if xi @ w + b >= 0 else 0.0)
                if error:
                    w += lr * error * xi
                    b += lr * error
                    mistakes += 1
            history.mistakes.append(mistakes)
            if mistakes == 0:
                history.converged = True
                break
        history.weights.append((w.copy(), b))
        with no_grad():
            self.weight.copy_(Tensor._wrap(w.astype(self.weight.dtype)))
            self.bias.copy_(Tensor._wrap(np.asarray(b, dtype=self.bias.dtype)))
        return history

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}"
