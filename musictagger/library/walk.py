"""Walking library folders: find candidate audio files and folder cover images, fast and safely.

One ``os.scandir`` per folder gives names and entry types without extra system calls; only
candidate audio files are stat'ed (their size, mtime and ctime drive the incremental index).

Safety rules, each a per-path :class:`FileProblem` rather than a crash:

* unreadable or vanished folders and roots ("permission denied", "file not found…");
* broken symbolic links (to a file with an audio extension, or without any extension, since that
  may have been a folder: a broken ``cover.txt`` link is nobody's concern);
* names that are not valid UTF-8 (they cannot be stored in the index or shown reliably).

Symbolic links to folders are followed when ``follow_symlinks`` is set. Every real folder is
walked at most once, identified by ``(st_dev, st_ino)``: this stops symlink loops and also
de-duplicates overlapping roots. Linked folders are walked after all real ones so that a track is
listed under its real path whenever the link leads somewhere the walk reaches anyway.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from musictagger.errors import FileProblem, describe_os_error
from musictagger.progress import CancelToken

# Temp files written by our own atomic tag writer (".<name>.musictagger-<random>.tmp"): a scan
# running while tags are written must never pick one up, hidden files shown or not.
TEMP_FILE_RE = re.compile(r"^\..*\.musictagger-.*\.tmp$", re.IGNORECASE)

# Folder images that can serve as an album cover, best first (see COVER_NAME_RANK).
COVER_NAME_RE = re.compile(r"^(cover|folder|front|albumart.*)\.(jpe?g|png)$", re.IGNORECASE)
_COVER_RANKS = {"cover": 0, "folder": 1, "front": 2}


def cover_name_rank(name: str) -> int | None:
    """0 for cover.*, 1 folder.*, 2 front.*, 3 albumart*.*; None when not a cover image name."""
    m = COVER_NAME_RE.match(name)
    if not m:
        return None
    return _COVER_RANKS.get(m.group(1).lower(), 3)


class FoundFile(NamedTuple):
    """A candidate audio file and the stat fields the index compares (a tuple: one is made per
    file on every rescan, and tuples are the cheapest immutable record)."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int


NOT_UTF8 = "name is not valid UTF-8 (rename it to scan it)"


def _utf8_ok(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: the OS gave bytes that are not UTF-8
        return False
    return True


@dataclass
class Listing:
    """What a walk found."""

    files: list[FoundFile] = field(default_factory=list)
    errors: list[FileProblem] = field(default_factory=list)
    # Every folder listed -> names of the cover-candidate images in it (see COVER_NAME_RE).
    images: dict[str, list[str]] = field(default_factory=dict)
    # Folders (and roots) that could not be listed: index rows below them are kept, not dropped.
    unreadable: list[str] = field(default_factory=list)


def _broken_link_message(path: str, exc: OSError) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        return "broken symbolic link"
    return f"broken symbolic link (points to {target!r}: {describe_os_error(exc)})"


def walk_library(
    roots: Iterable[str | os.PathLike[str]],
    extensions: Collection[str],
    *,
    follow_symlinks: bool = True,
    skip_hidden: bool = True,
    cancel: CancelToken | None = None,
    on_folder: Callable[[str, int], None] | None = None,
) -> Listing:
    """Walk ``roots`` recursively and list candidate audio files (by lower-case ``extensions``,
    each with its leading dot) and cover images.

    ``on_folder(folder, files_found_so_far)`` is called before each folder is listed (for progress).
    A root may also be a single audio file.
    """
    listing = Listing()
    visited: set[tuple[int, int]] = set()
    real_dirs: list[tuple[str, os.stat_result]] = []
    linked_dirs: list[tuple[str, os.stat_result]] = []

    for root in roots:
        path = os.path.abspath(os.fspath(root))
        if not _utf8_ok(path):
            listing.errors.append(FileProblem(path, NOT_UTF8))
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            listing.errors.append(FileProblem(path, describe_os_error(exc)))
            listing.unreadable.append(path)
            continue
        if stat.S_ISDIR(st.st_mode):
            real_dirs.append((path, st))
        elif stat.S_ISREG(st.st_mode) and os.path.splitext(path)[1].lower() in extensions:
            listing.files.append(FoundFile(path, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        else:
            listing.errors.append(FileProblem(path, "not a folder or an audio file"))
    # Pop from the end: reverse so roots are walked in the order given.
    real_dirs.reverse()

    while real_dirs or linked_dirs:
        folder, st = real_dirs.pop() if real_dirs else linked_dirs.pop()
        key = (st.st_dev, st.st_ino)
        if key in visited:
            continue  # a symlink loop, or a folder reached through another link or root
        visited.add(key)
        if cancel is not None:
            cancel.raise_if_cancelled()
        if on_folder is not None:
            on_folder(folder, len(listing.files))
        _list_folder(folder, extensions, follow_symlinks, skip_hidden, listing, real_dirs, linked_dirs)
    return listing


def _list_folder(
    folder: str,
    extensions: Collection[str],
    follow_symlinks: bool,
    skip_hidden: bool,
    listing: Listing,
    real_dirs: list[tuple[str, os.stat_result]],
    linked_dirs: list[tuple[str, os.stat_result]],
) -> None:
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:
        listing.errors.append(FileProblem(folder, f"cannot read folder: {describe_os_error(exc)}"))
        listing.unreadable.append(folder)
        return

    images = listing.images[folder] = []
    # One encode for the whole folder; names are checked one by one only when it fails.
    all_utf8 = _utf8_ok("".join(e.name for e in entries))
    for entry in entries:
        name = entry.name
        if name[0] == "." and (skip_hidden or TEMP_FILE_RE.match(name)):
            continue
        if not all_utf8 and not _utf8_ok(name):
            listing.errors.append(FileProblem(entry.path, NOT_UTF8))
            continue
        try:
            is_link = entry.is_symlink()
            if entry.is_dir():  # follows links; False for a broken one
                if is_link and not follow_symlinks:
                    continue
                (linked_dirs if is_link else real_dirs).append((entry.path, entry.stat()))
                continue
            stem, dot, ext = name.rpartition(".")
            ext = dot + ext.lower() if stem else ""  # ".mp3" alone is a hidden name, not an extension
            if ext in extensions:
                st = entry.stat()  # follows links: the target's size and times
                if not stat.S_ISREG(st.st_mode):
                    listing.errors.append(FileProblem(entry.path, "not a regular file"))
                    continue
                listing.files.append(FoundFile(entry.path, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
            elif is_link and not ext:
                entry.stat()  # raises for a broken link that may have pointed to a folder
            elif cover_name_rank(name) is not None and entry.is_file():
                images.append(name)
        except OSError as exc:
            if entry.is_symlink() and not os.path.exists(entry.path):
                message = _broken_link_message(entry.path, exc)
            else:
                message = describe_os_error(exc)
            listing.errors.append(FileProblem(entry.path, message))


def best_folder_image(folder: str, names: Sequence[str], warnings: list[FileProblem] | None = None) -> str | None:
    """The preferred cover image among ``names`` in ``folder``: by name rank (cover > folder >
    front > albumart*), then the largest file (AlbumArt_…_Large.jpg beats …_Small.jpg).

    Only files whose first bytes are an image count (a text file named cover.jpg, an empty or
    unreadable one does not); each one passed over gets a note in ``warnings``."""
    from musictagger.files import read_head
    from musictagger.tags.formats import picture_mime

    ranked: list[tuple[int, int, str]] = []
    for name in names:
        rank = cover_name_rank(name)
        if rank is None:
            continue
        path = os.path.join(folder, name)
        try:
            size = os.stat(path).st_size
            head = read_head(path, 32) if size > 0 else b""
        except OSError as exc:
            if warnings is not None:
                warnings.append(FileProblem(path, f"folder image not used: {describe_os_error(exc)}"))
            continue  # vanished or unreadable since the walk: not a usable cover
        if picture_mime(head + bytes(32)) is None:
            if warnings is not None:
                what = "it is empty" if size == 0 else "its content is not an image (JPEG, PNG, GIF, WebP, BMP)"
                warnings.append(FileProblem(path, f"folder image not used as a cover: {what}"))
            continue
        ranked.append((rank, -size, name))
    return os.path.join(folder, min(ranked)[2]) if ranked else None


def list_folder_images(folder: str | Path) -> list[str]:
    """Cover-candidate image names in a folder the walk did not list (e.g. the parent of a
    ``CD1`` root); an unreadable folder simply has none."""
    try:
        with os.scandir(folder) as it:
            return [e.name for e in it if cover_name_rank(e.name) is not None and e.is_file()]
    except OSError:
        return []
