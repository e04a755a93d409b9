"""Turning cover-art bytes into the normalised tensor a cover model expects (numpy + Pillow, no torch).

Covers in real libraries are messy: CMYK JPEGs from print scans, palette PNGs, transparent PNGs,
16-bit greyscale scans, phone photos that rely on EXIF orientation, truncated downloads, and the
occasional file that claims to be gigapixels. :func:`open_image` turns every one of them into a
plain 8-bit RGB image or a :class:`CoverError` with a clear message; :func:`preprocess` then
applies a pack's input spec (``{"size", "resize", "mean", "std"}``, pixel values scaled to [0, 1]
before ``(x - mean) / std``) and returns float32 CHW.

Training and inference must see images prepared the same way, so both go through these functions:
inference via :func:`preprocess_bytes`, training via ``open_image(..., target_size=spec["size"])``
followed by ``preprocess(..., augment=True, rng=...)``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from musictagger.errors import CoverError

# Refuse to decode images above this many pixels (64 Mpx, e.g. 8000×8000): a cover never needs
# more, and a tiny crafted file can otherwise claim dimensions that exhaust memory when decoded.
MAX_IMAGE_PIXELS = 64_000_000

# Transparent covers are composited on mid-grey, which is neutral under any normalisation and
# does not invent the black or white borders that would look like a stylistic cue.
BACKGROUND = (128, 128, 128)

RESIZE_SHORTER_SIDE_THEN_CENTER_CROP = "shorter_side_then_center_crop"

# Train-time augmentation: random-resized-crop area fraction and aspect range, horizontal flip
# probability, and colour jitter strength (brightness, contrast, saturation factors in 1 ± J).
AUGMENT_CROP_AREA = (0.5, 1.0)
AUGMENT_CROP_ASPECT = (3 / 4, 4 / 3)
AUGMENT_FLIP_P = 0.5
AUGMENT_JITTER = 0.2

_RESAMPLE = Image.Resampling.BICUBIC
# Luma weights (ITU-R BT.601), as Pillow's "L" conversion uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _error(source: str, message: str) -> CoverError:
    return CoverError(source or "cover image", message)


def open_image(data: bytes, *, source: str = "", target_size: int | None = None) -> Image.Image:
    """Decode cover bytes into an 8-bit RGB image with EXIF orientation applied.

    ``source`` names the image in error messages (e.g. "album/cover.jpg" or "track.flac (embedded)").
    ``target_size`` lets a JPEG decode at a reduced scale (DCT scaling: several times faster for
    large covers) while every side stays at least twice ``target_size``, so later downscaling
    still has real detail to work with.
    """
    if not data:
        raise _error(source, "empty image data")
    try:
        img: Image.Image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise _error(source, "not an image format we can read") from None
    except Image.DecompressionBombError:
        raise _error(source, f"image too large (over {MAX_IMAGE_PIXELS // 1_000_000} megapixels)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _error(source, f"corrupt image ({exc})") from None
    width, height = img.size
    if width * height > MAX_IMAGE_PIXELS:
        raise _error(source, f"image too large ({width}×{height}, limit {MAX_IMAGE_PIXELS // 1_000_000} megapixels)")
    if width < 1 or height < 1:
        raise _error(source, f"image has no pixels ({width}×{height})")
    if target_size is not None and img.format == "JPEG":
        img.draft(img.mode, (2 * target_size, 2 * target_size))
    try:
        img.load()
    except Image.DecompressionBombError:
        raise _error(source, f"image too large (over {MAX_IMAGE_PIXELS // 1_000_000} megapixels)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _error(source, f"truncated or corrupt image ({exc})") from None
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - malformed EXIF must not cost us an otherwise good picture
        pass
    try:
        return _to_rgb(img)
    except (OSError, ValueError) as exc:
        raise _error(source, f"unsupported image mode {img.mode!r} ({exc})") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB from any Pillow mode: alpha composited on ``BACKGROUND``, high bit depths scaled down."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        return Image.fromarray(_high_depth_to_8bit(np.asarray(img), mode), mode="L").convert("RGB")
    if mode == "P":
        has_alpha = "transparency" in img.info or img.palette is not None and img.palette.mode == "RGBA"
        img = img.convert("RGBA" if has_alpha else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _high_depth_to_8bit(arr: np.ndarray, mode: str) -> np.ndarray:
    """Scale 16/32-bit integer or float greyscale samples to 0..255."""
    values = arr.astype(np.float64)
    if mode.startswith("I;16"):
        values = values / 257.0
    else:
        lo, hi = float(values.min()), float(values.max())
        if mode == "F" and lo >= 0.0 and hi <= 1.0:
            values = values * 255.0
        elif lo >= 0.0 and hi <= 255.0:
            pass
        elif lo >= 0.0 and hi <= 65535.0:
            values = values / 257.0  # 16-bit samples opened as 32-bit "I"
        else:
            values = (values - lo) / ((hi - lo) or 1.0) * 255.0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _check_spec(spec: Mapping[str, Any]) -> tuple[int, np.ndarray, np.ndarray]:
    if spec.get("resize") != RESIZE_SHORTER_SIDE_THEN_CENTER_CROP:
        raise ValueError(f"unsupported cover resize {spec.get('resize')!r}")
    size = int(spec["size"])
    mean = np.asarray(spec["mean"], dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(spec["std"], dtype=np.float32).reshape(3, 1, 1)
    return size, mean, std


def _center_box(width: int, height: int) -> tuple[float, float, float, float]:
    """The centred square of side min(width, height): shorter-side resize + centre crop in one step."""
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    return (left, top, left + side, top + side)


def _random_box(width: int, height: int, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """A random crop of 50–100 % of the area with aspect 3:4–4:3 (falls back to the centre square)."""
    area = width * height
    log_lo, log_hi = np.log(AUGMENT_CROP_ASPECT[0]), np.log(AUGMENT_CROP_ASPECT[1])
    for _ in range(10):
        target = area * rng.uniform(*AUGMENT_CROP_AREA)
        aspect = float(np.exp(rng.uniform(log_lo, log_hi)))
        w, h = np.sqrt(target * aspect), np.sqrt(target / aspect)
        if w <= width and h <= height:
            left = rng.uniform(0, width - w)
            top = rng.uniform(0, height - h)
            return (float(left), float(top), float(left + w), float(top + h))
    return _center_box(width, height)


def _jitter(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast and saturation jitter on HWC floats in [0, 1], in a random order."""
    factors = rng.uniform(1 - AUGMENT_JITTER, 1 + AUGMENT_JITTER, size=3)
    for op in rng.permutation(3):
        if op == 0:
            x = x * factors[0]
        elif op == 1:
            x = (x - (x @ _LUMA).mean()) * factors[1] + (x @ _LUMA).mean()
        else:
            grey = (x @ _LUMA)[..., None]
            x = (x - grey) * factors[2] + grey
        x = np.clip(x, 0.0, 1.0)
    return x


def preprocess(
    img: Image.Image,
    spec: Mapping[str, Any],
    *,
    augment: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """An RGB image as float32 CHW (3, size, size), normalised per ``spec``.

    Without ``augment``: the shorter side is scaled to ``size`` and the centre cropped (done as one
    resampling of the centred square). With ``augment`` (training): a random resized crop,
    horizontal flip and colour jitter, reproducible for a given ``rng``.
    """
    size, mean, std = _check_spec(spec)
    if img.mode != "RGB":
        img = _to_rgb(img)
    gen = (rng if rng is not None else np.random.default_rng()) if augment else None
    box = _random_box(*img.size, gen) if gen is not None else _center_box(*img.size)
    resized = img.resize((size, size), resample=_RESAMPLE, box=box)
    x = np.asarray(resized, dtype=np.float32) / 255.0
    if gen is not None:
        if gen.random() < AUGMENT_FLIP_P:
            x = x[:, ::-1, :]
        x = _jitter(x, gen)
    chw = x.transpose(2, 0, 1)
    return np.ascontiguousarray((chw - mean) / std, dtype=np.float32)


def preprocess_bytes(data: bytes, spec: Mapping[str, Any], *, source: str = "") -> np.ndarray:
    """Cover bytes straight to the model input for inference; raises :class:`CoverError` for bad images."""
    return preprocess(open_image(data, source=source, target_size=int(spec["size"])), spec)
