"""The per-format table: how each tag system stores the fields we read and write.

Why our own table over mutagen rather than beets' ``mediafile``: we need exact control of
multi-value conventions (one null-separated ID3v2.4 TCON, a joined ID3v2.3 string, repeated
Vorbis/ASF fields, several MP4 ``©gen`` values, APEv2 list values), of a second genre field
(STYLE) and of our own provenance fields, and we must know exactly which frames a write
touches. mediafile flattens genres to one string by default and maps custom fields through
its own descriptors; a ~300-line table keeps every byte we write explainable.

Five tag systems cover the ten formats:

========  ======================  ==========================================================
family    formats                 genre / style / custom MUSICTAGGER_X
========  ======================  ==========================================================
ID3v2     mp3, wav, aiff          ``TCON`` / ``TXXX:STYLE`` / ``TXXX:MUSICTAGGER_X``
Vorbis    flac, ogg, opus         ``GENRE`` / ``STYLE`` / ``MUSICTAGGER_X`` (repeated fields)
MP4       m4a (AAC and ALAC)      ``©gen`` / ``----:com.apple.iTunes:STYLE`` / same freeform
ASF       wma                     ``WM/Genre`` / ``STYLE`` / ``MUSICTAGGER_X`` attributes
APEv2     wv, ape                 ``Genre`` / ``Style`` / ``MUSICTAGGER_X`` (list values)
========  ======================  ==========================================================

STYLE follows the Discogs/foobar2000 convention of a field named STYLE (TXXX or freeform
where the format has no free-named fields); other players show it or ignore it, and never
confuse it with GENRE. Custom fields use forms other players ignore: a TXXX description, an
iTunes freeform atom, a Vorbis comment / ASF attribute / APE item with our own name.

Matching of free-named keys (TXXX descriptions, freeform names, ASF/APE/Vorbis names) is
case-insensitive on read, and a write replaces every case variant, so ``TXXX:Style`` written
by another tagger is updated rather than duplicated.
"""

from __future__ import annotations

import base64
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import mutagen
from mutagen.aiff import AIFF
from mutagen.apev2 import APEBinaryValue, APEv2
from mutagen.asf import ASF, ASFByteArrayAttribute, ASFTags
from mutagen.flac import FLAC, MetadataBlock
from mutagen.flac import Picture as FlacPicture
from mutagen.id3 import ID3, TXXX, Frames
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, AtomDataType, MP4Cover, MP4FreeForm, MP4Tags
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from musictagger.config import TagsConfig
from musictagger.tags.genres import resolve_id3_genre
from musictagger.tags.model import CUSTOM_PREFIX, FRONT_COVER, GENRE, STYLE, Picture

Values = list[str]

# Which of the fields we read are plain text, by logical name.
TEXT_FIELDS = ("title", "artist", "album_artist", "album")


def picture_mime(data: bytes) -> str | None:
    """The image type from the picture's own bytes, or None when they are not an image.

    Declared MIME types are often wrong ("image/jpg", empty, PNG declared as JPEG); the bytes
    are not. Data that is no known image is treated as a corrupt picture and skipped.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM") and len(data) > 26:
        return "image/bmp"
    return None


def _picture(data: bytes, type_: int, description: str = "") -> Picture | None:
    mime = picture_mime(data)
    return Picture(data=bytes(data), mime=mime, type=type_, description=description) if mime else None


def parse_number_pair(text: str) -> tuple[int | None, int | None]:
    """``"3/12"`` -> (3, 12); ``"3"`` -> (3, None); junk -> (None, None)."""
    match = re.match(r"^\s*(\d+)?\s*(?:/\s*(\d+))?", text)
    if not match:
        return None, None
    number, total = match.groups()
    return (int(number) if number else None), (int(total) if total else None)


def parse_year(text: str) -> int | None:
    match = re.match(r"^\s*(\d{4})", text)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class FormatSpec:
    """One row of the table: our format id, its name for messages, how mutagen opens it,
    and the tag family that reads and writes it."""

    format: str
    name: str
    opener: Callable[[str], mutagen.FileType]
    family: Family


class Family(ABC):
    """How one tag system stores our logical fields (subclasses fill in the key table)."""

    # logical name -> native keys, the first is the canonical one; "track"/"disc" may hold
    # "n/total", "track_total"/"disc_total" are separate fields where the system has them.
    keys: ClassVar[dict[str, tuple[str, ...]]] = {}

    # -- native access (override) --------------------------------------------------------
    @abstractmethod
    def get(self, tags: Any, key: str) -> Values:
        """The text values stored under the native ``key`` (case-insensitive where the
        format's keys are free-named)."""

    @abstractmethod
    def set(self, tags: Any, key: str, values: Values) -> None:
        """Replace ``key`` (every case variant) with ``values``; an empty list deletes it."""

    def custom_key(self, name: str) -> str:
        """The native key of our custom field ``name`` (``MUSICTAGGER_X``)."""
        return name

    @abstractmethod
    def custom_names(self, tags: Any) -> list[str]:
        """Names (upper case) of the MUSICTAGGER_* fields present."""

    @abstractmethod
    def pictures(self, audio: mutagen.FileType) -> list[Picture]:
        """Embedded images that are real images; corrupt ones are skipped."""

    def save(self, audio: mutagen.FileType, config: TagsConfig) -> None:
        audio.save()

    def version(self, tags: Any) -> str | None:
        return None

    # -- shared logic --------------------------------------------------------------------
    def native_key(self, name: str) -> str:
        if name in (GENRE, STYLE):
            return self.keys[name][0]
        return self.custom_key(name)

    def first(self, tags: Any, logical: str) -> str | None:
        for key in self.keys.get(logical, ()):
            for value in self.get(tags, key):
                if value.strip():
                    return value.strip()
        return None

    def numbers(self, tags: Any, which: str) -> tuple[int | None, int | None]:
        """(number, total) for ``which`` in ("track", "disc")."""
        number, total = parse_number_pair(self.first(tags, which) or "")
        if total is None:
            total = parse_number_pair(self.first(tags, f"{which}_total") or "")[0]
        return number, total

    def raw_genres(self, tags: Any, key: str) -> Values:
        """The stored values of a genre-like field, before splitting."""
        return self.get(tags, key)


def _matching(keys: Any, key: str) -> list[str]:
    folded = key.casefold()
    return [k for k in keys if k.casefold() == folded]


# ---------------------------------------------------------------------------------------
class ID3Family(Family):
    keys = {
        "title": ("TIT2",),
        "artist": ("TPE1",),
        "album": ("TALB",),
        "album_artist": ("TPE2",),
        "track": ("TRCK",),
        "disc": ("TPOS",),
        "date": ("TDRC", "TYER"),
        GENRE: ("TCON",),
        STYLE: ("TXXX:STYLE",),
    }

    def get(self, tags: ID3, key: str) -> Values:
        if key.startswith("TXXX:"):
            desc = key[5:].casefold()
            frames = [f for f in tags.getall("TXXX") if f.desc.casefold() == desc]
        else:
            frames = tags.getall(key)
        return [str(text) for frame in frames for text in frame.text]

    def set(self, tags: ID3, key: str, values: Values) -> None:
        if key.startswith("TXXX:"):
            desc = key[5:]
            keep = [f for f in tags.getall("TXXX") if f.desc.casefold() != desc.casefold()]
            tags.setall("TXXX", keep)
            if values:
                tags.add(TXXX(encoding=3, desc=desc, text=values))
        else:
            tags.delall(key)
            if values:
                tags.add(Frames[key](encoding=3, text=values))

    def custom_key(self, name: str) -> str:
        return f"TXXX:{name}"

    def custom_names(self, tags: ID3) -> list[str]:
        return [f.desc.upper() for f in tags.getall("TXXX") if f.desc.upper().startswith(CUSTOM_PREFIX)]

    def raw_genres(self, tags: ID3, key: str) -> Values:
        values = self.get(tags, key)
        if key != "TCON":
            return values
        # Legacy "(17)" / "17" / "(17)(18)" references. mutagen already resolves most of them
        # on load; doing it here as well covers every spelling the same way.
        return [name for value in values for name in resolve_id3_genre(value)]

    def pictures(self, audio: mutagen.FileType) -> list[Picture]:
        tags = audio.tags
        if tags is None:
            return []
        found = (_picture(f.data, int(f.type), f.desc) for f in tags.getall("APIC"))
        return [p for p in found if p]

    def save(self, audio: mutagen.FileType, config: TagsConfig) -> None:
        """Save as ``config.id3_version``: 2.4 stores multi-values null-separated in one
        frame; 2.3 has no multi-values, so mutagen joins them with ``id3v23_separator``
        (Picard's convention) after :meth:`ID3.update_to_v23` converts v2.4-only frames."""
        if config.id3_version == "2.3":
            audio.tags.update_to_v23()
            audio.save(v2_version=3, v23_sep=config.id3v23_separator)
        else:
            audio.save(v2_version=4)

    def version(self, tags: ID3) -> str | None:
        return f"{tags.version[0]}.{tags.version[1]}"


# ---------------------------------------------------------------------------------------
class VorbisFamily(Family):
    keys = {
        "title": ("TITLE",),
        "artist": ("ARTIST",),
        "album": ("ALBUM",),
        "album_artist": ("ALBUMARTIST", "ALBUM ARTIST", "ALBUM_ARTIST"),
        "track": ("TRACKNUMBER",),
        "track_total": ("TRACKTOTAL", "TOTALTRACKS"),
        "disc": ("DISCNUMBER",),
        "disc_total": ("DISCTOTAL", "TOTALDISCS"),
        "date": ("DATE", "YEAR", "ORIGINALDATE"),
        GENRE: ("GENRE",),
        STYLE: ("STYLE",),
    }

    def get(self, tags: Any, key: str) -> Values:
        return list(tags.get(key, []))  # VComment lookups are case-insensitive

    def set(self, tags: Any, key: str, values: Values) -> None:
        if key in tags:
            del tags[key]  # removes every case variant
        if values:
            tags[key] = values

    def custom_names(self, tags: Any) -> list[str]:
        return [k.upper() for k in tags.keys() if k.upper().startswith(CUSTOM_PREFIX)]

    def pictures(self, audio: mutagen.FileType) -> list[Picture]:
        found: list[Picture | None] = []
        for block in getattr(audio, "pictures", []):  # FLAC PICTURE metadata blocks
            if isinstance(block, FlacPicture):  # not an opaque broken one (see LenientFLAC)
                found.append(_picture(block.data, int(block.type), block.desc))
        # Ogg (and some FLACs) carry pictures as base64 FLAC picture blocks in a comment.
        for encoded in self.get(audio.tags, "METADATA_BLOCK_PICTURE") if audio.tags else []:
            try:
                block = FlacPicture(base64.b64decode(encoded, validate=False))
            except (ValueError, TypeError, struct.error, mutagen.MutagenError):
                continue  # corrupt picture: skip it, keep the rest of the tags
            found.append(_picture(block.data, int(block.type), block.desc))
        return [p for p in found if p]


def _picture_block_or_opaque(data: bytes) -> MetadataBlock:
    try:
        return FlacPicture(data)
    except Exception:  # noqa: BLE001 - any parse failure means "broken picture"
        return MetadataBlock(data)


# Read the block by its declared size (mutagen distrusts it for pictures and parses instead).
_picture_block_or_opaque._distrust_size = False  # type: ignore[attr-defined]


class LenientFLAC(FLAC):
    """FLAC whose unreadable PICTURE blocks are kept as opaque bytes, written back unchanged,
    instead of failing the whole file: a broken cover must not hide the tags."""

    METADATA_BLOCKS = [*FLAC.METADATA_BLOCKS[:6], _picture_block_or_opaque]


def open_flac(path: str) -> FLAC:
    """mutagen's strict reader first; the lenient one only when that fails, so the rare
    writers whose picture block sizes are wrong but parseable still load as before."""
    try:
        return FLAC(path)
    except Exception as strict_error:  # noqa: BLE001 - re-raised below if leniency fails too
        try:
            return LenientFLAC(path)
        except Exception:  # noqa: BLE001
            raise strict_error from None


# ---------------------------------------------------------------------------------------
_FREEFORM = "----:com.apple.iTunes:"


class MP4Family(Family):
    keys = {
        "title": ("\xa9nam",),
        "artist": ("\xa9ART",),
        "album": ("\xa9alb",),
        "album_artist": ("aART",),
        "date": ("\xa9day",),
        GENRE: ("\xa9gen",),
        STYLE: (_FREEFORM + "STYLE",),
    }

    @staticmethod
    def _freeform_keys(tags: MP4Tags, name: str) -> list[str]:
        folded = name.casefold()
        return [k for k in tags.keys() if k.startswith("----:") and k.split(":", 2)[2].casefold() == folded]

    def get(self, tags: MP4Tags, key: str) -> Values:
        if key.startswith("----:"):
            raw = [v for k in self._freeform_keys(tags, key.split(":", 2)[2]) for v in tags[k]]
            return [bytes(v).decode("utf-8", errors="replace") for v in raw]
        return [v for v in tags.get(key, []) if isinstance(v, str)]

    def set(self, tags: MP4Tags, key: str, values: Values) -> None:
        if key.startswith("----:"):
            for existing in self._freeform_keys(tags, key.split(":", 2)[2]):
                del tags[existing]
            if values:
                tags[key] = [MP4FreeForm(v.encode("utf-8"), dataformat=AtomDataType.UTF8) for v in values]
        else:
            tags.pop(key, None)
            if values:
                tags[key] = values

    def custom_key(self, name: str) -> str:
        return _FREEFORM + name

    def custom_names(self, tags: MP4Tags) -> list[str]:
        names = (k.split(":", 2)[2].upper() for k in tags.keys() if k.startswith("----:"))
        return [n for n in names if n.startswith(CUSTOM_PREFIX)]

    def numbers(self, tags: MP4Tags, which: str) -> tuple[int | None, int | None]:
        pairs = tags.get("trkn" if which == "track" else "disk") or [(0, 0)]
        number, total = pairs[0]
        return (number or None), (total or None)

    def pictures(self, audio: mutagen.FileType) -> list[Picture]:
        covers: list[MP4Cover] = (audio.tags or {}).get("covr", [])
        found = (_picture(bytes(c), FRONT_COVER) for c in covers)  # MP4 has no picture types
        return [p for p in found if p]


# ---------------------------------------------------------------------------------------
class ASFFamily(Family):
    keys = {
        "title": ("Title",),
        "artist": ("Author",),
        "album": ("WM/AlbumTitle",),
        "album_artist": ("WM/AlbumArtist",),
        "track": ("WM/TrackNumber", "WM/Track"),
        "disc": ("WM/PartOfSet",),
        "date": ("WM/Year",),
        GENRE: ("WM/Genre",),
        STYLE: ("STYLE",),
    }

    def get(self, tags: ASFTags, key: str) -> Values:
        values: Values = []
        for k in _matching(tags.keys(), key):
            values.extend(str(a.value) for a in tags[k] if not isinstance(a.value, bytes))
        return values

    def set(self, tags: ASFTags, key: str, values: Values) -> None:
        for existing in _matching(tags.keys(), key):
            del tags[existing]
        if values:
            tags[key] = values  # str values become ASFUnicodeAttribute, one per value

    def custom_names(self, tags: ASFTags) -> list[str]:
        return [k.upper() for k in tags.keys() if k.upper().startswith(CUSTOM_PREFIX)]

    def pictures(self, audio: mutagen.FileType) -> list[Picture]:
        found = []
        for attr in (audio.tags or {}).get("WM/Picture", []):
            if isinstance(attr, ASFByteArrayAttribute):
                found.append(_parse_wm_picture(attr.value))
        return [p for p in found if p]


def _parse_wm_picture(raw: bytes) -> Picture | None:
    """WM/Picture: type (1 byte), size (LE u32), MIME and description (UTF-16LE, NUL
    terminated), then the image. None when malformed."""
    if len(raw) < 9:
        return None
    type_ = raw[0]
    (size,) = struct.unpack("<I", raw[1:5])
    strings: list[str] = []
    pos = 5
    for _ in range(2):
        end = pos
        while end + 1 < len(raw) and raw[end : end + 2] != b"\0\0":
            end += 2
        if end + 1 >= len(raw):
            return None
        strings.append(raw[pos:end].decode("utf-16-le", errors="replace"))
        pos = end + 2
    data = raw[pos : pos + size]
    return _picture(data, type_, strings[1]) if len(data) == size else None


# ---------------------------------------------------------------------------------------
_APE_PICTURE_TYPES = {"cover art (front)": FRONT_COVER, "cover art (back)": 4}


class APEFamily(Family):
    keys = {
        "title": ("Title",),
        "artist": ("Artist",),
        "album": ("Album",),
        "album_artist": ("Album Artist", "AlbumArtist"),
        "track": ("Track",),
        "disc": ("Disc",),
        "date": ("Year",),
        GENRE: ("Genre",),
        STYLE: ("Style",),
    }

    def get(self, tags: APEv2, key: str) -> Values:
        value = tags.get(key)  # APEv2 keys are case-insensitive
        if value is None or isinstance(value, APEBinaryValue):
            return []
        return list(value)  # APETextValue iterates its NUL-separated list

    def set(self, tags: APEv2, key: str, values: Values) -> None:
        if key in tags:
            del tags[key]
        if values:
            tags[key] = values  # a list becomes one NUL-separated APEv2 text value

    def custom_names(self, tags: APEv2) -> list[str]:
        return [k.upper() for k in tags.keys() if k.upper().startswith(CUSTOM_PREFIX)]

    def pictures(self, audio: mutagen.FileType) -> list[Picture]:
        found = []
        for key, value in (audio.tags or {}).items():
            if not key.lower().startswith("cover art") or not isinstance(value, APEBinaryValue):
                continue
            # "<file name>\0<image bytes>"
            _name, sep, data = bytes(value.value).partition(b"\0")
            if sep:
                found.append(_picture(data, _APE_PICTURE_TYPES.get(key.lower(), 0)))
        return [p for p in found if p]


# ---------------------------------------------------------------------------------------
_ID3, _VORBIS, _MP4, _ASF, _APE = ID3Family(), VorbisFamily(), MP4Family(), ASFFamily(), APEFamily()

FORMATS: dict[str, FormatSpec] = {
    spec.format: spec
    for spec in (
        FormatSpec("mp3", "MP3", MP3, _ID3),
        FormatSpec("wav", "WAV", WAVE, _ID3),
        FormatSpec("aiff", "AIFF", AIFF, _ID3),
        FormatSpec("flac", "FLAC", open_flac, _VORBIS),
        FormatSpec("ogg", "Ogg Vorbis", OggVorbis, _VORBIS),
        FormatSpec("opus", "Opus", OggOpus, _VORBIS),
        FormatSpec("m4a", "MP4/M4A", MP4, _MP4),
        FormatSpec("wma", "WMA", ASF, _ASF),
        FormatSpec("wv", "WavPack", WavPack, _APE),
        FormatSpec("ape", "Monkey's Audio", MonkeysAudio, _APE),
    )
}

# Variants found by the header sniffer that need a different mutagen class.
VARIANTS: dict[tuple[str, str], FormatSpec] = {
    ("ogg", "flac"): FormatSpec("ogg", "Ogg FLAC", OggFLAC, _VORBIS),
    ("ogg", "truncated"): FormatSpec("ogg", "Ogg", OggVorbis, _VORBIS),
}


def codec_of(fmt: str, variant: str, audio: mutagen.FileType) -> str:
    """Our short codec name (mp3 flac vorbis opus aac alac pcm wma wavpack ape)."""
    info = audio.info
    if fmt == "mp3":
        layer = getattr(info, "layer", 3)
        return "mp3" if layer == 3 else f"mp{layer}"
    if fmt == "ogg":
        return "flac" if variant == "flac" else "vorbis"
    if fmt == "m4a":
        codec = (getattr(info, "codec", "") or "").lower()
        return "aac" if codec.startswith("mp4a") else codec
    if fmt == "wav":
        audio_format = getattr(info, "audio_format", 1)
        return "pcm" if audio_format in (1, 3, 0xFFFE) else f"wav-0x{audio_format:04x}"
    return {"flac": "flac", "opus": "opus", "aiff": "pcm", "wma": "wma", "wv": "wavpack", "ape": "ape"}[fmt]
