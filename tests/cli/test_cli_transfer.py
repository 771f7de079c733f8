"""``ember train --init CHECKPOINT_OR_WEIGHTS --freeze WHAT``: transfer learning from the
command line (the 8x8 digits, which ship with scikit-learn; one short epoch each)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.cli import main

pytest.importorskip("sklearn")


def _train(tmp_path, name, *extra):
    out = tmp_path / name
    code = main(["train", "--model", "lenet5", "--dataset", "digits", "--epochs", "1",
                 "--no-progress", "--augment", "0", "--out", str(out), *extra])
    return code, out


def test_init_from_shipped_weights_and_freeze_the_backbone(tmp_path, capsys):
    code, out = _train(tmp_path, "frozen", "--init", "mnist", "--freeze", "backbone")
    assert code == 0
    printed = capsys.readouterr().out
    assert "initialised 10 of 10 tensors from mnist" in printed
    assert "frozen: backbone (60,856 of 61,706 parameters; 850 train)" in printed
    checkpoint = em.load(out / "last.safetensors")
    assert checkpoint["meta"]["recipe"]["init"] == "mnist"
    assert checkpoint["meta"]["recipe"]["freeze"] == "backbone"
    pretrained = em.models.LeNet5_Weights.MNIST.get_state_dict()
    trained = checkpoint["model"]
    changed = {k for k in pretrained if not np.array_equal(pretrained[k].numpy(),
                                                           trained[k].numpy())}
    assert changed == {"classifier.5.weight", "classifier.5.bias"}


def test_init_from_a_checkpoint_freezing_named_parts(tmp_path, capsys):
    _, first = _train(tmp_path, "first")
    code, out = _train(tmp_path, "second", "--init", str(first / "best.safetensors"),
                       "--freeze", "features,classifier.1")
    assert code == 0
    printed = capsys.readouterr().out
    assert "initialised 10 of 10 tensors" in printed and "11,014 train" in printed
    before, after = (em.load(p)["model"] for p in (first / "best.safetensors",
                                                  out / "last.safetensors"))
    for key in before:
        same = np.array_equal(before[key].numpy(), after[key].numpy())
        assert same == (key.startswith("features.") or key.startswith("classifier.1.")), key


def test_transfer_errors_are_one_line(tmp_path, capsys):
    for extra, match in ((["--init", "imagenet"], "no weights 'imagenet'"),
                         (["--freeze", "trunk"], "has no part 'trunk'"),
                         (["--init", str(tmp_path / "none.pth")], "none.pth")):
        code, _ = _train(tmp_path, "bad", *extra)
        err = capsys.readouterr().err.strip()
        assert code == 1 and err.count("\n") == 0 and match in err, err
    em.save({"model": em.models.mlp(64, (8,), 10).state_dict()}, tmp_path / "mlp.st")
    code, _ = _train(tmp_path, "bad", "--init", str(tmp_path / "mlp.st"))
    assert code == 1 and "none of its tensors fits" in capsys.readouterr().err
