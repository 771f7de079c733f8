"""Canny against plain Sobel thresholding on a noisy image, as the Gaussian blur grows.

Thresholding the gradient magnitude marks every pixel on the slope of an edge, and in
noise it marks noise too. Canny [1986] adds two steps: non-maximum suppression keeps only
the crest of each slope (edges one pixel thin however wide the blur), and hysteresis
keeps weak crests only where they continue a strong edge (noise specks rarely do). Both
need smoothing against noise, which also blurs the edges, so there is a best sigma.

A synthetic image of flat shapes (a disc, rectangles, a triangle; contrasts 0.15 to 0.4)
gets Gaussian noise (standard deviation 0.15); its edges are Canny's on the clean image.
For each sigma, both detectors get their best thresholds (the F1-maximising one of a
grid, as edge benchmarks report the optimal dataset scale): Sobel ``|G| > t``; Canny with
``low = 0.4 high``. A detected pixel counts as correct within one pixel of a true edge,
and F1 is the harmonic mean of that precision and the recall of the true edges.

References: J. Canny, "A Computational Approach to Edge Detection", IEEE PAMI 8(6), 1986;
D. Martin, C. Fowlkes, J. Malik, "Learning to detect natural image boundaries", IEEE PAMI
26(5), 2004 (F1 with a distance tolerance).
"""

from __future__ import annotations

import os

import numpy as np

from ember import random
from ember.experiments.common import Result, pyplot, save_figure, verdict

NAME = "canny_vs_sobel"
CLAIM = ("Canny finds edges in noise better than thresholding the Sobel magnitude: its best "
         "F1 over sigma is higher, and its edges stay one pixel thin as the blur grows")
SIZES = {
    "full": {"size": 192, "sigmas": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0), "thresholds": 25},
    "smoke": {"size": 48, "sigmas": (0.0, 1.0, 2.0), "thresholds": 5},
}
NOISE = 0.15


def shapes(size: int) -> np.ndarray:
    """The clean image: flat shapes on a grey background, values in [0, 1]."""
    scale = size / 192
    yy, xx = np.mgrid[0:size, 0:size] / scale
    image = np.full((size, size), 0.35)
    image[(yy - 60) ** 2 + (xx - 70) ** 2 < 35 ** 2] = 0.75
    image[(yy >= 110) & (yy < 170) & (xx >= 100) & (xx < 175)] = 0.6
    image[(yy > 20) & (yy < 90) & (xx > 120) & (xx < 180) & (xx - 120 > (yy - 20) * 0.85)] = 0.1
    image[(yy >= 130) & (yy < 160) & (xx >= 20) & (xx < 80)] = 0.5
    return image


def f1_score(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """(precision, recall, F1) with a one-pixel tolerance (3x3 dilation)."""
    import ember.vision as V

    if predicted.sum() == 0 or truth.sum() == 0:
        return 0.0, 0.0, 0.0
    precision = float((predicted & V.dilation(truth, 3)).sum() / predicted.sum())
    recall = float((truth & V.dilation(predicted, 3)).sum() / truth.sum())
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Measure both detectors' best F1 at each sigma; plot F1 against sigma and the edges."""
    import ember.vision as V

    config = SIZES[size]
    random.manual_seed(seed)
    clean = shapes(config["size"])
    truth = V.canny(clean, 0.05, 0.1, sigma=1.0, kernel_size=5) > 0
    noisy = clean + random.generator().normal(0.0, NOISE, clean.shape)
    table, best_edges = [], {}
    grid = np.linspace(0.5, 0.995, config["thresholds"])
    for sigma in config["sigmas"]:
        smoothed = noisy if sigma == 0 else V.gaussian_blur2d(noisy, 0, sigma)
        gx, gy = (V.sobel(smoothed, dx, 1 - dx, border="replicate") for dx in (1, 0))
        magnitude = V.magnitude(gx, gy)
        sobel_runs = [(f1_score(magnitude > t, truth), magnitude > t)
                      for t in np.quantile(magnitude, grid)]
        l1 = np.abs(gx) + np.abs(gy)
        canny_runs = [(f1_score(V.canny(noisy, 0.4 * h, h, sigma=sigma) > 0, truth), None)
                      for h in np.quantile(l1, grid)]
        (sobel_score, sobel_mask), canny_best = (max(sobel_runs, key=lambda r: r[0][2]),
                                                 max(range(len(canny_runs)),
                                                     key=lambda i: canny_runs[i][0][2]))
        canny_score = canny_runs[canny_best][0]
        high = float(np.quantile(l1, grid)[canny_best])
        canny_mask = V.canny(noisy, 0.4 * high, high, sigma=sigma) > 0
        best_edges[sigma] = (sobel_mask, canny_mask)
        table.append({"sigma": sigma, "Sobel F1": sobel_score[2], "Canny F1": canny_score[2],
                      "Sobel precision": sobel_score[0], "Canny precision": canny_score[0],
                      "Sobel px / true px": float(sobel_mask.sum() / truth.sum()),
                      "Canny px / true px": float(canny_mask.sum() / truth.sum())})

    sobel_best = max(table, key=lambda r: r["Sobel F1"])
    canny_best_row = max(table, key=lambda r: r["Canny F1"])
    widest = table[-1]
    held = (canny_best_row["Canny F1"] > sobel_best["Sobel F1"]
            and widest["Canny px / true px"] < widest["Sobel px / true px"])
    finding = (f"Canny reached F1 {canny_best_row['Canny F1']:.3f} (at sigma "
               f"{canny_best_row['sigma']:g}) against {sobel_best['Sobel F1']:.3f} for Sobel "
               f"thresholding (at sigma {sobel_best['sigma']:g}); at sigma {widest['sigma']:g} "
               f"Canny marked {widest['Canny px / true px']:.2f} pixels per true edge pixel, "
               f"Sobel {widest['Sobel px / true px']:.2f} (F1 {widest['Canny F1']:.3f} against "
               f"{widest['Sobel F1']:.3f})")
    plot = _plot(table, clean, noisy, truth, best_edges, sobel_best["sigma"],
                 canny_best_row["sigma"], out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"clean": clean, "noisy": noisy, "truth": truth}, size=size)


def _plot(table, clean, noisy, truth, best_edges, sobel_sigma, canny_sigma, out, size):
    plt = pyplot()
    fig = plt.figure(figsize=(15, 6.5))
    grid = fig.add_gridspec(2, 4)
    curve = fig.add_subplot(grid[:, :2])
    sigmas = [row["sigma"] for row in table]
    curve.plot(sigmas, [row["Sobel F1"] for row in table], "o-", label="Sobel |G| > t")
    curve.plot(sigmas, [row["Canny F1"] for row in table], "s-", label="Canny")
    curve.set(xlabel="Gaussian sigma (pixels)", ylabel="best F1 (1-pixel tolerance)",
              title=f"edges in noise (std {NOISE})", ylim=(0, 1))
    curve.grid(alpha=0.3)
    curve.legend()
    panels = [(noisy, "noisy image"), (truth, "true edges (clean image)"),
              (best_edges[sobel_sigma][0], f"Sobel, best (sigma {sobel_sigma:g})"),
              (best_edges[canny_sigma][1], f"Canny, best (sigma {canny_sigma:g})")]
    for k, (image, title) in enumerate(panels):
        ax = fig.add_subplot(grid[k // 2, 2 + k % 2])
        ax.imshow(image, cmap="gray", interpolation="nearest")
        ax.set(title=title, xticks=[], yticks=[])
    return save_figure(fig, out, NAME, size)
