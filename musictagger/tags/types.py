"""Value objects of the tag layer: what we read from a file, what we write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# The settings' choice types, re-exported for the tag layer's users.
from musictagger.config import TagField as TagField
from musictagger.config import WriteMode as WriteMode

# Logical field names used across the tag layer, journal and CLI (the two genre-like ones are a TagField).
GENRE: Final = "genre"
STYLE: Final = "style"
# Our own custom fields (provenance); stored in a form other players ignore.
CUSTOM_PREFIX = "MUSICTAGGER_"
PROV_MODEL = "MUSICTAGGER_MODEL"  # e.g. "covers-v1 1.0.0; audio-crnn 1.0.0"
PROV_CONFIDENCES = "MUSICTAGGER_CONFIDENCES"  # e.g. "Black Metal=0.91; Metal=0.97"
PROV_DATE = "MUSICTAGGER_DATE"  # ISO date of the write
# Pseudo-field of ID3 formats: ["2.3"] / ["2.4"] (the ID3v2 tag's version), [] for "no ID3v2 tag".
# Read and written like a field so that the journal records, and undo restores, a version change
# or a tag it created (see musictagger.tags.id3). Absent from what non-ID3 formats read.
ID3V2 = "id3v2"

FRONT_COVER = 3  # APIC/FLAC picture type "Cover (front)"


@dataclass(frozen=True)
class Picture:
    data: bytes
    mime: str = "image/jpeg"
    type: int = FRONT_COVER
    description: str = ""

    def __repr__(self) -> str:  # keep logs readable
        return f"Picture(type={self.type}, mime={self.mime!r}, {len(self.data)} bytes)"


@dataclass
class TrackTags:
    path: str
    format: str  # one of musictagger.tags.SUPPORTED_FORMATS
    codec: str = ""  # mp3 flac vorbis opus speex aac alac pcm wma wavpack ape musepack tak ofr tta dsd ac3
    duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    title: str | None = None
    artist: str | None = None
    album_artist: str | None = None
    album: str | None = None
    track: int | None = None
    track_total: int | None = None
    disc: int | None = None
    disc_total: int | None = None
    year: int | None = None
    genres: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)  # our MUSICTAGGER_* fields
    pictures: list[Picture] = field(default_factory=list)
    id3_version: str | None = None  # "2.3"/"2.4" for ID3-tagged files ("1.1": only an ID3v1 tag)
    # Problems that did not stop the read but lost something (e.g. a corrupt embedded picture).
    problems: list[str] = field(default_factory=list)

    def front_cover(self) -> Picture | None:
        """The front cover if there is one, else the first picture, else None."""
        for p in self.pictures:
            if p.type == FRONT_COVER:
                return p
        return self.pictures[0] if self.pictures else None

    def field_values(self, name: str) -> list[str]:
        if name == GENRE:
            return list(self.genres)
        if name == STYLE:
            return list(self.styles)
        v = self.custom.get(name)
        return [v] if v is not None else []
