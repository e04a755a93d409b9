"""Cover images as they occur in real libraries, decoded and preprocessed for the cover model."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from musictagger.errors import CoverError, FileError
from musictagger.ml.cover_input import (
    BACKGROUND,
    MAX_IMAGE_PIXELS,
    open_image,
    preprocess,
    preprocess_bytes,
)

SPEC = {"size": 64, "resize": "shorter_side_then_center_crop", "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]}
RED, BLUE = (220, 20, 20), (20, 20, 220)


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


def normalised(rgb: tuple[int, int, int]) -> np.ndarray:
    return (np.array(rgb, dtype=np.float32) / 255 - np.array(SPEC["mean"])) / np.array(SPEC["std"])


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes whose header claims ``width``×``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# ------------------------------------------------------------------------------------ decoding


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (40, 30), (0, 230, 230, 20))  # a strong red in print terms
    img = open_image(encode(cmyk, "JPEG", quality=95))
    assert img.mode == "RGB" and img.size == (40, 30)
    r, g, b = img.getpixel((20, 15))
    assert r > 180 and g < 80 and b < 80


def test_palette_png_with_and_without_transparency():
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([*RED, *BLUE] + [0] * 762)
    pal.paste(1, (4, 0, 8, 8))
    img = open_image(encode(pal, "PNG"))
    assert img.mode == "RGB" and img.getpixel((0, 0)) == RED and img.getpixel((7, 7)) == BLUE

    img = open_image(encode(pal, "PNG", transparency=1))  # blue is the transparent index
    assert img.getpixel((0, 0)) == RED and img.getpixel((7, 7)) == BACKGROUND


def test_rgba_png_is_composited_on_a_neutral_background():
    rgba = Image.new("RGBA", (4, 2), (*RED, 255))
    rgba.putpixel((3, 1), (*RED, 0))
    rgba.putpixel((2, 1), (255, 255, 255, 128))
    img = open_image(encode(rgba, "PNG"))
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == RED
    assert img.getpixel((3, 1)) == BACKGROUND
    assert all(abs(c - 192) <= 1 for c in img.getpixel((2, 1)))  # half white over mid-grey

    la = Image.new("LA", (2, 2), (255, 0))
    assert open_image(encode(la, "PNG")).getpixel((0, 0)) == BACKGROUND


def test_16_bit_greyscale_png_is_scaled_not_clipped():
    samples = np.array([[0, 32896, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(samples), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really a 16-bit file
    img = open_image(data)
    assert img.mode == "RGB"
    assert [img.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]


def test_exif_orientation_is_applied():
    stored = Image.new("RGB", (40, 20), RED)
    stored.paste(BLUE, (20, 0, 40, 20))  # left half red, right half blue as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    img = open_image(encode(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert img.size == (20, 40)
    top, bottom = img.getpixel((10, 5)), img.getpixel((10, 35))
    assert top[0] > 180 and top[2] < 80  # the stored left (red) is now on top
    assert bottom[2] > 180 and bottom[0] < 80


def test_one_pixel_image():
    x = preprocess_bytes(encode(Image.new("RGB", (1, 1), RED), "PNG"), SPEC)
    assert x.shape == (3, 64, 64)
    np.testing.assert_allclose(x, np.broadcast_to(normalised(RED)[:, None, None], x.shape), atol=1e-5)


def test_truncated_jpeg_is_a_clear_error():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8))
    data = encode(img, "JPEG", quality=90)
    with pytest.raises(CoverError, match="truncated or corrupt") as info:
        open_image(data[: len(data) // 2], source="Album/cover.jpg")
    assert isinstance(info.value, FileError) and info.value.path == "Album/cover.jpg"


@pytest.mark.parametrize(("data", "message"), [(b"", "empty"), (b"this is not an image at all", "not an image format")])
def test_not_an_image(data, message):
    with pytest.raises(CoverError, match=message):
        open_image(data)


@pytest.mark.parametrize("side", [100_000, 9_000])  # far beyond Pillow's own limit; just above ours
def test_decompression_bomb_is_refused_without_decoding(side):
    assert side * side > MAX_IMAGE_PIXELS
    data = png_claiming(side, side)
    assert len(data) < 100
    with pytest.raises(CoverError, match="image too large"):
        open_image(data)


def test_large_jpeg_decodes_at_reduced_scale_but_keeps_detail():
    big = encode(Image.new("RGB", (1600, 1200), RED), "JPEG")
    assert open_image(big).size == (1600, 1200)
    small = open_image(big, target_size=64)
    assert min(small.size) >= 128 and small.size[0] < 1600


# ------------------------------------------------------------------------------------ preprocessing


def test_preprocess_shape_normalisation_and_centre_crop():
    wide = Image.new("RGB", (300, 100), BLUE)
    wide.paste(RED, (100, 0, 200, 100))  # only the centre square is red
    x = preprocess(wide, SPEC)
    assert x.shape == (3, 64, 64) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_allclose(x[:, 2:-2, 2:-2].mean(axis=(1, 2)), normalised(RED), atol=0.02)

    tall = Image.new("RGB", (50, 200), RED)  # upscaled: the shorter side goes to 64
    assert preprocess(tall, SPEC).shape == (3, 64, 64)


def test_preprocess_bytes_matches_open_then_preprocess():
    img = Image.fromarray(np.random.default_rng(1).integers(0, 256, (90, 120, 3), dtype=np.uint8))
    data = encode(img, "PNG")
    np.testing.assert_array_equal(preprocess_bytes(data, SPEC), preprocess(open_image(data), SPEC))


def test_augmentation_is_deterministic_given_rng_and_varies_otherwise():
    img = Image.fromarray(np.random.default_rng(2).integers(0, 256, (150, 200, 3), dtype=np.uint8))
    a = preprocess(img, SPEC, augment=True, rng=np.random.default_rng(7))
    b = preprocess(img, SPEC, augment=True, rng=np.random.default_rng(7))
    c = preprocess(img, SPEC, augment=True, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, 64, 64) and a.dtype == np.float32
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, preprocess(img, SPEC))
    low = (0 - np.array(SPEC["mean"])) / np.array(SPEC["std"])
    high = (1 - np.array(SPEC["mean"])) / np.array(SPEC["std"])
    assert np.all(a.min(axis=(1, 2)) >= low - 1e-5) and np.all(a.max(axis=(1, 2)) <= high + 1e-5)


def test_unsupported_resize_mode():
    with pytest.raises(ValueError, match="unsupported cover resize"):
        preprocess(Image.new("RGB", (4, 4)), {**SPEC, "resize": "stretch"})
