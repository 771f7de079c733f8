"""YOLOv1: the paper's network (parameter count, 7 x 7 x 30 output in the summary), the loss
against a hand computation on a 2 x 2 grid, its gradient, target encoding and decoding
(a perfect prediction scores mAP 1), a state_dict round trip, and a short seeded training
run whose loss falls."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.metrics import MeanAveragePrecision
from ember.models.detection import YOLOv1Loss, decode, encode_targets, yolov1
from ember.models.detection.yolo import DARKNET_LAYERS
from ember.testing import gradcheck


def papers_parameter_count(hidden: int) -> int:
    """The paper's network counted from its table: 24 convolutions, then 7*7*1024 ->
    hidden -> 7*7*30 fully connected."""
    total, channels = 0, 3
    for spec in DARKNET_LAYERS:
        if spec != "M":
            kernel, out, _ = spec
            total += kernel * kernel * channels * out + out
            channels = out
    return total + (7 * 7 * 1024 * hidden + hidden) + (hidden * 7 * 7 * 30 + 7 * 7 * 30)


def test_the_papers_network_and_its_summary(cheap_init):
    assert papers_parameter_count(4096) == 271_703_550  # the published 271.7 M
    # the 205 M weights of the 4,096-unit layer take seconds to allocate: count the rest
    model = yolov1(hidden=16)  # 20 classes, 7 x 7 grid, 2 boxes, the 24-layer backbone
    assert sum(p.numel() for p in model.parameters()) == papers_parameter_count(16)
    convs = [m for m in model.backbone.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 24 and convs[0].stride == (2, 2) and convs[-3].stride == (2, 2)
    # at 448 x 448 the backbone gives 7 x 7 x 1024 (20 GMACs: too slow for the suite);
    # a 32 x 32 image gives 1 x 1, which the pooling spreads over the grid
    info = em.summary(model, (3, 32, 32))
    assert info.output_shape == (1, 7, 7, 30)  # S x S x (5B + C)
    assert info.layers[-1].type == "Unflatten" and "(1, 7, 7, 30)" in str(info)
    assert info.layers[-2].output_shape == (1, 1470)  # the linear output, 7 * 7 * 30
    small = em.summary(yolov1(num_classes=3, grid=8, backbone="small"), (3, 64, 64))
    assert [layer.output_shape for layer in small.layers if layer.name == "pool"] == [
        (1, 128, 8, 8)]
    assert small.output_shape == (1, 8, 8, 13)


def test_configurations_and_errors():
    small = yolov1(num_classes=3, grid=8, boxes_per_cell=3, backbone="small", hidden=32)
    assert small(em.zeros(2, 3, 64, 64)).shape == (2, 8, 8, 18)
    custom = nn.Sequential(nn.Conv2d(1, 4, 3, stride=4, padding=1), nn.ReLU())
    model = yolov1(num_classes=2, grid=4, backbone=custom, backbone_channels=4, hidden=16,
                   in_channels=1)
    assert model(em.zeros(1, 1, 32, 32)).shape == (1, 4, 4, 12)
    assert "grid=4, boxes_per_cell=2, num_classes=2" in repr(model)
    with pytest.raises(ValueError, match="backbone must be 'darknet', 'small' or a Module"):
        yolov1(backbone="resnet")
    with pytest.raises(ValueError, match="pass backbone_channels"):
        yolov1(backbone=nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="grid must be a positive int"):
        yolov1(grid=0, backbone="small")


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def hand_loss(output, objects, grid, boxes_per_cell, num_classes, image, rescore):
    """The paper's sum, term by term, in plain Python: ``objects`` per image is a list of
    (x1, y1, x2, y2, class) in pixels; a cell keeps the first object whose centre is in it."""
    lc, ln = 5.0, 0.5
    terms = dict(xy=0.0, wh=0.0, obj=0.0, noobj=0.0, cls=0.0)
    for n, image_objects in enumerate(objects):
        truth = {}
        for x1, y1, x2, y2, c in image_objects:
            cx, cy = (x1 + x2) / 2 / image, (y1 + y2) / 2 / image
            cell = (int(cy * grid), int(cx * grid))
            truth.setdefault(cell, (cx, cy, (x2 - x1) / image, (y2 - y1) / image, c))
        for i in range(grid):
            for j in range(grid):
                o = [float(v) for v in output[n, i, j]]
                if (i, j) not in truth:
                    for b in range(boxes_per_cell):
                        terms["noobj"] += ln * o[5 * b + 4] ** 2
                    continue
                cx, cy, w, h, c = truth[(i, j)]
                true_box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                ious = []
                for b in range(boxes_per_cell):
                    px, py = (j + o[5 * b]) / grid, (i + o[5 * b + 1]) / grid
                    pw, ph = o[5 * b + 2] ** 2, o[5 * b + 3] ** 2
                    ious.append(iou((px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2),
                                    true_box))
                r = ious.index(max(ious))  # the responsible predictor
                for b in range(boxes_per_cell):
                    if b != r:
                        terms["noobj"] += ln * o[5 * b + 4] ** 2
                x, y = cx * grid - j, cy * grid - i
                terms["xy"] += lc * ((o[5 * r] - x) ** 2 + (o[5 * r + 1] - y) ** 2)
                terms["wh"] += lc * ((o[5 * r + 2] - math.sqrt(w)) ** 2
                                     + (o[5 * r + 3] - math.sqrt(h)) ** 2)
                terms["obj"] += (o[5 * r + 4] - (ious[r] if rescore else 1.0)) ** 2
                for k in range(num_classes):
                    p = o[5 * boxes_per_cell + k]
                    terms["cls"] += (p - (1.0 if k == c else 0.0)) ** 2
    return terms


@pytest.mark.parametrize("rescore", [True, False])
def test_loss_equals_the_hand_computation_on_a_2x2_grid(rng, rescore):
    image = 40.0  # 2 x 2 cells of 20 pixels
    objects = [
        [(2.0, 3.0, 16.0, 15.0, 1), (22.0, 24.0, 38.0, 36.0, 0)],  # cells (0, 0) and (1, 1)
        [(21.0, 1.0, 39.0, 13.0, 2), (25.0, 4.0, 33.0, 10.0, 0)],  # both in cell (0, 1)
    ]
    output = rng.uniform(0.05, 0.95, (2, 2, 2, 5 * 2 + 3))
    output[0, 0, 0, :5] = [0.45, 0.42, 0.62, 0.55, 0.7]  # box 0 of cell (0, 0) fits best
    targets = [{"boxes": em.tensor([o[:4] for o in objs]),
                "labels": em.tensor([o[4] for o in objs])} for objs in objects]
    target = encode_targets(targets, grid=2, num_classes=3, image_size=(40, 40),
                            dtype=em.float64)
    loss_fn = YOLOv1Loss(num_classes=3, boxes_per_cell=2, rescore=rescore, reduction="sum")
    loss = loss_fn(em.tensor(output), target)
    expected = hand_loss(output, objects, 2, 2, 3, image, rescore)
    assert loss.item() == pytest.approx(sum(expected.values()), rel=1e-12)
    got = loss_fn.components
    for ours, theirs in (("xy", "xy"), ("wh", "wh"), ("obj", "obj"), ("noobj", "noobj"),
                         ("class", "cls")):
        assert got[ours] == pytest.approx(expected[theirs], rel=1e-12, abs=1e-15)
    mean = YOLOv1Loss(num_classes=3, rescore=rescore)(em.tensor(output), target)
    assert mean.item() == pytest.approx(loss.item() / 2, rel=1e-12)


def test_loss_gradient_passes_gradcheck(rng):
    output = em.tensor(rng.uniform(0.1, 0.9, (2, 2, 2, 12)), requires_grad=True)
    target = encode_targets([{"boxes": em.tensor([[2.0, 2.0, 15.0, 17.0]]),
                              "labels": em.tensor([1])},
                             {"boxes": em.tensor([[21.0, 3.0, 37.0, 19.0]]),
                              "labels": em.tensor([0])}], 2, 2, (40, 40), dtype=em.float64)
    loss = YOLOv1Loss(num_classes=2, rescore=False)  # the IoU target is a constant
    assert gradcheck(lambda o: loss(o, target), (output,))


def test_loss_errors():
    loss = YOLOv1Loss(num_classes=3)
    with pytest.raises(ValueError, match=r"output must be \(N, S, S, 5B \+ C\)"):
        loss(em.zeros(1, 2, 2, 12), em.zeros(1, 2, 2, 8))
    with pytest.raises(ValueError, match=r"target must be \(N, S, S, 5 \+ C\)"):
        loss(em.zeros(1, 2, 2, 13), em.zeros(1, 2, 2, 7))
    with pytest.raises(ValueError, match=r"labels outside \[0, 2\]"):
        encode_targets([{"boxes": em.zeros(1, 4), "labels": em.tensor([3])}], 2, 3, (8, 8))


def test_perfect_predictions_decode_to_map_1_and_nms_removes_duplicates():
    data = em.datasets.shapes(train=False, num_images=30)
    target = encode_targets(data.targets, 8, 3, data.image_size).numpy()
    output = np.zeros((30, 8, 8, 13), dtype=np.float32)
    output[..., :2] = target[..., :2]
    output[..., 2:4] = np.sqrt(target[..., 2:4])
    output[..., 4] = target[..., 4]
    output[..., 5:10] = output[..., :5] * 0.97  # a second, near-identical box per cell
    output[..., 10:] = target[..., 5:]
    detections = decode(em.tensor(output), 3, 2, data.image_size, conf_threshold=0.01)
    metric = MeanAveragePrecision()
    metric.update(detections, [data.target(i) for i in range(30)])
    result = metric.compute()
    assert float(result["map"]) == pytest.approx(1.0)
    assert sum(len(d["labels"]) for d in detections) == sum(len(t["labels"])
                                                            for t in data.targets)


def test_state_dict_round_trip(tmp_path):
    model = yolov1(num_classes=3, grid=8, backbone="small", hidden=32)
    model.eval()
    x = em.randn(2, 3, 64, 64)
    em.save(model.state_dict(), tmp_path / "yolo.safetensors")
    other = yolov1(num_classes=3, grid=8, backbone="small", hidden=32)
    other.load_state_dict(em.load(tmp_path / "yolo.safetensors"))
    other.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())


def test_a_short_seeded_training_run_lowers_the_loss():
    em.manual_seed(0)
    data = em.datasets.shapes(num_images=48, image_size=32, min_size=6, max_size=14,
                              max_objects=2)
    x = em.tensor(data.images.transpose(0, 3, 1, 2).astype(np.float32) / 255 - 0.5)
    y = encode_targets(data.targets, 4, 3, data.image_size)
    model = yolov1(num_classes=3, grid=4, backbone="small", hidden=64, dropout=0.0)
    loss_fn = YOLOv1Loss(num_classes=3)
    optimizer = em.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        for i in range(0, 48, 16):
            loss = loss_fn(model(x[i:i + 16]), y[i:i + 16])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with em.no_grad():
            losses.append(loss_fn(model(x), y).item())
        model.train()
    assert losses[-1] < 0.5 * losses[0], losses
