"""PCA and ZCA whitening: fitted transforms that decorrelate the pixels and give each
direction unit variance.

Fitted on N samples (each flattened to D values) with mean :math:`\\mu` and covariance
:math:`\\Sigma = \\frac{1}{N-1} \\sum (x - \\mu)(x - \\mu)^T = U \\Lambda U^T`:

.. math::
    x_{PCA} = (\\Lambda + \\epsilon I)^{-1/2} U^T (x - \\mu), \\qquad
    x_{ZCA} = U (\\Lambda + \\epsilon I)^{-1/2} U^T (x - \\mu)

Both have (nearly, by ``epsilon``) identity covariance. PCA whitening expresses a sample
in the principal axes (and may keep only the first ``n_components``); ZCA rotates back
to pixel space, so a whitened image still looks like an image (edges emphasised): of all
whitening matrices it changes the data least (Bell & Sejnowski, 1997; used for CIFAR-10
by Krizhevsky, 2009).

>>> import numpy as np
>>> from ember.data import transforms as T
>>> x = np.random.default_rng(0).standard_normal((500, 3)) @ [[2, 0, 0], [1, 1, 0], [0, 0, 3]]
>>> zca = T.ZCAWhitening(epsilon=0).fit(x)
>>> np.round(np.cov(zca(x), rowvar=False), 6) + 0.0
array([[1., 0., 0.],
       [0., 1., 0.],
       [0., 0., 1.]])
"""

from __future__ import annotations

import numpy as np

from ember.tensor import Tensor

__all__ = ["PCAWhitening", "ZCAWhitening"]


class _Whitening:
    """Shared fitting and application; subclasses choose the matrix."""

    def __init__(self, epsilon: float = 1e-5) -> None:
        if epsilon < 0:
            raise ValueError(f"{type(self).__name__}: epsilon must be >= 0, got {epsilon}")
        self.epsilon = float(epsilon)
        self.mean: np.ndarray | None = None
        self.components: np.ndarray | None = None  # U, columns by decreasing variance
        self.variances: np.ndarray | None = None  # Lambda
        self.matrix: np.ndarray | None = None
        self.shape: tuple | None = None  # one sample's shape

    def fit(self, data):
        """Learn mean and covariance from ``data``: (N, ...) samples (a Tensor or array;
        each sample is flattened). Returns self."""
        array = np.asarray(data.numpy() if isinstance(data, Tensor) else data,
                           dtype=np.float64)
        if array.ndim < 2 or len(array) < 2:
            raise ValueError(f"{type(self).__name__}.fit: expected at least 2 samples "
                             f"(N, ...), got shape {array.shape}")
        self.shape = array.shape[1:]
        flat = array.reshape(len(array), -1)
        self.mean = flat.mean(axis=0)
        covariance = np.cov(flat, rowvar=False).reshape(flat.shape[1], flat.shape[1])
        variances, vectors = np.linalg.eigh(covariance)
        order = np.argsort(variances)[::-1]
        self.variances = np.clip(variances[order], 0.0, None)
        self.components = vectors[:, order]
        self.matrix = self._matrix()
        return self

    def _matrix(self) -> np.ndarray:
        raise NotImplementedError

    def _scales(self, k: int | None = None) -> np.ndarray:
        variances = self.variances if k is None else self.variances[:k]
        if self.epsilon == 0 and (variances <= 0).any():
            raise ValueError(f"{type(self).__name__}: the data has directions of zero "
                             "variance; give epsilon > 0")
        return 1.0 / np.sqrt(variances + self.epsilon)

    def __call__(self, x):
        """Whiten one sample (of the fitted shape) or a batch (N, ...) of them; Tensors
        give Tensors (float32 unless float64 came in)."""
        if self.matrix is None:
            raise RuntimeError(f"{type(self).__name__}: call fit(data) first")
        is_tensor = isinstance(x, Tensor)
        array = x.numpy() if is_tensor else np.asarray(x)
        dtype = array.dtype if array.dtype.kind == "f" else np.float32
        size = self.mean.size
        single = array.shape == self.shape
        flat = array.reshape(1 if single else -1, size).astype(np.float64)
        out = (flat - self.mean) @ self.matrix.T
        out = out[0] if single else out
        out = out.reshape(self._out_shape(single, array)).astype(dtype)
        return Tensor._wrap(out) if is_tensor else out

    def _out_shape(self, single: bool, array: np.ndarray):
        return self.shape if single else array.shape

    def __repr__(self) -> str:
        return f"{type(self).__name__}(epsilon={self.epsilon})"


class PCAWhitening(_Whitening):
    """PCA whitening: project on the principal axes, divide by their standard deviations.

    Args:
        epsilon: added to every variance before the square root (keeps near-zero
            directions from being blown up).
        n_components: keep the first k axes (a k-vector per sample); None keeps all.

    The output of a sample is a vector of the axes' coordinates (shape (k,), or (N, k)).
    """

    def __init__(self, epsilon: float = 1e-5, n_components: int | None = None) -> None:
        super().__init__(epsilon)
        self.n_components = n_components

    def _matrix(self) -> np.ndarray:
        k = self.n_components or len(self.variances)
        if not 1 <= k <= len(self.variances):
            raise ValueError(f"PCAWhitening: n_components must be in 1..{len(self.variances)}"
                             f", got {self.n_components}")
        return self._scales(k)[:, None] * self.components[:, :k].T

    def _out_shape(self, single: bool, array: np.ndarray):
        k = self.matrix.shape[0]
        return (k,) if single else (array.reshape(-1, self.mean.size).shape[0], k)

    def inverse(self, z):
        """Back from whitened coordinates to samples (exact when every axis is kept)."""
        array = np.asarray(z.numpy() if isinstance(z, Tensor) else z, dtype=np.float64)
        k = self.matrix.shape[0]
        flat = array.reshape(-1, k) / self._scales(k)
        out = flat @ self.components[:, :k].T + self.mean
        return out.reshape((-1, *self.shape) if array.ndim > 1 else self.shape)


class ZCAWhitening(_Whitening):
    """ZCA whitening: ``U (Lambda + eps)^(-1/2) U^T``, a symmetric matrix that whitens
    and stays in pixel space (a whitened image keeps the input's shape)."""

    def _matrix(self) -> np.ndarray:
        u = self.components
        return (u * self._scales()) @ u.T
