"""The benchmark workloads: each builds the same model and data in ember and in PyTorch.

The PyTorch model is built first; ember's loads its state_dict, so both start from the
same weights. Inputs and labels come from one NumPy generator (seed 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Workload:
    name: str
    description: str
    batch: int
    input_shape: tuple  # per sample
    build_torch: Callable  # (torch) -> torch.nn.Module
    build_ember: Callable  # (em) -> ember Module with the same structure
    train: bool = True
    classes: int = 10


def _mlp_torch(torch):
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def _mlp_ember(em):
    nn = em.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def _lenet_torch(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _lenet_ember(em):
    nn = em.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _vgg_layers(nn):
    return [nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(64 * 8 * 8, 256), nn.ReLU(), nn.Linear(256, 10)]


def _vgg_torch(torch):
    return torch.nn.Sequential(*_vgg_layers(torch.nn))


def _vgg_ember(em):
    return em.nn.Sequential(*_vgg_layers(em.nn))


def _volumes_layers(nn):
    return [nn.Conv3d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
            nn.Conv3d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
            nn.Linear(16, 10)]


def _volumes_torch(torch):
    return torch.nn.Sequential(*_volumes_layers(torch.nn))


def _volumes_ember(em):
    return em.nn.Sequential(*_volumes_layers(em.nn))


class _LSTMHead:
    """LSTM(28 -> 128) over 28 time steps (an image's rows), then a Linear on the last
    output: the classic row-by-row MNIST classifier."""

    @staticmethod
    def build(nn, base):
        class LSTMClassifier(base):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(28, 128, batch_first=True)
                self.head = nn.Linear(128, 10)

            def forward(self, x):
                output, _ = self.lstm(x)
                return self.head(output[:, -1])

        return LSTMClassifier()


def _lstm_torch(torch):
    return _LSTMHead.build(torch.nn, torch.nn.Module)


def _lstm_ember(em):
    return _LSTMHead.build(em.nn, em.nn.Module)


WORKLOADS = {
    w.name: w for w in [
        Workload("mlp", "MLP 784-256-128-10, batch 128", 128, (1, 28, 28), _mlp_torch,
                 _mlp_ember),
        Workload("lenet5-64", "LeNet-5 on 1x28x28, batch 64", 64, (1, 28, 28), _lenet_torch,
                 _lenet_ember),
        Workload("lenet5-256", "LeNet-5 on 1x28x28, batch 256", 256, (1, 28, 28),
                 _lenet_torch, _lenet_ember),
        Workload("vgg-small", "VGG-style conv 32-32-pool-64-64-pool, FC 256, 3x32x32, "
                 "batch 128", 128, (3, 32, 32), _vgg_torch, _vgg_ember),
        Workload("lenet5-infer", "LeNet-5 inference, batch 256", 256, (1, 28, 28),
                 _lenet_torch, _lenet_ember, train=False),
        Workload("lstm", "LSTM input 28, hidden 128, 28 steps, batch 64, Linear head", 64,
                 (28, 28), _lstm_torch, _lstm_ember),
        Workload("conv3d-small", "3-d CNN conv 8-pool-conv 16, global pool, on 1x16x16x16, "
                 "batch 8", 8, (1, 16, 16, 16), _volumes_torch, _volumes_ember),
    ]
}


def data(workload: Workload):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((workload.batch, *workload.input_shape)).astype(np.float32)
    y = rng.integers(0, workload.classes, workload.batch).astype(np.int64)
    return x, y


def forward_flops(model, em, x) -> float:
    """Multiply-adds x 2 of the Conv2d, Linear and LSTM layers in one forward pass of ember's
    model (training is counted as 3x: forward, and the two backward products)."""
    total = [0.0]

    def count(module, inputs, output):
        if isinstance(module, em.nn.Linear):
            total[0] += 2.0 * output.numel() * module.in_features
        elif type(module).__name__ in ("Conv2d", "Conv3d"):
            k = np.prod(module.kernel_size) * module.in_channels / module.groups
            total[0] += 2.0 * output.numel() * k
        elif type(module).__name__ == "LSTM":  # 4 gates: x W_ih^T and h W_hh^T per step
            sequence = output[0]
            total[0] += 2.0 * sequence.numel() * 4 * (module.input_size + module.hidden_size)

    handles = [m.register_forward_hook(count) for m in model.modules()]
    with em.no_grad():
        model(em.tensor(x))
    for h in handles:
        h.remove()
    return total[0]
