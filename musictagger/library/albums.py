"""Grouping tracks into albums, and choosing each album's cover.

The rule
--------
Tracks are first gathered per *folder group*: the same folder and the same album title
(case-insensitive). Each track then gets a grouping artist:

1. its own album artist tag, if it has one;
2. else the album artist tagged on other tracks of its folder group, when they agree on one;
3. else the artist, when every track of the folder group shares it (case-insensitive);
4. else none: a compilation (various artists, no album artist).

The album key is ``(album root, grouping artist, album title)``, all compared case-insensitively,
where the album root is the folder with a disc part removed: a folder named like ``CD1``,
``Disc 2``, ``disk_03`` stands for its parent, and ``Name (Disc 1)`` / ``Name [CD2]`` /
``Name - CD 3`` for ``Name`` beside it. So the discs of one album in ``CD1``/``CD2`` subfolders
make one album, a compilation in one folder stays one album, and two copies of the same album in
different places (an MP3 and a FLAC rip, say) stay two albums.

Tracks without an album title are grouped by their folder alone (album ``None``).

An album's ``album_artist`` is its grouping artist (spelled as most tracks spell it), ``year``
the most common year of its tracks, ``folder`` the common folder of its tracks.

Covers
------
``cover_source`` is "embedded" when any track has embedded art, else "folder" when a folder image
is found, else "none". Folder images are named cover / folder / front / albumart* with a .jpg,
.jpeg or .png extension in any case, preferred in that order (then the largest file); they are
looked for in the tracks' folders, then in the parent of disc folders. A folder holding tracks of more
than one album lends its images to none of them: a loose cover.jpg in a mixed folder says nothing
about which album it shows.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from musictagger.errors import FileProblem
from musictagger.library.types import COVER_EMBEDDED, COVER_FOLDER, COVER_NONE, Album, Track
from musictagger.library.walk import best_folder_image, list_folder_images

# A folder that is only a disc marker: "CD1", "cd 2", "Disc 03", "disk_1", "CD1 - Live".
_DISC_FOLDER_RE = re.compile(r"^(?:cd|dis[ck])[\s._-]*\d{1,3}(?:\s*[-–:]\s*.*)?$", re.IGNORECASE)
# The disc marker ending a folder name: "Name (Disc 1)", "Name [CD2]", "Name - CD 3", "Name CD1".
# Searched, not matched with a leading ".+?": that would backtrack over every long name.
_DISC_SUFFIX_RE = re.compile(
    r"[\s._-]*(?:[(\[]\s*(?:cd|dis[ck])[\s._-]*\d{1,3}\s*[)\]]|\b(?:cd|dis[ck])[\s._-]*\d{1,3})$",
    re.IGNORECASE,
)


def is_disc_folder(folder: str) -> bool:
    return bool(_DISC_FOLDER_RE.match(os.path.basename(folder)))


def album_root(folder: str) -> str:
    """The folder an album lives in once its disc part is removed (see the module docstring)."""
    parent, name = os.path.split(folder)
    if _DISC_FOLDER_RE.match(name):
        return parent
    m = _DISC_SUFFIX_RE.search(name)
    if m and m.start() > 0:
        return os.path.join(parent, name[: m.start()].strip())
    return folder


def _fold(s: str | None) -> str:
    return s.strip().casefold() if s else ""


def _most_common(values: list[str]) -> str | None:
    """The most frequent non-empty value; ties go to the first seen."""
    values = [v for v in values if v]
    if not values:
        return None
    first = values[0]
    if all(v == first for v in values):  # the usual case, without a Counter
        return first
    return Counter(values).most_common(1)[0][0]


def _album_year(years: list[int]) -> int | None:
    """The most common year; on a tie the earliest (the original release over a reissue)."""
    if not years or all(y == years[0] for y in years):
        return years[0] if years else None
    counts = Counter(years)
    return min(counts, key=lambda y: (-counts[y], y))


def _grouping_artists(tracks: list[Track]) -> list[str | None]:
    """Rules 1–4 of the module docstring for one folder group."""
    folded = [_fold(t.album_artist) for t in tracks]
    tagged = {f: t.album_artist for f, t in zip(folded, tracks) if f}
    fallback = next(iter(tagged.values())) if len(tagged) == 1 else None
    if fallback is None:
        artists = {_fold(t.artist) for t in tracks}
        fallback = tracks[0].artist if len(artists) == 1 and "" not in artists else None
    return [t.album_artist if f else fallback for f, t in zip(folded, tracks)]


def group_albums(
    tracks: Iterable[Track], folder_images: Mapping[str, list[str]], warnings: list[FileProblem] | None = None
) -> list[Album]:
    """Group ``tracks`` into albums (sorted by album artist, year, album; tracks by disc, track,
    path). ``folder_images`` maps every folder the walk listed to the cover-candidate image names
    it saw there; folders it lacks (e.g. the parent of a ``CD1`` root) are listed on demand.
    Folder images that are not images (a text file named cover.jpg) are passed over, each with a
    note in ``warnings``."""
    folder_groups: dict[tuple[str, str], list[Track]] = defaultdict(list)
    for t in tracks:
        folder_groups[(os.path.dirname(t.path), _fold(t.album))].append(t)

    by_key: dict[tuple[str, str, str], list[tuple[Track, str | None]]] = defaultdict(list)
    key_folders: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for (folder, title), group in folder_groups.items():
        if not title:
            by_key[(folder, "", "")].extend((t, None) for t in group)
            key_folders[(folder, "", "")].add(folder)
            continue
        root = album_root(folder)
        for t, artist in zip(group, _grouping_artists(group)):
            key = (root, _fold(artist), title)
            by_key[key].append((t, artist))
            key_folders[key].add(folder)

    albums_per_folder = Counter(f for folders in key_folders.values() for f in folders)
    albums = [
        _make_album(key, members, sorted(key_folders[key]), folder_images, albums_per_folder, warnings)
        for key, members in by_key.items()
    ]
    albums.sort(key=lambda a: a.sort_key)
    return albums


def _make_album(
    key: tuple[str, str, str],
    members: list[tuple[Track, str | None]],
    folders: list[str],
    folder_images: Mapping[str, list[str]],
    albums_per_folder: Counter[str],
    warnings: list[FileProblem] | None = None,
) -> Album:
    tracks = sorted((t for t, _ in members), key=lambda t: (t.disc or 0, t.track or 0, t.path))
    folder = folders[0] if len(folders) == 1 else os.path.commonpath(folders)
    album = Album(
        key="\x1f".join(key),
        folder=folder,
        album=_most_common([t.album.strip() for t in tracks if t.album]) if key[2] else None,
        album_artist=_most_common([a.strip() for _, a in members if a]),
        year=_album_year([t.year for t in tracks if t.year]),
        tracks=tracks,
    )
    album.cover_path = _folder_cover(folders, folder_images, albums_per_folder, warnings)
    if any(t.has_embedded_cover for t in tracks):
        album.cover_source = COVER_EMBEDDED
    elif album.cover_path:
        album.cover_source = COVER_FOLDER
    else:
        album.cover_source = COVER_NONE
    return album


def _folder_cover(
    track_folders: list[str],
    folder_images: Mapping[str, list[str]],
    albums_per_folder: Counter[str],
    warnings: list[FileProblem] | None = None,
) -> str | None:
    # The tracks' own folders first, then the parent of disc folders (Album/CD1 -> Album).
    candidates = track_folders + [os.path.dirname(f) for f in track_folders if is_disc_folder(f)]
    seen: set[str] = set()
    for candidate in candidates:
        if candidate in seen:
            continue
        seen.add(candidate)
        if albums_per_folder[candidate] > 1:
            continue  # a mixed folder: its images belong to no album in particular
        names = folder_images[candidate] if candidate in folder_images else list_folder_images(candidate)
        best = best_folder_image(candidate, names, warnings) if names else None
        if best:
            return best
    return None
