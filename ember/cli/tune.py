"""``ember tune``: search a model's hyperparameters, then test the winner once.

Every trial trains with the Trainer and is scored on validation data (a held-out split,
or k-fold cross-validation with ``--cv``); a pruner stops trials whose per-epoch
validation loss is already losing. At the end the best configuration is retrained on
the whole training split and evaluated on the test set, once. The study is stored in
``OUT/study.db`` (SQLite) unless ``--storage`` names another database: processes given
the same ``--storage`` and ``--study`` share one search, on one machine or many (start
the extra ones with ``--search-only``; the one without it waits for them and tests).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

from ember.cli import recipes

_SAMPLERS = ("grid", "random", "tpe", "gp", "cmaes", "lipo")
_PRUNERS = ("median", "hyperband", "none")


def register(commands) -> None:
    """Add the ``tune`` subcommand to the ``ember`` parser's subparsers."""
    parser = commands.add_parser(
        "tune", help="search hyperparameters (grid, random, TPE, GP, CMA-ES, LIPO) with Optuna",
        description="Search hyperparameters on validation data, then retrain the best "
                    "configuration and evaluate it on the test set once. Writes study.db, "
                    "trials.csv, report.txt, best.safetensors and plots to --out.",
        epilog='example: ember tune --model mlp --dataset digits --space '
               '"lr=loguniform(1e-4,1e-1)" --space "batch_size=choice(32,64,128)" '
               '--sampler lipo --trials 20. SPEC is uniform(a,b[,step]), loguniform(a,b), '
               'int(a,b[,step]), logint(a,b), choice(v1,v2,...) or a fixed value; NAME is '
               'one of lr, batch_size, weight_decay, optimizer, scheduler, epochs, augment, '
               'label_smoothing, width, dropout.')
    parser.add_argument("--model", choices=recipes.MODELS, default="mlp")
    parser.add_argument("--dataset", choices=recipes.DATASETS, default="digits")
    parser.add_argument("--data-dir", help="folder with the IDX .gz files (mnist, "
                                           "fashion-mnist)")
    parser.add_argument("--space", action="append", default=[], metavar="NAME=SPEC",
                        help="a hyperparameter and its range (repeat for each)")
    parser.add_argument("--sampler", choices=_SAMPLERS, default="tpe")
    parser.add_argument("--trials", type=_count, default=20,
                        help="trials the study should have in all (default 20)")
    parser.add_argument("--pruner", choices=_PRUNERS, default="median",
                        help="stop losing trials early from their per-epoch validation "
                             "loss (default median)")
    parser.add_argument("--epochs", type=_count, default=None,
                        help="epochs per trial (default: ember train's)")
    parser.add_argument("--metric", choices=("val_loss", "val_accuracy"), default="val_loss")
    parser.add_argument("--cv", type=int, default=None, metavar="K",
                        help="score by K-fold cross-validation instead of one split")
    parser.add_argument("--val-fraction", type=float, default=0.1,
                        help="validation share of the training split (default 0.1)")
    parser.add_argument("--train-size", type=_count, default=None, metavar="N",
                        help="use N training images only, for a quick search")
    parser.add_argument("--grid-points", type=_count, default=5,
                        help="values per range for --sampler grid (default 5)")
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage URL (default sqlite:///OUT/study.db), e.g. "
                             "postgresql://user:password@host/db to share between machines")
    parser.add_argument("--study", metavar="NAME", help="study name (default MODEL-DATASET)")
    parser.add_argument("--out", help="output folder (default runs/tune-MODEL-DATASET)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the sampler, the split and training: the same seed "
                             "repeats the search")
    parser.add_argument("--jobs", type=_count, default=1,
                        help="trials at once in threads of this process (not repeatable)")
    parser.add_argument("--search-only", action="store_true",
                        help="only run trials (a worker joining a shared study): no "
                             "retraining, no test evaluation")
    parser.add_argument("--no-plots", action="store_true", help="write no plots")
    parser.set_defaults(handler=run_command)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def run_command(args: argparse.Namespace) -> int:
    from ember import tune
    from ember.serialization import save
    from ember.tune.report import trial_line
    from ember.tune.storage import safe_url

    space = tune.Space.parse(args.space)
    if not len(space):
        raise ValueError('tune: give the hyperparameters to search, e.g. --space '
                         '"lr=loguniform(1e-4,1e-1)"')
    tune.objective.check_parameters(  # before anything is loaded or created
        {**{name: True for name in space.distributions}, **space.fixed}, args.model)
    out = Path(args.out or f"runs/tune-{args.model}-{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)
    storage = args.storage or tune.default_url(out)
    study_name = args.study or f"{args.model}-{args.dataset}"
    defaults = {"epochs": args.epochs} if args.epochs else {}
    objective = tune.TrainingObjective(
        args.model, args.dataset, args.data_dir, metric=args.metric, cv=args.cv,
        val_fraction=args.val_fraction, train_size=args.train_size, seed=args.seed,
        **defaults)
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def run_trial(params, trial):
        trial.set_user_attr("worker", worker)
        return objective(params, trial)

    def show(study, trial):
        print(trial_line(trial, args.metric, study), flush=True)

    scoring = f"{args.cv}-fold cross-validation" if args.cv else \
        f"a {args.val_fraction:.0%} validation split"
    print(f"searching {args.model} on {args.dataset}: {space}, {args.trials} trials, "
          f"sampler {args.sampler}, pruner {args.pruner}, {args.metric} on {scoring}; study "
          f"{study_name!r} in {safe_url(storage)}", flush=True)
    started = time.perf_counter()
    study = tune.search(run_trial, space, sampler=args.sampler, n_trials=args.trials,
                        storage=storage, study_name=study_name, pruner=args.pruner,
                        n_jobs=args.jobs, seed=args.seed, direction=objective.direction,
                        grid_points=args.grid_points, callbacks=[show])
    tune.write_trials_csv(study, out / "trials.csv")
    if args.search_only:
        print(tune.summary(study, args.metric))
        print(f"wrote {out}/trials.csv (search only: no retraining, no test evaluation)")
        return 0
    _wait_for_other_workers(study)
    tune.write_trials_csv(study, out / "trials.csv")
    try:
        best = study.best_trial
    except ValueError:
        raise RuntimeError(f"study {study_name!r} has no complete trial to choose from") from None
    if "final" in study.user_attrs:
        print(f"warning: the test set was evaluated for this study before "
              f"({_final_text(study.user_attrs['final'])}); choosing again after seeing it "
              "makes the test estimate optimistic", file=sys.stderr)
    result = objective.final({**best.params, **space.fixed})
    save({"model": result.model.state_dict(),
          "meta": {**result.meta, "command": " ".join(args.argv),
                   "study": study_name, "best_trial": best.number}},
         out / "best.safetensors")
    final = {"trial": best.number, "test_loss": result.test_loss,
             "test_accuracy": result.test_accuracy, "test_size": result.test_size}
    study.set_user_attr("final", final)
    report = _report(study, best, result, args, time.perf_counter() - started)
    print(report)
    (out / "report.txt").write_text(report + "\n")
    written = []
    if not args.no_plots:
        try:
            files, _ = tune.plot_study(study, out, target_name=args.metric)
            written = [path.name for path in files.values()]
        except ImportError:
            pass  # matplotlib is optional: the numbers are in report.txt and trials.csv
    print(f"\nwrote {out}/best.safetensors, report.txt, trials.csv"
          + (f", {', '.join(written)}" if written else "")
          + (f" (study in {safe_url(storage)})" if args.storage else ", study.db"))
    return 0


def _wait_for_other_workers(study) -> None:
    """Wait until no trial of the study is running (other processes may still be at work);
    trials of processes that died are failed by the storage's heartbeat."""
    import optuna
    from optuna.trial import TrialState

    told = False
    while True:
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running:
            return
        if not told:
            print(f"waiting for {len(running)} running trial(s) of other workers", flush=True)
            told = True
        try:
            optuna.storages.fail_stale_trials(study)
        except Exception:  # storages without heartbeats
            pass
        time.sleep(1.0)


def _final_text(final: dict) -> str:
    return (f"trial {final.get('trial')}: test accuracy {final.get('test_accuracy', 0):.4f}")


def _report(study, best, result, args, elapsed: float) -> str:
    from ember import tune

    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in best.params.items())
    correct = int(round(result.test_accuracy * result.test_size))
    return "\n".join([
        "",
        tune.summary(study, args.metric),
        f"chosen on validation data: {params} ({args.metric} {best.value:.4f})",
        f"retrained on the whole training split for {result.recipe['epochs']} epochs, then "
        f"evaluated once on the test set: accuracy {result.test_accuracy:.4f} "
        f"({correct}/{result.test_size}), loss {result.test_loss:.4f}",
        f"in {elapsed:.1f} s",
    ])
