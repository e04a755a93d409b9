"""A terminal progress bar fed by core :class:`~musictagger.progress.Progress` events.

Drawn on stderr only when it is a terminal (scripts piping ``--json`` get clean output), at most
~10 times a second, with done/total, rate, ETA and the current item. A bar may carry ``advice``:
asked of every event, its first answer is printed once, on a line of its own above the bar (the
word about ``--speed fast`` when a thorough run on the CPU will take long).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from musictagger.progress import Progress


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    def __init__(
        self,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        advice: Callable[[Progress], str | None] | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.advice = advice
        self._last = 0.0
        self._drawn = False

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        if self.advice is not None and (text := self.advice(p)):
            self.advice = None  # said once
            self.stream.write(f"\r\x1b[2Ktip: {text}\n")
            self._last = 0.0  # the bar is drawn again below it
        now = time.monotonic()
        final = p.total is not None and p.done >= p.total
        if not final and now - self._last < 0.1:
            return
        self._last = now
        width = shutil.get_terminal_size((80, 20)).columns
        if p.total:
            frac = min(1.0, p.done / p.total)
            bar_w = 24
            filled = int(frac * bar_w)
            bar = "█" * filled + "░" * (bar_w - filled)
            head = f"{p.stage:>7} {bar} {p.done}/{p.total} {frac * 100:3.0f}% ETA {format_duration(p.eta_s)}"
        else:
            head = f"{p.stage:>7} {p.done} … {format_duration(p.elapsed_s)}"
        tail = p.current
        room = width - len(head) - 3
        if room > 8 and tail:
            if len(tail) > room:
                tail = "…" + tail[-(room - 1) :]
            line = f"{head}  {tail}"
        else:
            line = head
        self.stream.write("\r\x1b[2K" + line[: width - 1])
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False
