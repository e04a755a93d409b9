"""Audio format detection from the file's first bytes, never from its extension.

Libraries are full of files whose extension lies (a FLAC renamed ``.mp3``, an M4A saved as
``.aac``). Choosing the tag format from the extension would write ID3 into a FLAC file, so
the header decides; the extension only tells the scanner which files are worth opening
(:data:`AUDIO_EXTENSIONS`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO

from musictagger.errors import TagReadError, UnsupportedFormat, describe_os_error
from musictagger.files import open_regular

SUPPORTED_FORMATS: tuple[str, ...] = (
    "mp3",
    "flac",
    "ogg",
    "opus",
    "spx",
    "m4a",
    "wav",
    "aiff",
    "wma",
    "wv",
    "ape",
    "mpc",
    "tak",
    "ofr",
    "tta",
    "dsf",
    "dff",
    "aac",
    "ac3",
)

# Lowercase, with the dot (compare with ``Path.suffix.lower()``). Used by the scanner only.
AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp3",
        ".mp2",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".spx",
        ".m4a",
        ".m4b",
        ".mp4",
        ".alac",
        ".wav",
        ".wave",
        ".aif",
        ".aiff",
        ".aifc",
        ".wma",
        ".asf",
        ".wv",
        ".ape",
        ".mpc",
        ".mp+",
        ".mpp",
        ".tak",
        ".ofr",
        ".ofs",
        ".tta",
        ".dsf",
        ".dff",
        ".aac",
        ".adts",
        ".ac3",
        ".eac3",
    }
)

_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_HEAD_SIZE = 4096
# How far past an ID3v2 tag we look for the first MPEG frame (encoders may pad a little).
_MPEG_SEARCH = 64 * 1024

# MPEG audio: bitrate tables in kbit/s indexed by [version is MPEG-1][layer][index].
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class Detected:
    """What the header says: our format id plus, where one format id covers several
    mutagen classes, which one (``"flac"`` for FLAC-in-Ogg)."""

    format: str
    variant: str = ""


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format id of ``path`` (one of :data:`SUPPORTED_FORMATS`), from its header.

    Raises :class:`UnsupportedFormat` for anything else (with what was found, when known)
    and :class:`TagReadError` when the file cannot be read or is empty.
    """
    return sniff(path).format


def sniff(path: str | os.PathLike[str]) -> Detected:
    """:func:`detect_format` with the mutagen variant. Only a regular file is opened (a pipe
    named ``x.mp3`` is refused, never waited on): see :func:`musictagger.files.open_regular`."""
    try:
        with open_regular(path) as fh:
            return sniff_file(fh, path)
    except OSError as exc:
        raise TagReadError(path, describe_os_error(exc)) from exc


def sniff_file(fh: BinaryIO, path: str | os.PathLike[str]) -> Detected:
    """:func:`sniff` on an open file (read from its start); ``path`` is for messages."""
    fh.seek(0)
    head = fh.read(_HEAD_SIZE)
    if not head:
        raise TagReadError(path, "empty file (0 bytes)")
    if head.startswith(b"ID3"):
        return _after_id3(path, fh)
    detected = _sniff_head(head)
    if detected is None and _mpeg_frames_at(head, 0, complete=len(head) < _HEAD_SIZE):
        detected = Detected("mp3")
    if detected is None and _adts_frames_at(head, 0, complete=len(head) < _HEAD_SIZE):
        detected = Detected("aac")
    if detected is None:
        raise UnsupportedFormat(path, f"not a supported audio file ({_describe_unknown(head)})")
    if isinstance(detected, str):
        raise UnsupportedFormat(path, detected)
    return detected


def _sniff_head(head: bytes) -> Detected | str | None:
    """Container magic; a string is an error message for a known but unsupported kind."""
    if head.startswith(b"fLaC"):
        return Detected("flac")
    if head.startswith(b"OggS"):
        return _sniff_ogg(head)
    if head[4:8] == b"ftyp":
        return Detected("m4a")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return Detected("wav")
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return Detected("aiff")
    if head.startswith(_ASF_GUID):
        return Detected("wma")
    if head.startswith(b"wvpk"):
        return Detected("wv")
    if head.startswith(b"MAC "):
        return Detected("ape")
    if head.startswith((b"MPCK", b"MP+")):
        return Detected("mpc")
    if head.startswith(b"tBaK"):
        return Detected("tak")
    if head.startswith(b"OFR "):
        return Detected("ofr")
    if head.startswith(b"TTA1"):
        return Detected("tta")
    if head.startswith(b"DSD ") and head[28:32] == b"fmt ":
        return Detected("dsf")
    if head.startswith(b"FRM8") and head[12:16] == b"DSD ":
        return Detected("dff")
    if head.startswith(b"\x0b\x77"):
        return Detected("ac3")
    if head.startswith(b"ADIF"):
        return Detected("aac")
    return _known_unsupported(head)


def _sniff_ogg(head: bytes) -> Detected | str:
    """Ogg is a container: the codec is named by the first packet of the first page."""
    n_segments = head[26] if len(head) > 26 else 0
    packet = head[27 + n_segments : 27 + n_segments + 16]
    if len(packet) < 8:
        # The first page is cut short: an Ogg file, codec unknown; mutagen reports the damage.
        return Detected("ogg", "truncated")
    if packet.startswith(b"\x01vorbis"):
        return Detected("ogg")
    if packet.startswith(b"OpusHead"):
        return Detected("opus")
    if packet.startswith(b"\x7fFLAC"):
        return Detected("ogg", "flac")
    if packet.startswith(b"Speex   "):
        return Detected("spx")
    for magic, name in (
        (b"\x80theora", "Ogg Theora video"),
        (b"fishead", "Ogg Skeleton"),
        (b"\x80kate", "Ogg Kate (subtitles)"),
        (b"CELT", "Ogg CELT"),
        (b"\x01video", "Ogg OGM video"),
    ):
        if packet.startswith(magic):
            return f"format {name} is not supported (an Ogg file with an unsupported codec)"
    return "format Ogg with an unknown codec is not supported"


def _after_id3(path: str | os.PathLike[str], fh: BinaryIO) -> Detected:
    """An ID3v2 tag comes first: MP3 almost always, occasionally a (mis-tagged) FLAC."""
    offset = 0
    # Some files carry several ID3v2 tags back to back; skip them all.
    while True:
        fh.seek(offset)
        header = fh.read(10)
        if len(header) < 10 or not header.startswith(b"ID3"):
            break
        size = _synchsafe(header[6:10])
        if size is None:
            raise UnsupportedFormat(path, "not a supported audio file (damaged ID3 tag header)")
        offset += 10 + size + (10 if header[5] & 0x10 else 0)
    fh.seek(offset)
    data = fh.read(_MPEG_SEARCH)
    if not data:
        raise TagReadError(path, "not a valid MP3 file (truncated or corrupt: an ID3 tag and no audio)")
    if data.startswith(b"fLaC"):
        return Detected("flac")
    if data.startswith((b"MPCK", b"MP+")):
        return Detected("mpc")
    if data.startswith(b"TTA1"):
        return Detected("tta")
    if _adts_frames_at(data, 0, complete=len(data) < _MPEG_SEARCH):
        return Detected("aac", "id3")
    for start in range(0, max(1, len(data) - 3)):
        if data[start] == 0xFF and _mpeg_frames_at(data, start, complete=len(data) < _MPEG_SEARCH):
            return Detected("mp3")
    raise UnsupportedFormat(path, "not a supported audio file (an ID3 tag followed by no MPEG audio)")


def _synchsafe(raw: bytes) -> int | None:
    if any(b & 0x80 for b in raw):
        return None
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _mpeg_frame_length(data: bytes, pos: int) -> int | None:
    """Length of the MPEG audio frame whose header starts at ``pos``, or None if not one."""
    if pos + 4 > len(data):
        return None
    word: int = int.from_bytes(data[pos : pos + 4], "big")
    if word >> 21 != 0x7FF:
        return None
    version = (word >> 19) & 3  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 reserved
    layer = 4 - ((word >> 17) & 3)  # 4 = reserved (this is how ADTS AAC is told apart)
    bitrate_index = (word >> 12) & 0xF
    rate_index = (word >> 10) & 3
    padding = (word >> 9) & 1
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // sample_rate + padding) * 4
    if layer == 3 and not mpeg1:
        return 72 * bitrate // sample_rate + padding
    return 144 * bitrate // sample_rate + padding


def _mpeg_frames_at(data: bytes, pos: int, complete: bool) -> bool:
    """True when a valid MPEG frame header is at ``pos`` and another frame (or the end of
    the file, or an ID3v1/APE tag) follows it. ``complete`` says ``data`` reaches EOF.

    One header alone matches random bytes about once in a few thousand tries; requiring the
    following frame makes a false positive vanishingly rare.
    """
    length = _mpeg_frame_length(data, pos)
    if length is None:
        return False
    following = data[pos + length : pos + length + 4]
    if len(following) < 4:
        return complete
    if following.startswith((b"TAG", b"APET")):
        return True
    return _mpeg_frame_length(data, pos + length) is not None


def _adts_frame_length(data: bytes, pos: int) -> int | None:
    """Length of the AAC ADTS frame whose header starts at ``pos``, or None if not one."""
    if pos + 7 > len(data):
        return None
    b = data[pos : pos + 7]
    if b[0] != 0xFF or (b[1] & 0xF6) != 0xF0:  # 12-bit sync, layer 00
        return None
    if (b[2] >> 2) & 0x0F > 12:  # sampling frequency index
        return None
    length = ((b[3] & 0x03) << 11) | (b[4] << 3) | (b[5] >> 5)
    return length if length >= 7 else None


def _adts_frames_at(data: bytes, pos: int, complete: bool) -> bool:
    """Like :func:`_mpeg_frames_at`, for AAC in ADTS frames: a header and the next one after it."""
    length = _adts_frame_length(data, pos)
    if length is None:
        return False
    following = data[pos + length : pos + length + 7]
    if len(following) < 7:
        return complete and len(following) == 0
    if following.startswith((b"TAG", b"APET")):
        return True
    return _adts_frame_length(data, pos + length) is not None


# Formats recognised by their header that we do not read or write: named, so the message says so.
_UNSUPPORTED_MAGIC = (
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM (MKA, WebM)"),
    (b"MThd", "MIDI"),
    (b".snd", "Sun/NeXT AU"),
    (b".ra\xfd", "RealAudio"),
    (b".RMF", "RealMedia"),
    (b"#!AMR", "AMR"),
    (b"Creative Voice File", "Creative Voice (VOC)"),
    (b"FORM", "IFF (not AIFF)"),
    (b"caff", "Core Audio (CAF)"),
    (b"ajkg", "Shorten"),
    (b"LA0", "Lossless Audio (LA)"),
)


def _known_unsupported(head: bytes) -> str | None:
    for magic, name in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            return f"format {name} is not supported"
    return None


def _describe_unknown(head: bytes) -> str:
    if not head.strip(b"\0"):
        return "the file starts with zero bytes only"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "it is an image"
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive"
    if head.lstrip().startswith((b"<", b"{")):
        return "it looks like a text/markup file"
    if head.startswith(b"RIFF"):
        return f"RIFF file of type {head[8:12]!r}"
    return "unrecognised header"
