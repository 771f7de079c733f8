"""What every experiment shares: the result type, the digits data, training and plotting.

An experiment measures, then judges its claim from the measurements of this run: the
finding sentence starts with ``held:`` or ``did not hold:`` and quotes the numbers.

>>> result = Result("demo", "one is less than two", [{"a": 1, "b": 2.0}],
...                 verdict(1 < 2, "1 < 2"), True, None)
>>> print(result.summary())
a  b
-  ------
1  2.0000
<BLANKLINE>
held: 1 < 2
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ember import data, datasets, random
from ember.tensor import Tensor
from ember.train import Trainer

SIZES = ("full", "smoke")


@dataclass
class Result:
    """One run of an experiment: its measurements, the verdict and where the plot is.

    Attributes:
        name: the experiment's registry name (``loss_choice``).
        claim: the textbook claim under test, one sentence.
        table: the measurements, one dict per row (column name -> value). Columns whose
            name ends in ``(s)`` are wall-clock times, the only numbers that change from
            run to run (with the verdict of ``batch_size``, which compares times).
        finding: one sentence computed from ``table``: ``held: ...`` or ``did not hold: ...``.
        held: whether the claim held on this run.
        plot: the PNG written (None if none was).
        data: the arrays the plot is drawn from (curves per epoch, per layer, ...).
        size: ``"full"`` or ``"smoke"`` (a reduced run for the test suite).
        seconds: the run's wall-clock time.
    """

    name: str
    claim: str
    table: list[dict]
    finding: str
    held: bool
    plot: Path | None
    data: dict = field(default_factory=dict)
    size: str = "full"
    seconds: float = 0.0

    def numbers(self) -> list[dict]:
        """The table without its wall-clock columns: equal on every run with one seed."""
        return [{k: v for k, v in row.items() if not k.endswith("(s)")} for row in self.table]

    def summary(self) -> str:
        """The table, a blank line and the finding."""
        return f"{format_table(self.table)}\n\n{self.finding}"


def verdict(held: bool, because: str) -> str:
    """The finding sentence: ``held: because`` or ``did not hold: because``."""
    return f"{'held' if held else 'did not hold'}: {because}"


def format_table(rows: list[dict]) -> str:
    """Rows of dicts as aligned plain-text columns (floats with 4 significant places)."""
    if not rows:
        return "(no measurements)"
    columns = list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


def check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"size must be 'full' or 'smoke', got {size!r}")


# ---------------------------------------------------------------------- data and training


def digits_data(n_train: int | None = None, flatten: bool = True,
                standardize: bool = False) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(x_train, y_train, x_test, y_test)`` from the 8 x 8 digits (pixels in [0, 1]).

    Args:
        n_train: keep this many training images, drawn with ember's generator (all 1,438
            when None); the test part is always the whole 359.
        flatten: images as vectors of 64 (True) or as (1, 8, 8).
        standardize: subtract the training pixels' mean and divide by their std.
    """
    train, test = datasets.digits(train=True), datasets.digits(train=False)
    x_train, y_train = train.data.numpy(), train.targets.numpy()
    x_test, y_test = test.data.numpy(), test.targets.numpy()
    if n_train is not None:
        keep = np.sort(random.generator().permutation(len(x_train))[:n_train])
        x_train, y_train = x_train[keep], y_train[keep]
    if standardize:
        mean, std = x_train.mean(), x_train.std()
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    if flatten:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    return (Tensor(x_train.astype(np.float32)), Tensor(y_train), Tensor(x_test.astype(np.float32)),
            Tensor(y_test))


def loader(x: Tensor, y: Tensor, batch_size: int, shuffle: bool = True) -> data.DataLoader:
    """A DataLoader over the tensors (shuffled with ember's generator)."""
    return data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)


def quiet_trainer(model, loss_fn, optimizer, **options) -> Trainer:
    """A quiet :class:`~ember.train.Trainer`: no progress bar, no log lines."""
    options.setdefault("progress", False)
    options.setdefault("log", lambda message: None)
    return Trainer(model, loss_fn, optimizer, **options)


def fit(run: Trainer, train, val=None, epochs: int = 1) -> dict[str, list]:
    """``run.fit(train, val, epochs)``, with a diverging run's warning silenced: the
    history records it (``run.stopped_reason``), and the experiment reports it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return run.fit(train, val, epochs)


def first_epoch(curve, threshold: float, above: bool = True) -> int | None:
    """The first epoch (counting from 1) whose value reaches ``threshold``, or None.

    >>> first_epoch([0.5, 0.8, 0.95, 0.97], 0.9)
    3
    """
    for epoch, value in enumerate(curve, 1):
        if (value >= threshold) if above else (value <= threshold):
            return epoch
    return None


def epochs_text(epoch: int | None, total: int) -> str:
    """``"in 3 epochs"``, or ``"not within 30 epochs"``."""
    if epoch is None:
        return f"not within {total} epochs"
    return f"in {epoch} epoch" + ("s" if epoch != 1 else "")


# ---------------------------------------------------------------------- plotting


def pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no screen)."""
    from ember.train.plots import _pyplot

    return _pyplot()


def save_figure(fig, out: str | os.PathLike, name: str, size: str) -> Path:
    """Write ``out/name.png`` (a smoke run: ``out/name-smoke.png``, so that it never
    replaces the full run's plot) at a readable size, and close the figure."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (f"{name}.png" if size == "full" else f"{name}-smoke.png")
    fig.tight_layout()
    fig.savefig(path, dpi=100 if size == "full" else 72)
    pyplot().close(fig)
    return path
