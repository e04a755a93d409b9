"""Value objects of the journal: what to change, what happened, what the history holds."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# Run kinds written by the journal itself; callers name their own (``"set-genres"``, ``"watch"``…).
UNDO = "undo"

# Run statuses.
RUNNING = "running"
DONE = "done"
CANCELLED = "cancelled"
FAILED = "failed"  # stopped by an unexpected error (per-file errors do not fail a run)
INTERRUPTED = "interrupted"  # the process died; found and closed by cleanup_leftovers()

# Entry statuses.
PENDING = "pending"  # written to the journal, file write under way (or the process died)
ENTRY_DONE = "done"
ENTRY_FAILED = "failed"
UNDONE = "undone"


@dataclass(frozen=True)
class FileIdentity:
    """What tells us a file is still the one we read: any edit changes size or mtime, any
    replacement (another program's atomic save) changes the inode."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileIdentity:
        return cls(int(data["size"]), int(data["mtime_ns"]), int(data["inode"]))


@dataclass(frozen=True)
class FileChange:
    """The wanted values of some fields of one file; ``[]`` or ``None`` deletes the field."""

    path: str
    values: dict[str, list[str] | None]


@dataclass
class FileOutcome:
    """What became of one file in a run (or would become of it, in a dry run).

    ``old``/``new`` hold only the fields that differ; ``skipped`` the fields an undo left alone
    because they were changed after our write.
    """

    path: str
    ok: bool
    message: str = ""
    old: dict[str, list[str]] = field(default_factory=dict)
    new: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    changed: bool = False


@dataclass
class RunResult:
    run_id: int | None  # None for a dry run, or when nothing needed writing
    kind: str
    outcomes: list[FileOutcome]
    cancelled: bool = False

    @property
    def ok_count(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def failed_count(self) -> int:
        return sum(not o.ok for o in self.outcomes)

    @property
    def changed_count(self) -> int:
        return sum(o.changed for o in self.outcomes)


@dataclass
class RunInfo:
    id: int
    kind: str
    started: str  # ISO 8601, local time with offset
    finished: str | None
    files: int  # files written by the run (including those undone since)
    status: str
    undone_by: int | None
    meta: dict[str, Any]
    undoes_run: int | None = None
    failed: int = 0  # files the run could not write


@dataclass
class JournalEntry:
    """One file of one run, as recorded."""

    id: int
    run_id: int
    path: str
    status: str
    old: dict[str, list[str]]
    new: dict[str, list[str]]
    identity_before: FileIdentity | None
    identity_after: FileIdentity | None
    message: str
    temp_path: str | None
    undoes_entry: int | None
