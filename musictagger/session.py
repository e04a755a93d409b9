"""The start of every musictagger process — each CLI command and the desktop app — in one place.

:func:`start` is called first thing by ``musictagger.cli.main`` and by ``musictagger.gui.app.main``
(Qt-free, torch-free, cheap when there is nothing to do). Today it settles what an earlier process
left behind when it was killed: runs still marked running become "interrupted", writes that
landed before the death are recorded (so they can be undone), and our temporary files are removed
(:meth:`musictagger.journal.Journal.recover`). A journal that cannot be opened does not stop the
start: the problem is reported and the command goes on (a command that needs the journal then
says why it cannot use it).

Then the shells work through a :class:`Session` (:func:`open_session`): the stores of the process
— the library ``index``, the ``journal``, the ``watch_state``, the ``cache`` of model outputs —
each opened on first use and all closed together, the ``suggester`` built from the settings, and
the watcher's per-album ``album_processor``. The CLI commands, the GUI's core-process jobs and its
watcher open what they need here instead of each constructing the stores itself::

    with open_session(config) as s:
        result = scan(roots, index=s.index, config=s.config)

The stores' own modules are imported when a store is first used, so importing this module stays
cheap (and Qt-free, torch-free: the suggester imports torch only when it loads its models).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from musictagger.errors import MusictaggerError

if TYPE_CHECKING:  # pragma: no cover
    import logging

    from musictagger.config import Config
    from musictagger.journal import Journal
    from musictagger.library import Index
    from musictagger.pipeline.cache import ResultCache
    from musictagger.pipeline.suggester import Suggester
    from musictagger.watch import WatchState
    from musictagger.watch.service import AlbumEvent, AlbumProcessor


def _log() -> logging.Logger:
    """The session's logger; logging (like the settings) is imported only when used: the app's
    window waits for :func:`start`."""
    import logging

    return logging.getLogger("musictagger.session")


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
        _log().info(line)
    return report


class Session:
    """The stores one piece of work uses, opened on first use and closed together (a context
    manager). Attribute access opens a store; one that was never used is never opened.

    ``config`` is the configuration the work runs with (the suggester's and the watcher's
    default). Like the stores themselves, a session may be opened in one thread and used in
    another, but by one thread at a time.
    """

    #: The stores, in the order they are closed (the watch state and the journal before the index).
    STORES = ("watch_state", "journal", "index", "cache")

    def __init__(self, config: Config | None = None) -> None:
        if config is None:
            from musictagger.config import Config

            config = Config()
        self.config = config

    # Each store is a cached_property: opened on first access, kept in the instance's __dict__
    # until close() takes it out again.
    @cached_property
    def index(self) -> Index:
        """The library index (scan results, reviews)."""
        from musictagger.library import Index

        return Index()

    @cached_property
    def journal(self) -> Journal:
        """The journal of tag writes (runs, undo)."""
        from musictagger.journal import Journal

        return Journal()

    @cached_property
    def watch_state(self) -> WatchState:
        """What the watcher and the whole-library re-tagger remember between runs."""
        from musictagger.watch import WatchState

        return WatchState()

    @cached_property
    def cache(self) -> ResultCache:
        """The cache of model outputs per file identity and pack."""
        from musictagger.pipeline.cache import ResultCache

        return ResultCache()

    def suggester(
        self,
        config: Config | None = None,
        *,
        models: Sequence[str] | None = None,
        device: str | None = None,
        use_cache: bool = True,
        problems: list[str] | None = None,
    ) -> Suggester:
        """A :class:`~musictagger.pipeline.suggester.Suggester` over the packs the settings select
        (``models``: pack names or paths that win over them, ``--models``), with this session's
        cache unless ``use_cache`` is false. Refused pack folders are appended to ``problems``.
        The models load on first use (that is when torch is imported)."""
        from musictagger.pipeline import select_packs
        from musictagger.pipeline.suggester import Suggester

        config = config if config is not None else self.config
        packs = select_packs(config.inference.packs, models, problems=problems)
        return Suggester(packs, config, device=device, cache=self.cache if use_cache else None)

    def album_processor(
        self,
        suggester: Suggester,
        *,
        config: Config | None = None,
        auto_apply: bool = False,
        min_confidence: float = 0.8,
        notify: Callable[[AlbumEvent], None] | None = None,
    ) -> AlbumProcessor:
        """The watcher's work on one album folder (scan, suggest, maybe write), over this
        session's index, journal and watch state."""
        from musictagger.watch.service import AlbumProcessor

        return AlbumProcessor(
            config if config is not None else self.config,
            suggester,
            self.index,
            self.journal,
            self.watch_state,
            auto_apply=auto_apply,
            min_confidence=min_confidence,
            notify=notify,
        )

    def close(self) -> None:
        """Close every store that was opened (in reverse order of dependence). Idempotent."""
        for name in self.STORES:
            store = self.__dict__.pop(name, None)
            if store is None:
                continue
            try:
                store.close()
            except Exception:  # noqa: BLE001 - one store failing to close must not keep the others open
                _log().exception("closing %r failed", store)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_session(config: Config | None = None) -> Session:
    """A :class:`Session` running with ``config`` (the defaults when None); use it in a ``with``."""
    return Session(config)
