"""Computer vision: image processing, and the detection operators in :mod:`ember.vision.ops`
(box arithmetic, IoU and its variants, non-maximum suppression, RoI pooling).

>>> import ember as em
>>> from ember.vision import ops
>>> ops.box_iou(em.tensor([[0.0, 0.0, 2.0, 2.0]]), em.tensor([[1.0, 1.0, 3.0, 3.0]]))
tensor([[0.1429]])
"""
