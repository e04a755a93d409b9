"""The per-format table: how each tag system stores the fields we read and write.

Why our own table over mutagen rather than beets' ``mediafile``: we need exact control of
multi-value conventions (one null-separated ID3v2.4 TCON, a joined ID3v2.3 string, repeated
Vorbis/ASF fields, several MP4 ``©gen`` values, APEv2 list values), of a second genre field
(STYLE) and of our own provenance fields, and we must know exactly which frames a write
touches. mediafile flattens genres to one string by default and maps custom fields through
its own descriptors; a ~300-line table keeps every byte we write explainable.

Five tag systems cover the formats, as in Picard:

========  ==============================  ==================================================
family    formats                         genre / style / custom MUSICTAGGER_X
========  ==============================  ==================================================
ID3v2     mp3, wav, aiff, tta, dsf, dff,  ``TCON`` / ``TXXX:STYLE`` / ``TXXX:MUSICTAGGER_X``
          aac (after an ID3v2 tag)
Vorbis    flac, ogg, opus, spx (Speex)    ``GENRE`` / ``STYLE`` / ``MUSICTAGGER_X`` (repeated)
MP4       m4a (AAC and ALAC)              ``©gen`` / ``----:com.apple.iTunes:STYLE`` / same
ASF       wma                             ``WM/Genre`` / ``STYLE`` / ``MUSICTAGGER_X``
APEv2     wv, ape, mpc (Musepack), tak,   ``Genre`` / ``Style`` / ``MUSICTAGGER_X`` (lists)
          ofr (OptimFROG), aac (ADTS),
          ac3
========  ==============================  ==================================================

ID3 versions and the ID3v1 tag are handled in :mod:`musictagger.tags.id3`.

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
import functools
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar

import mutagen
import mutagen.aiff
import mutagen.dsdiff
import mutagen.dsf
import mutagen.id3
import mutagen.wave
from mutagen.aac import AACInfo
from mutagen.ac3 import AC3Info
from mutagen.aiff import AIFF
from mutagen.apev2 import APEBinaryValue, APETextValue, APEv2, APEv2File
from mutagen.asf import ASF, ASFByteArrayAttribute, ASFTags
from mutagen.dsdiff import DSDIFF
from mutagen.dsf import DSF
from mutagen.flac import FLAC, MetadataBlock
from mutagen.flac import Picture as FlacPicture
from mutagen.id3 import ID3, TXXX, Frames, ID3FileType
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, AtomDataType, MP4Cover, MP4FreeForm, MP4Tags
from mutagen.musepack import Musepack
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.optimfrog import OptimFROG
from mutagen.tak import TAK
from mutagen.trueaudio import TrueAudio
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from musictagger.config import TagsConfig
from musictagger.tags.genres import resolve_id3_genre
from musictagger.tags.types import CUSTOM_PREFIX, FRONT_COVER, GENRE, STYLE, Picture

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
    """One row of the table: our format id, its name for messages, how mutagen opens it (from an
    open file object), and the tag family that reads and writes it. For ID3 formats: whether an
    ID3v1 tag may end the file, and how to remove the ID3v2 tag alone."""

    format: str
    name: str
    opener: Callable[[BinaryIO], mutagen.FileType]
    family: Family
    id3v1: bool = False
    remove_id3: Callable[[BinaryIO], None] | None = None


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
    def all_pictures(self, audio: mutagen.FileType) -> list[Picture | None]:
        """Every embedded picture, None for one that is no image (corrupt, truncated…)."""

    def pictures(self, audio: mutagen.FileType) -> list[Picture]:
        """Embedded images that are real images; corrupt ones are skipped."""
        return [p for p in self.all_pictures(audio) if p]

    def save(self, audio: mutagen.FileType, fh: BinaryIO, config: TagsConfig) -> None:
        audio.save(fh)

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

    def all_pictures(self, audio: mutagen.FileType) -> list[Picture | None]:
        tags = audio.tags
        if tags is None:
            return []
        return [_picture(f.data, int(f.type), f.desc) for f in tags.getall("APIC")]

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

    def all_pictures(self, audio: mutagen.FileType) -> list[Picture | None]:
        found: list[Picture | None] = []
        for block in getattr(audio, "pictures", []):  # FLAC PICTURE metadata blocks
            if isinstance(block, FlacPicture):
                found.append(_picture(block.data, int(block.type), block.desc))
            else:
                found.append(None)  # an opaque broken one (see LenientFLAC)
        # Ogg (and some FLACs) carry pictures as base64 FLAC picture blocks in a comment.
        encoded_blocks: list[str] = self.get(audio.tags, "METADATA_BLOCK_PICTURE") if audio.tags else []
        for encoded in encoded_blocks:
            try:
                block = FlacPicture(base64.b64decode(encoded, validate=False))
            except (ValueError, TypeError, struct.error, mutagen.MutagenError):
                found.append(None)  # corrupt picture: reported, the rest of the tags kept
                continue
            found.append(_picture(block.data, int(block.type), block.desc))
        return found


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

    # mutagen calls each entry with the block's bytes; a function does (its stubs say classes only).
    METADATA_BLOCKS = [*FLAC.METADATA_BLOCKS[:6], _picture_block_or_opaque]  # type: ignore[list-item]


def open_flac(fh: BinaryIO) -> FLAC:
    """mutagen's strict reader first; the lenient one only when that fails, so the rare
    writers whose picture block sizes are wrong but parseable still load as before."""
    try:
        return FLAC(fh)
    except Exception as strict_error:  # noqa: BLE001 - re-raised below if leniency fails too
        try:
            fh.seek(0)
            return LenientFLAC(fh)
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

    def all_pictures(self, audio: mutagen.FileType) -> list[Picture | None]:
        tags: Any = audio.tags or {}  # mutagen declares FileType.tags as None
        covers: list[MP4Cover] = tags.get("covr", [])
        return [_picture(bytes(c), FRONT_COVER) for c in covers]  # MP4 has no picture types


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

    def all_pictures(self, audio: mutagen.FileType) -> list[Picture | None]:
        found: list[Picture | None] = []
        tags: Any = audio.tags or {}  # mutagen declares FileType.tags as None
        for attr in tags.get("WM/Picture", []):
            found.append(_parse_wm_picture(attr.value or b"") if isinstance(attr, ASFByteArrayAttribute) else None)
        return found


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
        if not isinstance(value, APETextValue):  # absent, binary, or an external link (APEExtValue)
            return []
        return list(value)  # APETextValue iterates its NUL-separated list

    def set(self, tags: APEv2, key: str, values: Values) -> None:
        if key in tags:
            del tags[key]
        if values:
            tags[key] = values  # a list becomes one NUL-separated APEv2 text value

    def custom_names(self, tags: APEv2) -> list[str]:
        return [k.upper() for k in tags.keys() if k.upper().startswith(CUSTOM_PREFIX)]

    def all_pictures(self, audio: mutagen.FileType) -> list[Picture | None]:
        found: list[Picture | None] = []
        tags: Any = audio.tags or {}  # mutagen declares FileType.tags as None
        for key, value in tags.items():
            if not key.lower().startswith("cover art") or not isinstance(value, APEBinaryValue):
                continue
            # "<file name>\0<image bytes>"
            _name, sep, data = bytes(value.value or b"").partition(b"\0")
            found.append(_picture(data, _APE_PICTURE_TYPES.get(key.lower(), 0)) if sep else None)
        return found


# ---------------------------------------------------------------------------------------
_ID3, _VORBIS, _MP4, _ASF, _APE = ID3Family(), VorbisFamily(), MP4Family(), ASFFamily(), APEFamily()


class _AACInfo(AACInfo):
    """AAC stream info for a file whose tag is ID3v2 (mutagen calls it with the tag's size)."""

    def __init__(self, fileobj: BinaryIO, offset: int | None = None) -> None:
        fileobj.seek(0)
        super().__init__(fileobj)


class ID3AAC(ID3FileType):
    """AAC in ADTS frames after an ID3v2 tag (as streamed and some encoders write it)."""

    _Info = _AACInfo  # type: ignore[assignment]  # mutagen's stubs want its private _Info class


class APEAAC(APEv2File):
    """AAC in ADTS (or ADIF) frames with an APEv2 tag at the end, as Picard writes it."""

    _Info = AACInfo


class APEAC3(APEv2File):
    """AC-3 / E-AC-3 with an APEv2 tag at the end, as Picard writes it."""

    _Info = AC3Info


def _id3(cls: type[mutagen.FileType]) -> Callable[[BinaryIO], mutagen.FileType]:
    """Open the ID3v2 tag alone and as stored: no ID3v1 merged in, no v2.3 -> v2.4 translation
    (see :mod:`musictagger.tags.id3`)."""
    return functools.partial(cls, load_v1=False, translate=False)


def _remove_id3v2(fh: BinaryIO) -> None:
    mutagen.id3.delete(fh, delete_v1=False, delete_v2=True)


FORMATS: dict[str, FormatSpec] = {
    spec.format: spec
    for spec in (
        FormatSpec("mp3", "MP3", _id3(MP3), _ID3, id3v1=True, remove_id3=_remove_id3v2),
        FormatSpec("wav", "WAV", _id3(WAVE), _ID3, remove_id3=mutagen.wave.delete),
        FormatSpec("aiff", "AIFF", _id3(AIFF), _ID3, remove_id3=mutagen.aiff.delete),
        FormatSpec("tta", "TrueAudio", _id3(TrueAudio), _ID3, id3v1=True, remove_id3=_remove_id3v2),
        FormatSpec("dsf", "DSF (DSD)", _id3(DSF), _ID3, remove_id3=mutagen.dsf.delete),
        FormatSpec("dff", "DSDIFF (DSD)", _id3(DSDIFF), _ID3, remove_id3=mutagen.dsdiff.delete),
        FormatSpec("flac", "FLAC", open_flac, _VORBIS),
        FormatSpec("ogg", "Ogg Vorbis", OggVorbis, _VORBIS),
        FormatSpec("opus", "Opus", OggOpus, _VORBIS),
        FormatSpec("spx", "Ogg Speex", OggSpeex, _VORBIS),
        FormatSpec("m4a", "MP4/M4A", MP4, _MP4),
        FormatSpec("wma", "WMA", ASF, _ASF),
        FormatSpec("wv", "WavPack", WavPack, _APE),
        FormatSpec("ape", "Monkey's Audio", MonkeysAudio, _APE),
        FormatSpec("mpc", "Musepack", Musepack, _APE),
        FormatSpec("tak", "TAK", TAK, _APE),
        FormatSpec("ofr", "OptimFROG", OptimFROG, _APE),
        FormatSpec("aac", "AAC (ADTS)", APEAAC, _APE),
        FormatSpec("ac3", "AC-3", APEAC3, _APE),
    )
}

# Variants found by the header sniffer that need a different mutagen class.
VARIANTS: dict[tuple[str, str], FormatSpec] = {
    ("ogg", "flac"): FormatSpec("ogg", "Ogg FLAC", OggFLAC, _VORBIS),
    ("ogg", "truncated"): FormatSpec("ogg", "Ogg", OggVorbis, _VORBIS),
    ("aac", "id3"): FormatSpec("aac", "AAC (ADTS)", _id3(ID3AAC), _ID3, id3v1=True, remove_id3=_remove_id3v2),
}


def codec_of(fmt: str, variant: str, audio: mutagen.FileType) -> str:
    """Our short codec name (mp3 flac vorbis opus speex aac alac pcm wma wavpack ape…)."""
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
    if fmt == "ac3":
        return "eac3" if "e-ac-3" in (getattr(info, "codec", "") or "").lower() else "ac3"
    return {
        "flac": "flac",
        "opus": "opus",
        "spx": "speex",
        "aiff": "pcm",
        "wma": "wma",
        "wv": "wavpack",
        "ape": "ape",
        "mpc": "musepack",
        "tak": "tak",
        "ofr": "optimfrog",
        "tta": "tta",
        "dsf": "dsd",
        "dff": "dsd",
        "aac": "aac",
    }[fmt]
