"""Intra-op parallelism: one large op split over the batch across worker threads.

NumPy releases the GIL inside copies, ufuncs and BLAS calls, so the halves of a batch
can run at the same time in two Python threads. BLAS parallelises one large matrix
product on its own, but a convolution is also copies (im2col, col2im), pooling and
many small products, which run on one core; splitting the batch uses every core for
all of them (as PyTorch's intra-op thread pool does).

The number of threads is ``em.get_num_threads()``: the ``OMP_NUM_THREADS`` environment
variable when set (as PyTorch), otherwise the CPUs this process may run on; change it
with ``em.set_num_threads(n)``. An op splits only when each piece has enough work to
repay the hand-off (about ``MIN_WORK`` elements, or ``MIN_MACS`` multiply-adds for a
matrix product).

BLAS threads and ember's threads must not compete: an OpenBLAS thread spins for a while
after each product, holding a core that a batch piece needs. So the first time ember
splits a batch (a convolution or a pooling), it sets BLAS to one thread (through
``threadpoolctl``, installed with the ``fast`` extra) and from then on splits large
matrix products itself (:func:`matmul`: the rows of the left operand across the
threads). A model without such layers (an MLP, an LSTM) never splits a batch and keeps
BLAS's own threads, which split a product faster than Python threads can.
``em.set_num_threads(1)`` gives BLAS back its own thread count. Without ``threadpoolctl``
BLAS keeps its threads and ember splits only the batch of convolutions and pooling.

Results are bit-for-bit repeatable for a given thread count. A sum over the batch (a
weight gradient) adds the pieces' partial sums in a fixed order, so its last bits
depend on the thread count, as in every threaded framework.

>>> import ember as em
>>> n = em.get_num_threads()
>>> em.set_num_threads(1)
>>> em.get_num_threads()
1
>>> em.set_num_threads(n)
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from types import ModuleType

__all__ = ["get_num_threads", "set_num_threads", "batch_slices", "map_batch", "map_chunks",
           "matmul"]

MIN_WORK = 200_000  # elements touched per piece below which a split costs more than it saves
MIN_MACS = 500_000  # multiply-adds per piece of a matrix product, likewise

_lock = threading.Lock()
_state = {"threads": None, "pool": None, "blas": None}  # blas: threadpoolctl's limiter


def _default_threads() -> int:
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads ember's ops split their work over."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for ember's intra-op parallelism (1: no worker threads).

    ``n = 1`` also gives BLAS back the thread count it had before ember pinned it
    (``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS``, read when NumPy is imported).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    with _lock:
        _state["threads"] = n
        pool, _state["pool"] = _state["pool"], None
    if pool is not None:
        pool.shutdown()
    if n == 1 and _state["blas"]:
        _state["blas"].restore_original_limits()
        _state["blas"] = None


def _blas_pinned() -> bool:
    """Set BLAS to one thread (once, while ember uses several); whether BLAS is pinned."""
    limiter = _state["blas"]
    if limiter is None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            limiter = False
        else:
            limiter = threadpool_limits(limits=1, user_api="blas")
        _state["blas"] = limiter
    return bool(limiter)


class _Workers:
    """Daemon threads that run ``(fn, arg)`` tasks from one queue and put
    ``(index, ok, value)`` on the queue the task names. (``queue.SimpleQueue`` hands a
    task over in about 20 us, a ``ThreadPoolExecutor`` in about 70.)"""

    def __init__(self, count: int) -> None:
        self.count = count
        self.tasks = queue.SimpleQueue()
        for i in range(count):
            threading.Thread(target=self._loop, name=f"ember-worker-{i}", daemon=True).start()

    def _loop(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            fn, arg, index, results = task
            try:
                results.put((index, True, fn(arg)))
            except BaseException as error:  # noqa: BLE001  (re-raised in the caller)
                results.put((index, False, error))

    def shutdown(self) -> None:
        for _ in range(self.count):
            self.tasks.put(None)


def _pool(workers: int) -> _Workers:
    with _lock:
        pool = _state["pool"]
        if pool is None or pool.count < workers:
            if pool is not None:
                pool.shutdown()
            pool = _Workers(workers)
            _state["pool"] = pool
        return pool


def _forget_pool() -> None:  # a forked child must not use the parent's threads
    _state["pool"] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def batch_slices(n: int, work: int) -> list[slice]:
    """How to split a batch of ``n`` items whose op touches ``work`` elements in all:
    one slice per thread, or a single slice when the pieces would be too small."""
    pieces = min(get_num_threads(), n, max(work // MIN_WORK, 1))
    if pieces <= 1 or threading.current_thread().name.startswith("ember-worker"):
        return [slice(0, n)]
    bounds = [n * i // pieces for i in range(pieces + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(pieces)]


def map_batch(fn: Callable[[slice], object], n: int, work: int) -> list:
    """``[fn(s) for s in batch_slices(n, work)]``, the slices run at the same time (the
    first in the calling thread). Exceptions propagate to the caller.

    >>> map_batch(lambda s: (s.start, s.stop), 10, work=0)
    [(0, 10)]
    """
    return _run(fn, batch_slices(n, work))


def map_chunks(fn: Callable[[slice], object], n: int, chunk: int, work: int) -> list:
    """``fn`` over consecutive slices of at most ``chunk`` items, in order, the chunks
    shared out among the threads.

    Chunks keep a piece's working set (im2col's columns) in cache: an op over 256 images
    runs faster as 8 chunks of 32 than at once, even on one thread. The chunks have equal
    sizes (within one item) and their number is a multiple of the threads used, so that
    every thread gets as much work.

    >>> map_chunks(lambda s: (s.start, s.stop), 10, chunk=4, work=0)
    [(0, 3), (3, 6), (6, 10)]
    """
    count = -(-n // max(int(chunk), 1)) if n else 1  # chunks of at most `chunk`, ...
    pieces = len(batch_slices(n, work))
    count = -(-count // pieces) * pieces  # ... as many for every thread, of equal sizes
    bounds = [n * i // count for i in range(count + 1)]
    chunks = [slice(bounds[i], bounds[i + 1]) for i in range(count)]
    per = count // pieces
    groups = [slice(i * per, (i + 1) * per) for i in range(pieces)]
    parts = _run(lambda g: [fn(c) for c in chunks[g] if c.stop > c.start or n == 0], groups)
    return [value for part in parts for value in part]


def _run(fn: Callable[[slice], object], slices: list[slice]) -> list:
    """``[fn(s) for s in slices]``, the first in the calling thread, the others on the
    workers."""
    if len(slices) == 1:
        return [fn(slices[0])]
    _blas_pinned()
    pool = _pool(len(slices) - 1)
    results = queue.SimpleQueue()
    for index, piece in enumerate(slices[1:], 1):
        pool.tasks.put((fn, piece, index, results))
    values = [None] * len(slices)
    errors = []
    try:
        values[0] = fn(slices[0])
    except BaseException as error:  # noqa: BLE001  (the workers' pieces still finish first)
        errors.append(error)
    for _ in slices[1:]:
        index, ok, value = results.get()
        if ok:
            values[index] = value
        else:
            errors.append(value)
    if errors:
        raise errors[0]
    return values


def matmul(xp, a, b, out=None):
    """``a @ b``; for 2-d ``a`` (M, K) and ``b`` (K, N), the rows of ``a`` split across
    ember's threads when BLAS is pinned to one thread and the product is large enough.

    >>> import numpy as np
    >>> matmul(np, np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 2.],
           [3., 4.]])
    """
    if a.ndim != 2 or b.ndim != 2 or not isinstance(xp, ModuleType):  # tensors: recorded
        return xp.matmul(a, b, out=out)
    m, k = a.shape
    pieces = min(get_num_threads(), m // 8, m * k * b.shape[1] // MIN_MACS)
    if pieces <= 1 or not _state["blas"]:  # BLAS has its threads: it splits faster
        return xp.matmul(a, b, out=out)
    if out is None:
        out = xp.empty((m, b.shape[1]), xp.result_type(a, b))

    def rows(s):
        xp.matmul(a[s], b, out=out[s])

    map_batch(rows, m, pieces * MIN_WORK)
    return out
