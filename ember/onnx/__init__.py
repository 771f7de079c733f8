"""ONNX interchange: ``export`` a model's forward pass, ``load`` an ONNX file as a Module.

``em.onnx.export(model, example_input, "model.onnx")`` traces the primitives of one
forward pass and writes them as ONNX operators (convolution, pooling, normalisation,
activations, recurrent layers ...), with the parameters as initializers named by their
``state_dict`` keys; the file runs in onnxruntime with ember's outputs.

``em.onnx.load("model.onnx")`` reads a model written by ember or by another framework
(PyTorch's ``torch.onnx.export``) into an :class:`~ember.onnx.load.OnnxModule`: a Module
whose convolutions, linear, batch-norm and recurrent layers are ember layers, so that it
can be frozen, fine-tuned and saved like any ember model. Nothing in the file is
executed: it is parsed as data, checked, and refused with an :class:`OnnxError` naming
the file if it is malformed or uses an operator ember does not implement.

Both need the ``onnx`` package (``pip install "ember[onnx]"``); onnxruntime is only
needed to run the exported files elsewhere.
"""

from ember.onnx.export import export
from ember.onnx.load import OnnxModule, load
from ember.onnx.tensors import OnnxError
from ember.onnx.trace import ExportError

__all__ = ["export", "load", "OnnxModule", "OnnxError", "ExportError"]
