"""Safe, journaled tag writes and their undo.

:func:`safe_write` is the atomic write of one file (temp copy, verify, fsync, rename);
:class:`Journal` records every write of a run in SQLite so that it can be listed and undone, and
cleans up after a process that died mid-run.
"""

from musictagger.journal.journal import Journal
from musictagger.journal.safewrite import (
    FileChangedError,
    check_writable,
    file_identity,
    find_temp_files,
    remove_temp_files,
    safe_write,
    temp_path_for,
)
from musictagger.journal.types import (
    FileChange,
    FileIdentity,
    FileOutcome,
    GenreEdit,
    JournalEntry,
    Recovery,
    RunInfo,
    RunKind,
    RunResult,
    RunStatus,
)

__all__ = [
    "FileChange",
    "FileChangedError",
    "FileIdentity",
    "FileOutcome",
    "GenreEdit",
    "Journal",
    "JournalEntry",
    "Recovery",
    "RunInfo",
    "RunKind",
    "RunStatus",
    "RunResult",
    "check_writable",
    "file_identity",
    "find_temp_files",
    "remove_temp_files",
    "safe_write",
    "temp_path_for",
]
