"""YOLOv1 (Redmon, Divvala, Girshick & Farhadi, 2016, "You Only Look Once: Unified,
Real-Time Object Detection"): detection as one regression from pixels to boxes.

The image is divided into an S x S grid. Each cell predicts B boxes, each with a
confidence, and one set of C class probabilities, so the network's output is an
S x S x (5B + C) tensor (7 x 7 x 30 for S = 7, B = 2 and the 20 VOC classes). For the
cell in row i, column j, the last dimension holds, for each box b, ``5b + 0..4``:

* ``x, y``: the box centre's offset inside the cell, in [0, 1]
  (centre = ((j + x)/S, (i + y)/S) of the image's width and height);
* ``sqrt(w), sqrt(h)``: the square roots of the box's width and height as fractions of
  the image's (the paper regresses square roots so that an error on a small box costs
  more than the same error on a large one; the box is their square);
* ``C``: the confidence, trained towards Pr(object) IoU(prediction, truth);

then ``5B .. 5B + C - 1``: Pr(class | object), one set per cell.

The paper's network is 24 convolutional layers (the "darknet" backbone here, 448 x 448
input, leaky ReLU 0.1) and the head: two fully connected layers (4,096 units, dropout
0.5) on the 7 x 7 x 1024 features, with a linear output. The backbone is
configurable: ``"small"`` is five convolutions with batch normalisation and a stride of
8, which trains on a CPU in minutes (``ember train --model yolov1 --dataset shapes``:
48 x 48 images, a 6 x 6 grid), and any module with
``out_channels`` features works. The loss is
:class:`~ember.models.detection.yolo_loss.YOLOv1Loss`; ``decode`` turns outputs into
boxes (confidence threshold, then per-class non-maximum suppression).

>>> import ember as em
>>> model = em.models.yolov1(num_classes=3, grid=8, backbone="small", hidden=128)
>>> model(em.zeros(2, 3, 64, 64)).shape      # S x S x (5B + C) = 8 x 8 x 13
(2, 8, 8, 13)
"""

from __future__ import annotations

from ember import nn
from ember.autograd.engine import no_grad
from ember.tensor import Tensor

__all__ = ["YOLOv1", "yolov1", "darknet_backbone", "small_backbone", "DARKNET_LAYERS"]

#: the paper's 24 convolutional layers (Figure 3): (kernel, out channels, stride), "M" for
#: a 2x2 max-pool with stride 2
DARKNET_LAYERS = (
    (7, 64, 2), "M",
    (3, 192, 1), "M",
    (1, 128, 1), (3, 256, 1), (1, 256, 1), (3, 512, 1), "M",
    *((1, 256, 1), (3, 512, 1)) * 4, (1, 512, 1), (3, 1024, 1), "M",
    *((1, 512, 1), (3, 1024, 1)) * 2, (3, 1024, 1), (3, 1024, 2),
    (3, 1024, 1), (3, 1024, 1),
)


def darknet_backbone(in_channels: int = 3, batch_norm: bool = False) -> nn.Sequential:
    """The paper's 24 convolutional layers: a 448 x 448 image becomes 7 x 7 x 1024 (a
    stride of 64). Every convolution is 'same'-padded and followed by a leaky ReLU (0.1),
    with batch normalisation (as YOLOv2 added) when ``batch_norm``."""
    layers, channels = [], in_channels
    for spec in DARKNET_LAYERS:
        if spec == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        kernel, out, stride = spec
        layers.append(nn.Conv2d(channels, out, kernel, stride, padding=kernel // 2,
                                bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.LeakyReLU(0.1))
        channels = out
    backbone = nn.Sequential(*layers)
    backbone.out_channels = channels
    return backbone


def small_backbone(in_channels: int = 3, width: int = 16,
                   out_channels: int | None = None) -> nn.Sequential:
    """A small backbone for CPU training, a stride of 8 (48 x 48 -> 6 x 6): a 3x3
    convolution with stride 2 to ``width`` channels, then 3x3 convolutions to 2, 4 and 8
    times ``width`` (the first two followed by a 2x2 max-pool) and a 1x1 convolution to
    ``out_channels`` (default 8 ``width``; fewer make the fully connected head smaller);
    each convolution followed by batch normalisation and a leaky ReLU (0.1)."""
    def block(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list:
        return [nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False),
                nn.BatchNorm2d(cout), nn.LeakyReLU(0.1)]

    w = width
    out_channels = out_channels or 8 * w
    backbone = nn.Sequential(
        *block(in_channels, w, stride=2),
        *block(w, 2 * w), nn.MaxPool2d(2, 2),
        *block(2 * w, 4 * w), nn.MaxPool2d(2, 2),
        *block(4 * w, 8 * w),
        *block(8 * w, out_channels, kernel=1),
    )
    backbone.out_channels = out_channels
    return backbone


class YOLOv1(nn.Module):
    """YOLOv1: a backbone and the paper's fully connected head, output (N, S, S, 5B + C).

    Args:
        num_classes: C (20 for PASCAL VOC).
        grid: S, the grid is S x S (7 in the paper).
        boxes_per_cell: B (2 in the paper).
        backbone: ``"darknet"`` (the paper's 24 layers), ``"small"``, or a module whose
            output has ``backbone_channels`` (or its ``out_channels``) channels.
        hidden: units of the first fully connected layer (4,096 in the paper).
        dropout: dropout after it (0.5 in the paper).
        in_channels: image channels.
        backbone_channels: the channels of a custom backbone's output.

    The backbone's features are average-pooled to S x S (``AdaptiveAvgPool2d``: nothing
    changes when the backbone already gives S x S, as darknet on 448 x 448 images does),
    flattened, and mapped by Linear(S S C_f, hidden), leaky ReLU 0.1, dropout,
    Linear(hidden, S S (5B + C)) (linear output), reshaped to the grid.

    Shape:
        (N, in_channels, H, W) -> (N, S, S, 5B + C); H = W = 448 for darknet, 48 in the
        small backbone's recipe (any size works: the pooling makes the features S x S).
    """

    def __init__(self, num_classes: int = 20, grid: int = 7, boxes_per_cell: int = 2,
                 backbone="darknet", hidden: int = 4096, dropout: float = 0.5,
                 in_channels: int = 3, backbone_channels: int | None = None) -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("grid", grid),
                            ("boxes_per_cell", boxes_per_cell), ("hidden", hidden)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"yolov1: {name} must be a positive int, got {value!r}")
        if isinstance(backbone, str):
            if backbone == "darknet":
                backbone = darknet_backbone(in_channels)
            elif backbone == "small":
                backbone = small_backbone(in_channels)
            else:
                raise ValueError(f"yolov1: backbone must be 'darknet', 'small' or a Module, "
                                 f"got {backbone!r}")
        elif not isinstance(backbone, nn.Module):
            raise TypeError(f"yolov1: backbone must be 'darknet', 'small' or a Module, got "
                            f"{type(backbone).__name__}")
        channels = backbone_channels or getattr(backbone, "out_channels", None)
        if channels is None:
            raise ValueError("yolov1: pass backbone_channels, the number of channels the "
                             "custom backbone outputs")
        self.num_classes, self.grid, self.boxes_per_cell = num_classes, grid, boxes_per_cell
        depth = 5 * boxes_per_cell + num_classes
        self.backbone = backbone
        self.pool = nn.AdaptiveAvgPool2d((grid, grid))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * grid * grid, hidden),
            nn.LeakyReLU(0.1),
            nn.Dropout(dropout),
            nn.Linear(hidden, grid * grid * depth),
            nn.Unflatten(1, (grid, grid, depth)),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.pool(self.backbone(x)))

    def decode(self, output: Tensor, image_size: tuple[int, int], conf_threshold: float = 0.2,
               iou_threshold: float = 0.5, max_detections: int = 100) -> list[dict]:
        """Boxes from raw outputs: see :func:`~ember.models.detection.yolo_decode.decode`."""
        from ember.models.detection.yolo_decode import decode

        return decode(output, self.num_classes, self.boxes_per_cell, image_size,
                      conf_threshold, iou_threshold, max_detections)

    def predict(self, images: Tensor, conf_threshold: float = 0.2, iou_threshold: float = 0.5,
                max_detections: int = 100) -> list[dict]:
        """Detections for a batch of images (evaluation mode, no graph): per image a dict
        of ``boxes`` (K, 4) ``xyxy`` pixels, ``scores`` (K,) and ``labels`` (K,)."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                output = self(images)
        finally:
            self.train(was_training)
        return self.decode(output, tuple(images.shape[-2:]), conf_threshold, iou_threshold,
                           max_detections)

    def extra_repr(self) -> str:
        return (f"grid={self.grid}, boxes_per_cell={self.boxes_per_cell}, "
                f"num_classes={self.num_classes}")


def yolov1(num_classes: int = 20, grid: int = 7, boxes_per_cell: int = 2,
           backbone="darknet", *, weights=None, progress: bool = True, **kwargs) -> YOLOv1:
    """Build :class:`YOLOv1` (the paper's configuration by default: 7 x 7 grid, 2 boxes per
    cell, 20 classes, the 24-layer backbone on 448 x 448 images).

    ember ships no YOLOv1 weights; ``weights=PATH`` loads a state_dict file (an ``ember
    train`` checkpoint, safetensors or ``torch.save``) into the model built as asked.

    >>> import ember as em
    >>> model = em.models.yolov1(num_classes=3, grid=8, backbone="small", hidden=128)
    >>> print(em.summary(model, (3, 64, 64)).layers[-1])  # doctest: +ELLIPSIS
    LayerSummary(name='head.5', type='Unflatten', output_shape=(1, 8, 8, 13), ...)
    """
    from ember.models import pretrained

    kwargs.update(num_classes=num_classes, grid=grid, boxes_per_cell=boxes_per_cell,
                  backbone=backbone)
    return pretrained.build("yolov1", YOLOv1, weights, kwargs, progress)
