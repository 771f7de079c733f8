"""MeanAveragePrecision against pycocotools' COCOeval on the same boxes: random scenes with
every size range, tied scores and IoUs, duplicates, empty images, crowds, more detections
than the limits, custom thresholds, micro averaging and per-class values."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import ember as em
from ember.metrics import MeanAveragePrecision

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

NAMES = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_1",
         "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large"]


def xywh(boxes):
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def coco_eval(preds, target, iou_thresholds=None, rec_thresholds=None, max_dets=None,
              categories=None):
    """pycocotools on the images as COCO datasets: image ids 0..n-1, annotation ids from 1,
    every label seen a category (the way torchmetrics hands them over)."""
    labels = [np.asarray(d["labels"]) for d in (*preds, *target)]
    if categories is None:
        categories = np.unique(np.concatenate(labels)).tolist()
    images = [{"id": i} for i in range(len(target))]

    def annotations(items, scored):
        out = []
        for i, item in enumerate(items):
            for k, box in enumerate(xywh(item["boxes"]).tolist()):
                area = box[2] * box[3]
                if "area" in item and item["area"][k] > 0:
                    area = float(item["area"][k])
                ann = {"id": len(out) + 1, "image_id": i, "bbox": box, "area": area,
                       "category_id": int(item["labels"][k]),
                       "iscrowd": int(item.get("iscrowd", np.zeros(len(box)))[k])
                       if "iscrowd" in item else 0}
                if scored:
                    ann["score"] = float(item["scores"][k])
                out.append(ann)
        return out

    gt, dt = COCO(), COCO()
    cats = [{"id": c, "name": str(c)} for c in categories]
    gt.dataset = {"images": images, "annotations": annotations(target, False),
                  "categories": cats}
    dt.dataset = {"images": images, "annotations": annotations(preds, True),
                  "categories": cats}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt.createIndex()
        evaluator = COCOeval(gt, dt, iouType="bbox")
        if iou_thresholds is not None:
            evaluator.params.iouThrs = np.array(iou_thresholds, dtype=np.float64)
        if rec_thresholds is not None:
            evaluator.params.recThrs = np.array(rec_thresholds, dtype=np.float64)
        if max_dets is not None:
            evaluator.params.maxDets = max_dets
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def scene(rng, n_images=24, n_classes=3, size=300, tie_scores=False):
    """Ground truth of every size (small, medium, large) and detections derived from it:
    jittered hits, duplicates, misses and false positives."""
    preds, target = [], []
    for i in range(n_images):
        n = rng.integers(0, 7) if i % 7 else 0  # every 7th image has no ground truth
        scale = rng.choice([12.0, 50.0, 130.0], n)  # below 32, in [32, 96], above 96
        wh = scale[:, None] * rng.uniform(0.6, 1.4, (n, 2))
        xy = rng.uniform(0, size - wh.max(initial=0) - 1, (n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        labels = rng.integers(0, n_classes, n)
        found = rng.random(n) < 0.8
        hits, hit_labels = boxes[found], labels[found]
        size_of = np.repeat(hits[:, 2:] - hits[:, :2], 2, axis=1)
        jitter = rng.normal(0, 0.08, hits.shape) * size_of
        half = len(hits) // 2  # duplicates of some hits, closer to the truth
        d_boxes = [hits + jitter, hits[:half] + jitter[:half] * 0.5]
        d_labels = [hit_labels, hit_labels[:half]]
        m = rng.integers(0, 4)
        fxy = rng.uniform(0, size - 60, (m, 2))
        d_boxes.append(np.concatenate([fxy, fxy + rng.uniform(5, 60, (m, 2))], axis=1))
        d_labels.append(rng.integers(0, n_classes, m))
        d_boxes, d_labels = np.concatenate(d_boxes), np.concatenate(d_labels)
        scores = rng.random(len(d_boxes))
        if tie_scores:
            scores = np.round(scores * 3) / 3
        if i % 11 == 5:  # an image without detections
            d_boxes, d_labels, scores = np.zeros((0, 4)), np.zeros(0, np.int64), np.zeros(0)
        preds.append({"boxes": d_boxes, "scores": scores, "labels": d_labels})
        target.append({"boxes": boxes, "labels": labels})
    return preds, target


def as_ember(items):
    return [{k: em.tensor(np.asarray(v)) for k, v in item.items()} for item in items]


def check(metric, evaluator, names=NAMES):
    result = metric.compute()
    for name, expected in zip(names, evaluator.stats, strict=True):
        assert result[name].dtype == em.float32
        assert abs(float(result[name]) - float(np.float32(expected))) <= 1e-7, (name, result[
            name], expected)
    ours = metric.evaluation()
    np.testing.assert_array_equal(ours.precision, evaluator.eval["precision"])
    np.testing.assert_array_equal(ours.recall, evaluator.eval["recall"])
    np.testing.assert_array_equal(ours.scores, evaluator.eval["scores"])
    np.testing.assert_array_equal(ours.stats, evaluator.stats)
    return result


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("tie_scores", [False, True], ids=["scores", "tied-scores"])
def test_random_scenes_equal_pycocotools(seed, tie_scores):
    preds, target = scene(np.random.default_rng(seed), tie_scores=tie_scores)
    metric = MeanAveragePrecision()
    metric.update(as_ember(preds[:10]), as_ember(target[:10]))  # in two batches
    metric.update(as_ember(preds[10:]), as_ember(target[10:]))
    result = check(metric, coco_eval(preds, target))
    assert result["classes"].tolist() == [0, 1, 2]
    assert result["classes"].dtype == em.int32
    assert float(result["map_per_class"]) == -1.0


def test_adversarial_ties_duplicates_and_crowds():
    square = [10.0, 10.0, 60.0, 60.0]
    target = [
        # two identical ground-truth boxes: equal IoU, the later one is taken first
        {"boxes": np.array([square, square, [100, 100, 130, 130.]]), "labels": np.array([0, 0, 1])},
        # a crowd box that several detections may match, next to a regular one
        {"boxes": np.array([[0, 0, 200, 200.], [20, 20, 50, 50.]]), "labels": np.array([0, 0]),
         "iscrowd": np.array([1, 0])},
        {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, np.int64)},  # empty image
        {"boxes": np.array([[5, 5, 40, 25.]]), "labels": np.array([2]),
         "area": np.array([4000.0])},  # an area given: medium, though the box is small
    ]
    preds = [
        {"boxes": np.array([square, square, square, [101, 99, 131, 129.]]),
         "scores": np.array([0.5, 0.5, 0.5, 0.5]), "labels": np.array([0, 0, 0, 1])},
        {"boxes": np.array([[10, 10, 80, 80.], [30, 30, 90, 90.], [21, 20, 50, 51.]]),
         "scores": np.array([0.9, 0.8, 0.7]), "labels": np.array([0, 0, 0])},
        {"boxes": np.array([[0, 0, 10, 10.]]), "scores": np.array([0.5]),
         "labels": np.array([3])},  # a false positive of a class without ground truth
        {"boxes": np.array([[5, 5, 40, 25.]]), "scores": np.array([0.3]),
         "labels": np.array([2])},
    ]
    metric = MeanAveragePrecision(class_metrics=True)
    metric.update(as_ember(preds), as_ember(target))
    result = check(metric, coco_eval(preds, target))
    assert result["classes"].tolist() == [0, 1, 2, 3]
    for k, c in enumerate([0, 1, 2, 3]):  # per class: pycocotools run on one category
        one = coco_eval(preds, target, categories=None)
        one.params.catIds = [c]
        with contextlib.redirect_stdout(io.StringIO()):
            one.evaluate()
            one.accumulate()
            one.summarize()
        assert abs(float(result["map_per_class"][k]) - np.float32(one.stats[0])) <= 1e-7
        assert abs(float(result["mar_100_per_class"][k]) - np.float32(one.stats[8])) <= 1e-7


def test_detection_limits_and_custom_thresholds():
    rng = np.random.default_rng(3)
    preds, target = scene(rng, n_images=6)
    many = rng.uniform(0, 200, (130, 2))  # more detections than the largest limit
    preds[1] = {"boxes": np.concatenate([many, many + 40], axis=1),
                "scores": rng.random(130), "labels": rng.integers(0, 3, 130)}
    kwargs = dict(iou_thresholds=[0.3, 0.5, 0.75], rec_thresholds=[0.0, 0.25, 0.5, 0.75, 1.0],
                  max_detection_thresholds=[2, 5, 100])
    metric = MeanAveragePrecision(**kwargs)
    metric.update(preds, target)
    names = NAMES[:6] + ["mar_2", "mar_5", "mar_100"] + NAMES[9:]
    check(metric, coco_eval(preds, target, [0.3, 0.5, 0.75], [0.0, 0.25, 0.5, 0.75, 1.0],
                            [2, 5, 100]), names)


def test_micro_average_box_formats_and_extended_summary():
    preds, target = scene(np.random.default_rng(5), n_images=8)

    def convert(items, fmt):
        out = []
        for item in items:
            b = np.asarray(item["boxes"], dtype=np.float64).reshape(-1, 4)
            wh = b[:, 2:] - b[:, :2]
            b = np.concatenate([b[:, :2], wh] if fmt == "xywh" else [b[:, :2] + wh / 2, wh], 1)
            out.append({**item, "boxes": b})
        return out

    micro = MeanAveragePrecision(average="micro")
    micro.update(preds, target)
    one_class = [{**d, "labels": np.zeros(len(d["labels"]), np.int64)} for d in preds]
    one_target = [{**d, "labels": np.zeros(len(d["labels"]), np.int64)} for d in target]
    expected = coco_eval(one_class, one_target)
    result = micro.compute()
    for name, value in zip(NAMES, expected.stats, strict=True):
        assert abs(float(result[name]) - np.float32(value)) <= 1e-7, name
    macro = MeanAveragePrecision(extended_summary=True)
    macro.update(preds, target)
    reference = macro.compute()
    evaluator = coco_eval(preds, target)
    np.testing.assert_array_equal(reference["precision"].numpy(), evaluator.eval["precision"])
    np.testing.assert_array_equal(reference["recall"].numpy(), evaluator.eval["recall"])
    for key, iou in reference["ious"].items():
        expected_iou = evaluator.ious[key]
        np.testing.assert_allclose(iou.numpy(), np.asarray(expected_iou, np.float32).reshape(
            iou.shape), rtol=0, atol=0)
    for fmt in ("xywh", "cxcywh"):
        other = MeanAveragePrecision(box_format=fmt)
        other.update(convert(preds, fmt), convert(target, fmt))
        for name in NAMES:
            assert abs(float(other.compute()[name]) - float(reference[name])) <= 1e-6, name


def test_empty_inputs_and_forward():
    metric = MeanAveragePrecision()
    assert all(float(v) == -1.0 for k, v in metric.compute().items() if k != "classes")
    empty = [{"boxes": em.zeros(0, 4), "scores": em.zeros(0), "labels": em.zeros(0, dtype=em.int64)}]
    truth = [{"boxes": em.tensor([[0.0, 0.0, 50.0, 50.0]]), "labels": em.tensor([1])}]
    result = metric(empty, truth)  # forward: this batch's value, also accumulated
    assert float(result["map"]) == 0.0 and float(result["mar_100"]) == 0.0
    assert len(metric.groundtruths) == 1
    metric.reset()
    assert metric.groundtruths == []


def test_input_errors():
    metric = MeanAveragePrecision()
    good = [{"boxes": em.zeros(1, 4), "labels": em.tensor([0])}]
    with pytest.raises(ValueError, match=r"preds\[0\] has no 'scores'"):
        metric.update([{"boxes": em.zeros(1, 4), "labels": em.tensor([0])}], good)
    with pytest.raises(ValueError, match="1 predictions but 2 targets"):
        metric.update([{**good[0], "scores": em.tensor([0.5])}], good * 2)
    with pytest.raises(ValueError, match=r"target\[0\]\['boxes'\] must have shape \(N, 4\)"):
        metric.update([{**good[0], "scores": em.tensor([0.5])}],
                      [{"boxes": em.zeros(1, 3), "labels": em.tensor([0])}])
    with pytest.raises(ValueError, match=r"target\[0\]: 1 boxes but 2 labels"):
        metric.update([{**good[0], "scores": em.tensor([0.5])}],
                      [{"boxes": em.zeros(1, 4), "labels": em.tensor([0, 1])}])
    with pytest.raises(ValueError, match="box_format must be one of"):
        MeanAveragePrecision(box_format="xyz")
    with pytest.raises(ValueError, match="iou_type 'segm' is not supported"):
        MeanAveragePrecision(iou_type="segm")
    with pytest.raises(ValueError, match="three detection limits"):
        MeanAveragePrecision(max_detection_thresholds=[1, 10])
