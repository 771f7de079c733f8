"""Reading and writing image files through Pillow (PNG, JPEG, BMP, TIFF, ...).

``read_image`` gives an array as scikit-image and OpenCV's Python API hold images,
(H, W) grey or (H, W, C) colour, uint8 (16-bit PNGs keep uint16), channels in RGB order;
``as_tensor=True`` gives a (C, H, W) tensor instead, PyTorch's layout. ``write_image``
takes either and writes atomically (a temporary file renamed into place), so a file is
never left half-written. Errors name the file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ember.tensor import Tensor

__all__ = ["read_image", "write_image"]

_MODES = {None: None, "gray": "L", "grey": "L", "l": "L", "rgb": "RGB", "rgba": "RGBA"}


def _pillow():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is part of the vision/all extras
        raise ImportError('reading and writing image files needs Pillow: '
                          'pip install "ember[vision]"') from None
    return Image


def read_image(path, mode: str | None = None, as_tensor: bool = False):
    """Read an image file.

    Args:
        path: the file.
        mode: None (as stored; palette images become RGB), ``"gray"`` or ``"rgb"``
            (``"rgba"``) to convert.
        as_tensor: return a (C, H, W) Tensor (grey: (1, H, W)) instead of an array.

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> write_image(path, np.array([[0, 128], [255, 64]], np.uint8))
    >>> read_image(path)
    array([[  0, 128],
           [255,  64]], dtype=uint8)
    """
    Image = _pillow()
    key = None if mode is None else str(mode).lower()
    if key not in _MODES:
        raise ValueError(f"read_image: unknown mode {mode!r}; expected gray, rgb or rgba")
    try:
        with Image.open(path) as image:
            image.load()
            if _MODES[key] is not None:
                image = image.convert(_MODES[key])
            elif image.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
                image = image.convert("RGBA" if "A" in image.mode or "transparency"
                                      in image.info else "RGB")
            elif image.mode == "1":
                image = image.convert("L")
            array = np.array(image)
    except FileNotFoundError:
        raise FileNotFoundError(f"read_image: no such file: {path}") from None
    except OSError as error:
        raise OSError(f"read_image: cannot read {path} as an image ({error})") from None
    if array.dtype == np.int32:  # Pillow's 16-bit greyscale mode "I"
        array = array.astype(np.uint16)
    if not as_tensor:
        return array
    return Tensor._wrap(np.ascontiguousarray(array[None] if array.ndim == 2
                                             else array.transpose(2, 0, 1)))


def write_image(path, image) -> None:
    """Write an image file; the format follows the extension (``.png``, ``.jpg``, ...).

    Args:
        path: the file (replaced atomically if it exists).
        image: an array (H, W) or (H, W, C) or a Tensor (H, W), (C, H, W) with C = 1, 3
            or 4. uint8 and uint16 are written as they are; booleans as 0/255; floats
            are taken as 0..1 (clipped) and scaled to 0..255.
    """
    Image = _pillow()
    array = _as_hwc(image)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind == "f":
        array = np.rint(np.clip(np.nan_to_num(array), 0.0, 1.0) * 255).astype(np.uint8)
    elif array.dtype not in (np.uint8, np.uint16):
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3 and array.shape[2] not in (3, 4):
        raise ValueError(f"write_image: {path}: expected 1, 3 or 4 channels, got "
                         f"{array.shape[2]}")
    path = Path(path)
    suffix = path.suffix.lower()
    if array.dtype == np.uint16 and suffix not in (".png", ".tif", ".tiff"):
        array = (array >> 8).astype(np.uint8)
    picture = Image.fromarray(np.ascontiguousarray(array))
    if picture.mode == "RGBA" and suffix in (".jpg", ".jpeg"):
        picture = picture.convert("RGB")
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=path.name + ".", suffix=".tmp")
    os.close(handle)
    try:
        picture.save(temporary, format=Image.registered_extensions().get(suffix))
        os.replace(temporary, path)
    except (KeyError, ValueError, OSError) as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise OSError(f"write_image: cannot write {path} ({error})") from None


def _as_hwc(image) -> np.ndarray:
    if isinstance(image, Tensor):
        array = image.detach().numpy()
        if array.ndim == 3:
            array = array.transpose(1, 2, 0)
        elif array.ndim != 2:
            raise ValueError(f"write_image: expected a tensor (H, W) or (C, H, W), got shape "
                             f"{tuple(array.shape)}")
        return array
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"write_image: expected an array (H, W) or (H, W, C), got shape "
                         f"{array.shape}")
    return array
