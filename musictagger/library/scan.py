"""The library scan: walk, compare with the index, read what changed, group into albums.

A scan has three phases:

1. walk the roots (:mod:`~musictagger.library.walk`): names, types and the stat of each
   candidate audio file, plus folder cover images;
2. load the index rows of all roots in one query, and read (header + tags) only the files that
   are new or whose size/mtime/ctime changed; unchanged files, including files that failed
   before, come from the index. Read results are written back in batches, so a cancelled or
   crashed scan keeps what it read. Rows of files that vanished are deleted (never below a folder
   that could not be listed this time: an unmounted share must not empty the index);
3. group the tracks into albums (:mod:`~musictagger.library.albums`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from musictagger.config import Config, TagsConfig
from musictagger.errors import FileError, FileProblem, describe_os_error
from musictagger.files import open_regular
from musictagger.library.albums import group_albums
from musictagger.library.index import FileRecord, Index, decode_tags, prefix_bounds
from musictagger.library.types import COVER_EMBEDDED, COVER_FOLDER, Album, ScanResult, Track
from musictagger.library.walk import FoundFile, walk_library
from musictagger.progress import CancelToken, ProgressCallback, ProgressTracker
from musictagger.tags import AUDIO_EXTENSIONS, read_tags
from musictagger.tags.types import FRONT_COVER

log = logging.getLogger(__name__)

STAGE = "scan"
# Read results are committed every this many files: few enough transactions to be fast, often
# enough that a cancelled scan of a big library keeps its work.
_BATCH = 200


def scan(
    roots: Sequence[str | Path],
    *,
    index: Index | None = None,
    config: Config | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ScanResult:
    """Scan ``roots`` (folders, or single audio files) into albums, using and updating the index.

    ``index`` defaults to the app's index database (opened and closed here); ``config`` to the
    defaults. Per-file problems are returned in ``errors``; the scan itself raises only
    :class:`~musictagger.progress.Cancelled` (after saving what it read) and
    :class:`~musictagger.errors.IndexDatabaseError`.
    """
    started = time.monotonic()
    config = config or Config()
    own_index = index is None
    idx = index if index is not None else Index()
    try:
        return _scan(roots, idx, config, progress, cancel, started)
    finally:
        if own_index:
            idx.close()


def _scan(
    roots: Sequence[str | Path],
    index: Index,
    config: Config,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    started: float,
) -> ScanResult:
    root_paths = [os.path.abspath(os.fspath(r)) for r in roots]

    walk_progress = ProgressTracker(STAGE, None, progress)
    listing = walk_library(
        root_paths,
        AUDIO_EXTENSIONS,
        follow_symlinks=config.library.follow_symlinks,
        skip_hidden=config.library.skip_hidden,
        cancel=cancel,
        on_folder=lambda folder, found: walk_progress.update(found, current=folder),
    )
    files = sorted(listing.files, key=lambda f: f.path)
    known = index.load_files(root_paths)
    errors = list(listing.errors)
    good: list[FileRecord] = []  # rows of readable files, in path order
    pending: list[FileRecord] = []
    files_read = files_cached = 0

    tracker = ProgressTracker(STAGE, len(files), progress)
    tracker.update(0, force=True)
    try:
        for found in files:
            if cancel is not None:
                cancel.raise_if_cancelled()
            record = known.get(found.path)
            if record is not None and record.same_stat(found.size, found.mtime_ns, found.ctime_ns):
                files_cached += 1
            else:
                record = read_file(found, config.tags)
                pending.append(record)
                files_read += 1
                if len(pending) >= _BATCH:
                    index.put_files(pending)
                    pending.clear()
            if record.error is not None:
                errors.append(FileProblem(found.path, record.error))
            else:
                good.append(record)
            tracker.advance(current=found.path)
    finally:
        if pending:
            index.put_files(pending)

    seen = {f.path for f in files}
    gone = [p for p in known if p not in seen and not _below_any(p, listing.unreadable)]
    if gone:
        index.delete_files(gone)

    decoded = decode_tags(good)
    tracks = [track_from_record(r, data) for r, data in zip(good, decoded)]
    warnings = [
        FileProblem(r.path, problem) for r, data in zip(good, decoded) for problem in data.get("problems") or ()
    ]
    albums = group_albums(tracks, listing.images, warnings)
    errors.sort(key=lambda e: e.path)
    warnings.sort(key=lambda e: e.path)
    return ScanResult(
        albums=albums,
        errors=errors,
        files_seen=len(files),
        files_read=files_read,
        files_cached=files_cached,
        elapsed_s=time.monotonic() - started,
        warnings=warnings,
    )


def _below_any(path: str, folders: list[str]) -> bool:
    for folder in folders:
        low, high = prefix_bounds(folder)
        if path == folder or low <= path < high:
            return True
    return False


def read_file(found: FoundFile, config: TagsConfig | None = None) -> FileRecord:
    """Read one file's header and tags into an index row; a failure becomes the row's error."""
    try:
        tags = read_tags(found.path, config, pictures=True)
    except FileError as exc:
        return FileRecord(found.path, found.size, found.mtime_ns, found.ctime_ns, error=exc.message)
    except OSError as exc:
        return FileRecord(found.path, found.size, found.mtime_ns, found.ctime_ns, error=describe_os_error(exc))
    except Exception as exc:  # a parser bug on one odd file must not end the scan of the rest
        log.exception("unexpected error reading %s", found.path)
        return FileRecord(found.path, found.size, found.mtime_ns, found.ctime_ns, error=f"unexpected error: {exc!r}")
    return FileRecord.from_tags(tags, found.size, found.mtime_ns, found.ctime_ns)


def track_from_record(record: FileRecord, data: dict[str, Any] | None = None) -> Track:
    """The track of an index row; ``data`` is its decoded tags when already at hand."""
    if data is None:
        data = record.tags()
    return Track(
        path=record.path,
        format=record.format or "",
        duration=record.duration,
        title=data.get("title"),
        artist=data.get("artist"),
        album_artist=data.get("album_artist"),
        album=data.get("album"),
        track=data.get("track"),
        disc=data.get("disc"),
        year=data.get("year"),
        genres=data.get("genres") or [],
        styles=data.get("styles") or [],
        has_embedded_cover=record.has_embedded_cover,
        size=record.size,
        mtime_ns=record.mtime_ns,
        custom=data.get("custom") or {},
    )


def load_cover(album: Album, config: Config | None = None) -> tuple[bytes, str] | None:
    """The album's cover as ``(image bytes, source)``, source "embedded" or "folder".

    Embedded art comes first: a front cover from the first track (in album order) that has one,
    else the first track's other picture; then the folder image. Read failures are skipped (the
    file may have changed since the scan); None when nothing usable is left.
    """
    tags_config = (config or Config()).tags
    fallback: bytes | None = None
    for track in album.tracks:
        if not track.has_embedded_cover:
            continue
        try:
            picture = read_tags(track.path, tags_config, pictures=True).front_cover()
        except FileError:
            continue
        if picture is None or not picture.data:
            continue
        if picture.type == FRONT_COVER:
            return picture.data, COVER_EMBEDDED
        fallback = fallback or picture.data
    if fallback is not None:
        return fallback, COVER_EMBEDDED
    if album.cover_path:
        try:
            with open_regular(album.cover_path) as fh:
                data = fh.read()
        except OSError:
            return None
        return (data, COVER_FOLDER) if data else None
    return None
