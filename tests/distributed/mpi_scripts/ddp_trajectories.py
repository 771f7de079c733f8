"""Two ranks with half the batch each follow one process with the whole batch (float64).

Every rank also runs the single-process reference itself (plain model, plain BatchNorm,
the whole batch), so the comparison needs no files. The DistributedDataParallel model is
built with a different seed on every rank: the wrapper must make rank 0's weights
everyone's. Prints, on rank 0, a JSON line: the largest difference per case (parameters
and buffers, after every step) and the failures of the other checks.
"""

from __future__ import annotations

import copy
import json

import numpy as np

STEPS = 4
BATCH = 8


def mlp(em):
    nn = em.nn
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 12), nn.ReLU(),
                         nn.Linear(12, 3))


def convnet(em):
    # no bias right before a BatchNorm (nor a BatchNorm's bias before another without a
    # nonlinearity between): its gradient would be 0 up to rounding, which Adam's
    # normalisation turns into steps of size lr in directions set by the rounding
    nn = em.nn
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                         nn.ReLU(), nn.Conv2d(4, 4, 3, bias=False),
                         nn.BatchNorm2d(4, momentum=None), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 8, bias=False), nn.BatchNorm1d(8), nn.Tanh(),
                         nn.Linear(8, 3))


def batches(em, case: str, rng):
    shape = (BATCH, 6) if case.startswith("mlp") else (BATCH, 2, 6, 6)
    for _ in range(STEPS):
        x = em.tensor(rng.normal(size=shape))
        y = em.tensor(rng.integers(0, 3, BATCH))
        yield x, y


def optimizer_for(em, name: str, params):
    if name == "sgd":
        return em.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3)
    return em.optim.Adam(params, lr=0.01, weight_decay=1e-3)


CASES = {  # name: (model, optimizer, DDP options, micro-batches per step)
    "mlp-sgd-momentum": (mlp, "sgd", {}, 1),
    "mlp-adam-small-buckets": (mlp, "adam", {"bucket_cap_mb": 0.0001}, 1),
    "mlp-sgd-no_sync-accumulation": (mlp, "sgd", {}, 3),
    "syncbn-sgd-momentum": (convnet, "sgd", {"bucket_cap_mb": 0.002}, 1),
    "syncbn-adam-grad-views": (convnet, "adam", {"gradient_as_bucket_view": True}, 1),
}


def run_case(em, dist, name: str) -> float:
    build, opt_name, options, micro = CASES[name]
    rank, world = dist.get_rank(), dist.get_world_size()
    loss_fn = em.nn.CrossEntropyLoss()

    em.manual_seed(0)
    reference = build(em).double()
    em.manual_seed(1000 + rank)  # a different start on every rank: DDP must broadcast rank 0's
    local = build(em).double()
    if name.startswith("syncbn"):
        local = em.nn.SyncBatchNorm.convert_sync_batchnorm(local)
    if rank == 0:
        local.load_state_dict(reference.state_dict())
    model = em.nn.parallel.DistributedDataParallel(local, **options)
    starts = []  # for each bucket started: was the backward pass still running?
    start_buckets = model._start_ready_buckets

    def recording_start():
        before = model._next_bucket
        start_buckets()
        starts.extend([em.autograd.engine._pass.callbacks is not None]
                      * (model._next_bucket - before))

    model._start_ready_buckets = recording_start
    ref_opt = optimizer_for(em, opt_name, reference.parameters())
    opt = optimizer_for(em, opt_name, model.parameters())

    def difference() -> float:
        ours, theirs = local.state_dict(), reference.state_dict()
        return max(float(np.max(np.abs(ours[k].numpy().astype(np.float64)
                                       - theirs[k].numpy().astype(np.float64))))
                   for k in theirs)

    worst = difference()  # after the broadcast
    rng = np.random.default_rng(7)
    for _ in range(STEPS):
        ref_opt.zero_grad()
        opt.zero_grad()
        for m in range(micro):
            x, y = next(iter(batches(em, name, rng)))
            loss_fn(reference(x), y).backward()
            share = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
            if m < micro - 1:
                with model.no_sync():
                    loss_fn(model(x[share]), y[share]).backward()
            else:
                loss_fn(model(x[share]), y[share]).backward()
        ref_opt.step()
        opt.step()
        worst = max(worst, difference())
    buckets = len(model._buckets)
    if len(starts) != buckets * STEPS or (buckets > 1 and not any(starts)):
        raise AssertionError(f"{name}: {buckets} buckets, started {len(starts)} times over "
                             f"{STEPS} steps, during the backward pass: {sum(starts)}")
    if "small" in name and buckets < 3:
        raise AssertionError(f"{name}: expected several buckets, got {buckets}")
    return worst


def unused_parameters(em, dist) -> list[str]:
    """A layer only rank 1 uses gets half of rank 1's gradient; one no rank uses keeps
    .grad None; gradients are the same on every rank."""
    rank = dist.get_rank()
    failures = []

    class TwoHeads(em.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = em.nn.Linear(3, 3)
            self.sometimes = em.nn.Linear(3, 1)
            self.never = em.nn.Linear(3, 1)

        def forward(self, x, use):
            h = self.body(x).sum()
            return h + self.sometimes(x).sum() if use else h

    em.manual_seed(3)
    net = TwoHeads().double()
    model = em.nn.parallel.DistributedDataParallel(net)
    x = em.tensor(np.full((2, 3), 1.0 + rank))
    model(x, use=rank == 1).backward()
    if net.never.weight.grad is not None:
        failures.append("a parameter no rank used got a gradient")
    expected = 0.5 * np.full((1, 3), 2 * 2.0)  # rank 1: d/dw sum(x w^T) = column sums = 2*2
    if not np.allclose(net.sometimes.weight.grad.numpy(), expected):
        failures.append(f"rank {rank}: partly used layer's gradient "
                        f"{net.sometimes.weight.grad.numpy()} != {expected}")
    grads = [None, None]
    dist.all_gather_object(grads, net.body.weight.grad.numpy())
    if not np.array_equal(grads[0], grads[1]):
        failures.append("the ranks' averaged gradients differ")
    return failures


def evaluation_between_and_a_second_backward(em, dist) -> list[str]:
    """A forward pass without a graph between forward and backward does not cancel the
    averaging; a second backward pass through a retained graph is averaged too."""
    rank = dist.get_rank()
    em.manual_seed(4)
    net = em.nn.Linear(3, 2).double()
    model = em.nn.parallel.DistributedDataParallel(net)
    x = em.tensor(np.full((2, 3), 1.0 + rank))
    loss = model(x).sum()
    with em.no_grad():
        model(x)
    loss.backward(retain_graph=True)
    first = net.weight.grad.numpy().copy()
    loss.backward()
    # d/dW sum(x W^T) = the column sums of x: 2 (1 + rank); averaged: (2 + 4) / 2 = 3
    if not np.allclose(first, 3.0) or not np.allclose(net.weight.grad.numpy(), 6.0):
        return [f"rank {rank}: gradients {first.tolist()} then "
                f"{net.weight.grad.numpy().tolist()}, expected 3 then 6"]
    return []


def different_models_fail(em, dist) -> list[str]:
    width = 4 if dist.get_rank() == 0 else 5
    try:
        em.nn.parallel.DistributedDataParallel(em.nn.Linear(3, width))
    except ValueError as error:
        return [] if "models differ" in str(error) else [f"unclear error: {error}"]
    return ["different models on the ranks were not detected"]


def main() -> None:
    import ember as em
    import ember.distributed as dist

    dist.init_process_group("mpi", timeout=60)
    results = {name: run_case(em, dist, name) for name in CASES}
    failures = (unused_parameters(em, dist) + evaluation_between_and_a_second_backward(em, dist)
                + different_models_fail(em, dist))
    # buffers of a model without SyncBatchNorm follow rank 0's (broadcast_buffers)
    em.manual_seed(5)
    net = em.nn.Sequential(em.nn.Linear(2, 2), em.nn.BatchNorm1d(2)).double()
    model = em.nn.parallel.DistributedDataParallel(copy.deepcopy(net))
    model(em.tensor(np.random.default_rng(dist.get_rank()).normal(size=(4, 2)))).sum().backward()
    means = [None, None]
    dist.all_gather_object(means, model.module[1].running_mean.numpy())
    model(em.tensor(np.ones((4, 2)))).sum().backward()  # the broadcast happens before this
    after = [None, None]
    dist.all_gather_object(after, model.module[1].running_mean.numpy())
    if np.array_equal(means[0], means[1]) or not np.array_equal(after[0], after[1]):
        failures.append("BatchNorm buffers were not broadcast from rank 0 before a forward")
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, failures)
    worst = {name: 0.0 for name in results}
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, results)
    for per_rank in gathered:
        for name, value in per_rank.items():
            worst[name] = max(worst[name], value)
    if dist.get_rank() == 0:
        print(json.dumps({"max_difference": worst, "failures": sum(everyone, [])}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
