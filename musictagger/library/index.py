"""The incremental library index: one SQLite database (WAL) that remembers what each file held.

A rescan stats every file and re-reads only those whose size, mtime or ctime changed. ctime is
compared as well as mtime because our tag writer can keep a file's mtime (``keep_mtime``) and
ID3 padding can keep its size; restoring the mtime still moves the ctime, so such an edit is
never served stale from the index.

The schema lives in :data:`MIGRATIONS` and nowhere else. ``PRAGMA user_version`` holds the number
of steps applied; opening the index applies the missing ones, each in its own transaction. To add
a table (model-result cache, batch progress…), append a step; never edit a step that has shipped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from musictagger.errors import IndexDatabaseError
from musictagger.tags.types import TrackTags


def _v1_files(conn: sqlite3.Connection) -> None:
    """Files seen by scans. ``tags`` is JSON of the TrackTags fields except path, format,
    duration (columns of their own) and pictures (never stored: covers are loaded on demand);
    fields at their default are left out.
    ``error`` is set, and ``tags`` NULL, for a file that could not be read."""
    conn.execute(
        """
        CREATE TABLE files (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            ctime_ns INTEGER NOT NULL,
            format TEXT,
            duration REAL,
            tags TEXT,
            has_embedded_cover INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            scanned_at REAL NOT NULL
        ) WITHOUT ROWID
        """
    )


def _v2_reviews(conn: sqlite3.Connection) -> None:
    """Album reviews (:mod:`musictagger.pipeline.review`), keyed by album key: the latest
    suggestions (``result``, JSON without the per-label and per-track scores), the best guesses
    below threshold and the packs that made them; the user's ``decisions`` (JSON ``{tag: true |
    false}``, only what the user decided) and ``manual`` tags (JSON list); the review ``status``
    ("new", "suggested", "applied", "error") and its last error ``message``."""
    conn.execute(
        """
        CREATE TABLE reviews (
            album_key TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            result TEXT,
            guesses TEXT NOT NULL DEFAULT '[]',
            packs TEXT NOT NULL DEFAULT '[]',
            decisions TEXT NOT NULL DEFAULT '{}',
            manual TEXT NOT NULL DEFAULT '[]',
            updated_at REAL NOT NULL
        ) WITHOUT ROWID
        """
    )


def _v3_model_cache_and_watch_state(conn: sqlite3.Connection) -> None:
    """Tables that earlier versions created outside the migrations (hence IF NOT EXISTS, and the
    embedding column added where an older cache lacks it):

    ``model_cache`` (:mod:`musictagger.pipeline.cache`): each pack's raw probabilities per input,
    keyed by file identity (``'track:<path>|<size>|<mtime_ns>'``) and pack identity
    (``'<name>@<version>#<sha256[:16]>'``): ``probs`` float32 little-endian in the pack's label order,
    ``embedding`` float16 little-endian or NULL.

    ``watch_done``, ``watch_roots``, ``batch_albums``, ``batches`` (:mod:`musictagger.watch.state`):
    album folders the watcher processed (by content signature), folders watched before, and each
    whole-library batch's per-album status (``done`` | ``failed``) so a killed batch resumes."""
    statements = [
        """CREATE TABLE IF NOT EXISTS model_cache (
            input_key TEXT NOT NULL,
            pack_key  TEXT NOT NULL,
            probs     BLOB NOT NULL,
            embedding BLOB,
            PRIMARY KEY (input_key, pack_key)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS watch_done (
            signature TEXT PRIMARY KEY,
            folder TEXT NOT NULL,
            processed_at REAL NOT NULL,
            run_id INTEGER
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS watch_roots (
            root TEXT PRIMARY KEY,
            first_watched REAL NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS batch_albums (
            batch_id TEXT NOT NULL,
            album_key TEXT NOT NULL,
            status TEXT NOT NULL,
            run_id INTEGER,
            updated_at REAL NOT NULL,
            PRIMARY KEY (batch_id, album_key)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS batches (
            batch_id TEXT PRIMARY KEY,
            roots TEXT NOT NULL,
            started_at REAL NOT NULL,
            finished_at REAL
        ) WITHOUT ROWID""",
    ]
    for statement in statements:  # one by one: executescript would commit the migration's transaction
        conn.execute(statement)
    if "embedding" not in {row[1] for row in conn.execute("PRAGMA table_info(model_cache)")}:
        conn.execute("ALTER TABLE model_cache ADD COLUMN embedding BLOB")


# Step i (0-based) brings the schema from user_version i to i + 1; the schema version is
# len(MIGRATIONS).
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1_files, _v2_reviews, _v3_model_cache_and_watch_state]


def ensure_schema(db_path: Path) -> None:
    """Bring the index at ``db_path`` to the current schema (for stores that keep their own
    connection to it: the model cache, the watch state)."""
    Index(db_path).close()


# TrackTags fields kept in the JSON column (see _v1_files).
_EMPTY: tuple[Any, ...] = (None, "", [], {})
_JSON_FIELDS = tuple(f.name for f in fields(TrackTags) if f.name not in ("path", "format", "duration", "pictures"))


@dataclass(slots=True)
class FileRecord:
    """One row of the ``files`` table. ``tags_json`` stays a string until needed: a warm rescan
    of a large library decodes only what it builds tracks from."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    format: str | None = None
    duration: float | None = None
    tags_json: str | None = None
    has_embedded_cover: bool = False
    error: str | None = None

    @classmethod
    def from_tags(cls, tags: TrackTags, size: int, mtime_ns: int, ctime_ns: int) -> FileRecord:
        # Fields at their default (None, "", empty) are left out: smaller rows, faster rescans.
        data = {name: value for name in _JSON_FIELDS if (value := getattr(tags, name)) not in _EMPTY}
        cover = tags.front_cover()
        return cls(
            path=tags.path,
            size=size,
            mtime_ns=mtime_ns,
            ctime_ns=ctime_ns,
            format=tags.format,
            duration=tags.duration,
            tags_json=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            has_embedded_cover=cover is not None and len(cover.data) > 0,
        )

    def tags(self) -> dict[str, Any]:
        """The stored tag fields (empty for an error row)."""
        return json.loads(self.tags_json) if self.tags_json else {}

    def track_tags(self) -> TrackTags:
        """The stored tags as a :class:`TrackTags` without pictures."""
        known = set(_JSON_FIELDS)  # a field dropped from TrackTags since the row was written is ignored
        data = {k: v for k, v in self.tags().items() if k in known}
        return TrackTags(path=self.path, format=self.format or "", duration=self.duration, **data)

    def same_stat(self, size: int, mtime_ns: int, ctime_ns: int) -> bool:
        return self.size == size and self.mtime_ns == mtime_ns and self.ctime_ns == ctime_ns


def decode_tags(records: Sequence[FileRecord]) -> list[dict[str, Any]]:
    """The stored tags of many rows at once. A warm rescan decodes thousands of small objects;
    one call into the C decoder over a joined array is much faster than one call per row."""
    decoded: list[dict[str, Any]] = json.loads("[" + ",".join(r.tags_json or "{}" for r in records) + "]")
    return decoded


def prefix_bounds(folder: str) -> tuple[str, str]:
    """[low, high) bounds of every path strictly below ``folder`` in BINARY collation: the key
    range that the primary key index serves without a scan."""
    sep = os.sep
    base = folder if folder.endswith(sep) else folder + sep
    return base, base[:-1] + chr(ord(sep) + 1)


class Index:
    """The library index database. Use it from one thread at a time (it may be created in one
    thread and used in another, e.g. opened by the GUI and filled by a worker)."""

    def __init__(self, db_path: Path | None = None):
        if db_path is None:
            from musictagger.paths import app_dirs

            db_path = app_dirs().index_db
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: no implicit transactions; transaction() says where they are.
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise IndexDatabaseError(f"{self.path}: cannot open the library index: {exc}") from exc
        self._depth = 0
        self._lock = threading.RLock()
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose
            # the last commits, which a rescan rebuilds.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise IndexDatabaseError(f"{self.path}: not a usable library index: {exc}") from exc
        except IndexDatabaseError:
            self.conn.close()
            raise

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version, latest = self.user_version, len(MIGRATIONS)
        if version > latest:
            raise IndexDatabaseError(
                f"{self.path}: the library index was written by a newer musictagger "
                f"(schema {version}, this version knows {latest}); upgrade, or delete "
                "the file to rebuild it"
            )
        for step in range(version, latest):
            with self.transaction():
                if self.user_version > step:
                    continue  # another process applied this step since we looked
                MIGRATIONS[step](self.conn)
                # PRAGMA takes no parameters; step + 1 is our own int.
                self.conn.execute(f"PRAGMA user_version = {step + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``with index.transaction() as conn:`` commits on success, rolls back on error.

        Nested uses join the outermost transaction (one commit at the end). BEGIN IMMEDIATE takes
        the write lock up front so that two processes never deadlock upgrading a read lock.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """sqlite3 errors of our own queries as IndexDatabaseError (disk full, locked too long…)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise IndexDatabaseError(f"{self.path}: cannot {doing} the library index: {exc}") from exc

    # -- files -----------------------------------------------------------------------------

    _FILE_COLUMNS = "path, size, mtime_ns, ctime_ns, format, duration, tags, has_embedded_cover, error"

    def load_files(self, roots: Sequence[str]) -> dict[str, FileRecord]:
        """Every row at or below any of ``roots`` (absolute paths), in one query."""
        if not roots:
            return {}
        clauses, params = [], []
        for root in roots:
            low, high = prefix_bounds(root)
            clauses.append("path = ? OR (path >= ? AND path < ?)")
            params += [root.rstrip(os.sep) or os.sep, low, high]
        sql = f"SELECT {self._FILE_COLUMNS} FROM files WHERE " + " OR ".join(f"({c})" for c in clauses)
        with self._errors("read"):
            return {
                row[0]: FileRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8])
                for row in self.conn.execute(sql, params)
            }

    def get_file(self, path: str) -> FileRecord | None:
        row = self.conn.execute(f"SELECT {self._FILE_COLUMNS} FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None
        return FileRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8])

    def put_files(self, records: Iterable[FileRecord]) -> None:
        now = time.time()
        with self._errors("write to"), self.transaction() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO files ({self._FILE_COLUMNS}, scanned_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.path,
                        r.size,
                        r.mtime_ns,
                        r.ctime_ns,
                        r.format,
                        r.duration,
                        r.tags_json,
                        int(r.has_embedded_cover),
                        r.error,
                        now,
                    )
                    for r in records
                ],
            )

    def delete_files(self, paths: Iterable[str]) -> int:
        with self._errors("write to"), self.transaction() as conn:
            cur = conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])
            return cur.rowcount

    def count_files(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])

    # -- reviews (rows as musictagger.pipeline.review builds and reads them) -------------------

    _REVIEW_COLUMNS = "album_key, status, message, result, guesses, packs, decisions, manual, updated_at"

    def review_rows(self, keys: Iterable[str] | None = None) -> list[tuple[Any, ...]]:
        """Rows of the ``reviews`` table, all of them or those of ``keys``."""
        with self._errors("read"):
            if keys is None:
                return self.conn.execute(f"SELECT {self._REVIEW_COLUMNS} FROM reviews").fetchall()
            out = []
            keys = list(keys)
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT {self._REVIEW_COLUMNS} FROM reviews WHERE album_key IN ({marks})"
                out += self.conn.execute(sql, chunk).fetchall()
            return out

    def put_review_rows(self, rows: Iterable[tuple[Any, ...]]) -> None:
        with self._errors("write to"), self.transaction() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO reviews ({self._REVIEW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    def delete_reviews(self, keys: Iterable[str]) -> None:
        with self._errors("write to"), self.transaction() as conn:
            conn.executemany("DELETE FROM reviews WHERE album_key = ?", [(k,) for k in keys])
