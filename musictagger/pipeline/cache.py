"""Model outputs cached in the library index, keyed by file identity + pack identity.

What is cached is each pack's raw per-label probabilities for one input (a track's excerpt mean,
an album's cover), not the fused suggestions: changing thresholds, weights or top-k re-fuses
instantly, and a pack that changes (new version or new weights → new sha256) misses the cache.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from array import array
from collections.abc import Sequence
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS model_cache (
    input_key TEXT NOT NULL,      -- 'track:<path>|<size>|<mtime_ns>' or 'cover:<path>|<size>|<mtime_ns>'
    pack_key  TEXT NOT NULL,      -- '<name>@<version>#<sha256[:16]>'
    probs     BLOB NOT NULL,      -- float32 little-endian, the pack's label order
    PRIMARY KEY (input_key, pack_key)
) WITHOUT ROWID;
"""


def file_key(kind: str, path: str | os.PathLike[str]) -> str | None:
    """Identity of a file's current content as a cache key; None if it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{kind}:{os.fspath(path)}|{st.st_size}|{st.st_mtime_ns}"


class ResultCache:
    def __init__(self, db_path: Path | None = None) -> None:
        if db_path is None:
            from musictagger.paths import app_dirs

            db_path = app_dirs().ensure().index_db
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(db_path), timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)

    def get(self, input_key: str, pack_key: str, n_labels: int) -> list[float] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT probs FROM model_cache WHERE input_key=? AND pack_key=?", (input_key, pack_key)
            ).fetchone()
        if row is None:
            return None
        a = array("f")
        a.frombytes(row[0])
        return list(a) if len(a) == n_labels else None

    def put_many(self, rows: Sequence[tuple[str, str, Sequence[float]]]) -> None:
        if not rows:
            return
        data = [(k, p, array("f", probs).tobytes()) for k, p, probs in rows]
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO model_cache (input_key, pack_key, probs) VALUES (?, ?, ?)", data
            )

    def clear(self) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM model_cache")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
