"""Watching music folders from the app: the core's :class:`~musictagger.watch.FolderWatcher` run
in the background, with its events bridged into the GUI thread.

A :class:`WatchSession` is one running watcher and what it needs (watch state, library index,
journal, the :class:`~musictagger.watch.service.AlbumProcessor`). It is opened in a worker task
(opening may load the models and the catch-up walks the watched folders) and closed in a thread of
its own (closing waits for the album being processed), so the GUI never blocks on either.

Watching itself (file system events, the quiet period, the catch-up) runs in the window's process;
each stable album is processed in the core process (the :func:`~musictagger.gui.jobs.process_album`
job: :class:`~musictagger.watch.service.AlbumProcessor` with the app's one set of models), the
watcher's thread holding :meth:`ModelsLoader.exclusive` meanwhile, so a Suggest run from the window and
the watcher take turns instead of running the models at once. Each album's event comes back as a
:class:`~musictagger.gui.jobs.WatchedAlbum` through a Qt signal's ``emit``: emitted from that thread
into an object that lives in the GUI thread, every event is queued into the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from musictagger.gui.tasks import Task
from musictagger.progress import Cancelled, CancelToken, Progress
from musictagger.session import Session

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config
    from musictagger.gui.models_loader import ModelsLoader
    from musictagger.journal import RunKind
    from musictagger.watch.watcher import FolderWatcher

log = logging.getLogger(__name__)

#: The journal's run kind for tags written by the watcher's auto-apply (set by AlbumProcessor).
WATCH_KIND: RunKind = "watch"


def watch_folders(config: Config) -> tuple[list[str], bool]:
    """The folders to watch and whether they are the library's: ``[watch] folders`` when set,
    else the library roots (so that turning watching on does something useful with no setup)."""
    if config.watch.folders:
        return list(config.watch.folders), False
    return list(config.library.roots), True


def watch_settings(config: Config) -> tuple:
    """Everything a running watcher was built from: when it changes, the watcher is restarted."""
    w = config.watch
    return (
        tuple(watch_folders(config)[0]),
        w.quiet_seconds,
        w.auto_apply,
        w.auto_apply_min_confidence,
        config.tags,
        config.inference,
        config.fusion,
    )


class WatchSignals(QObject):
    """What a session reports. Created in the GUI thread, so every slot runs there."""

    event = Signal(object)  # musictagger.gui.jobs.WatchedAlbum
    failed = Signal(str, str)  # folder, message: processing the folder raised


class WatchSession:
    """One running :class:`FolderWatcher` over ``folders`` and the watch state it owns."""

    def __init__(self, engine: ModelsLoader, config: Config, folders: Sequence[str], signals: WatchSignals) -> None:
        self.engine = engine
        self.config = config
        self.folders = list(folders)
        self.signals = signals
        self.cancel = CancelToken()
        self.closed = threading.Event()
        #: When watching was asked for: albums that arrive from now on are new, even those copied in
        #: while the models load (before the watch is armed), never part of a first baseline.
        self.requested_at = time.time()
        self.watcher: FolderWatcher | None = None
        self.stores = Session(config)  # the watch state, opened on start, closed after the watcher stopped
        self._life = threading.RLock()  # open() and close() never overlap (a stop while starting)

    # ------------------------------------------------------------------ life cycle (worker threads)
    def open(self, progress=None) -> None:
        """Load the models (if not yet), open the databases and start watching. Not in the GUI thread."""
        with self._life:
            try:
                self.cancel.raise_if_cancelled()  # stopped before it started
                if progress is not None:
                    progress(Progress("load", 0, None, "loading models for the watcher"))
                self.engine.get(self.cancel)
                self.cancel.raise_if_cancelled()
                self._open_watcher()
            except BaseException:
                self.close()  # what was opened is closed; ``closed`` is set for whoever waits
                raise

    def _open_watcher(self) -> None:
        from musictagger.watch import FolderWatcher

        w = self.config.watch
        self.watcher = FolderWatcher(
            self.folders,
            self._process,
            state=self.stores.watch_state,
            quiet_seconds=w.quiet_seconds,
            baseline_before=self.requested_at,
        )
        self.watcher.start()  # also walks the folders for what changed while not watching (or starting)
        for problem in self.watcher.errors:  # e.g. a folder that cannot be watched
            self.signals.failed.emit(problem.path, problem.message)

    def _process(self, folder: str) -> None:
        """The watcher's ``process``: one album, in the core process, holding the models meanwhile."""
        w = self.config.watch
        try:
            self.engine.get(self.cancel)  # loaded again if the core process was restarted
            with self.engine.exclusive(cancel=self.cancel):
                self.engine.core.call(
                    "process_album",
                    folder,
                    self.config,
                    w.auto_apply,
                    w.auto_apply_min_confidence,
                    emit=self.signals.event.emit,
                    cancel=self.cancel,
                )
        except Cancelled:
            raise  # stopped while waiting for the models: not done, caught up on the next start
        except Exception as exc:  # the watcher logs and goes on; the user sees it in Errors
            self.signals.failed.emit(folder, str(exc) or type(exc).__name__)
            raise

    def close(self, timeout: float = 10.0) -> None:
        """Stop the watcher (the album in progress finishes) and close the databases. Idempotent."""
        self.cancel.cancel()  # first: a processor waiting for the models gives up now
        with self._life:
            if self.closed.is_set():
                return
            try:
                if self.watcher is not None:
                    self.watcher.stop(timeout)
                self.stores.close()
            finally:
                self.closed.set()

    def close_in_background(self) -> None:
        threading.Thread(target=self.close, name="mt-watch-stop", daemon=True).start()

    @property
    def running(self) -> bool:
        """Watching (the watches armed, the catch-up taken) and not yet closed."""
        return self.watcher is not None and self.watcher.started.is_set() and not self.closed.is_set()


class WatchStartTask(Task):
    """Opens a :class:`WatchSession` off the GUI thread, after the previous one has closed."""

    title = "Starting watch"

    def __init__(self, session: WatchSession, previous: WatchSession | None = None) -> None:
        super().__init__()
        self.session = session
        self.previous = previous

    def execute(self) -> WatchSession:
        if self.previous is not None:
            self.previous.closed.wait(30.0)
        self.session.open(progress=self.report)
        return self.session
