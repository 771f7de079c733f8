"""Box formats, areas, IoU/GIoU/DIoU/CIoU and the IoU losses against torchvision's own
Python code, in float64, forward and every gradient."""

from __future__ import annotations

import numpy as np
import pytest
from torchvision_oracle import torchvision_ops

import ember as em
from ember.testing import assert_close, gradcheck
from ember.vision import ops


def random_boxes(rng, n, fmt="xyxy", leading=()):
    """Boxes of width/height in (0.5, 8) in a 12 x 12 field: some overlap, some do not."""
    xy = rng.uniform(0, 10, (*leading, n, 2))
    wh = rng.uniform(0.5, 8, (*leading, n, 2))
    if fmt == "xyxy":
        return np.concatenate([xy, xy + wh], axis=-1)
    if fmt == "xywh":
        return np.concatenate([xy, wh], axis=-1)
    return np.concatenate([xy + wh / 2, wh], axis=-1)


def compare(torch, rng, ours, theirs, arrays, tol=1e-12):
    """Forward and the gradient of every input, ember against torchvision."""
    xs = [em.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ye, yt = ours(*xs), theirs(*ts)
    assert_close(ye, yt, rtol=tol, atol=tol, name="forward")
    assert ye.dtype == em.float64
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(em.tensor(g))
    yt.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        assert_close(x.grad, t.grad, rtol=tol, atol=tol, name=f"gradient of input {i}")


PAIRWISE = ["box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"]


@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize("leading", [(), (2,)], ids=["NxM", "batched"])
def test_pairwise_iou_matches_torchvision(torch, rng, name, leading):
    tv = torchvision_ops()
    a, b = random_boxes(rng, 5, leading=leading), random_boxes(rng, 6, leading=leading)
    b[..., 0, :] = a[..., 0, :]  # identical boxes
    b[..., 1, :] = a[..., 1, :] + [20, 20, 20, 20]  # far apart
    compare(torch, rng, getattr(ops, name), getattr(tv, name), [a, b])


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_iou_in_other_formats(torch, rng, fmt):
    tv = torchvision_ops()
    a, b = random_boxes(rng, 4, fmt), random_boxes(rng, 3, fmt)
    compare(torch, rng, lambda x, y: ops.box_iou(x, y, fmt=fmt),
            lambda x, y: tv.box_iou(x, y, fmt=fmt), [a, b])


@pytest.mark.parametrize("pair", [(i, o) for i in ops.boxes.FORMATS for o in ops.boxes.FORMATS
                                  if i != o])
def test_box_convert_matches_torchvision(torch, rng, pair):
    tv = torchvision_ops()
    in_fmt, out_fmt = pair
    compare(torch, rng, lambda x: ops.box_convert(x, in_fmt, out_fmt),
            lambda x: tv.box_convert(x, in_fmt, out_fmt), [random_boxes(rng, 5, in_fmt)])


@pytest.mark.parametrize("fmt", ops.boxes.FORMATS)
def test_box_area(torch, rng, fmt):
    tv = torchvision_ops()
    compare(torch, rng, lambda x: ops.box_area(x, fmt), lambda x: tv.box_area(x, fmt),
            [random_boxes(rng, 5, fmt)])


@pytest.mark.parametrize("dtype, expected", [(np.int64, em.int64), (np.int16, em.int32),
                                             (np.float32, em.float32)])
def test_box_area_and_iou_dtypes(torch, dtype, expected):
    tv = torchvision_ops()
    boxes = np.array([[0, 0, 4, 3], [1, 1, 5, 5]], dtype=dtype)
    area = ops.box_area(em.tensor(boxes))
    assert area.dtype == expected
    assert area.tolist() == tv.box_area(torch.tensor(boxes)).tolist()
    iou = ops.box_iou(em.tensor(boxes), em.tensor(boxes))
    assert iou.dtype == em.float32
    assert_close(iou, tv.box_iou(torch.tensor(boxes), torch.tensor(boxes)), rtol=1e-6)


LOSSES = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_iou_losses_match_torchvision(torch, rng, name, reduction):
    tv = torchvision_ops()
    a, b = random_boxes(rng, 6), random_boxes(rng, 6)
    b[0] = a[0]
    b[1] = a[1] + 20  # no overlap: only the penalty terms are left
    compare(torch, rng, lambda x, y: getattr(ops, name)(x, y, reduction=reduction),
            lambda x, y: getattr(tv, name)(x, y, reduction=reduction), [a, b])


@pytest.mark.parametrize("name", LOSSES)
def test_iou_losses_of_single_boxes_and_empty_batches(torch, rng, name):
    tv = torchvision_ops()
    a, b = random_boxes(rng, 1)[0], random_boxes(rng, 1)[0]
    compare(torch, rng, getattr(ops, name), getattr(tv, name), [a, b])
    empty = em.zeros(0, 4, dtype=em.float64, requires_grad=True)
    loss = getattr(ops, name)(empty, empty, reduction="mean")
    assert loss.item() == 0.0
    loss.backward()


def test_generalized_box_iou_passes_gradcheck(rng):
    a = em.tensor(random_boxes(rng, 3), requires_grad=True)
    b = em.tensor(random_boxes(rng, 2), requires_grad=True)
    assert gradcheck(ops.generalized_box_iou, (a, b))
    assert gradcheck(lambda x, y: ops.distance_box_iou_loss(x, y), (a[:2], b))


def test_clip_and_remove_small_boxes_match_torchvision(torch, rng):
    tv = torchvision_ops()
    boxes = random_boxes(rng, 8) * 1.5 - 3  # some outside the image
    compare(torch, rng, lambda x: ops.clip_boxes_to_image(x, (9, 11)),
            lambda x: tv.clip_boxes_to_image(x, (9, 11)), [boxes])
    for size in (0.5, 3.0, 6.0):
        expected = tv.remove_small_boxes(torch.tensor(boxes), size).tolist()
        got = ops.remove_small_boxes(em.tensor(boxes), size)
        assert got.dtype == em.int64 and got.tolist() == expected


def test_masks_to_boxes_matches_torchvision(torch, rng):
    tv = torchvision_ops()
    masks = rng.random((4, 7, 9)) > 0.85
    masks[0] = False
    masks[1] = False
    masks[1, 3, 4] = True  # a single pixel
    got = ops.masks_to_boxes(em.tensor(masks))
    assert_close(got, tv.masks_to_boxes(torch.tensor(masks)), rtol=0, atol=0)


def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"box_iou: .*\(3, 4\) and \(2, 5\)|box_iou: boxes2"):
        ops.box_iou(em.zeros(3, 4), em.zeros(2, 5))
    with pytest.raises(ValueError, match=r"box_iou: .*\(2, 3, 4\) and \(3, 4\)"):
        ops.box_iou(em.zeros(2, 3, 4), em.zeros(3, 4))
    with pytest.raises(ValueError, match="box_convert: unsupported box format 'xywhr'"):
        ops.box_convert(em.zeros(3, 4), "xywhr", "xyxy")
    with pytest.raises(ValueError, match=r"generalized_box_iou_loss: .*\(3, 4\) and \(2, 4\)"):
        ops.generalized_box_iou_loss(em.zeros(3, 4), em.zeros(2, 4))
    with pytest.raises(ValueError, match="reduction must be one of"):
        ops.complete_box_iou_loss(em.zeros(3, 4), em.zeros(3, 4), reduction="avg")
