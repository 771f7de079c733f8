"""Smoke run of ember.experiments.transfer (the 8x8 digits only: they always ship; the
Fashion-MNIST target joins the full run when its IDX files are present)."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

import ember as em
from ember.experiments import transfer


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("transfer", tmp_path_factory)


def test_result_has_every_method_and_number_of_labels(runs):
    result = runs[0]
    check_result(result, "transfer")
    config = transfer.SIZES["smoke"]
    assert [(r["target"], r["labels"]) for r in result.table] == [
        ("digits", n) for n in config["labels"]]
    for row in result.table:
        for method in transfer.METHODS:
            accuracies = result.data["runs"][f"digits/{row['labels']}/{method}"]
            assert len(accuracies) == config["seeds"]
            assert row[method] == pytest.approx(np.mean(accuracies))
            assert 0 <= row[method] <= 1
        assert row["gain"] == pytest.approx(
            max(row["feature extraction"], row["fine-tuning"]) - row["scratch"])


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["runs"], runs[1].data["runs"])


def test_the_methods_start_from_the_right_weights():
    pretrained = em.models.LeNet5_Weights.MNIST.get_state_dict()
    extractor = transfer._network("feature extraction")
    tuned = transfer._network("fine-tuning")
    scratch = transfer._network("scratch")
    for key, value in pretrained.items():
        same = np.array_equal(extractor.state_dict()[key].numpy(), value.numpy())
        assert same == (not key.startswith("classifier.5")), key
        assert np.array_equal(tuned.state_dict()[key].numpy(), value.numpy()) == same
        assert not np.array_equal(scratch.state_dict()[key].numpy(), value.numpy())
    assert [n for n, p in extractor.named_parameters() if p.requires_grad] == [
        "classifier.5.weight", "classifier.5.bias"]
    assert all(p.requires_grad for p in tuned.parameters())


def test_the_labelled_images_cover_every_class():
    labels = np.repeat(np.arange(10), 50)
    em.manual_seed(3)
    index = transfer._draw(labels, 10)
    assert sorted(labels[index]) == list(range(10)) and len(set(index)) == 10
    assert len(transfer._draw(labels, 300)) == 300
