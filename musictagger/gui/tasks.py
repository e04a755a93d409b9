"""Background work: small typed tasks on thread pools, talking to the GUI through Qt signals.

Every task is a :class:`QRunnable` whose ``execute()`` is plain core code (scan, suggest, write,
undo). What crosses threads are the core's small value objects — :class:`~musictagger.progress.Progress`,
:class:`~musictagger.pipeline.types.AlbumSuggestions`, :class:`~musictagger.journal.RunResult` —
emitted through a :class:`TaskSignals` object that lives in the GUI thread, so Qt queues each
emission into the event loop. Cancellation is the core's :class:`~musictagger.progress.CancelToken`.

:class:`TaskRunner` owns two pools: a general one (scan, suggest, previews) and a single-thread
write pool, so that at most one run writes tags at any time (as Picard's save pool does).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from musictagger.errors import MusictaggerError
from musictagger.progress import Cancelled, CancelToken, Progress

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config, TagsConfig
    from musictagger.gui.engine import Engine
    from musictagger.journal import FileChange, FileOutcome, RunResult
    from musictagger.library import Album, ScanResult

log = logging.getLogger(__name__)

#: The journal's run kind for tags written from the app.
APPLY_KIND = "gui-apply"


class TaskSignals(QObject):
    """What a task reports. Created in the GUI thread, so every slot runs there."""

    progress = Signal(object)  # Progress
    item = Signal(object)  # one result among many (AlbumSuggestions)
    info = Signal(object)  # side information (EngineInfo once the models are loaded)
    finished = Signal(object)  # the task's result
    failed = Signal(str, str)  # the task's title, a message for a person
    cancelled = Signal()
    done = Signal(object)  # always last, whatever happened: the task itself


class Task(QRunnable):
    """A unit of background work. Subclasses implement :meth:`execute` and nothing Qt-specific."""

    #: Shown in the status bar while the task runs.
    title = "Working"
    #: Whether the task writes files (and so goes to the single-thread write pool).
    writes = False

    def __init__(self) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps the Python object until ``done``
        self.signals = TaskSignals()
        self.cancel_token = CancelToken()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def report(self, progress: Progress) -> None:
        """A :data:`~musictagger.progress.ProgressCallback`, safe to call from the worker."""
        self.signals.progress.emit(progress)

    def execute(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self) -> None:  # called by QThreadPool in a worker thread
        try:
            result = self.execute()
        except Cancelled:
            self._emit("cancelled")
        except MusictaggerError as exc:
            self._emit("failed", self.title, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must reach the Errors panel, not kill a thread
            log.error("%s failed:\n%s", type(self).__name__, traceback.format_exc())
            self._emit("failed", self.title, f"{type(exc).__name__}: {exc}")
        else:  # a task that stopped early by returning says so in its result
            self._emit("finished", result)
        finally:
            self._emit("done", self)

    def _emit(self, name: str, *args: Any) -> None:
        """Emit a signal unless the application is already tearing its objects down (a task
        still running when the interpreter exits): then there is nobody left to tell."""
        try:
            getattr(self.signals, name).emit(*args)
        except RuntimeError as exc:  # "Signal source has been deleted"
            log.debug("%s: %s not delivered (%s)", type(self).__name__, name, exc)


class TaskRunner(QObject):
    """Starts tasks on the right pool, keeps them alive while they run, cancels them all on Stop."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, workers: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(workers)
        self.write_pool = QThreadPool(self)
        self.write_pool.setMaxThreadCount(1)
        self._active: list[Task] = []

    @property
    def active(self) -> list[Task]:
        return list(self._active)

    def busy(self, kind: type[Task] | None = None) -> bool:
        return any(kind is None or isinstance(t, kind) for t in self._active)

    def start(self, task: Task) -> Task:
        was_busy = bool(self._active)
        self._active.append(task)
        # Bound methods of GUI-thread QObjects only: Qt then queues each emission into the GUI thread.
        task.signals.done.connect(self._finished)
        (self.write_pool if task.writes else self.pool).start(task)
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def _finished(self, task: Task) -> None:
        if task in self._active:
            self._active.remove(task)
        if not self._active:
            self.busy_changed.emit(False)

    def cancel_all(self) -> None:
        for task in self._active:
            task.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel everything and wait; a write in progress finishes its current file first."""
        self.cancel_all()
        self.pool.waitForDone(timeout_ms)
        self.write_pool.waitForDone(timeout_ms)


# ---------------------------------------------------------------------------------------- tasks


class ScanTask(Task):
    title = "Scanning"

    def __init__(self, roots: Sequence[str], config: Config) -> None:
        super().__init__()
        self.roots = list(roots)
        self.config = config

    def execute(self):
        from musictagger.library import scan

        return scan(self.roots, config=self.config, progress=self.report, cancel=self.cancel_token)


@dataclass(frozen=True)
class FolderScan:
    """A rescan of one album folder, with whatever asked for it handed back (the watcher's event)."""

    folder: str
    result: ScanResult
    context: Any = None


class FolderScanTask(Task):
    """Rescans the folder of one album (fast: unchanged files come from the index).

    Not a :class:`ScanTask`: it runs beside a full scan and does not hold up Rescan. A disc folder
    (``CD1``, ``Album (Disc 2)``) is rescanned from its parent, which holds the album's other discs.
    """

    title = "Scanning"

    def __init__(self, folder: str, config: Config, context: Any = None) -> None:
        super().__init__()
        self.folder = folder
        self.config = config
        self.context = context

    def execute(self) -> FolderScan:
        import os

        from musictagger.library import scan
        from musictagger.library.albums import album_root

        folder = self.folder if album_root(self.folder) == self.folder else os.path.dirname(self.folder)
        return FolderScan(folder, scan([folder], config=self.config, cancel=self.cancel_token), self.context)


@dataclass(frozen=True)
class SuggestSummary:
    albums: int
    cancelled: bool


class SuggestTask(Task):
    """Loads the models (first time only: this is where torch gets imported) and suggests."""

    title = "Suggesting"

    def __init__(self, engine: Engine, albums: Sequence[Album]) -> None:
        super().__init__()
        self.engine = engine
        self.albums = list(albums)

    def execute(self) -> SuggestSummary:
        self.report(Progress("load", 0, None, "loading models"))
        suggester = self.engine.get()
        self.signals.info.emit(self.engine.info)
        n = 0
        with self.engine.exclusive(cancel=self.cancel_token, progress=self.report):
            for result in suggester.run(self.albums, progress=self.report, cancel=self.cancel_token):
                self.signals.item.emit(result)
                n += 1
        return SuggestSummary(n, self.cancel_token.cancelled)


@dataclass
class ApplyPlan:
    """What Apply would write, read back from the files by a dry run; the confirmation shows ``preview``."""

    changes: list[FileChange]
    preview: RunResult
    labels: dict[str, list[str]]  # album key -> the names to write

    @property
    def changed(self) -> list[FileOutcome]:
        return [o for o in self.preview.outcomes if o.changed]


class WarmUpTask(Task):
    """Loads the models ahead of the first Suggest, while the app is idle (imports torch)."""

    title = "Loading models"

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def execute(self):
        self.engine.get()
        return self.engine.info


class GenreNamesTask(Task):
    """The taxonomy's display names, for completion when adding a tag (parsing it is not free)."""

    title = "Loading genres"

    def execute(self) -> list[str]:
        from musictagger.taxonomy import Taxonomy

        return [label.name for label in Taxonomy.default().labels()]


class PreviewTask(Task):
    """A dry run of an apply: reads every file and reports what would change (for the diff)."""

    title = "Preparing"

    def __init__(self, changes: Sequence[FileChange], config: TagsConfig, labels: dict[str, list[str]]) -> None:
        super().__init__()
        self.changes = list(changes)
        self.config = config
        self.labels = labels

    def execute(self) -> ApplyPlan:
        from musictagger.journal import Journal

        with Journal() as journal:
            preview = journal.apply(
                self.changes,
                kind=APPLY_KIND,
                config=self.config,
                dry_run=True,
                progress=self.report,
                cancel=self.cancel_token,
            )
        return ApplyPlan(self.changes, preview, self.labels)


class ApplyTask(Task):
    title = "Writing tags"
    writes = True

    def __init__(self, changes: Sequence[FileChange], config: TagsConfig, meta: dict) -> None:
        super().__init__()
        self.changes = list(changes)
        self.config = config
        self.meta = meta

    def execute(self):
        from musictagger.journal import Journal

        with Journal() as journal:
            return journal.apply(
                self.changes,
                kind=APPLY_KIND,
                config=self.config,
                meta=self.meta,
                progress=self.report,
                cancel=self.cancel_token,
            )


class UndoTask(Task):
    title = "Undoing"
    writes = True

    def __init__(self, run_id: int | None) -> None:
        super().__init__()
        self.run_id = run_id

    def execute(self):
        from musictagger.journal import Journal

        with Journal() as journal:
            return journal.undo(self.run_id, progress=self.report, cancel=self.cancel_token)


class CallTask(Task):
    """Runs any core function taking ``progress``/``cancel`` keywords (e.g. the training core's ``learn``)."""

    def __init__(self, title: str, fn: Callable[..., Any], *args: Any, writes: bool = False, **kwargs: Any) -> None:
        super().__init__()
        self.title = title
        self.writes = writes
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def execute(self) -> Any:
        return self.fn(*self.args, progress=self.report, cancel=self.cancel_token, **self.kwargs)
