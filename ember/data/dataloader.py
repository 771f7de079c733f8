"""DataLoader: iterate over a dataset in (shuffled) batches of ember Tensors.

As ``torch.utils.data.DataLoader``, in the main process. The batch size decides which
flavour of gradient descent a training loop does:

* ``batch_size=1``: stochastic gradient descent (SGD), one update per sample;
* ``batch_size=len(dataset)``: (full-)batch gradient descent, one update per epoch on
  the exact gradient of the training loss;
* anything in between: mini-batch gradient descent, the usual choice (a less noisy
  gradient than SGD, many updates per epoch, and vectorised work per update).

>>> import ember as em
>>> data = em.data.TensorDataset(em.arange(10).reshape(5, 2), em.tensor([0, 1, 0, 1, 1]))
>>> loader = DataLoader(data, batch_size=2)
>>> len(loader)
3
>>> x, y = next(iter(loader))
>>> x, y
(tensor([[0, 1],
        [2, 3]]), tensor([0, 1]))
"""

from __future__ import annotations

import collections.abc
import itertools
from collections.abc import Iterator

import numpy as np

from ember import dtypes
from ember.creation import as_tensor
from ember.data.dataset import IterableDataset
from ember.data.sampler import BatchSampler, RandomSampler, SequentialSampler, as_generator
from ember.data.workers import IterableFetcher, MapFetcher, WorkerPool, warn_pin_memory
from ember.functions import stack
from ember.tensor import Tensor

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                  "dicts or lists; found {}")


def default_collate(batch: list):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors and NumPy arrays are stacked along a new first dimension (arrays keep their
    dtype); Python ints become an int64 tensor, floats a float32 tensor (ember's default
    float type; PyTorch gives float64 here), bools a bool tensor, NumPy scalars keep their
    dtype; strings stay a list; dicts, tuples and lists are collated element by element
    (a tuple sample gives a list, a namedtuple stays a namedtuple).

    >>> import ember as em
    >>> default_collate([(em.zeros(2), 1), (em.ones(2), 0)])
    [tensor([[0., 0.],
            [1., 1.]]), tensor([1, 0])]
    >>> default_collate([{"x": 0.5}, {"x": 1.5}])
    {'x': tensor([0.5000, 1.5000])}
    """
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError("default_collate: expects a non-empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USO":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        shapes = {np.shape(x) for x in batch}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: arrays of different shapes {sorted(shapes)} "
                             "cannot be stacked")
        return as_tensor(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind not in "USO":
        return as_tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.asarray(batch, dtype=dtypes.bool_))
    if isinstance(elem, int):
        return Tensor._wrap(np.asarray(batch, dtype=dtypes.int64))
    if isinstance(elem, float):
        return Tensor._wrap(np.asarray(batch, dtype=dtypes.get_default_dtype()))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        merged = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(merged)
        except TypeError:
            return merged
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        return [default_collate(list(samples)) for samples in zip(*batch, strict=True)]
    raise TypeError(_COLLATE_ERROR.format(type(elem).__name__))


def default_convert(data):
    """NumPy arrays (and NumPy scalars) to tensors, inside dicts and sequences too;
    everything else unchanged. The collate function when ``batch_size=None``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind not in "USO":
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(x) for x in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(x) for x in data]
    return data


class DataLoader:
    """Batches of a dataset, in order or shuffled anew each epoch, loaded in the main
    process or by worker processes.

    Shuffling draws one permutation from ember's global generator when an epoch starts
    (when the loader is iterated), so ``em.manual_seed(n)`` repeats the order, and a run
    resumed with the generator's state restored (``em.random.set_rng_state``) continues
    it. A ``generator`` or ``seed`` gives the loader its own generator instead.

    Fast path: with the default collate, a dataset that holds whole arrays
    (:class:`TensorDataset`, the :mod:`ember.datasets` without a transform, Subsets of
    them) is indexed once per batch with the batch's index array, instead of sample by
    sample.

    Workers (``num_workers > 0``): batches are loaded by that many worker processes in
    parallel and delivered in the sampler's order, as PyTorch's are (see
    :mod:`ember.data.workers` for the seeding: ``base_seed + worker_id``, a new base seed
    each time workers start). Worth it when loading a batch is slow Python (decoding,
    augmentation); batches travel between processes by pickling.

    Args:
        dataset: a map-style dataset (``len`` and ``[i]``) or an :class:`IterableDataset`.
        batch_size: samples per batch (default 1); None disables batching (samples one by
            one, arrays converted to tensors).
        shuffle: a new random order each epoch (default False).
        sampler: yields the indices to load (excludes ``shuffle``).
        batch_sampler: yields lists of indices, one per batch (excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: worker processes (default 0: load in the main process).
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        pin_memory: accepted; without an accelerator it does nothing (with PyTorch's
            warning).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a worker's batch before a RuntimeError (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker, after
            seeding.
        multiprocessing_context: ``"fork"``, ``"spawn"``, ``"forkserver"`` or a context.
        generator: a NumPy Generator or an int seed for shuffling and the workers' base
            seed (default: the global generator).
        prefetch_factor: batches each worker loads ahead (default 2 with workers).
        persistent_workers: keep the workers (and their state) from one epoch to the next.
        in_order: deliver batches in the sampler's order (only True is supported).
        seed: an int seed, the same as ``generator=seed``.

    ``len(loader)`` is the number of batches: ceil(N / batch_size), or
    floor(N / batch_size) with ``drop_last=True``.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None) -> None:
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: give either generator or seed, not both")
            generator = seed
        self.generator = as_generator(generator)
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers, in_order)
        self.num_workers, self.timeout = num_workers, timeout
        self.prefetch_factor = (2 if prefetch_factor is None else prefetch_factor) \
            if num_workers > 0 else None
        self.persistent_workers, self.pin_memory = persistent_workers, pin_memory
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._workers = None
        shuffle = bool(shuffle)
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable:
            if shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "sampler and batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        if sampler is None and not self.iterable:
            sampler = (RandomSampler(dataset, generator=self.generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self.iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            batched = batch_sampler is not None or (self.iterable and batch_size is not None)
            collate_fn = default_collate if batched else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if self.iterable:
            n = len(self.dataset)  # a TypeError when the iterable dataset has no length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator:
        if self.pin_memory:
            warn_pin_memory()
        if self.num_workers > 0:
            return self._from_workers()
        if self.iterable:
            return self._from_iterable(iter(self.dataset))
        # the sampler is asked for its order here, when the epoch starts
        if self.batch_sampler is None:
            indices = iter(self.sampler)
            return (self.collate_fn(self.dataset[i]) for i in indices)
        return self._load(self._index_batches())

    def _index_batches(self):
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler.index_batches()
        return iter(self.batch_sampler)

    def _load(self, batches) -> Iterator:
        fetch = None
        if self.collate_fn is default_collate:
            fetch = getattr(self.dataset, "fetch_batch", None)
        for indices in batches:
            batch = None
            if fetch is not None:
                batch = fetch(np.asarray(indices, dtype=np.int64))
            if batch is None:
                if isinstance(indices, np.ndarray):
                    indices = indices.tolist()
                batch = self.collate_fn([self.dataset[i] for i in indices])
            yield batch

    def _from_iterable(self, iterator) -> Iterator:
        """Batches of an iterable dataset, in the main process."""
        fetch = IterableFetcher(self.collate_fn, self.batch_size, self.drop_last)
        while True:
            try:
                yield fetch(iterator, None)
            except StopIteration:
                return

    def _from_workers(self) -> Iterator:
        """The epoch's batches, loaded by the worker processes, in order."""
        if self._workers is None or self._workers.closed:
            if self.iterable:
                fetch = IterableFetcher(self.collate_fn, self.batch_size, self.drop_last)
            else:
                fast = (self.collate_fn is default_collate
                        and callable(getattr(self.dataset, "fetch_batch", None)))
                fetch = MapFetcher(self.collate_fn, self.batch_sampler is not None, fast)
            self._workers = WorkerPool(self, fetch)
        pool = self._workers
        if self.iterable:
            tasks = itertools.repeat(None)
        elif self.batch_sampler is None:
            tasks = iter(self.sampler)
        else:
            tasks = (b.tolist() if isinstance(b, np.ndarray) else list(b)
                     for b in self._index_batches())
        return self._epoch(pool, tasks)

    def _epoch(self, pool, tasks) -> Iterator:
        try:
            yield from pool.epoch(tasks)
        finally:
            if not self.persistent_workers:
                pool.close()

    def __del__(self) -> None:
        if getattr(self, "_workers", None) is not None:
            self._workers.close()

    def __repr__(self) -> str:
        size = len(self.dataset) if hasattr(self.dataset, "__len__") else "?"
        batches = len(self) if not self.iterable or hasattr(self.dataset, "__len__") else "?"
        return (f"DataLoader(dataset={type(self.dataset).__name__} of {size}, "
                f"batch_size={self.batch_size}, batches={batches}, "
                f"sampler={type(self.sampler).__name__}, drop_last={self.drop_last}, "
                f"num_workers={self.num_workers})")


def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers, in_order) -> None:
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if not in_order:
        raise ValueError("DataLoader: in_order=False is not supported; batches arrive in "
                         "the sampler's order")
