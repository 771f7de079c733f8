"""Worked calculations a learner can check: each prints the formula, the numbers
substituted and the result, and carries the numbers as attributes.

>>> import ember as em
>>> e = em.explain.conv_output_size(W=32, F=5, P=2, S=1)
>>> e.result
32
>>> {'conv-output', 'receptive-field', 'lstm-step', 'backprop'} <= set(em.explain.topics())
True

The same calculations run on the command line: ``ember explain conv-output --width 32
--kernel 5 --padding 2 --stride 1`` (``ember explain --help`` lists them).

To add one, write a function that returns an :class:`Explanation` in the file of its
family (or a new file, imported below) and decorate it with
:func:`~ember.explain.registry.register`, naming its command and options; the command
line picks it up.
"""

from ember.explain.registry import Explanation, register, topics  # noqa: I001
from ember.explain.conv_arithmetic import conv_output_size, receptive_field
from ember.explain.counting import layer_params
from ember.explain.convolution import convolution
from ember.explain.pooling import pooling
from ember.explain.lstm import lstm_step
from ember.explain.gru import gru_step
from ember.explain.optimizers import optimizer_step
from ember.explain.backprop import backprop
from ember.explain.information import information_measures
from ember.explain.classification import confusion_metrics, softmax_cross_entropy
from ember.explain.regularization import dropout
from ember.explain.padding import same_padding_any_stride
from ember.explain.image_filters import canny_at, gaussian_kernel_weights, sobel_at
from ember.explain.binary_images import morphology, otsu

__all__ = ["Explanation", "register", "topics", "conv_output_size", "receptive_field",
           "layer_params", "convolution", "pooling", "lstm_step", "information_measures",
           "confusion_metrics", "softmax_cross_entropy", "dropout", "same_padding_any_stride",
           "gru_step", "optimizer_step", "backprop",
           "gaussian_kernel_weights", "sobel_at", "canny_at", "otsu", "morphology"]

from ember.explain.detection import average_precision, iou, nms

__all__ += ["iou", "nms", "average_precision"]
