"""The journal's SQLite file: schema, versioning and connection settings.

WAL mode lets the GUI and CLI read the history while a run writes. Durability is chosen per
transaction by the journal (``PRAGMA synchronous``): the record of a temporary path must be on disk
before the temporary file exists, or a power cut could leave an orphan nobody knows about.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from musictagger.errors import JournalError

SCHEMA_VERSION = 1

_SCHEMA_V1 = """
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    started     TEXT NOT NULL,             -- ISO 8601 local time with offset
    finished    TEXT,
    status      TEXT NOT NULL,             -- running done cancelled failed interrupted
    meta        TEXT NOT NULL DEFAULT '{}',
    undoes_run  INTEGER REFERENCES runs(id),
    tags_config TEXT,                      -- the TagsConfig used, so undo reads the same way
    pid         INTEGER,                   -- writer process, to tell live runs from dead ones
    owner       TEXT                       -- random per-process token (pids get reused)
);
CREATE INDEX runs_undoes ON runs(undoes_run);

CREATE TABLE entries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    path            TEXT NOT NULL,
    status          TEXT NOT NULL,         -- pending done failed undone
    old             TEXT NOT NULL DEFAULT '{}',
    new             TEXT NOT NULL DEFAULT '{}',
    identity_before TEXT,
    identity_after  TEXT,
    message         TEXT NOT NULL DEFAULT '',
    temp_path       TEXT,
    undoes_entry    INTEGER REFERENCES entries(id)
);
CREATE INDEX entries_run ON entries(run_id);
CREATE INDEX entries_pending ON entries(status) WHERE status = 'pending';
"""

# Migration from version N-1 to N is _MIGRATIONS[N - 1]; version 0 is an empty file.
_MIGRATIONS: list[str] = [_SCHEMA_V1]


def connect(db_path: Path) -> sqlite3.Connection:
    """Open (creating or upgrading) the journal database."""
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, timeout=10.0, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise JournalError(f"cannot open the journal {db_path}: {exc}") from exc
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        _migrate(conn, db_path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise JournalError(f"the journal {db_path} is unreadable: {exc}") from exc
    except JournalError:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, db_path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait and find it done
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {db_path} was written by a newer musictagger "
                f"(schema {version}, this version knows {SCHEMA_VERSION})"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[target - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
