"""A convolutional network on MNIST, trained with Adadelta and a StepLR schedule (the
PyTorch examples' "mnist" program): Conv2d, max_pool2d, Dropout, log_softmax with
nll_loss, DataLoader, model.train()/eval(), torch.no_grad(), device handling.

Plain PyTorch: MNIST is read from its IDX files with NumPy (no torchvision). To run it on
ember, change the imports' ``torch`` to ``ember`` (``import ember as torch``, ...).

    python examples/pytorch/mnist_cnn.py --data ../shared/data/mnist --epochs 2
"""

import argparse
import gzip
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, image_size=28, channels=(32, 64), hidden=128, dropout=(0.25, 0.5)):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 3, 1)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, 1)
        self.dropout1 = nn.Dropout(dropout[0])
        self.dropout2 = nn.Dropout(dropout[1])
        side = (image_size - 4) // 2
        self.fc1 = nn.Linear(channels[1] * side * side, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, dtype):
    model.train()
    losses = []
    for data, target in train_loader:
        data, target = data.to(device, dtype), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test(model, device, test_loader, dtype):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device, dtype), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


def read_idx(path):
    """An IDX file (gzip) as a NumPy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(folder, train_size=None, test_size=None):
    """(train images, labels), (test images, labels), images normalised as the example."""
    def part(prefix, size):
        images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"))[:size]
        labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"))[:size]
        images = (images.astype(np.float32) / 255 - 0.1307) / 0.3081
        return images[:, None], labels.astype(np.int64)

    return part("train", train_size), part("t10k", test_size)


def main(train_data, test_data, epochs=14, batch_size=64, test_batch_size=1000, lr=1.0,
         gamma=0.7, shuffle=True, weights=None, dtype=torch.float, **net_options):
    """Returns (per-epoch training losses, [(test loss, correct)] per epoch, final lr)."""
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    train_set = TensorDataset(torch.from_numpy(train_data[0]), torch.from_numpy(train_data[1]))
    test_set = TensorDataset(torch.from_numpy(test_data[0]), torch.from_numpy(test_data[1]))
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=shuffle)
    test_loader = DataLoader(test_set, batch_size=test_batch_size)

    model = Net(image_size=train_data[0].shape[-1], **net_options).to(device, dtype)
    if weights is not None:  # the same start for two runs
        model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    optimizer = optim.Adadelta(model.parameters(), lr=lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=gamma)
    history, tests = [], []
    for _ in range(epochs):
        history.append(train(model, device, train_loader, optimizer, dtype))
        tests.append(test(model, device, test_loader, dtype))
        scheduler.step()
    return history, tests, scheduler.get_last_lr()[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/mnist", help="folder of IDX files")
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--train-size", type=int, default=None)
    args = parser.parse_args()
    torch.manual_seed(1)
    train_data, test_data = load_mnist(args.data, args.train_size)
    history, tests, _ = main(train_data, test_data, epochs=args.epochs)
    for epoch, (losses, (loss, correct)) in enumerate(zip(history, tests, strict=True), 1):
        print(f"epoch {epoch}: train loss {np.mean(losses):.4f}, test loss {loss:.4f}, "
              f"accuracy {correct}/{len(test_data[1])}")
