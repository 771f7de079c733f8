"""OpenCV's border modes as the oracle defines them, for the tests of ember.vision."""

from __future__ import annotations

BORDERS = {"reflect101": "BORDER_REFLECT_101", "reflect": "BORDER_REFLECT",
           "replicate": "BORDER_REPLICATE", "constant": "BORDER_CONSTANT",
           "circular": "BORDER_WRAP"}


def cv_border(cv2, border: str) -> int:
    return getattr(cv2, BORDERS[border])


def torch_pad(torch, cv2, x, pads, border, value=0.0):
    """Pad a (..., H, W) torch tensor with cv2.borderInterpolate's indices (the oracle's
    definition of each border mode)."""
    top, bottom, left, right = pads
    if border == "constant":
        return torch.nn.functional.pad(x, (left, right, top, bottom), value=value)
    code = cv_border(cv2, border)
    h, w = x.shape[-2:]
    rows = [cv2.borderInterpolate(i, h, code) for i in range(-top, h + bottom)]
    cols = [cv2.borderInterpolate(j, w, code) for j in range(-left, w + right)]
    return x[..., rows, :][..., cols]
