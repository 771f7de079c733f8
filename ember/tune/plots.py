"""Plots of a study (Optuna's matplotlib visualisations, written as PNG files).

* ``optimization_history.png``: every trial's value and the best so far, against the
  trial number: how fast the sampler found good configurations;
* ``param_importances.png``: how much of the variation of the value each parameter
  explains (Optuna's default evaluator, PED-ANOVA in Optuna 5);
* ``slice.png``: the value against each parameter, one panel per parameter;
* ``contour.png``: the value over each pair of parameters (two or more parameters);
* ``intermediate_values.png``: the per-epoch validation curves, pruned trials included
  (when trials reported any).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

PLOTS = ("optimization_history", "param_importances", "slice", "contour",
         "intermediate_values")


def plot_study(study: optuna.Study, out: str | os.PathLike,
               target_name: str = "objective") -> tuple[dict[str, Path], dict[str, str]]:
    """Write the plots of ``study`` to the folder ``out``.

    Returns:
        ``(written, skipped)``: plot name -> file, and plot name -> why it was not drawn
        (too few complete trials or parameters).
    """
    from ember.train.plots import _pyplot

    plt = _pyplot()
    from optuna.visualization import matplotlib as visualization

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    names = sorted({name for t in complete for name in t.distributions
                    if not t.distributions[name].single()})
    reported = any(t.intermediate_values for t in study.get_trials(deepcopy=False))
    reasons = {
        "optimization_history": None if complete else "no complete trial",
        "param_importances": None if len(complete) >= 2 and names
        else "needs two complete trials and a parameter",
        "slice": None if complete and names else "no complete trial with parameters",
        "contour": None if len(complete) >= 2 and len(names) >= 2
        else "needs two parameters and two complete trials",
        "intermediate_values": None if reported else "no trial reported per-epoch values",
    }
    drawers = {
        "optimization_history": lambda: visualization.plot_optimization_history(
            study, target_name=target_name),
        "param_importances": lambda: visualization.plot_param_importances(
            study, target_name=target_name),
        "slice": lambda: visualization.plot_slice(study, target_name=target_name),
        "contour": lambda: visualization.plot_contour(study, target_name=target_name),
        "intermediate_values": lambda: visualization.plot_intermediate_values(study),
    }
    written, skipped = {}, {}
    for name in PLOTS:
        if reasons[name]:
            skipped[name] = reasons[name]
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna's "experimental" notes
                axes = drawers[name]()
        except (ValueError, RuntimeError, ZeroDivisionError) as error:
            skipped[name] = str(error) or type(error).__name__
            plt.close("all")
            continue
        figure = np.ravel(axes)[0].figure
        if name in ("slice", "contour"):
            figure.set_size_inches(max(6.0, 3.6 * len(names)), 3.6 * (
                len(names) if name == "contour" and len(names) > 2 else 1))
        path = out / f"{name}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written[name] = path
    return written, skipped
