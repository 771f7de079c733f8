"""The Trainer on two ranks (run under mpiexec; prints a JSON line on rank 0).

1. Two ranks with DistributedSampler shards of batch 8 log the same history (loss,
   accuracy, validation loss and accuracy: reduced over the ranks) and end with the same
   weights as one process with batches of 16 (float64; run before MPI starts).
2. Only rank 0 writes checkpoints and CSV rows.
3. A run stopped after 2 epochs and resumed to 4 ends exactly where an uninterrupted
   run does, with dropout (each rank's random generator is in the checkpoint, which
   rank 0 writes alone).
4. A NaN loss on one rank stops training on both, together.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def dataset(em, n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1)
    return em.data.TensorDataset(em.tensor(x), em.tensor(y))


def model(em, dropout: float = 0.0):
    em.manual_seed(0)
    nn = em.nn
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Dropout(dropout),
                         nn.Linear(16, 3)).double()


def trainer(em, net, callbacks=(), loss_fn=None):
    return em.train.Trainer(net, loss_fn or em.nn.CrossEntropyLoss(),
                            em.optim.SGD(net.parameters(), lr=0.2, momentum=0.9),
                            metrics=["accuracy"], callbacks=list(callbacks), progress=False)


def single_process_reference(em):
    net = model(em)
    history = trainer(em, net).fit(em.data.DataLoader(dataset(em, 96, 1), batch_size=16),
                                   em.data.DataLoader(dataset(em, 40, 2), batch_size=7),
                                   epochs=3)
    return history, {k: v.numpy().copy() for k, v in net.state_dict().items()}


def shards(em, rank: int, world: int, shuffle: bool = False):
    train = dataset(em, 96, 1)
    sampler = em.data.DistributedSampler(train, world, rank, shuffle=shuffle)
    val = dataset(em, 40, 2)
    return (em.data.DataLoader(train, batch_size=16 // world, sampler=sampler),
            em.data.DataLoader(em.data.Subset(val, list(range(rank, 40, world))), batch_size=5))


def main(folder: str) -> None:
    import ember as em
    import ember.distributed as dist

    reference_history, reference_weights = single_process_reference(em)

    dist.init_process_group("mpi", timeout=60)
    rank, world = dist.get_rank(), dist.get_world_size()
    failures = []
    out = Path(folder)

    # 1-2. the same history and weights; files from rank 0 only
    net = model(em)
    callbacks = [em.train.ModelCheckpoint(out / f"checkpoints-{rank}", monitor="val_loss"),
                 em.train.CSVLogger(out / f"history-{rank}.csv")]
    history = trainer(em, net, callbacks).fit(*shards(em, rank, world), epochs=3)
    worst = 0.0
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        worst = max(worst, float(np.max(np.abs(np.subtract(history[key],
                                                           reference_history[key])))))
    for key, value in net.state_dict().items():
        worst = max(worst, float(np.max(np.abs(value.numpy() - reference_weights[key]))))
    dist.barrier()
    written = sorted(p.name for p in out.iterdir())
    if written != ["checkpoints-0", "history-0.csv"]:
        failures.append(f"files written: {written}")

    # 3. resume with dropout and shuffled shards
    def run(epochs, resume_from=None, save_to=None):
        net = model(em, dropout=0.3)
        em.manual_seed(100 + rank)
        fit = trainer(em, net)
        if resume_from is not None:
            fit.load_checkpoint(resume_from)
        fit.fit(*shards(em, rank, world, shuffle=True), epochs=epochs)
        if save_to is not None:
            if rank == 0:  # PyTorch users' habit: saving involves no other rank
                fit.save_checkpoint(save_to)
            dist.barrier()  # rank 0 has written it
        return {k: v.numpy().copy() for k, v in net.state_dict().items()}

    whole = run(4)
    checkpoint = out / "resume.safetensors"
    run(2, save_to=checkpoint)
    resumed = run(4, resume_from=checkpoint)
    resume_difference = max(float(np.max(np.abs(whole[k] - resumed[k]))) for k in whole)

    # 4. a NaN on rank 1 at its third step stops both ranks
    calls = {"n": 0}

    def loss_fn(output, target):
        calls["n"] += 1
        loss = em.nn.functional.cross_entropy(output, target)
        return loss * float("nan") if rank == 1 and calls["n"] == 3 else loss

    fit = trainer(em, model(em), loss_fn=loss_fn)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit.fit(*shards(em, rank, world), epochs=2)
    if not fit.stopped_reason or "epoch 1, step 3" not in fit.stopped_reason:
        failures.append(f"rank {rank}: NaN stop: {fit.stopped_reason}")
    weights = np.concatenate([p.numpy().ravel() for p in fit.model.state_dict().values()])

    everyone = [None] * world
    dist.all_gather_object(everyone, (worst, resume_difference, failures,
                                      (fit.global_step, weights)))
    if rank == 0:
        failures = sum((e[2] for e in everyone), [])
        steps, stopped_weights = zip(*(e[3] for e in everyone), strict=True)
        if len(set(steps)) != 1 or any(not np.array_equal(w, stopped_weights[0])
                                       for w in stopped_weights):
            failures.append(f"after the NaN stop the ranks differ: steps {steps}")
        print(json.dumps({"max_difference": max(e[0] for e in everyone),
                          "resume_difference": max(e[1] for e in everyone),
                          "failures": failures}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
