"""Every collective against a NumPy reference (run under mpiexec; prints a JSON line).

Rank r's data is drawn from a generator seeded with r, so every rank can compute what
every other rank holds, and with it the expected result.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def data(rank: int, shape=(3, 4), dtype=np.float64) -> np.ndarray:
    values = np.random.default_rng(rank).normal(size=shape) * 10
    return values.astype(dtype) if np.dtype(dtype).kind == "f" else values.round().astype(dtype)


def main() -> None:
    import ember as em
    import ember.distributed as dist

    dist.init_process_group("mpi", timeout=60)
    rank, world = dist.get_rank(), dist.get_world_size()
    failures: list[str] = []

    def check(name, got, expected, exact=False):
        got = got.numpy() if isinstance(got, em.Tensor) else np.asarray(got)
        ok = np.array_equal(got, expected) if exact else np.allclose(got, expected, rtol=1e-12)
        if not ok or got.dtype != np.asarray(expected).dtype:
            failures.append(f"rank {rank}: {name}: got {got!r}, expected {expected!r}")

    everyone = [data(r) for r in range(world)]
    mine = em.tensor(everyone[rank])

    # all_reduce, every op, three dtypes
    references = {"sum": np.sum, "avg": np.mean, "product": np.prod, "min": np.min,
                  "max": np.max}
    for dtype in (np.float64, np.float32, np.int64):
        stack = np.stack([data(r, dtype=dtype) for r in range(world)])
        for op, reference in references.items():
            if op == "avg" and dtype == np.int64:
                continue
            t = em.tensor(data(rank, dtype=dtype))
            version = t._version
            dist.all_reduce(t, op=getattr(dist.ReduceOp, op.upper()))
            expected = reference(stack, axis=0).astype(dtype)
            if dtype == np.float32:
                got = t.numpy()
                if not np.allclose(got, expected, rtol=1e-5) or got.dtype != dtype:
                    failures.append(f"rank {rank}: all_reduce {op} float32: {got} vs {expected}")
            else:
                check(f"all_reduce {op} {np.dtype(dtype)}", t, expected, exact=dtype != np.float64)
            if t._version == version:
                failures.append(f"rank {rank}: all_reduce did not bump the version counter")
    flags = em.tensor(np.array([rank == 0, True, False]))
    dist.all_reduce(flags, op="max")
    check("all_reduce bool max", flags, np.array([True, True, False]), exact=True)
    t = em.tensor(everyone[rank].copy())
    dist.all_reduce(t, op="mean")
    check("all_reduce 'mean'", t, np.mean(everyone, axis=0))

    # zero-copy: the reduction lands in the very array the tensor holds
    t = em.tensor(everyone[rank].copy())
    array = t.numpy()
    dist.all_reduce(t)
    if t.numpy() is not array:
        failures.append(f"rank {rank}: all_reduce replaced the tensor's array (not zero-copy)")
    # a non-contiguous view goes through a copy and is written back
    base = em.tensor(everyone[rank].copy())
    view = base.T
    dist.all_reduce(view)
    check("all_reduce of a transposed view", base, np.sum(everyone, axis=0))

    # asynchronous
    t = em.tensor(everyone[rank].copy())
    work = dist.all_reduce(t, async_op=True)
    work.wait()
    check("all_reduce async", t, np.sum(everyone, axis=0))
    if not work.is_completed():
        failures.append(f"rank {rank}: Work.is_completed() is False after wait()")

    # broadcast from the last rank
    t = em.tensor(everyone[rank].copy())
    dist.broadcast(t, src=world - 1)
    check("broadcast", t, everyone[world - 1], exact=True)

    # all_gather and all_gather_into_tensor (stacked and concatenated)
    outputs = [em.zeros(3, 4, dtype=em.float64) for _ in range(world)]
    dist.all_gather(outputs, mine)
    for r in range(world):
        check(f"all_gather[{r}]", outputs[r], everyone[r], exact=True)
    stacked = em.zeros(world, 3, 4, dtype=em.float64)
    dist.all_gather_into_tensor(stacked, mine)
    check("all_gather_into_tensor stacked", stacked, np.stack(everyone), exact=True)
    joined = em.zeros(world * 3, 4, dtype=em.float64)
    dist.all_gather_into_tensor(joined, mine)
    check("all_gather_into_tensor concatenated", joined, np.concatenate(everyone), exact=True)

    # reduce_scatter: rank r gets the sum over ranks of their block r
    blocks = {r: [data(100 * r + k) for k in range(world)] for r in range(world)}
    out = em.zeros(3, 4, dtype=em.float64)
    dist.reduce_scatter(out, [em.tensor(b) for b in blocks[rank]])
    check("reduce_scatter", out, sum(blocks[r][rank] for r in range(world)))
    out = em.zeros(3, 4, dtype=em.float64)
    dist.reduce_scatter_tensor(out, em.tensor(np.concatenate(blocks[rank])), op="max")
    check("reduce_scatter_tensor max", out, np.max([blocks[r][rank] for r in range(world)], 0))

    # reduce to the last rank; gather to rank 0; scatter from rank 1
    t = em.tensor(everyone[rank].copy())
    dist.reduce(t, dst=world - 1, op=dist.ReduceOp.MIN)
    check("reduce min", t, np.min(everyone, 0) if rank == world - 1 else everyone[rank])
    gathered = [em.zeros(3, 4, dtype=em.float64) for _ in range(world)] if rank == 0 else None
    dist.gather(mine, gathered, dst=0)
    if rank == 0:
        for r in range(world):
            check(f"gather[{r}]", gathered[r], everyone[r], exact=True)
    pieces = [em.tensor(data(50 + r)) for r in range(world)] if rank == 1 else None
    t = em.zeros(3, 4, dtype=em.float64)
    dist.scatter(t, pieces, src=1)
    check("scatter", t, data(50 + rank), exact=True)

    # point to point: a ring
    right, left = (rank + 1) % world, (rank - 1) % world
    outgoing = dist.isend(mine, dst=right)
    incoming = em.zeros(3, 4, dtype=em.float64)
    sender = dist.recv(incoming, src=None)
    outgoing.wait()
    check("send/recv ring", incoming, everyone[left], exact=True)
    if sender != left:
        failures.append(f"rank {rank}: recv reported sender {sender}, expected {left}")

    # objects
    objects = [None] * world
    dist.all_gather_object(objects, {"rank": rank, "text": "x" * rank})
    if objects != [{"rank": r, "text": "x" * r} for r in range(world)]:
        failures.append(f"rank {rank}: all_gather_object gave {objects}")
    items = [("from", 0), 3.5] if rank == 0 else [None, None]
    dist.broadcast_object_list(items, src=0)
    if items != [("from", 0), 3.5]:
        failures.append(f"rank {rank}: broadcast_object_list gave {items}")

    # a group of the first and last ranks; the others are outside it
    members = [0, world - 1]
    sub = dist.new_group(members)
    t = em.tensor(everyone[rank].copy())
    result = dist.all_reduce(t, group=sub)
    if rank in members:
        check("all_reduce in a group", t, everyone[0] + everyone[world - 1])
        if dist.get_world_size(sub) != 2 or dist.get_rank(sub) != members.index(rank):
            failures.append(f"rank {rank}: group size/rank wrong")
    else:
        check("all_reduce outside the group leaves the tensor", t, everyone[rank], exact=True)
        if result is not None or dist.get_rank(sub) != -1:
            failures.append(f"rank {rank}: a non-member's collective should do nothing")

    # clear errors
    try:
        dist.all_gather([em.zeros(3, 4, dtype=em.float64)], mine)
        failures.append(f"rank {rank}: all_gather with a short list did not raise")
    except ValueError as error:
        if "list of" not in str(error):
            failures.append(f"rank {rank}: unclear error {error}")
    try:
        dist.all_reduce(em.tensor([1, 2]), op="avg")
        failures.append(f"rank {rank}: AVG of integers did not raise")
    except TypeError:
        pass

    dist.barrier()
    dist.all_gather_object(objects, failures)
    if rank == 0:
        print(json.dumps({"world": world, "failures": sum(objects, [])}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
    sys.exit(0)
