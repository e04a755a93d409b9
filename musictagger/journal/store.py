"""The journal's SQLite file: schema, versioning and connection settings.

WAL mode lets the GUI and CLI read the history while a run writes. Paths (``entries.path`` and
``temp_path``) are stored as BLOBs of ``os.fsencode(path)``, absolute: any byte name round-trips
(see :func:`_v2_paths` for how version 1's relative text paths are migrated). Durability is chosen per
transaction by the journal (``PRAGMA synchronous``): the record of a temporary path must be on disk
before the temporary file exists, or a power cut could leave an orphan nobody knows about.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from musictagger.errors import JournalError

SCHEMA_VERSION = 2

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

_TEMP_NAME = re.compile(rb"^\.(?P<name>.*)\.musictagger-[0-9a-z]{8}\.tmp$")


def _v2_paths(conn: sqlite3.Connection) -> None:
    """Paths become absolute bytes (``os.fsencode``), so that any file name round-trips and a
    journal is usable from any working folder; and an index for looking entries up by path.

    Version 1 stored paths as given on the command line (``music/a.flac``): those are rebuilt
    from the temporary file name recorded with every write (always absolute, in the file's real
    folder, named after the file). An entry with neither stays as it was (only failed entries:
    there is nothing to undo or settle for them).
    """
    rows = conn.execute("SELECT id, path, temp_path FROM entries").fetchall()
    for entry_id, path, temp in rows:
        raw = os.fsencode(path) if isinstance(path, str) else bytes(path)
        raw_temp = (os.fsencode(temp) if isinstance(temp, str) else bytes(temp)) if temp is not None else None
        if not os.path.isabs(raw) and raw_temp is not None and os.path.isabs(raw_temp):
            folder, temp_name = os.path.split(raw_temp)
            m = _TEMP_NAME.match(temp_name)
            name = m.group("name") if m else os.path.basename(raw)
            if len(temp_name) >= 250:  # the name was shortened to fit: the entry's own is right
                name = os.path.basename(raw)
            raw = os.path.join(folder, name)
        conn.execute("UPDATE entries SET path = ?, temp_path = ? WHERE id = ?", (raw, raw_temp, entry_id))
    conn.execute("CREATE INDEX entries_path ON entries(path)")


# Migration from version N-1 to N is _MIGRATIONS[N - 1] (SQL, or a function of the connection);
# version 0 is an empty file. Never edit a step that has shipped; append one.
_MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [_SCHEMA_V1, _v2_paths]


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
            step = _MIGRATIONS[target - 1]
            if callable(step):
                step(conn)
            else:
                for statement in step.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
