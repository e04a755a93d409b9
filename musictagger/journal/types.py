"""Value objects of the journal: what to change, what happened, what the history holds."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from musictagger.config import TagField, WriteMode
from musictagger.errors import FileProblem

#: What wrote a run: ``set-genres`` and ``apply`` (the CLI; ``apply`` also the whole-library
#: re-tagging, from the app too), ``watch`` (the watcher's auto-apply), ``gui-apply`` (Apply in the
#: app), ``undo`` (written by the journal itself).
RunKind = Literal["set-genres", "apply", "watch", "gui-apply", "undo"]
UNDO: Final = "undo"

#: Run statuses.
RunStatus = Literal["running", "done", "cancelled", "failed", "interrupted"]
RUNNING: Final = "running"
DONE: Final = "done"
CANCELLED: Final = "cancelled"
FAILED: Final = "failed"  # stopped by an unexpected error (per-file errors do not fail a run)
INTERRUPTED: Final = "interrupted"  # the process died; found and closed by Journal.recover() at the next start

#: Entry statuses.
EntryStatus = Literal["pending", "done", "failed", "undone"]
PENDING: Final = "pending"  # written to the journal, file write under way (or the process died)
ENTRY_DONE: Final = "done"
ENTRY_FAILED: Final = "failed"
UNDONE: Final = "undone"


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
class GenreEdit:
    """A genre-like field to plan from what the file holds *when it is written*: add ``genres``
    (``merge``) or put them in place of what is there (``replace``), capped at ``max_genres``.

    The journal plans it on the re-read it makes just before each write (and again on every
    retry), so a genre another program put in the file after we first looked is kept, never
    overwritten by a list planned from an older read.
    """

    field: TagField
    genres: tuple[str, ...]
    mode: WriteMode = "merge"
    max_genres: int = 5

    def plan(self, current: list[str]) -> list[str]:
        from musictagger.tags import plan_genres

        return plan_genres(list(current), list(self.genres), mode=self.mode, max_genres=self.max_genres)


@dataclass(frozen=True)
class FileChange:
    """What to write to one file: fixed ``values`` of some fields (``[]`` or ``None`` deletes a
    field) and/or a genre ``edit`` planned at write time. ``path`` is made absolute by the journal."""

    path: str
    values: dict[str, list[str] | None] = field(default_factory=dict)
    edit: GenreEdit | None = None


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

    @property
    def problem(self) -> FileProblem | None:
        """The file's problem when it failed (``message`` says why), else None."""
        return None if self.ok else FileProblem(self.path, self.message)


@dataclass
class RunResult:
    run_id: int | None  # None for a dry run, or when nothing needed writing
    kind: RunKind
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
class Recovery:
    """What :meth:`Journal.recover` settled after processes that died mid-run."""

    runs: list[int] = field(default_factory=list)  # runs marked interrupted
    temp_files: list[str] = field(default_factory=list)  # our temporary files removed
    landed: int = 0  # pending writes found in place (now undoable)
    not_landed: int = 0  # pending writes that never replaced their file (file unchanged)

    def __bool__(self) -> bool:
        return bool(self.runs or self.temp_files or self.landed or self.not_landed)

    def describe(self) -> str:
        parts = []
        if self.runs:
            parts.append(f"run{'s' if len(self.runs) > 1 else ''} {', '.join(map(str, self.runs))} marked interrupted")
        if self.landed:
            parts.append(f"{self.landed} write{'s' if self.landed > 1 else ''} that landed recorded (undoable)")
        if self.temp_files:
            parts.append(f"{len(self.temp_files)} temporary file{'s' if len(self.temp_files) > 1 else ''} removed")
        return "recovered after an interrupted run: " + "; ".join(parts) if parts else ""


@dataclass
class RunInfo:
    """A run as recorded (``kind`` a :data:`RunKind` and ``status`` a :data:`RunStatus` when this
    version wrote it; a newer version may have written others)."""

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
