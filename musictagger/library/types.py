"""Value objects of the library scan: tracks, albums, per-file errors and the scan's result.

They are small and cheap on purpose: a library of 100 000 tracks is held in memory as these, so a
track keeps *whether* it has embedded art, never the picture bytes (see :func:`load_cover`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from musictagger.errors import FileProblem

VARIOUS_ARTISTS = "Various Artists"
UNKNOWN_ARTIST = "Unknown Artist"

#: Where an album's cover comes from, in order of preference.
CoverSource = Literal["embedded", "folder", "none"]
COVER_EMBEDDED: Final = "embedded"
COVER_FOLDER: Final = "folder"
COVER_NONE: Final = "none"


@dataclass(slots=True)
class Track:
    """One audio file as the library sees it: its tags (without pictures) and its stat.

    Slotted: a big library holds a hundred thousand of these, and slots make them smaller and
    quicker to build on every rescan."""

    path: str
    format: str  # detected from the header: mp3 flac ogg opus m4a wav aiff wma wv ape
    duration: float | None = None
    title: str | None = None
    artist: str | None = None
    album_artist: str | None = None
    album: str | None = None
    track: int | None = None
    disc: int | None = None
    year: int | None = None
    genres: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    has_embedded_cover: bool = False
    size: int = 0
    mtime_ns: int = 0
    custom: dict[str, str] = field(default_factory=dict)  # our MUSICTAGGER_* fields

    @property
    def sort_key(self) -> tuple[int, int, str]:
        return (self.disc or 0, self.track or 0, self.path)


@dataclass
class Album:
    """Tracks grouped by :mod:`musictagger.library.albums` (the rule is documented there).

    ``key`` identifies the album within the library (album root, grouping artist and title,
    case-folded, joined by U+001F): stable across rescans while those stay the same.
    ``album_artist`` is the tagged album artist, or the artist every track shares when none is
    tagged, or None for a compilation. ``cover_path`` is the best folder image even when the
    album also has embedded art, so that :func:`load_cover` can fall back to it.
    """

    key: str
    folder: str
    album: str | None
    album_artist: str | None
    year: int | None
    tracks: list[Track] = field(default_factory=list)
    cover_source: CoverSource = COVER_NONE
    cover_path: str | None = None

    @property
    def artist(self) -> str:
        """The artist to show: the album artist, else "Various Artists" when tracks differ."""
        if self.album_artist:
            return self.album_artist
        names = {t.artist.casefold(): t.artist for t in self.tracks if t.artist}
        if len(names) == 1:
            return next(iter(names.values()))
        return VARIOUS_ARTISTS if names else UNKNOWN_ARTIST

    @property
    def genres(self) -> list[str]:
        """Union of the tracks' genres, most frequent first (ties keep first-seen order).

        Genres are compared case-insensitively; the first spelling seen is the one shown.
        """
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        for t in self.tracks:
            for g in t.genres:
                k = g.casefold()
                spelling.setdefault(k, g)
                counts[k] += 1
        order = {k: i for i, k in enumerate(spelling)}
        return [spelling[k] for k in sorted(spelling, key=lambda k: (-counts[k], order[k]))]

    @property
    def duration(self) -> float | None:
        known = [t.duration for t in self.tracks if t.duration is not None]
        return sum(known) if known else None

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.artist.casefold(), self.year or 0, (self.album or "").casefold(), self.folder)


#: A file or folder the scan could not use: the former name of :class:`musictagger.errors.FileProblem`.
ScanError = FileProblem


@dataclass
class ScanResult:
    albums: list[Album]
    errors: list[FileProblem]
    files_seen: int  # candidate audio files found by extension
    files_read: int  # files whose header and tags were read in this scan
    files_cached: int  # files served unchanged from the index
    elapsed_s: float
    # Per-file notes that did not stop a file being used: a corrupt embedded picture ignored, a
    # folder image that is not an image… (``scan --json`` "warnings").
    warnings: list[FileProblem] = field(default_factory=list)

    @property
    def tracks(self) -> list[Track]:
        return [t for a in self.albums for t in a.tracks]


def album_to_json(album: Album) -> dict[str, Any]:
    """The album as ``musictagger scan --json`` prints it. This shape is a public contract:
    add nothing, rename nothing without a version bump of the CLI output."""
    return {
        "folder": album.folder,
        "album": album.album,
        "album_artist": album.album_artist,
        "year": album.year,
        "cover_source": album.cover_source,
        "tracks": [
            {"path": t.path, "format": t.format, "duration": t.duration, "genres": list(t.genres)} for t in album.tracks
        ],
    }


def artist_key(artist: str | None) -> str:
    """The grouping key of an artist name: case- and whitespace-insensitive (splits, priors, counts)."""
    return " ".join((artist or "").casefold().split())
