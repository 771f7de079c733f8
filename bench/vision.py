"""ember.vision against OpenCV and scikit-image on a 512 x 512 photo, one command:

    python -m bench.vision                      # every operation, 1 thread, 5 rounds
    python -m bench.vision --only canny,median --rounds 9

Each operation runs with the three libraries on the same image (scikit-image's
``camera``, or ``astronaut`` for colour), in rounds that alternate the libraries so that
a slow spell of a shared machine falls on all three; a library's time is the median over
rounds of its median call time, and the ratios are the medians of the rounds' ratios.
All three use the same thread count (``--threads``: OpenCV's ``setNumThreads``, ember's
``set_num_threads`` and the BLAS/OpenMP variables). The scikit-image calls are its
nearest functions (noted in the table where they differ: e.g. ``filters.rank.mean`` for
the box filter); OpenCV is the speed of light.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from statistics import median


def _operations(V, cv2, ski, camera, astronaut, np):
    """name -> (note, ember call, OpenCV call, scikit-image call)."""
    from skimage import color, exposure, feature, filters, measure, morphology, transform

    square5 = np.ones((5, 5), bool)
    ellipse7 = V.structuring_element("ellipse", 7)
    edges = cv2.Canny(camera, 100, 200)
    mask = camera > 100
    template = camera[200:232, 250:282].copy()
    camera_f = camera.astype(np.float32) / 255

    def sk_hough():
        h, theta, d = transform.hough_line(edges)
        return transform.hough_line_peaks(h, theta, d, threshold=100)

    return {
        "rgb_to_grayscale": ("astronaut, uint8", lambda: V.rgb_to_grayscale(astronaut),
                             lambda: cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY),
                             lambda: color.rgb2gray(astronaut)),
        "gaussian_blur2d 5x5": ("uint8", lambda: V.gaussian_blur2d(camera, 5, 1.5),
                                lambda: cv2.GaussianBlur(camera, (5, 5), 1.5),
                                lambda: filters.gaussian(camera, sigma=1.5, truncate=1.34,
                                                         preserve_range=True)),
        "gaussian_blur2d 5x5 float32": ("float32", lambda: V.gaussian_blur2d(camera_f, 5, 1.5),
                                        lambda: cv2.GaussianBlur(camera_f, (5, 5), 1.5),
                                        lambda: filters.gaussian(camera_f, sigma=1.5,
                                                                 truncate=1.34)),
        "box_blur 5x5": ("skimage: filters.rank.mean", lambda: V.box_blur(camera, 5),
                         lambda: cv2.blur(camera, (5, 5)),
                         lambda: filters.rank.mean(camera, square5)),
        "median_blur 5x5": ("", lambda: V.median_blur(camera, 5),
                            lambda: cv2.medianBlur(camera, 5),
                            lambda: filters.median(camera, square5)),
        "sobel magnitude": ("", lambda: V.magnitude(V.sobel(camera, 1, 0), V.sobel(camera, 0, 1)),
                            lambda: cv2.magnitude(cv2.Sobel(camera, cv2.CV_32F, 1, 0),
                                                  cv2.Sobel(camera, cv2.CV_32F, 0, 1)),
                            lambda: filters.sobel(camera)),
        "laplacian": ("ksize 3", lambda: V.laplacian(camera, 3),
                      lambda: cv2.Laplacian(camera, cv2.CV_32F, ksize=3),
                      lambda: filters.laplace(camera, ksize=3)),
        "canny (sigma 1.4)": ("with the Gaussian blur",
                              lambda: V.canny(camera, 40, 100, sigma=1.4, kernel_size=7),
                              lambda: cv2.Canny(cv2.GaussianBlur(camera, (7, 7), 1.4), 40, 100),
                              lambda: feature.canny(camera, 1.4, 40, 100)),
        "otsu_threshold": ("", lambda: V.otsu_threshold(camera),
                           lambda: cv2.threshold(camera, 0, 255, cv2.THRESH_BINARY
                                                 + cv2.THRESH_OTSU),
                           lambda: camera > filters.threshold_otsu(camera)),
        "adaptive_threshold 11": ("mean", lambda: V.adaptive_threshold(camera, block_size=11),
                                  lambda: cv2.adaptiveThreshold(camera, 255,
                                                                cv2.ADAPTIVE_THRESH_MEAN_C,
                                                                cv2.THRESH_BINARY, 11, 2),
                                  lambda: camera > filters.threshold_local(camera, 11, "mean",
                                                                           offset=-2)),
        "erosion 5x5": ("", lambda: V.erosion(camera, 5), lambda: cv2.erode(camera, square5
                                                                            .astype(np.uint8)),
                        lambda: morphology.erosion(camera, square5)),
        "opening ellipse 7": ("skimage: disk(3)", lambda: V.opening(camera, ellipse7),
                              lambda: cv2.morphologyEx(camera, cv2.MORPH_OPEN, ellipse7),
                              lambda: morphology.opening(camera, morphology.disk(3))),
        "equalize_hist": ("", lambda: V.equalize_hist(camera), lambda: cv2.equalizeHist(camera),
                          lambda: exposure.equalize_hist(camera)),
        "histogram": ("", lambda: V.histogram(camera),
                      lambda: cv2.calcHist([camera], [0], None, [256], [0, 256]),
                      lambda: exposure.histogram(camera)),
        "hough_lines": ("of the Canny edges", lambda: V.hough_lines(edges, 1, np.pi / 180, 100),
                        lambda: cv2.HoughLines(edges, 1, np.pi / 180, 100), sk_hough),
        "match_template 32x32": ("ccoeff_normed", lambda: V.match_template(camera, template),
                                 lambda: cv2.matchTemplate(camera, template,
                                                           cv2.TM_CCOEFF_NORMED),
                                 lambda: feature.match_template(camera, template)),
        "connected_components": ("8-connected", lambda: V.connected_components(mask),
                                 lambda: cv2.connectedComponents(mask.astype(np.uint8)),
                                 lambda: measure.label(mask, connectivity=2)),
    }


def _time(call, budget: float = 0.15) -> float:
    """Median seconds per call, over as many calls as fit in ``budget`` (at least 3)."""
    call()
    times = []
    started = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - started < budget and len(times) < 200):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.vision", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated operation names (prefixes)")
    args = parser.parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)

    import cv2
    import numpy as np
    from skimage import data

    import ember as em
    import ember.vision as V

    cv2.setNumThreads(args.threads)
    em.set_num_threads(args.threads)
    camera, astronaut = data.camera(), data.astronaut()
    operations = _operations(V, cv2, None, camera, astronaut, np)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        operations = {k: v for k, v in operations.items()
                      if any(k.startswith(w) for w in wanted)}
    print(f"ember.vision against OpenCV {cv2.__version__} and scikit-image on a 512x512 photo, "
          f"{args.threads} thread(s), {args.rounds} rounds (median ms; ratio = ember / other, "
          f"below 1 is faster)\n")
    print("| operation | ember ms | OpenCV ms | scikit-image ms | ember / scikit-image "
          "| ember / OpenCV | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, (note, ours, opencv, skimage_call) in operations.items():
        rows = []
        for _ in range(args.rounds):
            rows.append((_time(ours), _time(opencv), _time(skimage_call)))
        e, o, s = (median(r[i] for r in rows) for i in range(3))
        to_sk = median(r[0] / r[2] for r in rows)
        to_cv = median(r[0] / r[1] for r in rows)
        print(f"| {name} | {e * 1e3:.2f} | {o * 1e3:.3f} | {s * 1e3:.2f} | **{to_sk:.2f}** "
              f"| {to_cv:.1f} | {note} |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
