"""assert_close: compare tensors, arrays or PyTorch tensors element by element."""

from __future__ import annotations

import numpy as np


def to_numpy(x) -> np.ndarray:
    """An array from an ember tensor, a PyTorch tensor, an array or a number."""
    from ember.tensor import Tensor

    if isinstance(x, Tensor):
        return x._data
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch.Tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, *, rtol: float = 1e-6, atol: float = 1e-6,
                 check_dtype: bool = False, name: str = "value") -> None:
    """Raise AssertionError unless shapes match and |actual - expected| <= atol + rtol|expected|.

    >>> import ember as em
    >>> assert_close(em.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-9])
    """
    a, e = to_numpy(actual), to_numpy(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{name}: shape {a.shape} != expected {e.shape}")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(f"{name}: dtype {a.dtype} != expected {e.dtype}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        index = np.unravel_index(int(np.argmin(close)), a.shape) if a.ndim else ()
        worst = float(np.nanmax(np.abs(a64 - e64)))
        raise AssertionError(
            f"{name}: {int((~close).sum())} of {close.size} elements differ; first at "
            f"{tuple(int(i) for i in index)}: {a64[index]!r} != expected {e64[index]!r} "
            f"(largest difference {worst:.3g}, rtol={rtol}, atol={atol})"
        )
