"""The window's core process (:mod:`musictagger.gui.worker_main`), seen from the window. Qt-free.

:class:`CoreProcess` starts the process on first use and runs jobs there (functions of
:mod:`musictagger.gui.jobs`: scans, tag writes and undos, suggestions, the batch, the watcher's
albums, training). A job is called from a worker thread of the window, which waits for it (the wait
holds no GIL): :meth:`CoreProcess.call` returns the job's result, or :meth:`CoreProcess.stream`
yields the items it emits as they come. Progress streams to a callback; a cancel token stops it.
What crosses the pipe are the core's small picklable values.

:class:`RemoteSuggester` is the app's handle on the models loaded in the core process (a
:class:`~musictagger.pipeline.suggester.Suggester` there): ``load``, ``suggest``, ``pack_infos``,
``device_name``. The batch and the watcher's albums run there too, with the same models.

Why a process: importing torch holds the GIL for a quarter of a second, and any CPU-bound Python
thread in the window's process (decoding, inference, mutagen reading or writing tags) makes every
Qt → Python call of a repaint wait for the GIL: on a busy machine the window stalls for hundreds of
milliseconds (benchmarks/gui.py). In a process of its own none of it touches the window, and a
crash in a native library ends that process — the next job starts a new one.
"""

from __future__ import annotations

import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musictagger.errors import MusictaggerError
from musictagger.progress import Cancelled, CancelToken, ProgressCallback

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config
    from musictagger.gui.jobs import SuggestedAlbum
    from musictagger.library import Album
    from musictagger.pipeline.types import PackInfo

JOBS = "musictagger.gui.jobs"
#: Albums per message: pickling one chunk holds the GIL well under a millisecond.
CHUNK = 32


class WorkerDied(MusictaggerError):
    """The core process ended unexpectedly (a crash in a native library, killed…)."""


class Chunked:
    """A long list argument of a job, sent in chunks of :data:`CHUNK` (pickling a whole library
    at once would hold the GIL for longer than a frame); the job receives the list."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = list(items)


class ChunkedRef:
    """What stands for a :class:`Chunked` argument in the ``call`` message (see worker_main)."""

    def __init__(self, slot: int) -> None:
        self.slot = slot


def _child_env() -> dict[str, str]:
    """The window's environment, with this very ``musictagger`` first on the path (a source
    checkout or a worktree runs its own code in the core process too)."""
    import musictagger

    env = dict(os.environ)
    here = str(Path(musictagger.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([here, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    return env


class CoreProcess:
    """The core process and the jobs running in it. Thread-safe; call jobs from worker threads."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._jobs: dict[int, queue.Queue[tuple]] = {}
        self._ids = itertools.count(1)
        self._closed = False
        #: Incremented each time a process starts: what was loaded in an earlier one is gone.
        self.generation = 0

    @property
    def alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # ------------------------------------------------------------------ jobs
    def call(
        self,
        name: str,
        *args: Any,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        emit: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the job ``name`` (a function of :mod:`musictagger.gui.jobs`) and return its result.
        Raises :class:`MusictaggerError` (the job's own errors), :class:`Cancelled`, :class:`WorkerDied`."""
        events = self._events(name, args, kwargs, cancel)
        while True:
            try:
                kind, value = next(events)
            except StopIteration as stop:
                return stop.value
            if kind == "progress" and progress is not None:
                progress(value)
            elif kind == "item" and emit is not None:
                emit(value)

    def stream(
        self,
        name: str,
        *args: Any,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the job ``name`` and yield what it emits, as it comes."""
        for kind, value in self._events(name, args, kwargs, cancel):
            if kind == "progress":
                if progress is not None:
                    progress(value)
            else:
                yield value

    def _events(self, name: str, args: tuple, kwargs: dict, cancel: CancelToken | None) -> Iterator[tuple[str, Any]]:
        inbox: queue.Queue[tuple] = queue.Queue()
        proc = self._start()
        job = next(self._ids)
        self._jobs[job] = inbox
        finished = cancel_sent = False
        try:
            args = tuple(
                self._send_chunks(proc, job, slot, a) if isinstance(a, Chunked) else a for slot, a in enumerate(args)
            )
            self._send(proc, ("call", job, f"{JOBS}:{name}", args, kwargs))
            while True:
                if cancel is not None and cancel.cancelled and not cancel_sent:
                    self._send(proc, ("cancel", job))
                    cancel_sent = True
                try:
                    message = inbox.get(timeout=0.1)
                except queue.Empty:
                    continue
                kind = message[0]
                if kind in ("progress", "item"):
                    yield kind, message[1]
                elif kind == "done":
                    finished = True
                    return message[1]
                elif kind == "failed":
                    finished = True
                    failure, text = message[1], message[2]
                    if failure == "cancelled":
                        raise Cancelled()
                    raise MusictaggerError(text)
                elif kind == "dead":
                    finished = True
                    raise WorkerDied(
                        f"the core process stopped unexpectedly (exit code {message[1]}); the next run starts it again"
                    )
        finally:
            self._jobs.pop(job, None)
            if not finished and not cancel_sent:  # the caller gave up early: stop the job too
                try:
                    self._send(proc, ("cancel", job))
                except MusictaggerError:
                    pass

    def _send_chunks(self, proc: subprocess.Popen, job: int, slot: int, arg: Chunked) -> ChunkedRef:
        for i in range(0, len(arg.items), CHUNK):
            self._send(proc, ("data", job, slot, arg.items[i : i + CHUNK]))
        return ChunkedRef(slot)

    # ------------------------------------------------------------------ the process
    def _start(self) -> subprocess.Popen:
        with self._lock:
            if self._closed:
                raise MusictaggerError("the app is closing")
            if self._proc is None or self._proc.poll() is not None:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "musictagger.gui.worker_main"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=_child_env(),
                    close_fds=True,
                )
                self._proc = proc
                self.generation += 1
                threading.Thread(target=self._read, args=(proc,), name="mt-core-read", daemon=True).start()
            return self._proc

    def _send(self, proc: subprocess.Popen, message: tuple) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with self._send_lock:
                proc.stdin.write(data)  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
        except (OSError, ValueError) as exc:
            raise WorkerDied(f"the core process is gone ({exc})") from exc

    def _read(self, proc: subprocess.Popen) -> None:
        """Reader thread: each message to its job's inbox; "dead" to every job when the process ends."""
        stream = proc.stdout
        try:
            while True:
                message = pickle.load(stream)  # type: ignore[arg-type]
                inbox = self._jobs.get(message[1])
                if inbox is not None:  # else a job given up earlier
                    inbox.put((message[0], *message[2:]))
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        code = proc.wait()
        with self._lock:
            current = self._proc is proc
        if current or self._closed:
            for inbox in list(self._jobs.values()):
                inbox.put(("dead", code))

    def close(self, timeout: float = 0.5) -> None:
        """End the process: asked to quit (its jobs are cancelled), then killed if still busy after
        ``timeout`` — it has nothing to lose: tag writes are journaled, caches transactional. Idempotent."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            data = pickle.dumps(("quit",))
            with self._send_lock:
                proc.stdin.write(data)  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
        except (OSError, ValueError):
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RemoteSuggester:
    """The models the settings ask for, selected and loaded in the core process (one
    :meth:`suggest` at a time)."""

    def __init__(self, core: CoreProcess, config: Config) -> None:
        self.core = core
        self.config = config
        self.device_name = ""
        self.cards: tuple[tuple[str, str], ...] = ()
        self._pack_infos: list[PackInfo] = []
        self._generation: int | None = None

    @property
    def pack_infos(self) -> list[PackInfo]:
        return list(self._pack_infos)

    @property
    def alive(self) -> bool:
        """Loaded, and the process that loaded them still runs."""
        return self._generation is not None and self.core.alive and self.core.generation == self._generation

    def load(self, cancel: CancelToken | None = None) -> None:
        """Load the models in the core process (blocks the calling worker thread)."""
        if self.alive:
            return
        loaded = self.core.call("load_models", self.config, cancel=cancel)
        self._generation = self.core.generation
        self.device_name, self._pack_infos, self.cards = loaded.device_name, list(loaded.packs), loaded.cards

    def suggest(
        self,
        albums: Sequence[Album],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[SuggestedAlbum]:
        """Yield one :class:`~musictagger.gui.jobs.SuggestedAlbum` per album, in order, as the core
        process makes them."""
        self.load(cancel)
        yield from self.core.stream("suggest", Chunked(albums), progress=progress, cancel=cancel)
