"""Image I/O: tolerant reading with clear errors, resizing, PIL <-> VGG tensors, atomic writes."""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..common.errors import InputError
from ..common.files import atomic_write_bytes

MAX_PIXELS = 40_000_000  # larger images are refused as possible decompression bombs
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open any still image Pillow reads and return it upright, as 8-bit RGB.

    Raises InputError naming the file for anything missing, empty, corrupt or too large."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a directory, not an image")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > max_pixels:
                    raise InputError(path, f"image too large ({img.width}x{img.height} pixels; "
                                           f"at most {max_pixels:,} pixels)")
                img.load()
                return _to_rgb(ImageOps.exif_transpose(img))
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(path, f"image too large (decompression bomb?): {exc}") from None
    except UnidentifiedImageError:
        raise InputError(path, "not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"corrupt or truncated image ({exc})") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: 16-bit, greyscale, palette, CMYK; alpha composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "RGB" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def fit_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The (w, h) of an image of `size` scaled so its longer side is `long_side`."""
    scale = long_side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def fit_long_side(img: Image.Image, long_side: int, allow_upscale: bool = False) -> Image.Image:
    """Resize so the longer side is `long_side` (never beyond the original unless allowed)."""
    if long_side >= max(img.size) and not allow_upscale:
        return img
    return img.resize(fit_size(img.size, long_side), Image.LANCZOS)


def resize_to(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    return img if img.size == tuple(size) else img.resize(tuple(size), Image.LANCZOS)


def to_tensor(img: Image.Image):
    """RGB PIL image -> (1, 3, H, W) float32 tensor, BGR 0-255 with the Caffe means removed."""
    import torch

    arr = np.asarray(img.convert("RGB"), dtype=np.float32)[:, :, ::-1] - np.float32(CAFFE_MEAN_BGR)
    return torch.from_numpy(arr.transpose(2, 0, 1).copy()).unsqueeze(0)


def to_image(tensor) -> Image.Image:
    """Inverse of `to_tensor`, clamped to 0-255 and rounded."""
    arr = tensor.detach().float().cpu()[0].numpy().transpose(1, 2, 0) + np.float32(CAFFE_MEAN_BGR)
    return Image.fromarray(np.clip(np.rint(arr[:, :, ::-1]), 0, 255).astype(np.uint8), "RGB")


def encode_image(img: Image.Image, fmt: str, quality: int = 90) -> bytes:
    """Encode deterministically (no timestamps or EXIF in the output)."""
    buf = io.BytesIO()
    fmt = fmt.upper().replace("JPG", "JPEG")
    options = {"JPEG": dict(quality=quality, optimize=True), "PNG": dict(optimize=True),
               "WEBP": dict(quality=quality, method=6)}.get(fmt, {})
    img.save(buf, fmt, **options)
    return buf.getvalue()


def save_image(img: Image.Image, path: str | os.PathLike, quality: int = 90) -> None:
    path = Path(path)
    atomic_write_bytes(path, encode_image(img, path.suffix.lstrip("."), quality))
