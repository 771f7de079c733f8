"""What a search leaves behind in text: a CSV of the trials and a readable summary."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import optuna
from optuna.trial import TrialState


def trial_rows(study: optuna.Study) -> list[dict]:
    """One dict per trial: number, state, value, every parameter, how long it ran, the
    last epoch it reported, and which process ran it."""
    trials = study.get_trials(deepcopy=False)
    names = sorted({name for t in trials for name in t.params})
    rows = []
    for t in trials:
        duration = (t.datetime_complete - t.datetime_start).total_seconds() \
            if t.datetime_complete and t.datetime_start else None
        row = {"number": t.number, "state": t.state.name, "value": t.value}
        row.update({f"param_{name}": t.params.get(name) for name in names})
        row["last_step"] = max(t.intermediate_values) if t.intermediate_values else None
        row["duration_s"] = None if duration is None else round(duration, 3)
        row["worker"] = t.user_attrs.get("worker")
        row["note"] = t.user_attrs.get("diverged")
        rows.append(row)
    return rows


def write_trials_csv(study: optuna.Study, path: str | os.PathLike) -> Path:
    """Every trial of ``study`` as a row of ``path`` (see :func:`trial_rows`)."""
    path = Path(path)
    rows = trial_rows(study)
    fields = list(rows[0]) if rows else ["number", "state", "value"]
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    os.replace(temporary, path)
    return path


def summary(study: optuna.Study, metric: str = "value") -> str:
    """The counts of trials by state and the best trial, in a few lines."""
    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(t.state == state for t in trials) for state in TrialState}
    states = ", ".join(f"{n} {state.name.lower()}" for state, n in counts.items() if n)
    lines = [f"study {study.study_name!r}: {len(trials)} trials ({states or 'none'})"]
    complete = [t for t in trials if t.state == TrialState.COMPLETE
                and t.value is not None and math.isfinite(t.value)]
    if complete:
        best = study.best_trial
        lines.append(f"best: trial {best.number}, {metric} {best.value:.6g}, "
                     + ", ".join(f"{k}={_short(v)}" for k, v in best.params.items()))
    return "\n".join(lines)


def trial_line(trial: optuna.trial.FrozenTrial, metric: str, study: optuna.Study) -> str:
    """One line for a finished trial: its value (or where it was pruned) and params."""
    params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
    if trial.state == TrialState.PRUNED:
        last = max(trial.intermediate_values) if trial.intermediate_values else 0
        outcome = f"pruned at epoch {last}"
    elif trial.state == TrialState.COMPLETE:
        outcome = f"{metric} {trial.value:.4f}"
        if "diverged" in trial.user_attrs:
            outcome += " (diverged)"
    else:
        outcome = trial.state.name.lower()
    try:
        best = study.best_trial
        tail = f"  [best {best.value:.4f}, trial {best.number}]"
    except ValueError:
        tail = ""
    return f"trial {trial.number}: {outcome} ({params}){tail}"


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
