"""ember.vision: classic image processing, equal to OpenCV, differentiable where it can be.

>>> import ember.vision as V
"""

from ember.vision.border import BORDERS, border_index
from ember.vision.filters import (
    box_blur,
    filter2d,
    gaussian_blur2d,
    gaussian_kernel,
    gaussian_kernel2d,
    sep_filter2d,
)
