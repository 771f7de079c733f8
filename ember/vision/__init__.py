"""ember.vision: classic image processing, equal to OpenCV, differentiable where it can be.

Each operation of a course on image processing is one call (``import ember.vision as V``):

================  ==========================================================================
smoothing         ``gaussian_kernel``, ``gaussian_blur2d``, ``box_blur``, ``median_blur``,
                  ``filter2d``, ``sep_filter2d``
gradients         ``sobel``, ``scharr``, ``laplacian``, ``gradient`` (Sobel, Scharr,
                  Prewitt, Roberts), ``magnitude``, ``direction``, ``deriv_kernels``
Canny             ``canny`` and its steps: ``canny_steps``, ``non_maximum_suppression``,
                  ``double_threshold``, ``hysteresis_threshold``, ``gradient_sectors``
thresholds        ``threshold``, ``otsu_threshold`` (``otsu_table``: every candidate t),
                  ``adaptive_threshold``
morphology        ``structuring_element``, ``erosion``, ``dilation``, ``opening``,
                  ``closing``, ``morphological_gradient``, ``top_hat``, ``black_hat``
histograms        ``histogram``, ``equalize_hist``
shapes            ``hough_lines`` (``hough_accumulator``), ``match_template``,
                  ``connected_components``
colour, files     ``rgb_to_grayscale``, ``bgr_to_grayscale``, ``grayscale_to_rgb``,
                  ``read_image``, ``write_image``
detection         ``ops``: torchvision's box operations, IoU and its variants, ``nms``,
                  ``roi_pool``, ``roi_align`` (:mod:`ember.vision.ops`);
                  ``draw.draw_bounding_boxes``
================  ==========================================================================

Images are ember Tensors (H, W), (C, H, W), (B, C, H, W) or NumPy arrays (H, W),
(H, W, C); each function returns the kind it was given (:mod:`ember.vision.layout`).
Border modes are OpenCV's (:mod:`ember.vision.border`). Every function is tested against
OpenCV on the photos that ship with scikit-image; the filters, gradients, morphology and
median are differentiable on tensors (checked against PyTorch and by ``gradcheck``).

>>> import numpy as np
>>> import ember.vision as V
>>> image = np.zeros((8, 8), np.uint8); image[2:6, 2:6] = 200
>>> V.otsu_threshold(image)[0]
0.0
>>> int(V.canny(image, 100, 200).sum() // 255)     # the square's outline
12

``ember explain sobel|otsu|canny|morphology|gaussian-kernel`` print the working of each
on a small example; ``ember vision OP IMAGE -o OUT.png`` runs any of them on a file.
"""

from ember.vision.border import BORDERS, border_index
from ember.vision.canny_detector import (
    CannySteps,
    canny,
    canny_steps,
    double_threshold,
    gradient_sectors,
    hysteresis_threshold,
    non_maximum_suppression,
)
from ember.vision.color import bgr_to_grayscale, grayscale_to_rgb, rgb_to_grayscale
from ember.vision.components import ComponentStats, connected_components
from ember.vision.edges import (
    deriv_kernels,
    direction,
    gradient,
    laplacian,
    magnitude,
    scharr,
    sobel,
)
from ember.vision.filters import (
    box_blur,
    filter2d,
    gaussian_blur2d,
    gaussian_kernel,
    gaussian_kernel2d,
    sep_filter2d,
)
from ember.vision.histograms import equalize_hist, histogram
from ember.vision.hough import HoughAccumulator, hough_accumulator, hough_lines
from ember.vision.io import read_image, write_image
from ember.vision.median import median_blur
from ember.vision.morphology import (
    black_hat,
    closing,
    dilation,
    erosion,
    morphological_gradient,
    opening,
    structuring_element,
    top_hat,
)
from ember.vision.template import match_template
from ember.vision.thresholding import (
    OtsuTable,
    adaptive_threshold,
    otsu_table,
    otsu_threshold,
    threshold,
)

__all__ = [
    "BORDERS", "border_index",
    "gaussian_kernel", "gaussian_kernel2d", "gaussian_blur2d", "box_blur", "median_blur",
    "filter2d", "sep_filter2d",
    "sobel", "scharr", "laplacian", "gradient", "magnitude", "direction", "deriv_kernels",
    "canny", "canny_steps", "CannySteps", "non_maximum_suppression", "double_threshold",
    "hysteresis_threshold", "gradient_sectors",
    "threshold", "otsu_threshold", "otsu_table", "OtsuTable", "adaptive_threshold",
    "structuring_element", "erosion", "dilation", "opening", "closing",
    "morphological_gradient", "top_hat", "black_hat",
    "histogram", "equalize_hist",
    "hough_lines", "hough_accumulator", "HoughAccumulator", "match_template",
    "connected_components", "ComponentStats",
    "rgb_to_grayscale", "bgr_to_grayscale", "grayscale_to_rgb", "read_image", "write_image",
]

from ember.vision import ops  # noqa: E402  (detection operators: boxes, NMS, RoI pooling)

__all__ += ["ops"]
