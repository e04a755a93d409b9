"""The music library: a fast, incremental scan of folders into albums of tracks.

* :func:`scan` walks roots, reads tags only of new or changed files (the rest comes from the
  SQLite :class:`Index`), and groups tracks into albums — the grouping rule is documented in
  :mod:`musictagger.library.albums`.
* Covers are never held for the whole library: a track records whether it has embedded art and
  :func:`load_cover` reads the bytes when they are needed.
* :func:`album_to_json` is the shape printed by ``musictagger scan --json`` (a public contract).
"""

from musictagger.library.images import cover_only_albums
from musictagger.library.index import Index
from musictagger.library.scan import load_cover, scan
from musictagger.library.types import Album, ScanError, ScanResult, Track, album_to_json, artist_key

__all__ = [
    "cover_only_albums",
    "Album",
    "Index",
    "ScanError",
    "ScanResult",
    "Track",
    "album_to_json",
    "artist_key",
    "load_cover",
    "scan",
]
