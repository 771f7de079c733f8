"""A job with a broken rank must end with a clear message, not hang.

``raise``: rank 1 raises while rank 0 waits in an all-reduce for it (the uncaught
exception aborts the job). ``hang``: rank 1 is stuck while rank 0 waits with a 2 s
timeout (the timeout error aborts the job). ``backward``: rank 1 raises inside its
model's forward pass while rank 0 waits for the gradient reduction.
"""

from __future__ import annotations

import sys
import time


def main(mode: str) -> None:
    import ember as em
    import ember.distributed as dist

    dist.init_process_group("mpi", timeout=2 if mode == "hang" else 60)
    rank = dist.get_rank()
    if mode == "backward":
        class Fragile(em.nn.Linear):
            def forward(self, x):
                if rank == 1:
                    raise ValueError("rank one broke in forward")
                return super().forward(x)

        model = em.nn.parallel.DistributedDataParallel(Fragile(3, 2))
        model(em.ones(4, 3)).sum().backward()
    if rank == 1:
        if mode == "raise":
            raise ValueError("rank one broke")
        time.sleep(60)
    dist.all_reduce(em.ones(3))
    print("rank", rank, "finished: the failure went unnoticed")


if __name__ == "__main__":
    main(sys.argv[1])
