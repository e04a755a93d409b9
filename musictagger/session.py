"""The start of every musictagger process — each CLI command and the desktop app — in one place.

:func:`start` is called first thing by ``musictagger.cli.main`` and by ``musictagger.gui.app.main``
(Qt-free, torch-free, cheap when there is nothing to do). Today it settles what an earlier process
left behind when it was killed: runs still marked running become "interrupted", writes that
landed before the death are recorded (so they can be undone), and our temporary files are removed
(:meth:`musictagger.journal.Journal.recover`). A journal that cannot be opened does not stop the
start: the problem is reported and the command goes on (a command that needs the journal then
says why it cannot use it).

The session is meant to grow (opening the stores, building the suggester) while keeping this one
entry point; callers only rely on :func:`start` and :class:`StartReport`.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from musictagger.errors import MusictaggerError

log = logging.getLogger("musictagger.session")


@dataclass
class StartReport:
    """What :func:`start` did; ``messages()`` are lines for a person (stderr, a status bar)."""

    recovered_runs: list[int] = field(default_factory=list)
    temp_files_removed: list[str] = field(default_factory=list)
    writes_settled: int = 0
    problems: list[str] = field(default_factory=list)
    summary: str = ""

    def messages(self) -> list[str]:
        return ([self.summary] if self.summary else []) + self.problems


def _nothing_to_recover(journal_db: Path) -> bool:
    """True when the journal has no run still marked running and no write pending — the usual case,
    answered by one read-only query without importing the journal (and the tag formats it pulls in,
    ~0.3 s: the app's window waits for this). Any doubt (an unreadable or older database) says False
    and the full recovery decides."""
    import sqlite3

    if not journal_db.exists():
        return True
    try:
        with contextlib.closing(sqlite3.connect(f"{journal_db.as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            row = db.execute(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE status = 'running')"
                " OR EXISTS (SELECT 1 FROM entries WHERE status = 'pending')"
            ).fetchone()
    except (sqlite3.Error, ValueError):
        return False
    return row is not None and not row[0]


def start(journal_db: Path | None = None) -> StartReport:
    """Run the start-up work of a musictagger process (see the module docstring)."""
    report = StartReport()
    if journal_db is None:
        from musictagger.paths import app_dirs

        journal_db = app_dirs().journal_db
    if _nothing_to_recover(journal_db):
        return report
    from musictagger.journal import Journal

    try:
        with Journal(journal_db) as journal:
            recovery = journal.recover()
    except MusictaggerError as exc:
        report.problems.append(f"could not check the journal for interrupted runs: {exc}")
        return report
    report.recovered_runs = recovery.runs
    report.temp_files_removed = recovery.temp_files
    report.writes_settled = recovery.landed + recovery.not_landed
    report.summary = recovery.describe()
    for line in report.messages():
        log.info(line)
    return report
