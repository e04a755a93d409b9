"""A corpus of bad input, as a careful user's library has it: every kind a named, real thing on disk.

:func:`make_corpus` fills a folder with good files (which every command must still process) and
more than 40 kinds of trouble: empty, random, truncated and mis-named files, bombs that claim
gigabytes, pipes, sockets, devices, folders and links where files should be, names that are not
UTF-8 or hold escape codes, tags holding NULs and escape codes, corrupt pictures, files of other
formats, a file still growing. Each :class:`Kind` says what is expected of it.
"""

from __future__ import annotations

import os
import random
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from media import age, make_cover, make_extra_track, make_track

GOOD = "good"  # read and written like any file
BAD = "bad"  # a clear per-file message from tags and set-genres (and scan, for audio names)
READONLY = "read-only"  # read fine; set-genres refuses it with a message


@dataclass
class Kind:
    name: str
    expect: str
    path: Path
    scanned: bool = True  # the scan lists it (audio extension, regular name)


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    age(path)
    return path


def _cut(src: Path, dst: Path, n: int) -> Path:
    return _bytes(dst, src.read_bytes()[:n])


def make_corpus(root: Path) -> list[Kind]:
    rng = random.Random(12)
    good, bad = root / "good", root / "bad"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    kinds: list[Kind] = []

    def add(name: str, expect: str, make: Callable[[], Path], scanned: bool = True) -> None:
        kinds.append(Kind(name, expect, make(), scanned))

    short = {"seconds": 0.3, "genres": ["Rock"]}
    mp3 = make_track(good / "plain.mp3", "mp3", **short)
    flac = make_track(good / "plain.flac", "flac", cover=make_cover(), **short)
    m4a = make_track(good / "plain.m4a", "m4a", cover=make_cover(), **short)
    ogg = make_track(good / "plain.ogg", "ogg", **short)
    wma = make_track(good / "plain.wma", "wma", **short)
    wv = make_track(good / "plain.wv", "wv", **short)
    kinds += [Kind(f"good {p.suffix[1:]}", GOOD, p) for p in (mp3, flac, m4a, ogg, wma, wv)]

    # --- not audio at all, with an audio name
    add("empty file", BAD, lambda: _bytes(bad / "empty.mp3", b""))
    add("zero bytes only", BAD, lambda: _bytes(bad / "zeros.flac", bytes(4096)))
    add("random bytes .mp3", BAD, lambda: _bytes(bad / "random.mp3", rng.randbytes(9000)))
    add("random bytes .flac", BAD, lambda: _bytes(bad / "random.flac", rng.randbytes(9000)))
    add("random bytes .m4a", BAD, lambda: _bytes(bad / "random.m4a", rng.randbytes(9000)))
    add("text named .mp3", BAD, lambda: _bytes(bad / "notes.mp3", b"just some text\n" * 50))
    add("JPEG named .mp3", BAD, lambda: _bytes(bad / "photo.mp3", make_cover()))
    add("ZIP named .ogg", BAD, lambda: _bytes(bad / "archive.ogg", b"PK\x03\x04" + rng.randbytes(500)))
    add("HTML named .m4a", BAD, lambda: _bytes(bad / "page.m4a", b"<!doctype html><html></html>"))
    # --- truncated and corrupt audio
    add("MP3 cut to 30 bytes", BAD, lambda: _cut(mp3, bad / "cut.mp3", 30))
    add("FLAC cut in its header", BAD, lambda: _cut(flac, bad / "cut.flac", 30))
    add("FLAC cut inside its picture", BAD, lambda: _cut(flac, bad / "cutpic.flac", 1500))
    add("M4A cut in its index", BAD, lambda: _cut(m4a, bad / "cut.m4a", 2000))
    add("Ogg cut in its first page", BAD, lambda: _cut(ogg, bad / "cut.ogg", 40))
    add("WMA cut in its header", BAD, lambda: _cut(wma, bad / "cut.wma", 100))
    add("WavPack cut in its header", BAD, lambda: _cut(wv, bad / "cut.wv", 20))
    add(
        "ID3 tag with a bad size",
        BAD,
        lambda: _bytes(bad / "id3size.mp3", b"ID3\x04\x00\x00\xff\xff\xff\xff" + bytes(500)),
    )
    add(
        "ID3 tag and no audio", BAD, lambda: _bytes(bad / "id3only.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x10" + bytes(16))
    )
    # --- bombs: sizes that claim far more than the file holds
    add(
        "ID3 tag claiming 256 MB",
        BAD,
        lambda: _bytes(bad / "id3bomb.mp3", b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + bytes(100)),
    )
    add(
        "FLAC block claiming 16 MB",
        BAD,
        lambda: _bytes(bad / "flacbomb.flac", b"fLaC\x84\xff\xff\xff" + rng.randbytes(200)),
    )
    add(
        "MP4 atom claiming 4 GB",
        BAD,
        lambda: _bytes(
            bad / "mp4bomb.m4a",
            struct.pack(">I4s4s", 24, b"ftyp", b"M4A ") + bytes(12) + b"\xff\xff\xff\xffmoov" + bytes(64),
        ),
    )
    add(
        "Ogg page with a broken segment table",
        BAD,
        lambda: _bytes(bad / "oggpage.ogg", b"OggS\x00\x02" + bytes(20) + b"\xff" + bytes(30)),
    )
    add("sparse 1 GB file", BAD, lambda: _sparse(bad / "huge.mp3", 1 << 30))
    # --- other formats under an audio name
    add("AVI named .wav", BAD, lambda: _bytes(bad / "video.wav", b"RIFF\x00\x01\x00\x00AVI LIST" + bytes(200)))
    add(
        "Ogg Theora video",
        BAD,
        lambda: _bytes(bad / "video.ogg", b"OggS" + bytes(22) + b"\x01\x50\x80theora" + bytes(200)),
    )
    add("Matroska named .mp3", BAD, lambda: _bytes(bad / "video.mp3", b"\x1a\x45\xdf\xa3" + bytes(200)))
    # --- not regular files
    add("named pipe (FIFO)", BAD, lambda: _fifo(bad / "pipe.mp3"))
    add("socket", BAD, lambda: _socket(bad / "sock.mp3"))
    add("character device via a link", BAD, lambda: _link(bad / "device.mp3", "/dev/null"))
    add("folder named .flac", BAD, lambda: _folder(bad / "folder.flac"), scanned=False)
    add("broken symbolic link", BAD, lambda: _link(bad / "broken.mp3", str(bad / "nowhere.mp3")))
    add("symbolic link loop", BAD, lambda: _loop(bad / "loop.mp3"))
    add("vanished file", BAD, lambda: bad / "vanished.flac", scanned=False)
    add("read-only file", READONLY, lambda: _readonly(make_track(bad / "locked.flac", "flac", **short)))
    # --- good files in odd places, under odd names, with odd tags
    add("FLAC named .mp3", GOOD, lambda: make_track(good / "misnamed-flac.mp3", "flac", **short))
    add("MP3 named .flac", GOOD, lambda: make_track(good / "misnamed-mp3.flac", "mp3", **short))
    add(
        "name not valid UTF-8",
        GOOD,
        lambda: _rename(make_track(good / "a.flac", "flac", **short), b"caf\xe9 \xff.flac"),
        scanned=False,
    )
    add("name with a newline", GOOD, lambda: make_track(good / "two\nlines.flac", "flac", **short))
    add("name with escape codes", GOOD, lambda: make_track(good / "\x1b[31mred\x1b[0m.flac", "flac", **short))
    add("name of 250 bytes", GOOD, lambda: make_track(good / ("é" * 120 + ".flac"), "flac", **short))
    add("name starting with a dash", GOOD, lambda: make_track(good / "-rf.flac", "flac", **short))
    add("symbolic link to a good file", GOOD, lambda: _link(good / "link.flac", str(flac)))
    add("hard link to a good file", GOOD, lambda: _hardlink(good / "hard.mp3", mp3))
    add(
        "genres holding a NUL",
        GOOD,
        lambda: make_track(good / "nul.flac", "flac", seconds=0.3, genres=["Rock\x00Pop", "Metal"]),
    )
    add(
        "tags holding escape codes",
        GOOD,
        lambda: make_track(good / "esc.mp3", "mp3", seconds=0.3, title="\x1b]0;x\x07\x1b[2J"),
    )
    add("a 1 MB title", GOOD, lambda: make_track(good / "longtag.flac", "flac", seconds=0.3, title="x" * (1 << 20)))
    add(
        "10,000 genres",
        GOOD,
        lambda: make_track(good / "manygenres.flac", "flac", seconds=0.3, genres=[f"G{i}" for i in range(10_000)]),
    )
    add("corrupt embedded picture", GOOD, lambda: _corrupt_picture(make_track(good / "badpic.mp3", "mp3", **short)))
    add("ID3v1 and ID3v2 together", GOOD, lambda: _with_v1(make_track(good / "v1v2.mp3", "mp3v23", **short)))
    add("only an ID3v1 tag", GOOD, lambda: _v1_only(make_track(good / "v1only.mp3", "mp3", **short)))
    add("no tags at all", GOOD, lambda: _no_tags(make_track(good / "notags.mp3", "mp3", **short)))
    for fmt, ext in (("mpc", "mpc"), ("tak", "tak"), ("ofr", "ofr"), ("dsf", "dsf"), ("ac3", "ac3"), ("spx", "spx")):
        add(
            f"{fmt} (was unsupported)",
            GOOD,
            lambda fmt=fmt, ext=ext: make_extra_track(good / f"other.{ext}", fmt, genres=["Rock"]),
        )
    return kinds


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.write(random.Random(1).randbytes(4096))
        fh.truncate(size)
    age(path)
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


def _link(path: Path, target: str) -> Path:
    os.symlink(target, path)
    return path


def _loop(path: Path) -> Path:
    other = path.with_name("loop2.mp3")
    os.symlink(other, path)
    os.symlink(path, other)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _hardlink(path: Path, target: Path) -> Path:
    os.link(target, path)
    return path


def _readonly(path: Path) -> Path:
    os.chmod(path, 0o444)
    return path


def _rename(path: Path, name: bytes) -> Path:
    new = os.path.join(os.fsencode(path.parent), name)
    os.rename(path, new)
    return Path(os.fsdecode(new))


def _corrupt_picture(path: Path) -> Path:
    import mutagen
    from mutagen.id3 import APIC

    audio = mutagen.File(path)
    audio.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="broken", data=b"\x00not an image"))
    audio.save()
    age(path)
    return path


def _with_v1(path: Path) -> Path:
    with open(path, "ab") as fh:
        fh.write(b"TAG" + b"v1 title".ljust(30, b"\0") + bytes(60) + b"1999" + bytes(30) + b"\x11")
    age(path)
    return path


def _v1_only(path: Path) -> Path:
    import mutagen.id3

    mutagen.id3.delete(path)
    return _with_v1(path)


def _no_tags(path: Path) -> Path:
    import mutagen.id3

    mutagen.id3.delete(path)
    age(path)
    return path
