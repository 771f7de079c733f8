"""Package a run of ``ember train`` as weights that ship with ember.

    python docs/package_weights.py RUN_DIR NAME DATA_DIR

reads ``RUN_DIR/best.safetensors`` (written by ``ember train``), measures the model's
accuracy on the test split in DATA_DIR, and writes ``ember/models/weights/NAME.safetensors``:
the model's state_dict (float32) and a record of how it was made: the command, the data
(the IDX files' SHA-256), the recipe, the epochs and time of the run, and the measured
accuracy. It prints the file's SHA-256 and the accuracy, to enter in
``ember/models/pretrained.py``; and appends the record to ``ember/models/weights/README.md``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

import ember as em
from ember.cli import recipes
from ember.serialization import load, save

HERE = Path(__file__).resolve().parent
FOLDER = HERE.parent / "ember" / "models" / "weights"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(run: str, name: str, data_dir: str) -> None:
    run_dir = Path(run)
    checkpoint = load(run_dir / "best.safetensors")
    meta = checkpoint["meta"]
    model = recipes.build_model(meta["model"], tuple(meta["input_size"]), len(meta["classes"]))
    model.load_state_dict(checkpoint["model"])
    model.eval()
    split = recipes.load_split(meta["dataset"], False, data_dir)
    mean, std = meta["normalize"]
    x = recipes.prepare(split.images, tuple(meta["input_size"]), mean, std)
    with em.no_grad():
        scores = np.concatenate([model(x[i:i + 1000]).numpy() for i in range(0, len(x), 1000)])
    accuracy = float((scores.argmax(axis=1) == split.labels).mean())
    with open(run_dir / "history.csv") as handle:
        history = list(csv.DictReader(handle))
    data = {line.split()[1]: line.split()[0]
            for line in (Path(data_dir) / "SHA256SUMS").read_text().splitlines() if line}
    record = {
        "model": meta["model"], "dataset": meta["dataset"], "classes": meta["classes"],
        "input_size": meta["input_size"], "normalize": meta["normalize"],
        "command": meta["command"], "recipe": meta["recipe"],
        "data_sha256": data, "epochs_run": len(history),
        "train_seconds": round(sum(float(row["time"]) for row in history), 1),
        "best_val_loss": min(float(row["val_loss"]) for row in history),
        "test_accuracy": accuracy, "test_examples": int(len(split.labels)),
        "trained_with": f"ember {em.__version__}",
        "packaged": time.strftime("%Y-%m-%d"),
    }
    state = {k: v.float() if v.dtype.kind == "f" else v for k, v in model.state_dict().items()}
    target = FOLDER / f"{name}.safetensors"
    save({"model": state, "meta": record}, target)
    digest = _sha256(target)
    print(f"{target}: {target.stat().st_size} bytes, SHA-256 {digest}")
    print(f"test accuracy {accuracy:.4f} on {len(split.labels)} test images")
    with open(FOLDER / "README.md", "a") as readme:
        readme.write(f"\n## {name}.safetensors\n\nSHA-256 `{digest}`, "
                     f"{target.stat().st_size} bytes; test accuracy {accuracy:.4f} "
                     f"({len(split.labels)} images).\n\n```json\n"
                     f"{json.dumps(record, indent=1)}\n```\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
