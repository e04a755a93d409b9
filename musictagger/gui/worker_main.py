"""The app's core process: ``python -m musictagger.gui.worker_main``, started by
:class:`~musictagger.gui.worker.CoreProcess`. Qt-free.

It runs the core's work for the window — scans, the models (torch is imported here, never in the
window's process), decoding and inference, tag writes and undos, the watcher's albums, the
whole-library batch, training — so that none of it competes with the event loop for the GIL, and
a crash in a native library ends this process, not the window.

Protocol: pickled tuples, parent → child on stdin, child → parent on the original stdout (the
child's own prints go to stderr). Parent → child::

    ("data", job, slot, [item, …])                             a chunk of a long list argument
    ("call", job, "musictagger.gui.jobs:name", args, kwargs)   run a job (each in a thread of its own);
                                                               a ChunkedRef(slot) argument is the list
    ("cancel", job)                                            stop it at the next item
    ("quit",)

Child → parent::

    ("progress", job, Progress) · ("item", job, value) · ("done", job, result)
    ("failed", job, kind, message)      kind: "error" (our own, for a person), "cancelled", "bug"

A job is a function of :mod:`musictagger.gui.jobs`; the keywords it declares among ``progress``,
``cancel``, ``emit`` and ``worker`` are given to it. End of input (the app quit or died) cancels
every job and ends the process.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pickle
import sys
import threading
import traceback
from typing import Any, BinaryIO

from musictagger.gui.worker import ChunkedRef

#: How much the core process defers to other processes (the window first on a busy machine).
NICENESS = 10
#: Only job functions from here can be called.
JOBS_MODULE = "musictagger.gui.jobs"

log = logging.getLogger("musictagger.worker")


class Worker:
    """Serves jobs until its input ends. ``state`` is shared by jobs (the loaded models)."""

    def __init__(self, inp: BinaryIO, out: BinaryIO) -> None:
        from musictagger.progress import CancelToken

        self._CancelToken = CancelToken
        self.inp, self.out = inp, out
        self.state: dict[str, Any] = {}
        self.models_lock = threading.Lock()  # one job at a time runs the models
        self._send_lock = threading.Lock()
        self._jobs_lock = threading.Lock()
        self._cancels: dict[int, Any] = {}
        self._data: dict[tuple[int, int], list] = {}
        self._threads: list[threading.Thread] = []

    def send(self, *message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._send_lock:
            self.out.write(data)
            self.out.flush()

    def _token(self, job: int):
        with self._jobs_lock:
            return self._cancels.setdefault(job, self._CancelToken())

    def serve(self) -> None:
        while True:
            try:
                message = pickle.load(self.inp)
            except (EOFError, OSError, pickle.UnpicklingError):
                break
            kind = message[0]
            if kind == "quit":
                break
            if kind == "cancel":
                self._token(message[1]).cancel()
            elif kind == "data":
                self._data.setdefault((message[1], message[2]), []).extend(message[3])
            elif kind == "call":
                job = message[1]
                args = tuple(self._data.pop((job, a.slot), []) if isinstance(a, ChunkedRef) else a for a in message[3])
                thread = threading.Thread(
                    target=self._call, args=(job, message[2], args, message[4]), name=f"mt-job-{job}", daemon=True
                )
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                thread.start()
        with self._jobs_lock:
            for token in self._cancels.values():
                token.cancel()
        for thread in self._threads:
            thread.join(2.0)

    def _call(self, job: int, target: str, args: tuple, kwargs: dict) -> None:
        from musictagger.errors import MusictaggerError
        from musictagger.progress import Cancelled

        token = self._token(job)
        try:
            module_name, _, name = target.partition(":")
            if module_name != JOBS_MODULE:
                raise ValueError(f"not a job: {target}")
            fn = getattr(importlib.import_module(module_name), name)
            wanted = inspect.signature(fn).parameters
            extra = {
                "progress": lambda p: self.send("progress", job, p),
                "cancel": token,
                "emit": lambda value: self.send("item", job, value),
                "worker": self,
            }
            kwargs = {**kwargs, **{k: v for k, v in extra.items() if k in wanted}}
            result = fn(*args, **kwargs)
        except Cancelled:
            self.send("failed", job, "cancelled", "")
        except MusictaggerError as exc:
            self.send("failed", job, "error", str(exc))
        except BaseException as exc:  # noqa: BLE001 - a bug is reported to the window, the process stays up
            log.error("job %s failed:\n%s", target, traceback.format_exc())
            self.send("failed", job, "bug", f"{type(exc).__name__}: {exc}")
        else:
            self.send("done", job, result)
        finally:
            with self._jobs_lock:
                self._cancels.pop(job, None)


def main() -> int:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the channel
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, format="musictagger core process: %(message)s")
    if hasattr(os, "nice"):
        try:
            os.nice(NICENESS)
        except OSError:
            pass
    Worker(sys.stdin.buffer, out).serve()
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
