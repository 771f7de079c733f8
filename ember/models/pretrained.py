"""Pretrained weights: the small models ember ships, and ``weights=`` for the zoo.

ember ships weights it trained itself, small enough to live in the package (each file a
few hundred KB, in ``ember/models/weights/``): each is a safetensors checkpoint with the
model's ``state_dict`` and a record of how it was made (the ``ember train`` command, the
data's SHA-256, the recipe and the accuracy measured on the test split), and the SHA-256
of the whole file is written here and checked on every load.

``weights=`` on a zoo function takes, as torchvision's:

* ``None``: random initialisation;
* a :class:`Weights` (``LeNet5_Weights.MNIST``), its name (``"MNIST"``, ``"mnist"``,
  ``"LeNet5_Weights.MNIST"``) or ``"DEFAULT"``: weights ember ships;
* a path to a state_dict file: a ``torch.save`` file (e.g. torchvision's downloaded
  ``resnet18-f37072fd.pth``, read without PyTorch and without unpickling code), an ember
  checkpoint, or any safetensors file.

Anything else is a ValueError that lists what ember ships for that model.

>>> import ember as em
>>> model = em.models.lenet5(weights="mnist")
>>> weights = em.models.LeNet5_Weights.MNIST
>>> weights.meta["test_accuracy"] > 0.99
True
>>> x = weights.transforms()(em.zeros(2, 1, 28, 28))   # images in [0, 1], standardised
>>> model.eval()(x).shape
(2, 10)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ember.tensor import Tensor

FOLDER = Path(__file__).parent / "weights"


class WeightsError(ValueError):
    """Weights that cannot be used: unknown, for another model, or a damaged file."""


@dataclass(frozen=True)
class Weights:
    """One set of shipped weights: the file, its SHA-256 and what it was trained for.

    Attributes:
        name: ``LeNet5_Weights.MNIST``.
        model: the zoo function they fit (``lenet5``).
        file: the file in ``ember/models/weights/``.
        sha256: the file's SHA-256, checked on load.
        meta: dataset, classes, input size, normalisation, recipe, command and accuracy.
    """

    name: str
    model: str
    file: str
    sha256: str
    meta: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def path(self) -> Path:
        return FOLDER / self.file

    def get_state_dict(self, progress: bool = True) -> dict:
        """The state_dict, after checking the file's SHA-256 (torchvision's method name)."""
        from ember.serialization import load

        path = self.path
        if not path.is_file():
            raise WeightsError(f"{self.name}: the weights file {path} is missing from this "
                               "installation of ember")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != self.sha256:
            raise WeightsError(f"{self.name}: {path} is damaged (SHA-256 {digest[:16]}..., "
                               f"expected {self.sha256[:16]}...)")
        return load(path)["model"]

    def record(self) -> dict:
        """The record stored in the file: how the weights were trained and measured."""
        from ember.serialization import load

        return load(self.path)["meta"]

    def transforms(self):
        """The preprocessing the weights expect: images in [0, 1] (N, 1, H, W), scaled
        (bilinear) to the input size and standardised with the training set's mean and
        standard deviation."""
        return Preprocess(tuple(self.meta["input_size"]), *self.meta["normalize"])

    def __repr__(self) -> str:
        return self.name


class Preprocess:
    """Images in [0, 1] -> the network's input: resize (bilinear) and standardise.

    Accepts (N, H, W) or (N, 1, H, W) tensors or arrays (uint8 images are divided by 255).
    """

    def __init__(self, size: tuple[int, int], mean: float, std: float) -> None:
        self.size, self.mean, self.std = tuple(size), float(mean), float(std)

    def __call__(self, images) -> Tensor:
        from ember.nn import functional as F

        array = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
        if array.dtype == np.uint8:
            array = array / 255.0
        array = np.asarray(array, dtype=np.float32)
        if array.ndim == 3:
            array = array[:, None]
        if array.ndim != 4 or array.shape[1] != 1:
            raise ValueError(f"expected grey images (N, H, W) or (N, 1, H, W), got shape "
                             f"{array.shape}")
        x = Tensor(array)
        if tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def __repr__(self) -> str:
        return f"Preprocess(size={self.size}, mean={self.mean:.4f}, std={self.std:.4f})"


class WeightsEnum:
    """The shipped weights of one model, as class attributes (torchvision's pattern):
    ``LeNet5_Weights.MNIST``, ``LeNet5_Weights.DEFAULT``."""

    model = ""
    DEFAULT: Weights

    @classmethod
    def members(cls) -> dict[str, Weights]:
        return {k: v for k, v in vars(cls).items() if isinstance(v, Weights)
                and k != "DEFAULT"}


def _meta(dataset: str, classes: list, normalize: list, accuracy: float, **extra) -> dict:
    return {"dataset": dataset, "classes": classes, "num_classes": len(classes),
            "input_size": [28, 28], "normalize": normalize, "test_accuracy": accuracy,
            **extra}


_DIGITS = [f"{d} - {w}" for d, w in enumerate(
    "zero one two three four five six seven eight nine".split())]
_FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot"]


class LeNet5_Weights(WeightsEnum):  # noqa: N801  (torchvision's naming)
    """LeNet-5 trained by ember on MNIST (``ember train --model lenet5 --dataset mnist``)."""

    model = "lenet5"
    MNIST = Weights(
        "LeNet5_Weights.MNIST", "lenet5", "lenet5-mnist.safetensors",
        "90ad27e96596dac12bbb7625bb0e139be231e09f5105f0039dbfce4702dafb48",
        _meta("mnist", _DIGITS, [0.13066047430038452, 0.30810779333114624], 0.9939,
              test_examples=10000))
    DEFAULT = MNIST


class SmallCNN_Weights(WeightsEnum):  # noqa: N801
    """The small CNN trained by ember on Fashion-MNIST
    (``ember train --model small_cnn --dataset fashion-mnist``)."""

    model = "small_cnn"
    FASHION_MNIST = Weights(
        "SmallCNN_Weights.FASHION_MNIST", "small_cnn", "small_cnn-fashion-mnist.safetensors",
        "6af6d7763406c59b8e2a05330df9733ff8490ffb78d38a73366e692d1d3baa95",
        _meta("fashion-mnist", _FASHION, [0.28604060411453247, 0.3530242443084717], 0.8903,
              test_examples=10000))
    DEFAULT = FASHION_MNIST


SHIPPED = {"lenet5": LeNet5_Weights, "small_cnn": SmallCNN_Weights}

# where torchvision's weights for the zoo's ImageNet models can be downloaded
TORCHVISION_EXAMPLE = "https://download.pytorch.org/models/resnet18-f37072fd.pth"
TORCHVISION_MODELS = ("resnet", "vgg", "alexnet", "googlenet")
TORCHVISION_MODELS += ("mobilenet_v3_large", "mobilenet_v3_small")
TORCHVISION_MODELS += ("fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
                       "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large")


def resolve(model: str, weights) -> Weights | Path | None:
    """What ``weights=`` names for zoo function ``model``: None, shipped :class:`Weights`,
    or the path of a state_dict file."""
    if weights is None:
        return None
    shipped = SHIPPED.get(model)
    if isinstance(weights, Weights):
        if weights.model != model:
            raise WeightsError(f"{model}: {weights.name} are weights for {weights.model}, "
                               f"not {model}")
        return weights
    if isinstance(weights, (str, os.PathLike)):
        text = os.fspath(weights)
        if shipped is not None:
            key = text[len(shipped.__name__) + 1:] if text.startswith(
                shipped.__name__ + ".") else text
            key = key.upper().replace("-", "_")
            if key == "DEFAULT":
                return shipped.DEFAULT
            members = shipped.members()
            if key in members:
                return members[key]
        path = Path(text)
        if path.is_file():
            return path
        raise WeightsError(_unknown(model, text, shipped))
    raise TypeError(f"{model}: weights must be None, a Weights, a name or a path, got "
                    f"{type(weights).__name__}")


def _unknown(model: str, given: str, shipped) -> str:
    if shipped is not None:
        names = ", ".join(f"{name.lower()!r} ({shipped.__name__}.{name})"
                          for name in shipped.members())
        return (f"{model}: no weights {given!r}: ember ships {names} for {model}; or pass "
                "weights=PATH, a state_dict file (torch.save or safetensors)")
    message = (f"{model}: ember ships no pretrained weights for {model} (and {given!r} is "
               "not a file); pass weights=PATH, a state_dict file (torch.save or safetensors)")
    if model in TORCHVISION_MODELS:
        message += (f"; torchvision's weights fit (the keys match; e.g. {TORCHVISION_EXAMPLE} "
                    "for resnet18), and ember reads torch.save files without PyTorch")
    return message


def state_dict_from_file(path: Path) -> dict:
    """A state_dict from a file: a plain one, an ember checkpoint ({"model": ...}) or a
    torch.save file (a state_dict, or a dict holding one under 'state_dict'/'model')."""
    from ember.serialization import load

    loaded = load(path)
    if isinstance(loaded, dict):
        for key in ("model", "state_dict", "model_state_dict"):
            if isinstance(loaded.get(key), dict):
                return loaded[key]
        if all(isinstance(v, Tensor) for v in loaded.values()):
            return loaded
    raise WeightsError(f"{path}: holds no state_dict (a dict of tensors, or one under "
                       "'model' or 'state_dict')")


def build(model: str, builder, weights, kwargs: dict, progress: bool = True):
    """``builder(**kwargs)`` with ``weights`` loaded: the zoo functions' shared tail.

    With shipped weights, ``num_classes`` (and the other arguments the weights fix)
    default to theirs and must not contradict them."""
    chosen = resolve(model, weights)
    if isinstance(chosen, Weights):
        fixed = {"num_classes": chosen.meta["num_classes"]}
        for key, value in fixed.items():
            if key in kwargs and kwargs[key] != value:
                raise WeightsError(f"{model}: {chosen.name} has {key}={value}, got "
                                   f"{key}={kwargs[key]} (build with weights, then replace "
                                   "the head for another number of classes)")
            kwargs[key] = value
    net = builder(**kwargs)
    if chosen is None:
        return net
    state = chosen.get_state_dict(progress) if isinstance(chosen, Weights) else \
        state_dict_from_file(chosen)
    net.load_state_dict(state)
    return net
