"""Image transforms for data augmentation, torchvision-style (``em.data.transforms``).

Callables on (C, H, W) ember Tensors (and NumPy arrays), deterministic under
``em.manual_seed``; give them to a dataset's ``transform=``:

>>> import ember as em
>>> from ember.data import transforms as T
>>> augment = T.Compose([
...     T.RandomCrop(28, padding=2),
...     T.RandomRotation(10),
...     T.Normalize((0.1307,), (0.3081,)),
... ])
>>> augment(em.zeros(1, 28, 28)).shape
(1, 28, 28)
"""

from ember.data.transforms import functional
from ember.data.transforms.affine import ElasticDeformation, RandomAffine
from ember.data.transforms.color import RandomBrightness, RandomContrast
from ember.data.transforms.core import Compose, Lambda, Normalize, ToTensor, Transform
from ember.data.transforms.geometric import (
    CenterCrop,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)
from ember.data.transforms.whitening import PCAWhitening, ZCAWhitening

__all__ = [
    "CenterCrop", "Compose", "Lambda", "Normalize", "RandomBrightness", "RandomContrast",
    "RandomCrop", "RandomHorizontalFlip", "RandomRotation", "RandomVerticalFlip", "Resize",
    "ToTensor", "Transform", "functional", "RandomAffine", "ElasticDeformation",
    "PCAWhitening", "ZCAWhitening",
]
