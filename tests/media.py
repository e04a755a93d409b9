"""Real, small test media: audio in every supported format, tagged with mutagen directly.

Import from any test as ``from media import make_track, make_cover, decode_audio`` (the
tests/ folder is on ``sys.path`` via conftest.py).

Audio is encoded for real: soundfile (libsndfile) for FLAC, Ogg Vorbis, Opus, MP3, WAV and
AIFF, PyAV's FFmpeg for AAC and ALAC in M4A, WMA v2 and WavPack. Monkey's Audio has no
encoder anywhere we can use, so :func:`make_track` builds a file with a real ``MAC ``
descriptor and header (what mutagen and any tagger parse) followed by stand-in frame data;
compare it before/after with :func:`untagged_bytes` instead of decoding.

Tags are written with mutagen here, not with musictagger, so tests read files our code did
not produce.
"""

from __future__ import annotations

import base64
import io
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FORMATS = ("mp3", "mp3v23", "flac", "ogg", "opus", "m4a", "alac", "wav", "aiff", "wma", "wv", "ape")

EXTENSIONS = {
    "mp3": ".mp3",
    "mp3v23": ".mp3",
    "flac": ".flac",
    "ogg": ".ogg",
    "opus": ".opus",
    "m4a": ".m4a",
    "alac": ".m4a",
    "wav": ".wav",
    "aiff": ".aiff",
    "wma": ".wma",
    "wv": ".wv",
    "ape": ".ape",
}

# Formats made by make_extra_track: PyAV encodes TTA, AAC (ADTS) and AC-3; the others (no encoder
# here) get a real header as their format's tools write it, which is all a tagger parses.
EXTRA_FORMATS = ("mpc", "tak", "ofr", "tta", "dsf", "dff", "aac", "ac3", "spx")

# Our format id (what detect_format returns) for each generator format.
FORMAT_IDS = {**{f: f for f in FORMATS}, **{f: f for f in EXTRA_FORMATS}, "mp3v23": "mp3", "alac": "m4a"}

# soundfile (format, subtype); Opus only runs at 48 kHz in libsndfile.
SOUNDFILE_FORMATS = {
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "mp3v23": ("MP3", "MPEG_LAYER_III"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "wav": ("WAV", "PCM_16"),
    "aiff": ("AIFF", "PCM_16"),
}
# PyAV (container, codec).
_PYAV = {"m4a": ("ipod", "aac"), "alac": ("ipod", "alac"), "wma": ("asf", "wmav2"), "wv": ("wv", "wavpack")}


def make_cover(
    color: tuple[int, int, int] = (200, 30, 30),
    size: tuple[int, int] = (300, 300),
    fmt: str = "JPEG",
    text: str | None = None,
) -> bytes:
    """An image file's bytes (Pillow), a solid colour with optional text on it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    if text:
        ImageDraw.Draw(image).text((10, 10), text, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def make_track(
    path_or_dir: str | Path,
    fmt: str,
    *,
    seconds: float = 1.0,
    sample_rate: int = 44100,
    title: str = "Test Title",
    artist: str = "Test Artist",
    album: str = "Test Album",
    album_artist: str | None = None,
    track: int = 1,
    track_total: int | None = None,
    disc: int | None = 1,
    year: int | None = 2001,
    genres: Sequence[str] = ("Heavy Metal",),
    cover: bytes | None = None,
    signal: str = "sine",
    freq: float = 440.0,
) -> Path:
    """Write a tagged audio file and return its path.

    ``path_or_dir``: a file path, or an existing folder (the name is then
    ``"NN Title.ext"``). ``fmt`` is one of :data:`FORMATS`; ``mp3v23`` writes an ID3v2.3 tag
    with genres joined by "/", ``alac`` an ALAC M4A. Opus is always 48 kHz.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown test format {fmt!r}; one of {FORMATS}")
    target = Path(path_or_dir)
    if target.is_dir():
        target = target / f"{track:02d} {title}{EXTENSIONS[fmt]}"
    if fmt == "opus":
        sample_rate = 48000
    samples = _signal(signal, seconds, sample_rate, freq)
    if fmt in SOUNDFILE_FORMATS:
        import soundfile

        container, subtype = SOUNDFILE_FORMATS[fmt]
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        # In blocks: libsndfile's Vorbis encoder crashes on one huge write (minutes of audio).
        with soundfile.SoundFile(str(target), "w", sample_rate, channels, subtype, format=container) as out:
            for start in range(0, len(samples), 1 << 16):
                out.write(samples[start : start + (1 << 16)])
    elif fmt in _PYAV:
        _encode_pyav(target, fmt, samples, sample_rate)
    else:
        target.write_bytes(_monkeys_audio(samples, sample_rate))
    _tag(
        target,
        fmt,
        title=title,
        artist=artist,
        album=album,
        album_artist=album_artist,
        track=track,
        track_total=track_total,
        disc=disc,
        year=year,
        genres=list(genres),
        cover=cover,
    )
    age(target)
    return target


def age(path: str | Path, seconds: float = 3600.0) -> None:
    """Date the file an hour back, like a file that has been in a library a while (a file changed
    in the last seconds is one the tag writer waits for: see ``TagsConfig.stable_seconds``)."""
    import os
    import time

    then = time.time() - seconds
    os.utime(path, (then, then))


def copy_track(template: str | Path, target: str | Path, **tags: str | Sequence[str]) -> Path:
    """Copy a track made by :func:`make_track` and set easy-mutagen ``tags`` on the copy (e.g.
    ``title``, ``artist``, ``album``, ``tracknumber``, ``date``, ``genre``): how benchmarks build
    big libraries without encoding every file."""
    import shutil

    import mutagen

    target = Path(target)
    shutil.copyfile(template, target)
    audio = mutagen.File(target, easy=True)
    if audio.tags is None:
        audio.add_tags()
    for key, value in tags.items():
        audio[key] = value if isinstance(value, str) else list(value)
    audio.save()
    age(target)
    return target


def decode_audio(path: str | Path) -> np.ndarray:
    """The decoded samples (frames x channels) for before/after comparisons.

    soundfile first (bit-exact libsndfile decoders), PyAV for the rest (AAC, ALAC, WMA,
    WavPack). Monkey's Audio cannot be decoded here: use :func:`untagged_bytes`.
    """
    import soundfile

    try:
        data, _rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        return data
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        pass
    if Path(path).read_bytes()[:4] == b"MAC ":
        raise ValueError(f"{path}: Monkey's Audio cannot be decoded here; compare untagged_bytes()")
    import av

    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.append(
                frame.to_ndarray().reshape(-1, frame.samples).T
                if frame.format.is_planar
                else frame.to_ndarray().reshape(frame.samples, -1)
            )
    return np.concatenate(chunks)


def untagged_bytes(path: str | Path) -> bytes:
    """The file without a trailing APEv2 tag and ID3v1 tag: for APE/WavPack, the audio."""
    data = Path(path).read_bytes()
    if data[-128:-125] == b"TAG":
        data = data[:-128]
    if data[-32:-24] == b"APETAGEX":
        size, _items, flags = struct.unpack("<III", data[-20:-8])
        data = data[: -(size + (32 if flags & 0x80000000 else 0))]
    return data


def wm_picture(data: bytes, mime: str = "image/jpeg", type_: int = 3, description: str = "") -> bytes:
    """A WM/Picture attribute value (type, size, UTF-16LE MIME and description, data)."""
    return (
        struct.pack("<bI", type_, len(data))
        + (mime + "\0").encode("utf-16-le")
        + (description + "\0").encode("utf-16-le")
        + data
    )


def flac_picture(data: bytes, mime: str = "image/jpeg", type_: int = 3):
    """A mutagen FLAC Picture block for ``data``."""
    from mutagen.flac import Picture

    picture = Picture()
    picture.type, picture.mime, picture.desc, picture.data = type_, mime, "", data
    return picture


# ---------------------------------------------------------------------------------------
def _signal(kind: str, seconds: float, rate: int, freq: float) -> np.ndarray:
    n = int(seconds * rate)
    if kind == "sine":
        t = np.arange(n) / rate
        mono = 0.4 * np.sin(2 * np.pi * freq * t)
        return np.stack([mono, 0.5 * mono], axis=1).astype(np.float32)
    if kind == "noise":
        return (np.random.default_rng(int(freq)).uniform(-0.3, 0.3, (n, 2))).astype(np.float32)
    raise ValueError(f"unknown signal {kind!r} (sine or noise)")


def _encode_pyav(target: Path, fmt: str, samples: np.ndarray, rate: int) -> None:
    import av

    container_name, codec = _PYAV[fmt]
    with av.open(str(target), "w", format=container_name) as container:
        stream = container.add_stream(codec, rate=rate, layout="stereo")
        if codec == "wmav2":
            stream.bit_rate = 128_000  # the encoder refuses to open without one
        supported = [f.name for f in stream.codec_context.codec.audio_formats or ()]
        sample_format = next(f for f in ("fltp", "s16p", "s16", "flt", "s32p") if f in supported)
        stream.codec_context.format = sample_format
        if sample_format.startswith("s16"):
            planar = (samples.T * 32767).astype(np.int16)
        elif sample_format.startswith("s32"):
            planar = (samples.T * 2147483647).astype(np.int32)
        else:
            planar = samples.T.astype(np.float32)
        if sample_format.endswith("p"):
            array = np.ascontiguousarray(planar)
        else:
            array = np.ascontiguousarray(planar.T).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(array, format=sample_format, layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _monkeys_audio(samples: np.ndarray, rate: int) -> bytes:
    """A Monkey's Audio 3.99 file: APE_DESCRIPTOR + APE_HEADER as the SDK writes them, then
    deterministic stand-in frame data (the PCM itself; no tagger reads frames)."""
    pcm = (samples * 32767).astype("<i2").tobytes()
    blocks = len(samples)
    blocks_per_frame = 73728 * 4
    total_frames = max(1, -(-blocks // blocks_per_frame))
    final_frame_blocks = blocks - (total_frames - 1) * blocks_per_frame
    descriptor = struct.pack(
        "<4sHHIIIIIII16s",
        b"MAC ",
        3990,
        0,
        52,  # descriptor bytes
        24,  # header bytes
        0,  # seek table bytes
        0,  # header data (WAV header) bytes
        len(pcm),
        0,  # frame data bytes (low, high)
        0,  # terminating data bytes
        bytes(16),  # MD5 (unchecked by taggers)
    )
    header = struct.pack("<HHIIIHHI", 2000, 0, blocks_per_frame, final_frame_blocks, total_frames, 16, 2, rate)
    return descriptor + header + pcm


def _tag(
    path: Path,
    fmt: str,
    *,
    title: str,
    artist: str,
    album: str,
    album_artist: str | None,
    track: int,
    track_total: int | None,
    disc: int | None,
    year: int | None,
    genres: list[str],
    cover: bytes | None,
) -> None:
    track_text = f"{track}/{track_total}" if track_total else str(track)
    mime = "image/png" if cover and cover.startswith(b"\x89PNG") else "image/jpeg"
    if fmt in ("mp3", "mp3v23", "wav", "aiff"):
        _tag_id3(path, fmt, title, artist, album, album_artist, track_text, disc, year, genres, cover, mime)
    elif fmt in ("flac", "ogg", "opus"):
        _tag_vorbis(path, fmt, title, artist, album, album_artist, track_text, disc, year, genres, cover, mime)
    elif fmt in ("m4a", "alac"):
        from mutagen.mp4 import MP4, MP4Cover

        audio = MP4(path)
        if audio.tags is None:
            audio.add_tags()
        tags = audio.tags
        tags.update({"\xa9nam": [title], "\xa9ART": [artist], "\xa9alb": [album], "trkn": [(track, track_total or 0)]})
        if album_artist:
            tags["aART"] = [album_artist]
        if disc:
            tags["disk"] = [(disc, 0)]
        if year:
            tags["\xa9day"] = [str(year)]
        if genres:
            tags["\xa9gen"] = genres
        if cover:
            kind = MP4Cover.FORMAT_PNG if mime == "image/png" else MP4Cover.FORMAT_JPEG
            tags["covr"] = [MP4Cover(cover, imageformat=kind)]
        audio.save()
    elif fmt == "wma":
        from mutagen.asf import ASF, ASFByteArrayAttribute

        audio = ASF(path)
        tags = audio.tags
        tags["Title"], tags["Author"], tags["WM/AlbumTitle"] = [title], [artist], [album]
        tags["WM/TrackNumber"] = [track_text]
        if album_artist:
            tags["WM/AlbumArtist"] = [album_artist]
        if disc:
            tags["WM/PartOfSet"] = [str(disc)]
        if year:
            tags["WM/Year"] = [str(year)]
        if genres:
            tags["WM/Genre"] = genres
        if cover:
            tags["WM/Picture"] = [ASFByteArrayAttribute(wm_picture(cover, mime))]
        audio.save()
    else:  # wv, ape
        from mutagen.apev2 import BINARY, APEv2File, APEValue

        audio = APEv2File(path)
        if audio.tags is None:
            audio.add_tags()
        tags = audio.tags
        tags["Title"], tags["Artist"], tags["Album"], tags["Track"] = title, artist, album, track_text
        if album_artist:
            tags["Album Artist"] = album_artist
        if disc:
            tags["Disc"] = str(disc)
        if year:
            tags["Year"] = str(year)
        if genres:
            tags["Genre"] = genres
        if cover:
            tags["Cover Art (Front)"] = APEValue(b"cover.jpg\0" + cover, BINARY)
        audio.save()


def _tag_id3(path, fmt, title, artist, album, album_artist, track_text, disc, year, genres, cover, mime) -> None:
    from mutagen.aiff import AIFF
    from mutagen.id3 import APIC, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    # The class by format, not mutagen.File's extension guess: tests misname files on purpose.
    audio = {"wav": WAVE, "aiff": AIFF}.get(fmt, MP3)(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    for frame in (
        TIT2(encoding=3, text=title),
        TPE1(encoding=3, text=artist),
        TALB(encoding=3, text=album),
        TRCK(encoding=3, text=track_text),
    ):
        tags.add(frame)
    if album_artist:
        tags.add(TPE2(encoding=3, text=album_artist))
    if disc:
        tags.add(TPOS(encoding=3, text=str(disc)))
    if year:
        tags.add(TDRC(encoding=3, text=str(year)))
    if genres:
        tags.add(TCON(encoding=3, text=genres))
    if cover:
        tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=cover))
    if fmt == "mp3v23":
        tags.update_to_v23()
        audio.save(v2_version=3, v23_sep="/")
    else:
        audio.save(v2_version=4)


def _tag_vorbis(path, fmt, title, artist, album, album_artist, track_text, disc, year, genres, cover, mime) -> None:
    from mutagen.flac import FLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    audio = {"flac": FLAC, "ogg": OggVorbis, "opus": OggOpus}[fmt](path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    tags["TITLE"], tags["ARTIST"], tags["ALBUM"], tags["TRACKNUMBER"] = title, artist, album, track_text
    if album_artist:
        tags["ALBUMARTIST"] = album_artist
    if disc:
        tags["DISCNUMBER"] = str(disc)
    if year:
        tags["DATE"] = str(year)
    if genres:
        tags["GENRE"] = genres
    if cover:
        picture = flac_picture(cover, mime)
        if fmt == "flac":
            audio.add_picture(picture)
        else:
            tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
    audio.save()


# --------------------------------------------------------------------------------------- more formats
def make_extra_track(
    path: str | Path, fmt: str, *, genres: Sequence[str] = ("Heavy Metal",), title: str = "Test"
) -> Path:
    """A file of one of :data:`EXTRA_FORMATS`, tagged (title, genres) with mutagen directly: APEv2
    for Musepack/TAK/OptimFROG/AAC/AC-3, ID3v2.4 for TTA/DSF/DSDIFF, Vorbis comments for Speex."""
    import mutagen.apev2
    from mutagen.dsdiff import DSDIFF
    from mutagen.dsf import DSF
    from mutagen.id3 import TCON, TIT2
    from mutagen.oggspeex import OggSpeex
    from mutagen.trueaudio import TrueAudio

    path = Path(path)
    if fmt in ("tta", "aac", "ac3"):
        container = {"tta": "tta", "aac": "adts", "ac3": "ac3"}[fmt]
        _encode_pyav_stream(path, container, fmt)
    else:
        path.write_bytes({"mpc": _mpc, "tak": _tak, "ofr": _ofr, "dsf": _dsf, "dff": _dff, "spx": _speex}[fmt]())
    if fmt in ("tta", "dsf", "dff"):
        audio = {"tta": TrueAudio, "dsf": DSF, "dff": DSDIFF}[fmt](path)
        if audio.tags is None:
            audio.add_tags()
        audio.tags.add(TIT2(encoding=3, text=title))
        if genres:
            audio.tags.add(TCON(encoding=3, text=list(genres)))
        audio.save()
    elif fmt == "spx":
        audio = OggSpeex(path)
        audio["TITLE"] = title
        if genres:
            audio["GENRE"] = list(genres)
        audio.save()
    else:
        tags = mutagen.apev2.APEv2()
        tags["Title"] = title
        if genres:
            tags["Genre"] = list(genres)
        tags.save(path)
    age(path)
    return path


def _encode_pyav_stream(path: Path, container: str, codec: str, rate: int = 44100) -> None:
    import av

    samples = _signal("sine", 1.0, rate, 440.0)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        supported = [f.name for f in stream.codec_context.codec.audio_formats or ()]
        sample_format = next(f for f in ("fltp", "s16p", "s16", "flt", "s32p", "s32") if f in supported)
        stream.codec_context.format = sample_format
        planar = samples.T
        if sample_format.startswith("s16"):
            planar = (planar * 32767).astype(np.int16)
        elif sample_format.startswith("s32"):
            planar = (planar * 2147483647).astype(np.int32)
        array = (
            np.ascontiguousarray(planar)
            if sample_format.endswith("p")
            else np.ascontiguousarray(planar.T).reshape(1, -1)
        )
        frame = av.AudioFrame.from_ndarray(array, format=sample_format, layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _lsb_bits(fields: list[tuple[int, int]]) -> bytes:
    """Values packed least significant bit first (TAK's bit order)."""
    acc = n = 0
    for value, bits in fields:
        acc |= (value & ((1 << bits) - 1)) << n
        n += bits
    return acc.to_bytes((n + 7) // 8, "little")


def _tak(samples: int = 44100, rate: int = 44100) -> bytes:
    info = _lsb_bits([(0, 6), (0, 4), (0, 4), (samples, 35), (0, 3), (rate - 6000, 18), (8, 5), (1, 4), (0, 1)])
    block = _lsb_bits([(1, 7), (0, 1)]) + struct.pack("<I", len(info) + 3)[:3] + info + bytes(3)
    return b"tBaK" + block + _lsb_bits([(0, 7), (0, 1)]) + bytes(3) + bytes(2000)


def _ofr(samples: int = 88200, rate: int = 44100) -> bytes:
    header = b"OFR " + struct.pack("<I", 15) + struct.pack("<IHBBIH", samples, 0, 1, 1, rate, 0x0100)
    return header.ljust(76, b"\0") + bytes(2000)


def _mpc(frames: int = 40) -> bytes:
    """Musepack SV7: the 32-byte stream header, then stand-in frames."""
    return b"MP+\x17" + struct.pack("<II", frames, 0) + bytes(20) + bytes(2000)


def _dsf(nbytes: int = 8192) -> bytes:
    fmt = b"fmt " + struct.pack("<QIIIIIIQII", 52, 1, 0, 2, 2, 2822400, 1, nbytes * 4, 4096, 0)
    data = b"data" + struct.pack("<Q", 12 + nbytes) + bytes([0x69]) * nbytes
    return b"DSD " + struct.pack("<QQQ", 28, 28 + len(fmt) + len(data), 0) + fmt + data


def _dff(nbytes: int = 8192) -> bytes:
    def chunk(cid: bytes, body: bytes) -> bytes:
        return cid + struct.pack(">Q", len(body)) + body + (b"\0" if len(body) % 2 else b"")

    name = b"not compressed"
    prop = b"SND " + chunk(b"FS  ", struct.pack(">I", 2822400)) + chunk(b"CHNL", struct.pack(">H", 2) + b"SLFTSRGT")
    prop += chunk(b"CMPR", b"DSD " + bytes([len(name)]) + name)
    body = b"DSD " + chunk(b"FVER", struct.pack(">I", 0x01050000)) + chunk(b"PROP", prop)
    body += chunk(b"DSD ", bytes([0x69]) * nbytes)
    return b"FRM8" + struct.pack(">Q", len(body)) + body


def _speex() -> bytes:
    """Ogg Speex: the 80-byte Speex header page, a comment page, one stand-in audio page."""
    from mutagen.ogg import OggPage

    header = b"Speex   " + b"1.2.0".ljust(20, b"\0")
    header += struct.pack("<14i", 1, 80, 44100, 2, 4, 2, -1, 640, 0, 1, 0, 0, 0, 0)
    pages = []
    for sequence, packet, position in (
        (0, header.ljust(80, b"\0"), 0),
        (1, struct.pack("<I", 4) + b"test" + struct.pack("<I", 0), 0),
        (2, bytes(200), 44100),
    ):
        page = OggPage()
        page.serial, page.sequence, page.position, page.packets = 1234, sequence, position, [packet]
        page.first, page.last = sequence == 0, sequence == 2
        pages.append(page.write())
    return b"".join(pages)
