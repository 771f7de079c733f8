"""ember.vision: classic image processing, equal to OpenCV, differentiable where it can be.

>>> import ember.vision as V
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
