"""DataLoader worker processes: the batches, their order and the workers' seeding as
PyTorch's, iterable datasets split by get_worker_info, persistence, errors and options."""

from __future__ import annotations

import os
import random
import time

import numpy as np
import pytest

import ember as em
from ember.data.workers import numpy_seed


class Probe:
    """A framework-neutral map dataset reporting which worker loaded each sample and what
    that worker's seeded generators give."""

    def __init__(self, n, info, to_tensor):
        self.n, self.info, self.to_tensor = n, info, to_tensor

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        worker = self.info()
        return {"x": self.to_tensor(np.full(3, float(i))),
                "worker": -1 if worker is None else worker.id,
                "numpy": int(np.random.randint(1 << 30)), "python": random.random()}


class Stream:
    """A framework-neutral iterable dataset, each worker yielding its own share."""

    def __init__(self, n, info):
        self.n, self.info = n, info

    def __iter__(self):
        worker = self.info()
        start, step = (0, 1) if worker is None else (worker.id, worker.num_workers)
        return iter(range(start, self.n, step))


def _probe(fw, n=19):
    if fw is em:
        return Probe(n, em.utils.data.get_worker_info, em.from_numpy)
    return Probe(n, fw.utils.data.get_worker_info, fw.from_numpy)


@pytest.mark.parametrize("workers", [2, 3])
def test_batches_and_their_workers_match_pytorch(torch, workers):
    batches = {}
    for fw in (torch, em):
        loader = fw.utils.data.DataLoader(_probe(fw), batch_size=4, num_workers=workers)
        batches[fw.__name__] = [(b["x"].numpy().tolist(), b["worker"].tolist())
                                for b in loader]
    assert batches["ember"] == batches["torch"]  # same samples, same worker for each batch
    serial = [b["x"].numpy().tolist() for b in em.utils.data.DataLoader(_probe(em), 4)]
    assert serial == [x for x, _ in batches["ember"]]


def test_shuffled_order_does_not_depend_on_num_workers():
    orders = []
    for workers in (0, 2):
        em.manual_seed(5)
        loader = em.utils.data.DataLoader(_probe(em), batch_size=5, shuffle=True,
                                          num_workers=workers)
        orders.append([b["x"][:, 0].tolist() for epoch in range(2) for b in loader])
    assert orders[0] == orders[1]


def test_worker_seeds_follow_pytorch_scheme(torch):
    import torch.utils.data._utils.worker as reference

    for base, worker in ((0, 0), (12345678901234, 3), (2**62 + 7, 1)):
        assert numpy_seed(base, worker) == reference._generate_state(base, worker)
    seen = []

    def init(worker_id):
        info = em.utils.data.get_worker_info()
        seen.append((worker_id, info.id, info.num_workers, info.seed))

    em.manual_seed(3)
    loader = em.utils.data.DataLoader(_probe(em, 8), batch_size=2, num_workers=2,
                                      worker_init_fn=lambda w: os.environ.setdefault("X", "1"))
    rows = [b for b in loader]
    by_worker = {}
    for b in rows:
        by_worker.setdefault(b["worker"][0].item(), []).extend(b["numpy"].tolist())
    assert set(by_worker) == {0, 1} and by_worker[0] != by_worker[1]  # seeded apart
    em.manual_seed(3)
    again = [b["numpy"].tolist() for b in em.utils.data.DataLoader(_probe(em, 8), 2,
                                                                    num_workers=2)]
    assert again == [b["numpy"].tolist() for b in rows]  # and repeatably
    assert em.utils.data.get_worker_info() is None and seen == []  # init ran in the workers


def test_worker_info_inside_workers():
    class Info(em.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = em.utils.data.get_worker_info()
            return np.array([info.id, info.num_workers, info.seed, info.dataset is self])

    em.manual_seed(0)
    rows = np.concatenate([b.numpy() for b in em.utils.data.DataLoader(Info(), 2,
                                                                         num_workers=2)])
    ids, counts, seeds, same = rows.T
    assert ids.tolist() == [0, 0, 1, 1] and set(counts) == {2} and all(same)
    assert seeds[2] - seeds[0] == 1  # base_seed + worker_id


@pytest.mark.parametrize("workers", [0, 2, 3])
def test_iterable_dataset_split_among_workers_matches_pytorch(torch, workers):
    results = []
    for fw in (torch, em):
        dataset = type("S", (Stream, fw.utils.data.IterableDataset), {})(
            10, fw.utils.data.get_worker_info)
        loader = fw.utils.data.DataLoader(dataset, batch_size=3, num_workers=workers)
        results.append([b.tolist() for b in loader])
    assert results[0] == results[1]


def test_persistent_workers_live_across_epochs():
    class Pid(em.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return os.getpid()

    def pids(loader):
        return {p for batch in loader for p in batch.tolist()}

    persistent = em.utils.data.DataLoader(Pid(), 2, num_workers=2, persistent_workers=True)
    first, second = pids(persistent), pids(persistent)
    assert first == second and os.getpid() not in first
    fresh = em.utils.data.DataLoader(Pid(), 2, num_workers=2)
    assert pids(fresh).isdisjoint(pids(fresh))
    persistent._workers.close()


def test_a_worker_error_is_raised_in_the_main_process():
    class Broken:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 3:
                raise KeyError(f"sample {i} is missing")
            return i

    # PyTorch's form: "Caught KeyError in DataLoader worker process 1.\nOriginal Traceback
    # ..." (not run here: a failed PyTorch loader takes 5 s per worker to shut down)
    with pytest.raises(KeyError, match="(?s)^Caught KeyError in DataLoader worker process 1"
                                       r"\.\nOriginal Traceback.*sample 3 is missing"):
        list(em.utils.data.DataLoader(Broken(), batch_size=2, num_workers=2))


def test_timeout():
    class Slow(em.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(1.5)
            return i

    with pytest.raises(RuntimeError, match="timed out"):
        list(em.utils.data.DataLoader(Slow(), num_workers=1, timeout=0.5))


def test_options_are_validated_as_pytorch(torch):
    for fw in (torch, em):
        data = fw.utils.data.TensorDataset(fw.ones(4, 2))
        with pytest.raises(ValueError, match="prefetch_factor"):
            fw.utils.data.DataLoader(data, prefetch_factor=2)
        with pytest.raises(ValueError, match="persistent_workers"):
            fw.utils.data.DataLoader(data, persistent_workers=True)
        with pytest.raises(ValueError, match="num_workers"):
            fw.utils.data.DataLoader(data, num_workers=-1)
        with pytest.warns(UserWarning, match="pin_memory"):
            list(fw.utils.data.DataLoader(data, pin_memory=True))
    loader = em.utils.data.DataLoader(em.utils.data.TensorDataset(em.ones(4, 2)),
                                      batch_size=None, num_workers=2, prefetch_factor=1)
    assert [tuple(x[0].shape) for x in loader] == [(2,)] * 4  # one sample each, as PyTorch
