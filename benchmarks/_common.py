"""Shared helpers for the benchmark scripts (run from the repo root: python benchmarks/X.py)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # media.py / tinypacks.py generators


def rss_mb() -> float:
    """Current resident set size of this process, in MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """Samples RSS every ``interval`` seconds in a thread: ``samples`` is [(t, MiB)]."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - t0, rss_mb()))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()

    def at_fraction(self, f: float) -> float:
        if not self.samples:
            return 0.0
        return self.samples[min(len(self.samples) - 1, int(f * (len(self.samples) - 1)))][1]


def temp_home(prefix: str) -> Path:
    import tempfile

    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["MUSICTAGGER_HOME"] = str(home / "home")
    return home
