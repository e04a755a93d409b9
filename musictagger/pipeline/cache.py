"""Model outputs cached in the library index, keyed by file identity + pack identity.

What is cached is each pack's raw per-label probabilities for one input (a track's excerpt mean,
an album's cover), not the fused suggestions: changing thresholds, weights or top-k re-fuses
instantly, and a pack that changes (new version or new weights → new sha256) misses the cache.
Beside them, for packs built on a pretrained backbone, the input's *embedding* (float16): the
vector "learn from my library" trains on and similar albums are found with, so neither ever runs
a network again for an unchanged file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from musictagger.library.index import ensure_schema


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
        ensure_schema(db_path)  # the model_cache table is one of the index's migrations
        self._conn = sqlite3.connect(str(db_path), timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def get(self, input_key: str, pack_key: str, n_labels: int) -> list[float] | None:
        return self.get_entry(input_key, pack_key, n_labels)[0]

    def get_entry(self, input_key: str, pack_key: str, n_labels: int) -> tuple[list[float] | None, Any]:
        """(probabilities, embedding as a float32 numpy vector or None); (None, None) on a miss."""
        with self._lock:
            row = self._conn.execute(
                "SELECT probs, embedding FROM model_cache WHERE input_key=? AND pack_key=?", (input_key, pack_key)
            ).fetchone()
        if row is None:
            return None, None
        a = array("f")
        a.frombytes(row[0])
        if len(a) != n_labels:
            return None, None
        embedding = None
        if row[1] is not None:
            import numpy as np

            embedding = np.frombuffer(row[1], dtype="<f2").astype(np.float32)
        return list(a), embedding

    def get_embedding(self, input_key: str, pack_key: str) -> Any:
        """The cached embedding (float32 numpy vector) of one input under one pack, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT embedding FROM model_cache WHERE input_key=? AND pack_key=?", (input_key, pack_key)
            ).fetchone()
        if row is None or row[0] is None:
            return None
        import numpy as np

        return np.frombuffer(row[0], dtype="<f2").astype(np.float32)

    def put_many(
        self, rows: Sequence[tuple[str, str, Sequence[float]] | tuple[str, str, Sequence[float], Any]]
    ) -> None:
        """Store (input key, pack key, probabilities[, embedding]) rows."""
        if not rows:
            return
        data = []
        for row in rows:
            k, p, probs = row[0], row[1], row[2]
            emb = row[3] if len(row) > 3 else None
            blob = None
            if emb is not None:
                import numpy as np

                blob = np.asarray(emb, dtype="<f2").tobytes()
            data.append((k, p, array("f", probs).tobytes(), blob))
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO model_cache (input_key, pack_key, probs, embedding) VALUES (?, ?, ?, ?)",
                data,
            )

    def prune(self) -> int:
        """Drop the entries of files that are gone or changed (their identity no longer matches):
        a deleted track's embedding does not linger. Returns how many were dropped."""
        with self._lock:
            keys = [r[0] for r in self._conn.execute("SELECT DISTINCT input_key FROM model_cache")]
        stale = []
        for key in keys:
            kind, _, rest = key.partition(":")
            path = rest.rsplit("|", 2)[0]
            if file_key(kind, path) != key:
                stale.append((key,))
        if stale:
            with self._lock, self._conn:
                self._conn.executemany("DELETE FROM model_cache WHERE input_key=?", stale)
        return len(stale)

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
