"""Progress events and cancellation shared by every long-running core task.

Core code emits small immutable :class:`Progress` values through a plain callback; the CLI draws a
bar from them, the GUI turns them into Qt signals. :class:`CancelToken` is checked between items.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    stage: str  # "scan", "decode", "infer", "write", "undo", "train"…
    done: int
    total: int | None  # None while unknown (e.g. a walk still counting)
    current: str = ""  # the file or album being worked on
    eta_s: float | None = None
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def format_duration(seconds: float) -> str:
    """A duration for people: "0.4 s", "42 s", "3 min 05 s", "1 h 02 min"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Cancelled(Exception):
    """Raised inside a task when its :class:`CancelToken` was set; callers treat it as a clean stop."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class ProgressTracker:
    """Turns done/total counts into :class:`Progress` events with an ETA.

    The ETA uses an exponentially smoothed rate so that it settles instead of jumping; events are
    rate-limited (``min_interval``) except the first and the last.
    """

    def __init__(
        self,
        stage: str,
        total: int | None,
        callback: ProgressCallback | None,
        min_interval: float = 0.1,
    ) -> None:
        self.stage = stage
        self.total = total
        self.callback = callback
        self.min_interval = min_interval
        self.done = 0
        self._start = time.monotonic()
        self._last_emit = 0.0
        self._rate: float | None = None
        self._last_t = self._start
        self._last_done = 0

    def _eta(self, now: float) -> float | None:
        if self.total is None or self.done <= 0:
            return None
        dt = now - self._last_t
        if dt > 0.05 and self.done > self._last_done:
            inst = (self.done - self._last_done) / dt
            self._rate = inst if self._rate is None else 0.7 * self._rate + 0.3 * inst
            self._last_t, self._last_done = now, self.done
        rate = self._rate or self.done / max(now - self._start, 1e-6)
        return max(0.0, (self.total - self.done) / rate) if rate > 0 else None

    def update(self, done: int | None = None, current: str = "", advance: int = 0, force: bool = False) -> None:
        self.done = done if done is not None else self.done + advance
        if self.callback is None:
            return
        now = time.monotonic()
        last = self.total is not None and self.done >= self.total
        if not (force or last or self._last_emit == 0.0 or now - self._last_emit >= self.min_interval):
            return
        self._last_emit = now
        self.callback(Progress(self.stage, self.done, self.total, current, self._eta(now), now - self._start))

    def advance(self, n: int = 1, current: str = "") -> None:
        self.update(advance=n, current=current)
