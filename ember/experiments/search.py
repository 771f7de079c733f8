"""Hyperparameter search: random beats grid when one parameter matters; LIPO beats random.

**Grid against random** (Bergstra and Bengio, 2012). When only some hyperparameters
matter, a grid wastes its budget: a 3 x 3 grid over a learning rate that matters and a
weight decay that hardly does tries only 3 learning rates, each three times, while 9
random trials try 9 different learning rates. A 64-32-10 network is trained on the
digits with Adam for a few epochs; the learning rate is searched log-uniformly over
[1e-5, 1] and the weight decay over [1e-6, 1e-4], with Optuna's grid sampler and its
random sampler, and each search keeps its lowest validation loss (the test images are
never used). Each seed changes the random draws and the initial weights.

**LIPO against random.** :class:`~ember.tune.LIPOSampler` (AdaLIPO bounds with dlib's
trust-region refinement) and random search each get 40 trials on three standard test
functions, Branin (2-d), Hartmann-6 and Styblinski-Tang (4-d), from 10 seeds; the best
value each reached is compared with the known minimum.

References: J. Bergstra, Y. Bengio, "Random Search for Hyper-Parameter Optimization"
(JMLR 2012); C. Malherbe, N. Vayatis, "Global optimization of Lipschitz functions" (ICML
2017); D. King, "A Global Optimization Algorithm Worth Using" (dlib blog, 2017).
"""

from __future__ import annotations

import math
import os

import numpy as np

from ember import nn, optim, random
from ember.experiments.common import (
    Result,
    digits_data,
    fit,
    loader,
    pyplot,
    quiet_trainer,
    save_figure,
    verdict,
)

NAME = "search"
CLAIM = ("random search finds better hyperparameters than grid search when only one of two "
         "matters, and LIPO reaches lower values than random search in the same budget")
SIZES = {
    "full": {"seeds": 10, "grid_points": 3, "epochs": 5, "n_train": None,
             "function_seeds": 10, "function_trials": 40},
    "smoke": {"seeds": 1, "grid_points": 2, "epochs": 1, "n_train": 200,
              "function_seeds": 2, "function_trials": 8},
}
SPACE = {"lr": "loguniform(1e-5,1)", "weight_decay": "loguniform(1e-6,1e-4)"}
VAL_FRACTION = 0.2


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Grid against random on the digits network, then LIPO against random on the test
    functions; plot both."""
    from ember import tune

    config = SIZES[size]
    random.manual_seed(seed)
    x, y, _, _ = digits_data(config["n_train"], standardize=True)
    order = random.generator().permutation(len(y))
    n_val = int(VAL_FRACTION * len(y))
    split = (x[order[n_val:]], y[order[n_val:]], x[order[:n_val]], y[order[:n_val]])
    budget = config["grid_points"] ** 2
    table, studies = [], {"grid": [], "random": []}
    for s in range(seed, seed + config["seeds"]):
        for method in ("grid", "random"):
            study = tune.search(lambda params, s=s: _train(params, split, config["epochs"], s),
                                SPACE, sampler=method, n_trials=budget, seed=s, pruner="none",
                                grid_points=config["grid_points"])
            studies[method].append(study)
    best = {m: np.array([st.best_value for st in studies[m]]) for m in studies}
    for method, other in (("grid", "random"), ("random", "grid")):
        lrs = {round(t.params["lr"], 12) for t in studies[method][0].trials}
        table.append(_row("digits MLP", f"{method} ({len(lrs)} learning rates)", budget,
                          best[method], best[other], "val loss"))

    samplers = {"LIPO": lambda s: tune.LIPOSampler(seed=s),
                "random": lambda s: _random_sampler(s)}
    comparisons = []
    for function in tune.FUNCTIONS.values():
        seeds = range(seed, seed + config["function_seeds"])
        comparison = tune.compare(function, samplers, seeds, config["function_trials"])
        comparisons.append(comparison)
        for method, other in (("LIPO", "random"), ("random", "LIPO")):
            table.append(_row(function.name, method, config["function_trials"],
                              comparison.best[method], comparison.best[other],
                              f"minimum {function.minimum:g}"))

    random_wins = best["random"].mean() < best["grid"].mean()
    lipo_wins = all(c.best["LIPO"].mean() < c.best["random"].mean() for c in comparisons)
    held = random_wins and lipo_wins
    finding = (
        f"over {config['seeds']} seeds, {budget} random trials reached a mean best validation "
        f"loss of {best['random'].mean():.4f} against {best['grid'].mean():.4f} for the "
        f"{config['grid_points']}x{config['grid_points']} grid (lower on "
        f"{int((best['random'] < best['grid']).sum())} seeds); in "
        f"{config['function_trials']} trials over {config['function_seeds']} seeds LIPO's "
        "mean best against random search's was " + "; ".join(
            f"{c.function.name} {c.best['LIPO'].mean():.4g} vs {c.best['random'].mean():.4g} "
            f"(lower on {c.wins('LIPO', 'random')} seeds)" for c in comparisons))
    plot = _plot(studies, comparisons, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"grid_best": best["grid"], "random_best": best["random"],
                        "curves": {c.function.name: c.curves for c in comparisons}},
                  size=size)


def _train(params: dict, split, epochs: int, seed: int) -> float:
    """The validation loss of the network trained with ``params`` (inf if it diverged)."""
    x_train, y_train, x_val, y_val = split
    random.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = optim.Adam(model.parameters(), lr=params["lr"],
                           weight_decay=params["weight_decay"])
    trainer = quiet_trainer(model, nn.CrossEntropyLoss(), optimizer)
    history = fit(trainer, loader(x_train, y_train, 32), loader(x_val, y_val, 512, False),
                  epochs)
    return math.inf if trainer.stopped_reason else history["val_loss"][-1]


def _random_sampler(seed: int):
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def _row(task: str, method: str, trials: int, best: np.ndarray, other: np.ndarray,
         note: str) -> dict:
    return {"task": task, "method": method, "trials": trials, "seeds": len(best),
            "mean best": float(best.mean()), "median best": float(np.median(best)),
            "worst best": float(best.max()), "lower on": f"{int((best < other).sum())} seeds",
            "note": note}


def _plot(studies: dict, comparisons: list, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.4))
    colours = {"grid": "tab:orange", "random": "tab:blue"}
    for method, marker in (("grid", "s"), ("random", "o")):
        trials = [t for t in studies[method][0].trials if math.isfinite(t.value)]
        lr = np.array([t.params["lr"] for t in trials])
        decay = np.array([t.params["weight_decay"] for t in trials])
        loss = np.array([t.value for t in trials])
        axes[0, 0].scatter(lr, loss, marker=marker, color=colours[method], label=method,
                           alpha=0.8)
        axes[0, 1].scatter(lr, decay, marker=marker, color=colours[method], label=method,
                           s=40, alpha=0.8)
        for value in np.unique(lr) if method == "grid" else []:
            axes[0, 1].axvline(value, color=colours[method], lw=0.6, ls=":")
    axes[0, 0].set(xscale="log", xlabel="learning rate", ylabel="validation loss",
                   title="the parameter that matters (first seed)")
    axes[0, 1].set(xscale="log", yscale="log", xlabel="learning rate",
                   ylabel="weight decay", title="where the trials went (first seed)")
    for ax in axes[0, :2]:
        ax.legend(fontsize=8)
    best = [[st.best_value for st in studies[m]] for m in ("grid", "random")]
    seeds = np.arange(len(best[0]))
    axes[0, 2].bar(seeds - 0.2, best[0], 0.4, color=colours["grid"], label="grid")
    axes[0, 2].bar(seeds + 0.2, best[1], 0.4, color=colours["random"], label="random")
    axes[0, 2].set(xlabel="seed", ylabel="best validation loss",
                   title="best of each search", xticks=seeds)
    axes[0, 2].legend(fontsize=8)
    for ax, comparison in zip(axes[1], comparisons, strict=True):
        minimum = comparison.function.minimum
        for method, colour in (("LIPO", "tab:red"), ("random", "tab:blue")):
            gap = np.maximum(comparison.curves[method] - minimum, 1e-6)
            trials = np.arange(1, gap.shape[1] + 1)
            ax.plot(trials, np.median(gap, axis=0), color=colour, label=f"{method} (median)")
            ax.fill_between(trials, np.percentile(gap, 25, axis=0),
                            np.percentile(gap, 75, axis=0), color=colour, alpha=0.2)
        ax.set(xlabel="trial", ylabel="best so far - known minimum (floor 1e-6)", yscale="log",
               title=f"{comparison.function.name}, {gap.shape[0]} seeds")
        ax.legend(fontsize=8)
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
    return save_figure(fig, out, NAME, size)
