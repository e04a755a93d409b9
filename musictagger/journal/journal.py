"""Journaled tag writes and their undo.

Every file a run writes is recorded *before* it is touched (status ``pending``, with the name of
the temporary file about to be made) and marked ``done`` or ``failed`` afterwards. A process that
dies mid-run therefore leaves a precise trail: :meth:`Journal.recover`, called on every start of
the app and of every CLI command (:mod:`musictagger.session`), removes exactly our temporary files
and settles each pending entry by looking at what the file holds now.

What is written is planned from the file as it is read just before the write (and re-read and
re-planned if it changes before the swap), never from an older read: a genre another program put
there meanwhile is kept. A file that changed in the last ``TagsConfig.stable_seconds`` (still
being copied in?) is watched until it has been quiet that long, and skipped if it keeps changing.

Paths are stored absolute and as bytes: a journal works from any folder, for any file name.

Undo restores the recorded old values field by field, but only where the file still holds what we
wrote: a field the user changed afterwards is theirs, and is left alone with a per-file note.
Undo runs are journaled like any other, so they can be undone in turn; a plain ``undo`` after an
undo that was interrupted or cancelled finishes that undo instead of re-applying what it reverted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from datetime import datetime
from pathlib import Path
from typing import Any

from musictagger import faults
from musictagger.config import TagsConfig
from musictagger.errors import FileError, JournalError, TagWriteError
from musictagger.journal import types as m
from musictagger.journal.safewrite import (
    FileChangedError,
    check_writable,
    file_identity,
    normalise_values,
    safe_write,
    temp_path_for,
)
from musictagger.journal.store import connect
from musictagger.journal.types import (
    FileChange,
    FileIdentity,
    FileOutcome,
    JournalEntry,
    Recovery,
    RunInfo,
    RunKind,
    RunResult,
)
from musictagger.progress import CancelToken, ProgressCallback, ProgressTracker
from musictagger.tags import read_fields
from musictagger.tags.id3 import target_version
from musictagger.tags.types import ID3V2

# A file that changes under us this many times in a row is reported instead of retried forever.
_MAX_ATTEMPTS = 3
# Tells this process's runs from those of a dead process that happened to have the same pid
# (common in containers, where pids restart from 1).
_PROCESS_TOKEN = secrets.token_hex(8)
# Runs this process is executing right now (any Journal instance, any thread).
_ACTIVE_RUNS: set[int] = set()

Values = dict[str, list[str]]
# Given the values a file holds now: (values to write, fields left alone, note for the outcome).
Plan = Callable[[Values], tuple[Values, list[str], str]]


# How often a recently changed file is looked at while waiting for it to be quiet.
_STABLE_POLL_S = 0.05


def _key(path: str) -> bytes:
    """How a path is stored: its bytes (any name round-trips; see store.py)."""
    return os.fsencode(path)


def _path(raw: bytes | str | None) -> str | None:
    return None if raw is None else os.fsdecode(raw)


def _text(message: str) -> str:
    """A message safe to store (SQLite text must be valid UTF-8; a path in it may not be)."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def absolute(path: str | os.PathLike[str]) -> str:
    """The absolute, normalised form of ``path`` (symbolic links kept) that the journal records."""
    return os.path.abspath(os.fspath(path))


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _config_to_json(config: TagsConfig) -> str:
    return json.dumps(dataclasses.asdict(config))


def _config_from_json(text: str | None) -> TagsConfig | None:
    if not text:
        return None
    data = json.loads(text)
    known = {f.name for f in dataclasses.fields(TagsConfig)}
    return TagsConfig(**{k: v for k, v in data.items() if k in known})


class _LazyRun:
    """A run row created on first need, so that a run that writes nothing leaves no trace."""

    def __init__(
        self, journal: Journal, kind: RunKind, meta: dict[str, Any], config: TagsConfig, undoes_run: int | None = None
    ) -> None:
        self._journal, self.kind, self._meta, self._config = journal, kind, meta, config
        self._undoes_run = undoes_run
        self.id: int | None = None

    def ensure(self) -> int:
        if self.id is None:
            self.id = self._journal._create_run(self.kind, self._meta, self._config, self._undoes_run)
        return self.id


class Journal:
    """The history of tag writes, in an SQLite file; one instance may be shared between threads.

    The database is opened on first use, so constructing a ``Journal`` (e.g. for a dry run)
    creates nothing on disk.
    """

    def __init__(self, db_path: Path | None = None) -> None:
        if db_path is None:
            from musictagger.paths import app_dirs

            db_path = app_dirs().journal_db
        self.db_path = Path(db_path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- connection

    @property
    def _db(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:
                self._conn = connect(self.db_path)
            return self._conn

    @contextlib.contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front (no upgrade deadlocks).

        ``durable`` commits are fsynced before returning. The others survive a crash of the
        process but not a power cut, and each durable commit flushes them too: that is enough
        for everything but the pending record (which must exist before the temporary file), since
        :meth:`cleanup_leftovers` settles a pending entry from the file itself. This saves one of
        the four fsyncs a journaled write would otherwise cost.
        """
        with self._lock:
            db = self._db
            try:
                db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    faults.point("journal.commit", durable=durable)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:  # locked past the timeout, disk full, corrupt file…
                raise JournalError(f"cannot write the journal {self.db_path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- history

    _RUN_QUERY = """
        SELECT r.id, r.kind, r.started, r.finished, r.status, r.meta, r.undoes_run,
          (SELECT COUNT(*) FROM entries e WHERE e.run_id = r.id AND e.status IN ('done', 'undone')),
          (SELECT COUNT(*) FROM entries e WHERE e.run_id = r.id AND e.status = 'failed'),
          (SELECT MAX(u.id) FROM runs u WHERE u.undoes_run = r.id)
        FROM runs r
    """

    @staticmethod
    def _run_info(row: tuple[Any, ...]) -> RunInfo:
        rid, kind, started, finished, status, meta, undoes, files, failed, undone_by = row
        return RunInfo(rid, kind, started, finished, files, status, undone_by, json.loads(meta), undoes, failed)

    def runs(self, limit: int | None = None) -> list[RunInfo]:
        """Runs, newest first."""
        with self._lock:
            rows = self._db.execute(
                self._RUN_QUERY + " ORDER BY r.id DESC LIMIT ?", (-1 if limit is None else limit,)
            ).fetchall()
        return [self._run_info(r) for r in rows]

    def run(self, run_id: int) -> RunInfo:
        with self._lock:
            row = self._db.execute(self._RUN_QUERY + " WHERE r.id = ?", (run_id,)).fetchone()
        if row is None:
            raise JournalError(f"there is no run {run_id} in the journal")
        return self._run_info(row)

    def entries(self, run_id: int) -> list[JournalEntry]:
        """The files of a run, in the order they were written."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, run_id, path, status, old, new, identity_before, identity_after, message,"
                " temp_path, undoes_entry FROM entries WHERE run_id = ? ORDER BY id",
                (run_id,),
            ).fetchall()
        return [
            JournalEntry(
                eid,
                rid,
                _path(path) or "",
                status,
                json.loads(old),
                json.loads(new),
                FileIdentity.from_dict(json.loads(ib)) if ib else None,
                FileIdentity.from_dict(json.loads(ia)) if ia else None,
                msg,
                _path(tmp),
                undoes,
            )
            for eid, rid, path, status, old, new, ib, ia, msg, tmp, undoes in rows
        ]

    def last_run_id(self, *, undoable_only: bool = True) -> int | None:
        """The newest run; with ``undoable_only``, the newest finished run that still has written
        files not undone (an undo run counts: undoing it re-applies what it reverted)."""
        sql = "SELECT MAX(id) FROM runs r"
        if undoable_only:
            sql += (
                " WHERE r.status != 'running' AND EXISTS"
                " (SELECT 1 FROM entries e WHERE e.run_id = r.id AND e.status = 'done')"
            )
        with self._lock:
            newest: int | None = self._db.execute(sql).fetchone()[0]
        return newest

    # ----------------------------------------------------------------- recording

    def _create_run(self, kind: RunKind, meta: dict[str, Any], config: TagsConfig, undoes_run: int | None) -> int:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO runs (kind, started, status, meta, undoes_run, tags_config, pid, owner)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                (kind, _now(), json.dumps(meta), undoes_run, _config_to_json(config), os.getpid(), _PROCESS_TOKEN),
            )
            run_id = cur.lastrowid
            assert run_id is not None  # an INSERT always sets it
        _ACTIVE_RUNS.add(run_id)
        return run_id

    def _finish_run(self, run_id: int, status: str) -> None:
        try:
            with self._tx(durable=True) as db:
                db.execute("UPDATE runs SET status = ?, finished = ? WHERE id = ?", (status, _now(), run_id))
        finally:
            _ACTIVE_RUNS.discard(run_id)

    def _record_pending(
        self,
        entry_id: int | None,
        run_id: int,
        path: str,
        old: Values,
        new: Values,
        before: FileIdentity,
        temp: Path,
        undoes_entry: int | None,
    ) -> int:
        """Durably note the write about to happen, temporary name included, before it exists."""
        args = (json.dumps(old), json.dumps(new), json.dumps(before.to_dict()), _key(str(temp)))
        with self._tx(durable=True) as db:
            if entry_id is None:
                cur = db.execute(
                    "INSERT INTO entries (run_id, path, status, old, new, identity_before, temp_path,"
                    " undoes_entry) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)",
                    (run_id, _key(path), *args, undoes_entry),
                )
                assert cur.lastrowid is not None  # an INSERT always sets it
                return cur.lastrowid
            db.execute(
                "UPDATE entries SET old = ?, new = ?, identity_before = ?, temp_path = ? WHERE id = ?",
                (*args, entry_id),
            )
            return entry_id

    def _record_failure(
        self, entry_id: int | None, run_id: int, path: str, message: str, undoes_entry: int | None
    ) -> None:
        message = _text(message)
        with self._tx() as db:
            if entry_id is None:
                db.execute(
                    "INSERT INTO entries (run_id, path, status, message, undoes_entry) VALUES (?, ?, 'failed', ?, ?)",
                    (run_id, _key(path), message, undoes_entry),
                )
            else:
                db.execute("UPDATE entries SET status = 'failed', message = ? WHERE id = ?", (message, entry_id))

    @staticmethod
    def _mark_done(db: sqlite3.Connection, entry_id: int, after: FileIdentity | None, message: str) -> None:
        """Entry written; the entry it reverted (if an undo) becomes undone, in the same transaction."""
        db.execute(
            "UPDATE entries SET status = 'done', identity_after = ?, message = ? WHERE id = ?",
            (json.dumps(after.to_dict()) if after else None, _text(message), entry_id),
        )
        db.execute(
            "UPDATE entries SET status = 'undone' WHERE id = (SELECT undoes_entry FROM entries WHERE id = ?)",
            (entry_id,),
        )

    # ----------------------------------------------------------------- the write of one file

    def _written_by_us(self, path: str) -> FileIdentity | None:
        """The identity our last write (or undo) left ``path`` with, if the journal has one."""
        with self._lock:
            if not self.db_path.exists():
                return None
            row = self._db.execute(
                "SELECT identity_after FROM entries WHERE path = ? AND status IN ('done', 'undone')"
                " AND identity_after IS NOT NULL ORDER BY id DESC LIMIT 1",
                (_key(path),),
            ).fetchone()
        return FileIdentity.from_dict(json.loads(row[0])) if row else None

    def _still_changing(self, path: str, before: FileIdentity, seconds: float) -> bool:
        """True when ``path`` changed within the last ``seconds`` and changes again while we wait
        for it to have been quiet that long (a file still being copied in, or being edited).

        A file whose last change was our own write (the journal knows its identity) is quiet by
        definition: undoing a write right after it never waits.
        """
        if seconds <= 0:
            return False
        age = time.time() - before.mtime_ns / 1e9
        if age >= seconds or self._written_by_us(path) == before:
            return False
        deadline = time.monotonic() + min(seconds - max(age, 0.0), seconds)
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(_STABLE_POLL_S, left))
            try:
                if file_identity(path) != before:
                    return True
            except FileError:
                return True
        return False

    def _write_file(
        self,
        run: _LazyRun,
        path: str,
        names: list[str],
        plan: Plan,
        config: TagsConfig,
        undoes_entry: int | None = None,
    ) -> FileOutcome:
        """Read, plan, journal, write one file; every failure becomes this file's outcome."""
        path = absolute(path)
        names = [*names, ID3V2] if ID3V2 not in names else names
        entry_id: int | None = None
        for _attempt in range(_MAX_ATTEMPTS):
            try:
                before = file_identity(path)
                current = read_fields(path, names, config)
            except FileError as exc:
                self._record_failure(entry_id, run.ensure(), path, exc.message, undoes_entry)
                return FileOutcome(path, False, exc.message)
            values, skipped, note = plan(current)
            if not values:
                if entry_id is not None:  # a retry found the file already as wanted: not a write
                    with self._tx() as db:
                        db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
                return FileOutcome(path, True, note, skipped=skipped)
            # Any change while we wait makes the write below refuse (it expects ``before``).
            if self._still_changing(path, before, config.stable_seconds):
                message = (
                    f"the file is still changing (modified in the last {config.stable_seconds:g} s: "
                    "being copied in, or edited?); not written, try again when it is complete"
                )
                self._record_failure(entry_id, run.ensure(), path, message, undoes_entry)
                return FileOutcome(path, False, message)
            old = {k: current.get(k, []) for k in values}
            temp = temp_path_for(path)
            entry_id = self._record_pending(entry_id, run.ensure(), path, old, values, before, temp, undoes_entry)
            try:
                _, after = safe_write(path, values, config, expected=before, temp_path=temp)
            except FileChangedError:
                continue  # re-read and re-plan: what we record and write must follow what is there now
            except TagWriteError as exc:
                self._record_failure(entry_id, run.ensure(), path, exc.message, undoes_entry)
                return FileOutcome(path, False, exc.message, old, values, skipped)
            with self._tx() as db:
                self._mark_done(db, entry_id, after, note)
            return FileOutcome(path, True, note, old, values, skipped, changed=True)
        message = "the file kept changing while it was being written; not written"
        self._record_failure(entry_id, run.ensure(), path, message, undoes_entry)
        return FileOutcome(path, False, message)

    @staticmethod
    def _preview(path: str, names: list[str], plan: Plan, config: TagsConfig) -> FileOutcome:
        """The dry-run counterpart of :meth:`_write_file`: same reading and checks, no writing."""
        path = absolute(path)
        names = [*names, ID3V2] if ID3V2 not in names else names
        try:
            current = read_fields(path, names, config)
            values, skipped, note = plan(current)
            if values:
                check_writable(path)
        except FileError as exc:
            return FileOutcome(path, False, exc.message)
        old = {k: current.get(k, []) for k in values}
        return FileOutcome(path, True, note, old, values, skipped, changed=bool(values))

    @staticmethod
    def _change_plan(change: FileChange, config: TagsConfig) -> tuple[list[str], Plan]:
        """The fields to read for ``change`` and its plan: fixed values, the genre edit planned on
        what the file holds now, and (ID3) the tag version the write leaves."""
        fixed = normalise_values(change.values)
        edit = change.edit
        names = list(fixed) + ([edit.field] if edit is not None and edit.field not in fixed else [])

        def plan(current: Values) -> tuple[Values, list[str], str]:
            wanted = dict(fixed)
            if edit is not None:
                wanted[edit.field] = normalise_values({edit.field: edit.plan(current.get(edit.field, []))})[edit.field]
            values = {k: v for k, v in wanted.items() if current.get(k, []) != v}
            if values and ID3V2 in current:
                version = current[ID3V2][0] if current[ID3V2] else None
                target = target_version(config.id3_version, version)
                if current[ID3V2] != [target]:
                    values[ID3V2] = [target]
            return values, [], ""

        return names, plan

    # ----------------------------------------------------------------- apply / undo

    def apply(
        self,
        changes: Iterable[FileChange],
        *,
        kind: RunKind = "set-genres",
        config: TagsConfig | None = None,
        dry_run: bool = False,
        meta: dict[str, Any] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RunResult:
        """Write each change safely and journal it as one run; one outcome per change.

        Each change is planned from the file as read just before its write (see :class:`GenreEdit`).
        A change whose values already match the file is a no-op outcome (``changed=False``). The
        run is only recorded once a file is written or fails, so ``run_id`` is None when nothing
        needed writing, and always for ``dry_run`` (which touches neither files nor the journal).
        Cancelling stops between files; what was written stays journaled, the run "cancelled".

        ``changes`` may be a lazy iterator (the batch re-tagger streams album after album from the
        engine): it is consumed one change at a time, each written before the next is asked for.
        Progress then has no total.
        """
        config = config or TagsConfig()
        total = len(changes) if isinstance(changes, Sized) else None
        tracker = ProgressTracker("write", total, progress)
        run = _LazyRun(self, kind, dict(meta or {}), config)
        outcomes: list[FileOutcome] = []
        cancelled = False
        try:
            for change in changes:
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                    break
                names, plan = self._change_plan(change, config)
                if dry_run:
                    outcomes.append(self._preview(change.path, names, plan, config))
                else:
                    outcomes.append(self._write_file(run, change.path, names, plan, config))
                tracker.advance(current=change.path)
        except BaseException:
            if run.id is not None:
                self._finish_run(run.id, m.FAILED)
            raise
        if run.id is not None:
            self._finish_run(run.id, m.CANCELLED if cancelled else m.DONE)
        return RunResult(run.id, kind, outcomes, cancelled)

    def _is_live(self, pid: int | None, owner: str | None, run_id: int | None = None) -> bool:
        """Whether the process that owns a run is still running it. A run of this very process
        is live only while its apply/undo call is under way: one whose call ended in an exception
        (a journal that could not be written, say) is settled like a dead process's."""
        if pid is None:
            return False
        if pid == os.getpid() and owner == _PROCESS_TOKEN:
            return run_id is None or run_id in _ACTIVE_RUNS
        if pid == os.getpid():
            return False
        return _pid_alive(pid)

    def undo(
        self,
        run_id: int | None = None,
        *,
        config: TagsConfig | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RunResult:
        """Restore the files of ``run_id`` (default: :meth:`last_run_id`) to their old values.

        Per field: still what we wrote -> restored; already back to the old value -> nothing to
        do; anything else -> changed by someone since, left alone and reported in the outcome
        (``skipped`` and ``message``). The undo is a run of kind ``"undo"``; undoing it re-applies.

        A run is undone once: asking again raises :class:`JournalError`, unless files of it are
        still not undone (the first undo was cancelled, or failed on them), in which case only
        those are tried. ``config`` defaults to the one the run was written with.

        Without ``run_id``, when the last run is an undo that did not finish (interrupted,
        cancelled, failed) and its run still has files to undo, that undo is resumed: the
        remaining files are restored, instead of re-applying the ones it already restored.
        """
        self.recover()  # a run that died (or whose call failed) is settled first, so it can be undone
        with self._lock:
            target = run_id if run_id is not None else self._default_undo_target()
            if target is None:
                raise JournalError("there is nothing to undo")
            info = self.run(target)
            pid, owner, stored_config = self._db.execute(
                "SELECT pid, owner, tags_config FROM runs WHERE id = ?", (target,)
            ).fetchone()
            if info.status == m.RUNNING and self._is_live(pid, owner, target):
                raise JournalError(f"run {target} is still running")
            for undo_id, undo_pid, undo_owner in self._db.execute(
                "SELECT id, pid, owner FROM runs WHERE undoes_run = ? AND status = 'running'", (target,)
            ):
                if self._is_live(undo_pid, undo_owner, undo_id):
                    raise JournalError(f"run {target} is being undone by run {undo_id}")
            todo = [e for e in self.entries(target) if e.status == m.ENTRY_DONE]
            if not todo:
                if info.undone_by is not None:
                    raise JournalError(f"run {target} was already undone by run {info.undone_by}")
                raise JournalError(f"run {target} changed no files; there is nothing to undo")
            config = config or _config_from_json(stored_config) or TagsConfig()
            # Undo leaves each file in the ID3 version it has, except where the entry records a
            # version change of ours: that one is put back (and a tag we created removed).
            config = dataclasses.replace(config, id3_version="keep")
            run = _LazyRun(self, m.UNDO, {"undoes": target}, config, undoes_run=target)
            run.ensure()  # recorded even if every field conflicts: the run *was* undone
        assert run.id is not None
        tracker = ProgressTracker("undo", len(todo), progress)
        outcomes: list[FileOutcome] = []
        cancelled = False
        try:
            for entry in reversed(todo):  # newest first, in case a path appears twice
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                    break
                outcome = self._write_file(
                    run, entry.path, list(entry.new), self._undo_plan(entry), config, undoes_entry=entry.id
                )
                if outcome.ok and not outcome.changed:
                    with self._tx() as db:
                        db.execute("UPDATE entries SET status = 'undone' WHERE id = ?", (entry.id,))
                outcomes.append(outcome)
                tracker.advance(current=entry.path)
        except BaseException:
            self._finish_run(run.id, m.FAILED)
            raise
        self._finish_run(run.id, m.CANCELLED if cancelled else m.DONE)
        return RunResult(run.id, m.UNDO, outcomes, cancelled)

    def _default_undo_target(self) -> int | None:
        """The run a plain ``undo`` means (see :meth:`undo`)."""
        target = self.last_run_id()
        if target is None:
            return None
        info = self.run(target)
        if info.undoes_run is not None and info.status in (m.INTERRUPTED, m.CANCELLED, m.FAILED):
            if any(e.status == m.ENTRY_DONE for e in self.entries(info.undoes_run)):
                return info.undoes_run
        return target

    @staticmethod
    def _undo_plan(entry: JournalEntry) -> Plan:
        def plan(current: Values) -> tuple[Values, list[str], str]:
            values: Values = {}
            skipped: list[str] = []
            for name, ours in entry.new.items():
                before = entry.old.get(name, [])
                now = current.get(name, [])
                if now == ours:
                    values[name] = before
                elif now != before:
                    skipped.append(name)
            note = "; ".join(f"{name} changed since run {entry.run_id}; left as is" for name in skipped)
            return values, skipped, note

        return plan

    # ----------------------------------------------------------------- crash recovery

    def cleanup_leftovers(self) -> list[str]:
        """:meth:`recover`, returning only the temporary files removed."""
        return self.recover().temp_files

    def recover(self) -> Recovery:
        """Settle what processes that died mid-run left behind (run on every start, see
        :mod:`musictagger.session`).

        Only temporary files recorded in the journal are touched, and only those of runs whose
        process is gone. Each pending entry becomes ``done`` if the file holds the new values
        (the rename happened before the death) or ``failed`` otherwise (the original is intact);
        runs still marked running become "interrupted". Pending entries of runs that ended
        otherwise (a journal commit that failed after a write, say) are settled the same way.
        """
        recovery = Recovery()
        with self._lock:
            if not self.db_path.exists():
                return recovery  # nothing was ever journaled here
            rows = self._db.execute(
                "SELECT id, status, pid, owner, tags_config FROM runs r WHERE status = 'running'"
                " OR EXISTS (SELECT 1 FROM entries e WHERE e.run_id = r.id AND e.status = 'pending')"
            ).fetchall()
            for run_id, status, pid, owner, stored_config in rows:
                if self._is_live(pid, owner, run_id):
                    continue
                config = _config_from_json(stored_config) or TagsConfig()
                for entry in self.entries(run_id):
                    if entry.status != m.PENDING:
                        continue
                    if entry.temp_path:
                        with contextlib.suppress(OSError):  # gone already, or not ours to remove
                            os.unlink(entry.temp_path)
                            recovery.temp_files.append(entry.temp_path)
                    if self._settle(entry, config):
                        recovery.landed += 1
                    else:
                        recovery.not_landed += 1
                if status == m.RUNNING:
                    self._finish_run(run_id, m.INTERRUPTED)
                    recovery.runs.append(run_id)
        return recovery

    def _settle(self, entry: JournalEntry, config: TagsConfig) -> bool:
        """Mark a pending entry done (its write landed) or failed; True when it landed."""
        try:
            now = read_fields(entry.path, list(entry.new), config)
            landed = all(now.get(k, []) == v for k, v in entry.new.items() if not (k == ID3V2 and v == []))
            after = file_identity(entry.path) if landed else None
        except FileError:
            landed, after = False, None
        with self._tx() as db:
            if landed:
                self._mark_done(db, entry.id, after, "written just before the program stopped")
            else:
                db.execute(
                    "UPDATE entries SET status = 'failed', message = ? WHERE id = ?",
                    ("interrupted before the file was replaced; the file is unchanged", entry.id),
                )
        return landed
