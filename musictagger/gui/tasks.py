"""Background work: small typed tasks on thread pools, talking to the GUI through Qt signals.

Every task is a :class:`QRunnable`. The work itself — scan, suggest, write, undo — runs in the core
process (:class:`~musictagger.gui.worker.CoreProcess`, a job of :mod:`musictagger.gui.jobs`); the
task's thread only waits for it, holding no GIL, so the window's event loop never competes with
the core's work. What crosses threads are the core's small value objects —
:class:`~musictagger.progress.Progress`, :class:`~musictagger.gui.jobs.SuggestedAlbum`,
:class:`~musictagger.journal.RunResult` — emitted through a :class:`TaskSignals` object that lives
in the GUI thread, so Qt queues each emission into the event loop. Cancellation is the core's
:class:`~musictagger.progress.CancelToken`, passed on to the job.

:class:`TaskRunner` owns two pools: a general one (scan, suggest, previews) and a single-thread
write pool, so that at most one run writes tags at any time (as Picard's save pool does).
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from musictagger.errors import MusictaggerError
from musictagger.gui.jobs import ApplyGroup, ApplyPlan, NothingToUndo, SuggestedAlbum, WatchedAlbum
from musictagger.progress import Cancelled, CancelToken, Progress

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config, TagsConfig
    from musictagger.gui.album_model import PreparedAlbums
    from musictagger.gui.models_loader import ModelsLoader
    from musictagger.gui.worker import CoreProcess
    from musictagger.journal import FileChange, RunResult
    from musictagger.library import Album, ScanResult
    from musictagger.pipeline.review import AlbumReview, ReviewPolicy
    from musictagger.pipeline.types import Suggestion

__all__ = ["ApplyGroup", "ApplyPlan", "NothingToUndo", "SuggestedAlbum", "WatchedAlbum"]

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    """What a task reports. Created in the GUI thread, so every slot runs there."""

    progress = Signal(object)  # Progress
    item = Signal(object)  # one result among many (SuggestedAlbum)
    info = Signal(object)  # side information (ModelsInfo once the models are loaded)
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
        self._emit("progress", progress)

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


class CoreTask(Task):
    """A task whose work is a job of the core process."""

    def __init__(self, core: CoreProcess) -> None:
        super().__init__()
        self.core = core

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.core.call(name, *args, progress=self.report, cancel=self.cancel_token, **kwargs)


@dataclass(frozen=True)
class LibraryScan:
    """A scan of the library, the saved reviews of its albums (by album key) and the albums as
    table rows, made and sorted here rather than in the GUI thread."""

    result: ScanResult
    reviews: dict[str, AlbumReview]
    prepared: PreparedAlbums | None = None


class ScanTask(CoreTask):
    title = "Scanning"

    def __init__(
        self,
        core: CoreProcess,
        roots: Sequence[str],
        config: Config,
        policy: ReviewPolicy,
        sort: tuple[int, Any] | None = None,
    ) -> None:
        super().__init__(core)
        self.roots = list(roots)
        self.config = config
        self.policy = policy
        self.sort = sort

    def execute(self) -> LibraryScan:
        from musictagger.gui.album_model import prepare_entries

        albums: list[Album] = []
        reviews: dict[str, AlbumReview] = {}

        def collect(chunk) -> None:
            albums.extend(chunk[0])
            reviews.update(chunk[1])

        rest = self.call("scan_library", self.roots, self.config, self.policy, emit=collect)
        prepared = prepare_entries(albums, reviews, self.policy, self.sort) if self.sort is not None else None
        return LibraryScan(dataclasses.replace(rest, albums=albums), reviews, prepared)


@dataclass(frozen=True)
class FolderScan:
    """A rescan of one album folder, with whatever asked for it handed back (the watcher's
    :class:`WatchedAlbum`) and the saved reviews of its albums."""

    folder: str
    result: ScanResult
    context: Any = None
    reviews: dict[str, AlbumReview] | None = None

    @property
    def guesses(self) -> list[Suggestion] | None:
        return getattr(self.context, "guesses", None)


class FolderScanTask(CoreTask):
    """Rescans the folder of one album (fast: unchanged files come from the index).

    Not a :class:`ScanTask`: it runs beside a full scan and does not hold up Rescan. A disc folder
    (``CD1``, ``Album (Disc 2)``) is rescanned from its parent, which holds the album's other discs.
    """

    title = "Scanning"

    def __init__(
        self, core: CoreProcess, folder: str, config: Config, policy: ReviewPolicy, context: Any = None
    ) -> None:
        super().__init__(core)
        self.folder = folder
        self.config = config
        self.policy = policy
        self.context = context

    def execute(self) -> FolderScan:
        folder, result, reviews = self.core.call(
            "scan_folder", self.folder, self.config, self.policy, cancel=self.cancel_token
        )
        return FolderScan(folder, result, self.context, reviews)


@dataclass(frozen=True)
class SuggestSummary:
    albums: int
    cancelled: bool


class SuggestTask(Task):
    """Loads the models (first time only, in the core process) and suggests."""

    title = "Suggesting"

    def __init__(self, engine: ModelsLoader, albums: Sequence[Album]) -> None:
        super().__init__()
        self.engine = engine
        self.albums = list(albums)

    def execute(self) -> SuggestSummary:
        self.report(Progress("load", 0, None, "loading models"))
        suggester = self.engine.get(self.cancel_token)
        self._emit("info", self.engine.info)
        n = 0
        with self.engine.exclusive(cancel=self.cancel_token, progress=self.report):
            for item in suggester.suggest(self.albums, progress=self.report, cancel=self.cancel_token):
                self._emit("item", item)
                n += 1
        return SuggestSummary(n, self.cancel_token.cancelled)


class WarmUpTask(Task):
    """Loads the models ahead of the first Suggest, while the app is idle (in the core process)."""

    title = "Loading models"

    def __init__(self, engine: ModelsLoader) -> None:
        super().__init__()
        self.engine = engine

    def execute(self):
        self.engine.get(self.cancel_token)
        return self.engine.info


class GenreNamesTask(CoreTask):
    """The taxonomy's display names, for completion when adding a tag (parsing it is not free)."""

    title = "Loading genres"

    def execute(self) -> list[str]:
        return self.call("genre_names")


class PreviewTask(CoreTask):
    """Builds the changes of reviewed albums and dry-runs them: reads every file and reports what
    would change (for the diff)."""

    title = "Preparing"

    def __init__(self, core: CoreProcess, items: Sequence[tuple[Album, AlbumReview]], config: TagsConfig) -> None:
        super().__init__(core)
        self.items = list(items)
        self.config = config

    def execute(self) -> ApplyPlan:
        from musictagger.gui.worker import Chunked

        return self.call("preview_apply", Chunked(self.items), self.config)


class ApplyTask(CoreTask):
    title = "Writing tags"
    writes = True

    def __init__(self, core: CoreProcess, changes: Sequence[FileChange], config: TagsConfig, meta: dict) -> None:
        super().__init__(core)
        self.changes = list(changes)
        self.config = config
        self.meta = meta

    def execute(self) -> RunResult:
        from musictagger.gui.worker import Chunked

        return self.call("apply_changes", Chunked(self.changes), self.config, self.meta)


class UndoTask(CoreTask):
    title = "Undoing"
    writes = True

    def __init__(self, core: CoreProcess, run_id: int | None) -> None:
        super().__init__(core)
        self.run_id = run_id

    def execute(self) -> RunResult | NothingToUndo:
        return self.call("undo", self.run_id)


class UndoableTask(CoreTask):
    """Whether Undo Last Run has something to undo (enables the action)."""

    title = "Reading the journal"

    def execute(self) -> bool:
        return self.call("undoable")


class CallTask(CoreTask):
    """Runs a job of the core process (e.g. ``learn``) with progress and Stop."""

    def __init__(self, core: CoreProcess, title: str, job: str, *args: Any, writes: bool = False) -> None:
        super().__init__(core)
        self.title = title
        self.writes = writes
        self.job, self.args = job, args

    def execute(self) -> Any:
        return self.call(self.job, *self.args)
