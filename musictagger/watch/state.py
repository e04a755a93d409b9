"""What the watcher and the batch re-tagger remember between runs (tables in the library index).

``watch_done``: content signatures of album folders already processed. A signature hashes the
folder's audio files' names, sizes and mtimes, so it survives a rename or move of the folder (the
same album is not processed twice) and it is recorded both before and after our own write (our
writes never retrigger processing).

``watch_roots``: folders watched before. The first time a folder is watched, what it already holds
is recorded as done (the baseline), not processed: switching the watcher on over an existing
library must never re-tag it wholesale; that is what the batch re-tagger is for.

``batch_albums``: per batch (a stable id of the roots + settings) each album's status, so that a
killed ``apply --write`` continues where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal

from musictagger.library.index import ensure_schema


def is_our_temp(name: str) -> bool:
    """Temp files of our safe writes (``.<name>.musictagger-<random>.tmp``)."""
    return name.startswith(".") and ".musictagger-" in name and name.endswith(".tmp")


def folder_signature(folder: str | os.PathLike[str]) -> str | None:
    """Hash of the audio files directly in ``folder`` (name, size, mtime); None when there are none."""
    from musictagger.tags.detect import AUDIO_EXTENSIONS

    entries = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.startswith(".") or not e.is_file():
                    continue
                if os.path.splitext(e.name)[1].lower() not in AUDIO_EXTENSIONS:
                    continue
                st = e.stat()
                entries.append(f"{e.name}\0{st.st_size}\0{st.st_mtime_ns}")
    except OSError:
        return None
    if not entries:
        return None
    h = hashlib.sha1("\n".join(sorted(entries)).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


#: What became of an album in a whole-library batch.
AlbumStatus = Literal["done", "failed"]


class WatchState:
    def __init__(self, db_path: Path | None = None) -> None:
        if db_path is None:
            from musictagger.paths import app_dirs

            db_path = app_dirs().ensure().index_db
        ensure_schema(db_path)  # the tables are one of the index's migrations
        self._conn = sqlite3.connect(str(db_path), timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")

    # -- watcher --------------------------------------------------------------------------
    def is_done(self, signature: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM watch_done WHERE signature=?", (signature,)).fetchone() is not None

    def mark_done(self, signature: str, folder: str, run_id: int | None = None) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO watch_done (signature, folder, processed_at, run_id) VALUES (?,?,?,?)",
                (signature, folder, time.time(), run_id),
            )

    def root_known(self, root: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM watch_roots WHERE root=?", (root,)).fetchone() is not None

    def mark_root(self, root: str) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO watch_roots (root, first_watched) VALUES (?, ?)", (root, time.time())
            )

    # -- batch ----------------------------------------------------------------------------
    def is_unfinished(self, batch_id: str) -> bool:
        """True when this batch was started and not finished (a re-run resumes it)."""
        with self._lock:
            row = self._conn.execute("SELECT finished_at FROM batches WHERE batch_id=?", (batch_id,)).fetchone()
        return row is not None and row[0] is None

    def open_batch(self, batch_id: str, roots: str) -> bool:
        """Start or resume a batch; True when resuming an unfinished one."""
        with self._lock, self._conn:
            row = self._conn.execute("SELECT finished_at FROM batches WHERE batch_id=?", (batch_id,)).fetchone()
            if row is not None and row[0] is None:
                return True
            self._conn.execute("DELETE FROM batch_albums WHERE batch_id=?", (batch_id,))
            self._conn.execute(
                "INSERT OR REPLACE INTO batches (batch_id, roots, started_at, finished_at) VALUES (?,?,?,NULL)",
                (batch_id, roots, time.time()),
            )
            return False

    def album_status(self, batch_id: str) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT album_key, status FROM batch_albums WHERE batch_id=?", (batch_id,)
            ).fetchall()
        return dict(rows)

    def mark_album(self, batch_id: str, album_key: str, status: AlbumStatus, run_id: int | None) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO batch_albums (batch_id, album_key, status, run_id, updated_at) VALUES (?,?,?,?,?)",
                (batch_id, album_key, status, run_id, time.time()),
            )

    def finish_batch(self, batch_id: str) -> None:
        with self._lock, self._conn:
            self._conn.execute("UPDATE batches SET finished_at=? WHERE batch_id=?", (time.time(), batch_id))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
