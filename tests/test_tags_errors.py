"""Bad input: broken, missing, read-only, misnamed and oddly named files."""

from __future__ import annotations

import base64
import random
import stat
from pathlib import Path

import pytest
from media import EXTENSIONS, FORMAT_IDS, FORMATS, flac_picture, make_cover, make_track, wm_picture

from musictagger.errors import FileError, TagReadError, TagWriteError, UnsupportedFormat
from musictagger.tags import AUDIO_EXTENSIONS, detect_format, read_fields, read_tags, write_fields


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.flac"
    path.touch()
    with pytest.raises(TagReadError, match=r"empty file \(0 bytes\)"):
        read_tags(path)
    with pytest.raises(TagReadError, match="empty file"):
        detect_format(path)
    with pytest.raises(TagWriteError, match="empty file"):
        write_fields(path, {"genre": ["Rock"]})
    assert path.read_bytes() == b""


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    full = make_track(tmp_path, fmt, cover=make_cover())
    path = tmp_path / f"cut{EXTENSIONS[fmt]}"
    path.write_bytes(full.read_bytes()[:30])
    with pytest.raises(TagReadError, match="truncated or corrupt") as err:
        read_tags(path)
    assert err.value.path == str(path)
    with pytest.raises(TagWriteError, match="truncated or corrupt"):
        write_fields(path, {"genre": ["Rock"]})
    assert path.read_bytes() == full.read_bytes()[:30]


@pytest.mark.parametrize("fmt", ["flac", "m4a", "alac", "wma", "opus"])
def test_file_cut_inside_its_tags(tmp_path: Path, fmt: str) -> None:
    """Cut half-way through a 2 KB cover that sits in the header (or index) area."""
    full = make_track(tmp_path, fmt, cover=make_cover())
    data = full.read_bytes()
    cut = data.index(make_cover()[:64]) + 1000 if fmt != "opus" else 2000
    path = tmp_path / f"cut{EXTENSIONS[fmt]}"
    path.write_bytes(data[:cut])
    with pytest.raises(TagReadError, match="truncated or corrupt"):
        read_tags(path)


@pytest.mark.parametrize("ext", [".mp3", ".flac", ".m4a", ".ogg", ".wma"])
def test_random_bytes_with_audio_extension(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"noise{ext}"
    path.write_bytes(random.Random(ext).randbytes(9000))
    with pytest.raises(UnsupportedFormat, match="not a supported audio file"):
        detect_format(path)
    with pytest.raises(UnsupportedFormat, match="not a supported audio file"):
        read_tags(path)
    with pytest.raises(TagWriteError, match="not a supported audio file"):
        write_fields(path, {"genre": ["Rock"]})


def test_random_bytes_never_detect_as_mp3(tmp_path: Path) -> None:
    """Seeded random data, including data that starts with an MPEG-like sync word."""
    import numpy as np

    rng = np.random.default_rng(7)
    path = tmp_path / "x.mp3"
    for i in range(200):
        data = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
        if i % 2:
            data = b"\xff\xfb\x90\x64" + data[4:]  # a valid MPEG-1 layer III header, then junk
        path.write_bytes(data)
        with pytest.raises(UnsupportedFormat):
            detect_format(path)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "it is an image"),
        (b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(100), "RIFF file of type b'AVI '"),
        (bytes(500), "zero bytes only"),
        (b"OggS" + bytes(22) + b"\x01\x50" + b"\x80theora" + bytes(100), "format Ogg Theora video is not supported"),
        (b"\x1a\x45\xdf\xa3" + bytes(100), "format Matroska/WebM (MKA, WebM) is not supported"),
        (b"MThd" + bytes(100), "format MIDI is not supported"),
    ],
)
def test_unsupported_kinds_say_what_they_are(tmp_path: Path, head: bytes, message: str) -> None:
    path = tmp_path / "x.mp3"
    path.write_bytes(head)
    with pytest.raises(UnsupportedFormat, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_tags(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_decides_not_extension(tmp_path: Path, fmt: str) -> None:
    real = make_track(tmp_path, fmt, genres=["Rock"])
    wrong = ".flac" if EXTENSIONS[fmt] == ".mp3" else ".mp3"
    misnamed = real.rename(tmp_path / f"misnamed{wrong}")
    assert detect_format(misnamed) == FORMAT_IDS[fmt]
    magic = misnamed.read_bytes()[:4]
    write_fields(misnamed, {"genre": ["Rock", "Pop"]})
    assert misnamed.read_bytes()[:4] == magic  # same container; an ID3 tag keeps its version
    tags = read_tags(misnamed)
    assert (tags.format, tags.genres) == (FORMAT_IDS[fmt], ["Rock", "Pop"])


def test_flac_named_mp3(tmp_path: Path) -> None:
    path = make_track(tmp_path / "song.mp3", "flac")
    assert detect_format(path) == "flac"
    write_fields(path, {"genre": ["Shoegaze"]})
    assert path.read_bytes()[:4] == b"fLaC"  # no ID3 tag was put in front of the FLAC
    assert read_tags(path).genres == ["Shoegaze"]


def test_audio_extensions_are_lowercase_with_dot() -> None:
    assert {".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav", ".aiff", ".wma", ".wv", ".ape"} <= AUDIO_EXTENSIONS
    assert all(e.startswith(".") and e == e.lower() for e in AUDIO_EXTENSIONS)


# --- corrupt embedded pictures --------------------------------------------------------
def _add_corrupt_pictures(path: Path, fmt: str, garbage: bytes) -> None:
    import mutagen
    from mutagen.apev2 import BINARY, APEValue
    from mutagen.asf import ASFByteArrayAttribute
    from mutagen.id3 import APIC
    from mutagen.mp4 import MP4Cover

    audio = mutagen.File(path)
    tags = audio.tags
    if fmt in ("mp3", "wav", "aiff"):
        tags.add(APIC(encoding=3, mime="image/jpeg", type=4, desc="broken", data=garbage))
    elif fmt == "flac":
        audio.add_picture(flac_picture(garbage, type_=4))
    elif fmt in ("ogg", "opus"):
        tags["METADATA_BLOCK_PICTURE"] = tags["METADATA_BLOCK_PICTURE"] + [
            "!!not base64!!",
            base64.b64encode(b"\x00\x00\x00\x03 truncated block").decode(),
            base64.b64encode(flac_picture(garbage).write()).decode(),
        ]
    elif fmt == "m4a":
        tags["covr"] = tags["covr"] + [MP4Cover(garbage)]
    elif fmt == "wma":
        tags["WM/Picture"] = tags["WM/Picture"] + [
            ASFByteArrayAttribute(wm_picture(garbage)),
            ASFByteArrayAttribute(wm_picture(make_cover())[:40]),  # cut inside the image
            ASFByteArrayAttribute(b"\x03\xff"),
        ]
    else:
        tags["Cover Art (Back)"] = APEValue(b"no separator at all" + garbage, BINARY)
        tags["Cover Art (Other)"] = APEValue(b"x.jpg\0" + garbage, BINARY)
    audio.save()


@pytest.mark.parametrize("fmt", ["mp3", "wav", "aiff", "flac", "ogg", "opus", "m4a", "wma", "wv", "ape"])
def test_corrupt_embedded_picture_is_skipped(tmp_path: Path, fmt: str) -> None:
    cover = make_cover(text="good")
    path = make_track(tmp_path, fmt, cover=cover, genres=["Rock"])
    _add_corrupt_pictures(path, fmt, garbage=b"this is not an image" * 10)
    tags = read_tags(path)
    assert [p.data for p in tags.pictures] == [cover]
    assert (tags.title, tags.genres) == ("Test Title", ["Rock"])
    write_fields(path, {"genre": ["Pop"]})  # writing keeps every picture as it was
    assert read_tags(path).pictures[0].data == cover


def test_flac_picture_block_with_bad_lengths(tmp_path: Path) -> None:
    """A PICTURE block whose inner lengths overrun it makes mutagen reject the whole file;
    we still read the tags, and a write keeps the broken block byte for byte."""
    from mutagen.flac import FLAC

    cover = make_cover()
    path = make_track(tmp_path, "flac", genres=["Rock"], cover=cover)
    data = path.read_bytes()
    # Insert a PICTURE block (type 6) right after STREAMINFO, claiming a 1 GB MIME string.
    body = b"\x00\x00\x00\x03" + b"\x40\x00\x00\x00" + b"image/jpeg"
    block = bytes([6]) + len(body).to_bytes(3, "big") + body
    streaminfo_end = 4 + 4 + 34
    path.write_bytes(data[:streaminfo_end] + block + data[streaminfo_end:])
    with pytest.raises(Exception):  # noqa: B017 - mutagen raises its own error types here
        FLAC(path)
    tags = read_tags(path)
    assert (tags.genres, [p.data for p in tags.pictures]) == (["Rock"], [cover])
    write_fields(path, {"genre": ["Pop"]})
    assert block in path.read_bytes()
    assert read_tags(path).genres == ["Pop"]


# --- files that cannot be written -----------------------------------------------------
def test_read_only_file_is_refused(tmp_path: Path) -> None:
    path = make_track(tmp_path, "flac", genres=["Rock"])
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = path.read_bytes()
    try:
        with pytest.raises(TagWriteError, match="file is read-only"):
            write_fields(path, {"genre": ["Pop"]})
        assert path.read_bytes() == before
        assert read_tags(path).genres == ["Rock"]  # reading is fine
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.flac"
    for call in (lambda: read_tags(path), lambda: read_fields(path, ["genre"]), lambda: detect_format(path)):
        with pytest.raises(TagReadError, match=r"file not found \(it may have been moved or deleted\)"):
            call()
    with pytest.raises(TagWriteError, match="file not found"):
        write_fields(path, {"genre": ["Rock"]})


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "album.flac"
    folder.mkdir()
    with pytest.raises(TagReadError, match="is a directory"):
        read_tags(folder)
    with pytest.raises(TagWriteError, match="is a directory"):
        write_fields(folder, {"genre": ["Rock"]})


def test_nul_in_value_is_refused(tmp_path: Path) -> None:
    path = make_track(tmp_path, "mp3")
    with pytest.raises(TagWriteError, match="NUL"):
        write_fields(path, {"genre": ["Rock\0Pop"]})


@pytest.mark.parametrize("fmt", ["mp3", "flac", "m4a", "wma", "ape"])
def test_unicode_and_255_byte_names(tmp_path: Path, fmt: str) -> None:
    ext = EXTENSIONS[fmt]
    stem = "ñ" * ((255 - len(ext)) // 2) + "x" * ((255 - len(ext)) % 2)
    name = stem + ext
    assert len(name.encode("utf-8")) == 255
    folder = tmp_path / "Sigur Rós — Ágætis byrjun ✓"
    folder.mkdir()
    path = make_track(folder / name, fmt, title="Svefn-g-englar")
    write_fields(path, {"genre": ["Post-Rock", "Ambient"]})
    tags = read_tags(path)
    assert (tags.title, tags.genres, tags.path) == ("Svefn-g-englar", ["Post-Rock", "Ambient"], str(path))


def test_errors_are_file_errors_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "gone.mp3"
    with pytest.raises(FileError) as err:
        read_tags(path)
    assert str(err.value).startswith(str(path) + ": ")
