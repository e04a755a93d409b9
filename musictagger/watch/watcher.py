"""Watching music folders: each new or changed album is processed once, after it is stable.

How it avoids what other tools get wrong:

- **Never while copying.** Events only mark an album folder dirty. A folder is ready when no event
  arrived for ``quiet_seconds`` *and* its content signature (audio files' names, sizes, mtimes) is
  the same as one quiet period earlier — so a slow copy over a network share that emits no events
  still waits until the files stop growing.
- **Exactly once.** A processed folder's signature is remembered (``WatchState``); the same content
  is never processed again, wherever it moves. Renaming or moving an album folder is followed (the
  destination is checked, finds its signature done, and is left alone).
- **Our own writes never retrigger.** The processor records the signature after its write as done
  too, and our temp files are ignored by name.
- **Catch-up.** On start every album folder under the roots is compared with the remembered
  signatures; what changed while the watcher was not running is queued. The first time a root is
  watched its existing albums are only recorded (the baseline), unless ``process_existing`` asks
  for them: switching the watcher on never bulk-re-tags a library by surprise.
- **No album lost while starting.** The baseline is the library as it was when watching was asked
  for (``baseline_before``), not when the watch happened to be armed: an album copied in while
  the app loads its models, or between arming the watch and the catch-up walk, is new (its
  folder's or audio files' ctime says so; ``copytree`` keeps mtimes, not ctimes) and is processed.
- **Back-pressure.** Ready folders go through a bounded queue to one processing thread; when it is
  full they stay pending (no event is lost, memory stays bounded).
- **Roots that vanish** (an unmounted disk) are re-watched and caught up when they come back.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from musictagger.errors import FileProblem
from musictagger.watch.state import WatchState, folder_signature, is_our_temp

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver, ObservedWatch

log = logging.getLogger("musictagger.watch")


@dataclass
class _Pending:
    last_event: float
    signature: str | None = None
    signature_since: float = 0.0


class FolderWatcher:
    """Calls ``process(folder)`` once per stable new/changed album folder, in a worker thread.

    ``process`` returns nothing; it is responsible for marking the folder's signatures done
    (``WatchState.mark_done``) — see :class:`musictagger.watch.service.AlbumProcessor`.
    """

    def __init__(
        self,
        roots: Sequence[str | os.PathLike[str]],
        process: Callable[[str], None],
        *,
        state: WatchState,
        quiet_seconds: float = 5.0,
        max_queue: int = 32,
        tick: float = 0.2,
        rewatch_every: float = 2.0,
        process_existing: bool = False,
        baseline_before: float | None = None,
    ) -> None:
        self.roots = [os.path.abspath(os.fspath(r)) for r in roots]
        self.process = process
        self.state = state
        self.quiet = quiet_seconds
        self.tick = tick
        self.rewatch_every = rewatch_every
        self.process_existing = process_existing
        #: Wall-clock time (``time.time()``) when watching was asked for; default: :meth:`start`.
        #: In a root watched for the first time, album folders changed since are new, not baseline.
        self.baseline_before = baseline_before
        #: Set once :meth:`start` has armed the watches and taken the catch-up: from then on no
        #: change is missed (before it, the catch-up will see what changed).
        self.started = threading.Event()
        self._queue: queue.Queue[str] = queue.Queue(maxsize=max_queue)
        self._pending: dict[str, _Pending] = {}
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._watches: dict[str, ObservedWatch] = {}
        self._threads: list[threading.Thread] = []
        self.processed: list[str] = []  # folders handed to ``process``, in order (for status/tests)
        self.errors: list[FileProblem] = []

    # ------------------------------------------------------------------ life cycle
    def start(self) -> FolderWatcher:
        from watchdog.observers import Observer

        if self.baseline_before is None:
            self.baseline_before = time.time()
        self._observer = Observer()
        self._observer.start()
        for root in self.roots:
            self._watch_root(root)
        for target, name in ((self._schedule_loop, "mt-watch-scheduler"), (self._work_loop, "mt-watch-worker")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self.started.set()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        for t in self._threads:
            t.join(timeout)

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending) + self._queue.qsize()

    def idle(self) -> bool:
        """Nothing pending, queued or being processed."""
        with self._lock:
            return not self._pending and not self._queued

    # ------------------------------------------------------------------ events
    def _watch_root(self, root: str) -> None:
        if not os.path.isdir(root) or root in self._watches or self._observer is None:
            return
        from watchdog.events import FileSystemEvent, FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:  # noqa: D401 - watchdog's name
                if event.event_type in ("opened", "closed_no_write"):
                    return
                for p in (event.src_path, getattr(event, "dest_path", "")):
                    if p:
                        watcher._on_path(os.fsdecode(p), bool(event.is_directory))

        try:
            self._watches[root] = self._observer.schedule(Handler(), root, recursive=True)
        except OSError as exc:
            self.errors.append(FileProblem(root, f"cannot watch: {exc.strerror or exc}"))
            return
        self._catch_up(root)

    def _on_path(self, path: str, is_dir: bool) -> None:
        name = os.path.basename(path)
        if is_our_temp(name):
            return
        folder = path if is_dir else os.path.dirname(path)
        self.touch(folder)
        if is_dir:  # a folder moved or copied in: its sub-folders are albums too
            try:
                for dirpath, dirnames, _ in os.walk(path):
                    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                    self.touch(dirpath)
            except OSError:
                pass

    def touch(self, folder: str) -> None:
        """Mark ``folder`` dirty now (also the public way to nudge the watcher)."""
        if os.path.basename(folder).startswith("."):
            return
        with self._lock:
            p = self._pending.get(folder)
            now = time.monotonic()
            if p is None:
                self._pending[folder] = _Pending(now)
            else:
                p.last_event = now

    def _catch_up(self, root: str) -> None:
        """Queue album folders whose content changed while we were not watching.

        A root never watched before gets a baseline instead (unless ``process_existing``): what
        was there before ``baseline_before`` is recorded as done; what arrived since (while the
        watch was being set up, when its events may be lost) is processed like any new album.
        """
        baseline = not self.process_existing and not self.state.root_known(root)
        since = self.baseline_before if self.baseline_before is not None else time.time()
        for dirpath, dirnames, _ in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            sig = folder_signature(dirpath)
            if sig is None or self.state.is_done(sig):
                continue
            if baseline and not _changed_since(dirpath, since):
                self.state.mark_done(sig, dirpath)
            else:
                self.touch(dirpath)
        self.state.mark_root(root)

    # ------------------------------------------------------------------ scheduling
    def _schedule_loop(self) -> None:
        last_rewatch = time.monotonic()
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            if now - last_rewatch >= self.rewatch_every:
                last_rewatch = now
                self._rewatch()
            self._promote(now)

    def _rewatch(self) -> None:
        for root in self.roots:
            alive = os.path.isdir(root)
            if not alive and root in self._watches:
                watch = self._watches.pop(root)
                try:
                    if self._observer is not None:
                        self._observer.unschedule(watch)
                except (KeyError, OSError, ValueError):
                    pass
                log.warning("watched folder disappeared: %s (will resume when it is back)", root)
            elif alive and root not in self._watches:
                log.info("watching %s", root)
                self._watch_root(root)

    def _promote(self, now: float) -> None:
        with self._lock:
            quiet = [f for f, p in self._pending.items() if now - p.last_event >= self.quiet]
        for folder in quiet:
            sig = folder_signature(folder)
            with self._lock:
                p = self._pending.get(folder)
                if p is None:
                    continue
                if sig is None or self.state.is_done(sig):
                    del self._pending[folder]  # no audio, or already processed (our own write, a move)
                    continue
                if sig != p.signature:  # changed since last look: wait one more quiet period
                    p.signature, p.signature_since = sig, now
                    p.last_event = now
                    continue
                if now - p.signature_since < self.quiet or folder in self._queued:
                    continue
                try:
                    self._queue.put_nowait(folder)
                except queue.Full:
                    continue  # back-pressure: stays pending, retried next tick
                del self._pending[folder]
                self._queued.add(folder)

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            try:
                folder = self._queue.get(timeout=self.tick)
            except queue.Empty:
                continue
            try:
                self.processed.append(folder)
                self.process(folder)
            except Exception as exc:  # one bad album never stops the watcher
                log.exception("processing %s failed", folder)
                self.errors.append(FileProblem(folder, str(exc)))
            finally:
                with self._lock:
                    self._queued.discard(folder)


def _changed_since(folder: str, since: float) -> bool:
    """Whether ``folder`` or an audio file in it changed (ctime) at or after ``since`` and not after
    now (a clock ahead on a network share must not make a whole library look new)."""
    from musictagger.tags.detect import AUDIO_EXTENSIONS

    now = time.time()
    try:
        times = [os.stat(folder).st_ctime]
        with os.scandir(folder) as it:
            for e in it:
                if not e.name.startswith(".") and os.path.splitext(e.name)[1].lower() in AUDIO_EXTENSIONS:
                    times.append(e.stat().st_ctime)
    except OSError:
        return False
    return any(since <= t <= now for t in times)
