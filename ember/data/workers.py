"""DataLoader worker processes: batches loaded in parallel, delivered in order.

With ``num_workers=N`` the main process keeps drawing the epoch's index batches from the
sampler and hands them out round robin: batch i goes to worker i mod N, through that
worker's own queue. Each worker (a separate process, so slow Python transforms run truly
in parallel) fetches and collates its batches and sends them back on one shared queue;
the main process puts them back in order. At most ``prefetch_factor`` batches per worker
are in flight.

Seeding is PyTorch's scheme: each time workers start, a new base seed comes from the
loader's generator (or ember's global one; see :func:`base_seed`); worker w seeds
``random`` and ember's global generator with ``base_seed + w`` and NumPy's legacy global
generator with the same 128 bits PyTorch derives from (base_seed, w), runs with one
intra-op thread, then calls ``worker_init_fn(w)``. :func:`get_worker_info` tells code
inside a worker which it is (to split an :class:`~ember.data.IterableDataset`, or to
seed something else).
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import random
import traceback
import warnings
from dataclasses import dataclass

import numpy as np

MASK32 = 0xFFFFFFFF


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself (``get_worker_info()`` inside a worker)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its :class:`WorkerInfo`; None in the main process.

    >>> get_worker_info() is None
    True
    """
    return _worker_info


def numpy_seed(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words PyTorch seeds NumPy's global generator with in a worker: the
    entropy (worker_id, low and high halves of base_seed, 0) hashed and mixed as NumPy's
    SeedSequence does, so every worker's stream differs."""
    multiplier = [0x43B0D7E5]

    def hashed(value: int) -> int:
        value = (value ^ multiplier[0]) & MASK32
        multiplier[0] = (multiplier[0] * 0x931E8875) & MASK32
        value = (value * multiplier[0]) & MASK32
        return (value ^ (value >> 16)) & MASK32

    def mixed(x: int, y: int) -> int:
        value = ((0xCA01F9DD * x) - (0x4973F715 * y)) & MASK32
        return (value ^ (value >> 16)) & MASK32

    pool = [hashed(v) for v in (worker_id, base_seed & MASK32, base_seed >> 32, 0)]
    for source in range(4):
        for target in range(4):
            if source != target:
                pool[target] = mixed(pool[target], hashed(pool[source]))
    state, multiplier_b = [], 0x8B51F9DD
    for value in pool:
        value = (value ^ multiplier_b) & MASK32
        multiplier_b = (multiplier_b * 0x58F38DED) & MASK32
        value = (value * multiplier_b) & MASK32
        state.append((value ^ (value >> 16)) & MASK32)
    return state


# ----------------------------------------------------------------------------- the worker


class _StopWorker:
    """An iterable dataset's copy in this worker is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _WorkerError:
    """An exception raised in a worker, carried back to be raised in the main process."""

    def __init__(self, worker_id: int, error: BaseException) -> None:
        self.worker_id = worker_id
        self.type = type(error)
        self.text = "".join(traceback.format_exception(error))

    def reraise(self):
        message = (f"Caught {self.type.__name__} in DataLoader worker process "
                   f"{self.worker_id}.\nOriginal {self.text}")
        if issubclass(self.type, KeyError):  # a KeyError would print its message quoted
            message = _Message(message)
        try:
            error = self.type(message)
        except Exception:  # an exception whose constructor takes other arguments
            error = RuntimeError(message)
        raise error


class _Message(str):
    """A message that a KeyError prints as it is (KeyError prints the repr of its text)."""

    def __repr__(self) -> str:
        return self


def _worker_loop(fetch, dataset, index_queue, result_queue, base_seed: int, init_fn,
                 worker_id: int, num_workers: int) -> None:
    """A worker's life: seed, initialise, then fetch batches until told to stop (None)."""
    global _worker_info
    import ember

    try:
        ember.set_num_threads(1)
        seed = base_seed + worker_id
        random.seed(seed)
        ember.manual_seed(seed % 2**64)
        np.random.seed(numpy_seed(base_seed, worker_id))
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        if init_fn is not None:
            init_fn(worker_id)
        state = fetch.start(dataset)
    except Exception as error:  # reported with the first task, as PyTorch does
        state, failure = None, _WorkerError(worker_id, error)
    else:
        failure = None
    while True:
        try:
            task = index_queue.get(timeout=5.0)
        except queue.Empty:
            continue
        if task is None:
            break
        task_id, indices = task
        if task_id == "reset":  # a new epoch of an iterable dataset
            state = fetch.start(dataset)
            continue
        if failure is not None:
            result_queue.put((task_id, failure))
            continue
        try:
            batch = fetch(state, indices)
        except StopIteration:
            batch = _StopWorker(worker_id)
        except Exception as error:
            batch = _WorkerError(worker_id, error)
        result_queue.put((task_id, batch))


class MapFetcher:
    """Fetch a map-style dataset's batch for a list of indices (or one sample)."""

    def __init__(self, collate_fn, batched: bool, fetch_batch) -> None:
        self.collate_fn, self.batched, self.fetch_batch = collate_fn, batched, fetch_batch

    def start(self, dataset):
        return dataset

    def __call__(self, dataset, indices):
        if not self.batched:
            return self.collate_fn(dataset[indices])
        if self.fetch_batch:
            batch = dataset.fetch_batch(np.asarray(indices, dtype=np.int64))
            if batch is not None:
                return batch
        return self.collate_fn([dataset[i] for i in indices])


class IterableFetcher:
    """Fetch the next batch from this worker's iterator over an iterable dataset."""

    def __init__(self, collate_fn, batch_size, drop_last: bool) -> None:
        self.collate_fn, self.batch_size, self.drop_last = collate_fn, batch_size, drop_last

    def start(self, dataset):
        return iter(dataset)

    def __call__(self, iterator, _):
        if self.batch_size is None:
            return self.collate_fn(next(iterator))
        batch = list(itertools.islice(iterator, self.batch_size))
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


# ----------------------------------------------------------------------------- main side


class WorkerPool:
    """The worker processes of one DataLoader, and the in-order delivery of their batches.

    Args:
        loader: the DataLoader (its dataset, workers' options and generator).
        fetch: a :class:`MapFetcher` or :class:`IterableFetcher`.
    """

    def __init__(self, loader, fetch) -> None:
        context = loader.multiprocessing_context
        if context is None:
            context = multiprocessing.get_context()
        elif isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.num_workers = loader.num_workers
        self.prefetch = loader.prefetch_factor * loader.num_workers
        self.timeout = loader.timeout
        self.iterable = isinstance(fetch, IterableFetcher)
        generator = loader.generator if loader.generator is not None else _global_generator()
        self.base_seed = base_seed(generator)
        self.result_queue = context.Queue()
        self.index_queues, self.workers = [], []
        for w in range(self.num_workers):
            index_queue = context.Queue()
            worker = context.Process(
                target=_worker_loop, daemon=True,
                args=(fetch, loader.dataset, index_queue, self.result_queue, self.base_seed,
                      loader.worker_init_fn, w, self.num_workers))
            worker.start()
            self.index_queues.append(index_queue)
            self.workers.append(worker)
        self.closed = False
        self.epoch_id = 0

    def epoch(self, tasks):
        """Yield the batches of ``tasks`` (index lists; None for an iterable dataset) in
        order, while the workers prefetch ahead."""
        tasks = iter(tasks)
        active = [True] * self.num_workers
        self.epoch_id += 1  # results of an epoch left unfinished are recognised and dropped
        if self.iterable:
            for q in self.index_queues:
                q.put(("reset", None))
        sent = received = 0
        cycle = itertools.cycle(range(self.num_workers))
        pending: dict[int, int] = {}  # task id -> worker
        done: dict[int, object] = {}

        def send() -> bool:
            nonlocal sent
            if not any(active):
                return False
            indices = next(tasks, StopIteration)
            if indices is StopIteration:
                return False
            worker = next(w for w in cycle if active[w])
            self.index_queues[worker].put(((self.epoch_id, sent), indices))
            pending[sent] = worker
            sent += 1
            return True

        for _ in range(self.prefetch):
            if not send():
                break
        while received < sent:
            while received not in done:
                (epoch, task_id), batch = self._get()
                if epoch == self.epoch_id:
                    done[task_id] = batch
            batch = done.pop(received)
            pending.pop(received)
            received += 1
            if isinstance(batch, _StopWorker):
                active[batch.worker_id] = False
                send()
                continue
            if isinstance(batch, _WorkerError):
                self.close(terminate=True)
                batch.reraise()
            send()
            yield batch

    def _get(self):
        """The next result from any worker; a RuntimeError if one died or timed out."""
        waited = 0.0
        while True:
            try:
                return self.result_queue.get(timeout=1.0 if not self.timeout else
                                             min(1.0, self.timeout))
            except queue.Empty:
                waited += 1.0 if not self.timeout else min(1.0, self.timeout)
                dead = [w.pid for w in self.workers if not w.is_alive()]
                if dead:
                    self.close(terminate=True)
                    raise RuntimeError(f"DataLoader worker (pid(s) "
                                       f"{', '.join(map(str, dead))}) exited unexpectedly"
                                       ) from None
                if self.timeout and waited >= self.timeout:
                    self.close(terminate=True)
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} "
                                       "seconds") from None

    def close(self, terminate: bool = False) -> None:
        """Tell the workers to stop and wait for them (terminating any that hang, or all
        at once with ``terminate``, after an error)."""
        if self.closed:
            return
        self.closed = True
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for worker in self.workers:
            if terminate:
                worker.terminate()
            worker.join(timeout=5.0)
            if worker.is_alive():
                worker.terminate()
        for q in [*self.index_queues, self.result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def base_seed(generator: np.random.Generator) -> int:
    """A new base seed from ``generator`` without advancing its stream: a child spawned
    from its seed sequence (the k-th child after ``manual_seed(n)`` is always the same).

    PyTorch draws the base seed from the stream in every epoch, workers or not; ember
    draws nothing when loading in the main process, so taking the seed aside keeps the
    shuffled order the same whatever ``num_workers`` is, as it is in PyTorch.
    """
    try:
        child = generator.spawn(1)[0]
    except (TypeError, ValueError, AttributeError):  # a generator without a seed sequence
        child = generator
    return int(child.integers(0, 2**63))


def _global_generator():
    from ember import random as ember_random

    return ember_random.generator()


def warn_pin_memory() -> None:
    warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                  "device pinned memory won't be used.", UserWarning, stacklevel=3)
