"""The shapes detection dataset: seeded and repeatable, boxes that fit their shapes, splits
that differ; COCO export read back by ember and by pycocotools; the COCO reader's errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ember as em
from ember.datasets import coco_detection, detection_collate, export_coco, shapes


def test_repeatable_prefix_stable_and_split_apart():
    a = shapes(num_images=6, image_size=48)
    b = shapes(num_images=3, image_size=48)
    em.manual_seed(123)  # the dataset has its own generator
    c = shapes(num_images=6, image_size=48)
    np.testing.assert_array_equal(a.images[:3], b.images)
    np.testing.assert_array_equal(a.images, c.images)
    for ta, tc in zip(a.targets, c.targets, strict=True):
        np.testing.assert_array_equal(ta["boxes"], tc["boxes"])
    test = shapes(train=False, num_images=6, image_size=48)
    assert not np.array_equal(test.images, a.images)
    assert a.split == "train" and test.split == "test"
    assert not np.array_equal(shapes(num_images=2, seed=1, image_size=48).images,
                              a.images[:2])


def test_boxes_labels_and_pixels():
    data = shapes(num_images=40, image_size=64, max_objects=4, noise=0.0)
    counts = []
    for i in range(len(data)):
        image, target = data[i]
        assert image.shape == (3, 64, 64) and image.dtype == em.float32
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
        boxes, labels = target["boxes"].numpy(), target["labels"].numpy()
        assert 1 <= len(boxes) <= 4 and labels.dtype == np.int64
        assert set(labels.tolist()) <= {0, 1, 2}
        assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2:] <= 64)
        sizes = boxes[:, 2:] - boxes[:, :2]
        assert np.all((sizes >= 10 - 1e-4) & (sizes <= 30 + 1e-4))
        assert target["area"].numpy() == pytest.approx(sizes.prod(axis=1))
        counts.append(len(boxes))
    assert len(set(counts)) > 2  # the number of objects varies
    # without noise, the last-drawn shape's pixels lie inside its box, and fill it as a
    # rectangle would (exactly) or an ellipse would (pi/4 of it)
    image = data.images[0].astype(int)
    box, label = data.targets[0]["boxes"][-1], data.targets[0]["labels"][-1]
    x1, y1, x2, y2 = box
    inside = image[int(np.ceil(y1)):int(y2), int(np.ceil(x1)):int(x2)]
    colour = image[int((y1 + y2) / 2), int((x1 + x2) / 2)]
    share = np.all(inside == colour, axis=-1).mean()
    expected = {0: 1.0, 1: np.pi / 4, 2: 0.5}[int(label)]
    assert share == pytest.approx(expected, abs=0.2)


def test_errors():
    with pytest.raises(ValueError, match="max_size <= image_size"):
        shapes(num_images=1, image_size=16, max_size=20)
    with pytest.raises(ValueError, match="max_objects must be at least 1"):
        shapes(num_images=1, max_objects=0)


def test_coco_export_round_trip(tmp_path):
    pycocotools = pytest.importorskip("pycocotools.coco")
    data = shapes(train=False, num_images=5, image_size=40, min_size=8, max_size=20)
    annotation_file = data.to_coco(tmp_path / "coco")
    back = coco_detection(tmp_path / "coco" / "images", annotation_file)
    assert len(back) == 5 and back.classes == ["rectangle", "ellipse", "triangle"]
    assert back.category_ids == [1, 2, 3] and back.image_size == (40, 40)
    for i in range(5):
        image, target = back[i]
        original_image, original = data[i]
        np.testing.assert_array_equal(image.numpy(), original_image.numpy())
        np.testing.assert_array_equal(target["boxes"].numpy(), original["boxes"].numpy())
        np.testing.assert_array_equal(target["labels"].numpy(), original["labels"].numpy())
        np.testing.assert_allclose(target["area"].numpy(), original["area"].numpy(), rtol=1e-6)
        assert target["image_id"] == i
    coco = pycocotools.COCO(annotation_file)  # a valid COCO file for the reference tools
    assert len(coco.getAnnIds()) == sum(len(t["labels"]) for t in data.targets)
    assert sorted(coco.getCatIds()) == [1, 2, 3]
    raw = em.datasets.CocoDetection(tmp_path / "coco" / "images", annotation_file)
    image, annotations = raw[0]
    assert annotations[0]["category_id"] == int(data.targets[0]["labels"][0]) + 1
    images, targets = detection_collate([back[0], back[1]])
    assert images.shape == (2, 3, 40, 40) and len(targets) == 2


def test_coco_reader_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no annotation file"):
        coco_detection(tmp_path, tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not a JSON file"):
        coco_detection(tmp_path, bad)
    bad.write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(ValueError, match="bad.json: not a COCO detection file"):
        coco_detection(tmp_path, bad)
    bad.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "categories": [
        {"id": 1, "name": "x"}], "annotations": [{"image_id": 2, "category_id": 1,
                                                  "bbox": [0, 0, 1, 1]}]}))
    with pytest.raises(ValueError, match="refers to image 2"):
        coco_detection(tmp_path, bad)
    bad.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "categories": [],
                               "annotations": []}))
    with pytest.raises(FileNotFoundError, match="no such file: .*a.png"):
        coco_detection(tmp_path, bad)[0]
    export_coco(shapes(num_images=1, image_size=24, min_size=5, max_size=10), tmp_path / "e")
    assert (tmp_path / "e" / "images" / "000000.png").is_file()
