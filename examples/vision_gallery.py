"""The gallery of docs/vision.md: every ember.vision operation on scikit-image's bundled
photos (camera, coins, moon, astronaut; they ship inside the scikit-image wheel, so this
runs offline).

    python examples/vision_gallery.py [--out docs/vision]

Writes one PNG per family of operations and prints the numbers quoted in the page.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import ember.vision as V
from ember.vision import draw


def _figure(panels, path, columns=4, size=3.0):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.3),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (image, title, *cmap) in zip(axes.ravel(), panels, strict=False):
        if isinstance(image, tuple):  # a plot instead of an image: (kind, data)
            kind, data = image
            ax.axis("on")
            if kind == "hist":
                counts, threshold = data
                ax.bar(np.arange(256), counts, width=1.0, color="0.4")
                if threshold is not None:
                    ax.axvline(threshold, color="red", lw=1.5)
                ax.set_xlim(0, 255)
                ax.set_yticks([])
        else:
            tall, wide = np.shape(image)[:2]
            ax.imshow(image, cmap=(cmap[0] if cmap else "gray"), interpolation="nearest",
                      aspect="auto" if max(tall / wide, wide / tall) > 2 else "equal",
                      **({} if np.ndim(image) == 3 or cmap else {"vmin": 0, "vmax": 255}))
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72, pil_kwargs={"quality": 85})
    plt.close(fig)
    print(f"wrote {path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/vision")
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)
    from skimage import data

    camera, coins, moon, astronaut = data.camera(), data.coins(), data.moon(), data.astronaut()
    rng = np.random.default_rng(0)
    started = time.perf_counter()

    # smoothing: Gaussian, box, and the median against salt-and-pepper noise
    noisy = camera.copy()
    spots = rng.random(camera.shape)
    noisy[spots < 0.05], noisy[spots > 0.95] = 0, 255
    _figure([(camera, "camera"), (V.gaussian_blur2d(camera, 0, 3.0), "gaussian_blur2d, sigma 3"),
             (V.box_blur(camera, 9), "box_blur 9x9"),
             (V.filter2d(camera, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]), "filter2d: sharpen"),
             (noisy, "10% salt and pepper"), (V.box_blur(noisy, 5), "box_blur 5x5 (mean)"),
             (V.median_blur(noisy, 5), "median_blur 5x5"),
             (V.gaussian_blur2d(noisy, 5, 0), "gaussian_blur2d 5x5")],
            out / "smoothing.jpg")

    # gradients: the textbook operators, magnitude and direction
    gx, gy = V.gradient(camera, "sobel")
    magnitude = V.magnitude(gx, gy)
    hue = (V.direction(gx, gy) + np.pi) / (2 * np.pi)
    value = np.clip(magnitude / np.percentile(magnitude, 99), 0, 1)
    import matplotlib.colors as colors

    direction = colors.hsv_to_rgb(np.dstack([hue, np.ones_like(hue), value]))
    _figure([(draw.to_display(gx), "sobel d/dx  |gx|"), (draw.to_display(gy), "sobel d/dy  |gy|"),
             (draw.to_display(magnitude), "magnitude sqrt(gx^2 + gy^2)"),
             (direction, "direction (hue) x magnitude"),
             (draw.to_display(V.magnitude(*V.gradient(camera, "prewitt"))), "prewitt"),
             (draw.to_display(V.magnitude(*V.gradient(camera, "roberts"))), "roberts"),
             (draw.to_display(V.magnitude(*V.gradient(camera, "scharr"))), "scharr"),
             (draw.to_display(V.laplacian(V.gaussian_blur2d(camera, 5, 1.0), 3)),
              "laplacian of a blur")], out / "gradients.jpg")

    # Canny's five steps
    steps = V.canny_steps(camera, 40, 100, sigma=1.4, kernel_size=7)
    classes = np.zeros(camera.shape + (3,), np.uint8)
    classes[steps.weak] = (255, 160, 0)
    classes[steps.strong] = (255, 255, 255)
    _figure([(steps.smoothed[0], "1. gaussian_blur2d, sigma 1.4"),
             (draw.to_display(steps.magnitude), "2. sobel: |gx| + |gy|"),
             (draw.to_display(steps.suppressed), "3. non_maximum_suppression"),
             (classes, "4. double_threshold: strong, weak"),
             (steps.edges, "5. hysteresis_threshold = canny"),
             (V.canny(astronaut, 60, 150, sigma=1.0, kernel_size=5), "canny on astronaut"),
             (V.canny(coins, 60, 150, sigma=2.0, kernel_size=9), "canny on coins, sigma 2"),
             (V.canny(moon, 20, 50, sigma=2.0, kernel_size=9), "canny on moon, sigma 2")],
            out / "canny.jpg")

    # thresholds
    t, mask = V.otsu_threshold(coins)
    table = V.otsu_table(V.histogram(coins))
    between = table.between / table.between.max() * V.histogram(coins).max()
    _figure([(coins, "coins"), (("hist", (V.histogram(coins), t)), f"histogram, Otsu t = {t:g}"),
             (mask, "otsu_threshold mask"),
             (V.adaptive_threshold(coins, 255, "gaussian", "binary", 35, -5),
              "adaptive_threshold, 35x35"),
             (V.threshold(moon, 120, 255, "tozero"), "threshold tozero 120 (moon)"),
             (("hist", (between, table.threshold)), "between-class variance"),
             (V.threshold(camera, 100, 255, "binary"), "threshold binary 100"),
             (V.threshold(camera, 100, 255, "trunc"), "threshold trunc 100")],
            out / "thresholds.jpg")
    print(f"Otsu threshold of coins: {t:g}")

    # morphology on the coins mask and on grey levels
    disk = V.structuring_element("ellipse", 7)
    binary = mask.astype(np.uint8) * 255
    count, labels = V.connected_components(V.closing(binary, disk))
    _figure([(binary, "Otsu mask"), (V.erosion(binary, disk), "erosion, ellipse 7"),
             (V.dilation(binary, disk), "dilation"), (V.opening(binary, disk), "opening"),
             (V.closing(binary, disk), "closing"),
             (V.morphological_gradient(binary, 3), "morphological_gradient 3x3"),
             (np.clip(V.top_hat(moon, 15) * (255 / np.percentile(V.top_hat(moon, 15), 99.5)),
                      0, 255), "top_hat 15x15 (moon), scaled"),
             (draw.color_labels(labels), f"connected_components: {count - 1}")],
            out / "morphology.jpg")
    print(f"components of the closed coins mask: {count - 1}")

    # histogram equalisation
    equalised = V.equalize_hist(moon)
    _figure([(moon, "moon"), (("hist", (V.histogram(moon), None)), "its histogram"),
             (equalised, "equalize_hist"), (("hist", (V.histogram(equalised), None)),
                                            "equalised histogram")],
            out / "equalize.jpg")

    # Hough lines and template matching
    edges = V.canny(camera, 40, 100, sigma=2.0, kernel_size=9)
    lines = V.hough_lines(edges, 1, np.pi / 180, 110)[:12]
    accumulator = V.hough_accumulator(edges)
    grey = V.rgb_to_grayscale(astronaut)
    template = grey[60:130, 170:240]  # the face
    scores = V.match_template(grey, template, "ccoeff_normed")
    top, left = np.unravel_index(scores.argmax(), scores.shape)
    _figure([(edges, "canny, sigma 2"),
             (np.log1p(accumulator.votes.T[700:1400].astype(float)),
              "hough_accumulator (rho, theta)", "magma"),
             (draw.draw_polar_lines(camera, lines), f"hough_lines: the {len(lines)} strongest"),
             (template, "template (70x70)"),
             (draw.to_display(np.clip(scores, 0, 1)), "match_template ccoeff_normed"),
             (draw.draw_rectangle(grey, int(top), int(left), 70, 70), "best match"),
             (grey, "rgb_to_grayscale(astronaut)"), (astronaut, "astronaut")],
            out / "hough_template.jpg")
    print(f"best match of the face at row {top}, column {left}; {len(lines)} lines drawn")
    print(f"gallery made in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
