"""Pictures of segmentations: class colours, masks blended over images, and a grid of
image | truth | prediction rows (matplotlib, an optional extra, for the grid)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["palette", "colorize", "overlay", "plot_overlays"]

# background black, then clearly different colours; more classes get Pascal VOC's
_FIRST = [(0, 0, 0), (230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 225, 25),
          (145, 30, 180), (70, 240, 240), (245, 130, 48), (240, 50, 230), (128, 128, 0)]


def palette(num_classes: int = 256) -> np.ndarray:
    """(num_classes, 3) uint8 colours: black for class 0, then ten distinct colours,
    then Pascal VOC's bit-interleaved palette.

    >>> palette(3)
    array([[  0,   0,   0],
           [230,  25,  75],
           [ 60, 180,  75]], dtype=uint8)
    """
    colours = np.zeros((max(num_classes, 1), 3), dtype=np.uint8)
    for label in range(len(colours)):
        if label < len(_FIRST):
            colours[label] = _FIRST[label]
            continue
        c, value = label, [0, 0, 0]
        for shift in range(7, -1, -1):
            for channel in range(3):
                value[channel] |= ((c >> channel) & 1) << shift
            c >>= 3
        colours[label] = value
    return colours[:num_classes]


def colorize(mask: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """An (H, W) class-index mask as an (H, W, 3) uint8 RGB picture (labels outside the
    palette, such as an ignore value 255, are white)."""
    mask = np.asarray(mask)
    n = int(max(mask.max(initial=0) + 1, num_classes or 0))
    colours = palette(max(n, 1))
    out = np.full(mask.shape + (3,), 255, dtype=np.uint8)
    known = (mask >= 0) & (mask < len(colours))
    out[known] = colours[mask[known]]
    return out


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.5,
            num_classes: int | None = None) -> np.ndarray:
    """The mask's colours blended over the image where the class is not 0 (background):
    ``(1 - alpha) image + alpha colour``; (H, W, 3) uint8.

    Args:
        image: (3, H, W) or (1, H, W) or (H, W) or (H, W, 3) in [0, 1].
        mask: (H, W) class indices.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = image.transpose(1, 2, 0)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    rgb = np.clip(image, 0.0, 1.0) * 255.0
    colours = colorize(mask, num_classes).astype(np.float64)
    blend = np.where((np.asarray(mask) != 0)[..., None], (1 - alpha) * rgb + alpha * colours, rgb)
    return np.round(blend).astype(np.uint8)


def plot_overlays(images: np.ndarray, truths: np.ndarray, predictions: np.ndarray,
                  path: str | os.PathLike, class_names: Sequence[str] | None = None,
                  title: str = "") -> None:
    """One row per sample: the image, the true mask over it, the predicted mask over it
    (pixels where the prediction is wrong are outlined in the last column's title as a
    percentage); a legend of the class colours. Written as a PNG."""
    from ember.train.plots import _pyplot

    plt = _pyplot()
    n = len(images)
    num_classes = len(class_names) if class_names else int(max(truths.max(), predictions.max())) + 1
    fig, axes = plt.subplots(n, 3, figsize=(7.5, 2.5 * n), squeeze=False)
    for row, (image, truth, pred) in enumerate(zip(images, truths, predictions, strict=True)):
        wrong = float(np.mean(truth != pred))
        panels = [(overlay(image, np.zeros_like(truth)), "image"),
                  (overlay(image, truth, num_classes=num_classes), "truth"),
                  (overlay(image, pred, num_classes=num_classes),
                   f"prediction ({wrong:.1%} of pixels wrong)")]
        for ax, (picture, name) in zip(axes[row], panels, strict=True):
            ax.imshow(picture, interpolation="nearest")
            ax.set_title(name, fontsize=9)
            ax.axis("off")
    if class_names:
        from matplotlib.patches import Patch

        colours = palette(len(class_names)) / 255.0
        handles = [Patch(color=colours[i], label=name) for i, name in enumerate(class_names)]
        fig.legend(handles=handles, loc="lower center", ncol=len(class_names), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.04 if class_names else 0, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
