"""Regenerate docs/experiments.md and its plots: every registered experiment, full size,
seed 0 (``python docs/make_experiments.py [NAME ...]``; with names, only those sections
are re-run and the others kept from the current page)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ember import experiments

HERE = Path(__file__).resolve().parent
PAGE = HERE / "experiments.md"
PLOTS = HERE / "experiments"

HEADER = """# Experiments: textbook claims, measured

Each claim below is a small, seeded experiment in `ember.experiments`. Run one with
`ember experiment NAME` (list them with `ember experiment --list`); it prints the table,
writes `NAME.png` and says, from the numbers of that run, whether the claim held.
The tables and plots on this page come from `python docs/make_experiments.py`, which runs
`ember experiment NAME --out docs/experiments` for each (seed 0, full size) on 2 CPU cores;
every number except the wall-clock columns (names ending in `(s)`) is the same on every run
with the same seed and thread count.
"""


def _anchor(index: int, name: str) -> str:
    """The heading's link as GitHub makes it: "## 4. vanishing_gradients" ->
    "4-vanishing_gradients" (lower case; punctuation other than '-' and '_' dropped)."""
    return f"{index}-{name}"


def section(index: int, name: str) -> tuple[str, bool]:
    result = experiments.run(name, out=PLOTS, size="full", seed=0)
    held = "held" if result.held else "did not hold"
    text = (f"## {index}. {name}\n\n**Claim:** {result.claim}.\n\n"
            f"{experiments.describe(name)}\n\n![{name}](experiments/{name}.png)\n\n"
            f"```text\n{result.summary().rsplit(chr(10) + chr(10), 1)[0]}\n```\n\n"
            f"**Finding ({held}):** {result.finding.split(': ', 1)[1]}\n\n"
            f"`ember experiment {name}` — ran in {result.seconds:.1f} s.\n")
    print(f"{name}: {held} ({result.seconds:.1f} s)", file=sys.stderr)
    return text, result.held


def _existing() -> dict[str, tuple[str, bool]]:
    """The current page's sections by experiment name."""
    if not PAGE.exists():
        return {}
    parts = re.split(r"(?m)^## \d+\. ", PAGE.read_text())[1:]
    found = {}
    for part in parts:
        name = part.split("\n", 1)[0].strip()
        held = "**Finding (held):**" in part
        found[name] = (part, held)
    return found


def main(only: list[str]) -> None:
    PLOTS.mkdir(parents=True, exist_ok=True)
    old = _existing()
    names = experiments.names()
    sections, verdicts = [], []
    for index, name in enumerate(names, 1):
        if only and name not in only and name in old:
            body, held = old[name]
            text = f"## {index}. {body.rstrip()}\n"
        else:
            text, held = section(index, name)
        sections.append(text)
        verdicts.append(f"{index}. [{name}](#{_anchor(index, name)}) — "
                        f"{'held' if held else 'did not hold'}")
    PAGE.write_text(HEADER + "\n" + "\n".join(verdicts) + "\n\n" + "\n".join(sections))


if __name__ == "__main__":
    main(sys.argv[1:])
