"""GUI responsiveness: the longest event-loop stall of every phase, and time-to-window.

    .venv/bin/python benchmarks/gui.py [--tracks 1000] [--per-album 10] [--runs 3] [--no-busy]

1. **Stalls** (goal ≤ 50 ms in every phase): a generated library of ``--tracks`` FLAC tracks with
   covers, a tiny cover pack and a tiny audio pack (random weights; what is measured is the
   plumbing, not the model), the real main window (offscreen), and — unless ``--no-busy`` — a
   second, CPU-bound process running beside it all along (a busy machine). A QTimer ticks every
   5 ms and records the largest gap between ticks in each phase: **scan** (the library opens),
   **warm-up** (the model process starts: torch and the models load), **suggest** (Suggest All,
   uncached: decoding and inference), **apply** (the dry run, the diff dialog for every album, the
   journaled write), and **grid** (10,000 albums in the cover grid, scrolled end to end like a fast
   mouse wheel, 10 pages a second, while their covers load).
2. **Time to window** (goal ≤ 1.5× a bare PySide6 window): each measured in a fresh interpreter,
   from process start to the window being exposed, started as ``musictagger-gui`` starts it
   (shell first, the rest right after the first paint); median of ``--runs``. Also printed: the
   time until the whole window is built.

``MT_BENCH_STACKS=1`` also says where each phase's five longest stalls were spent (the main
thread's Python stack, sampled every 2 ms while a tick is overdue; "no Python frame" or a stack
ending in the benchmark's own wait loop means Qt's C++ or the OS scheduler) and lists cyclic
garbage collections over 5 ms.

Latest (2-core VM, one CPU-bound process beside, five runs): scan 11–24, warm-up 12–25, suggest
12–20, apply 13–23, grid 18–31 ms; time to window 1.09–1.41×. Suggest beside the busy process went
from 43 to 162–173 tracks/s once torch's OpenMP threads stopped spinning at barriers (GOMP_SPINCOUNT,
benchmarks/busy_machine.py); the first version of the Use Fast word imported the whole suggester in
the window at a run's first progress — PySide6's import hook reads each new module's source — a
124-ms stall, found with MT_BENCH_STACKS=1 (the word now lives in pipeline/speed.py, imported when the
window is built).

Earlier (2-core VM, one CPU-bound process beside, three runs): scan 24–38, warm-up 24–32,
suggest 20–32, apply 23–33, grid 26–57 ms; the spread between runs of one phase is larger than the
phase's own work. Found with the sampler and fixed: opening a dialog repainted the whole library
table (apply: 38–52 → 23 ms); the core process ran at nice 4, so on a busy machine its torch
threads took the window's core (a 54 ms stall in suggest with only the sampler's own sleep on the
stack) — now nice 10; a native profile of the grid (py-spy --native) showed half the main
thread's time waiting on Qt's GUI thread pool: a pixmap drawn under a clip of several rectangles
(covers arriving one update per tile) and Fusion's gradient scroll bar are painted by spans handed
to that pool, and on a busy machine the wait is long — covers now repaint as one rectangle (grid
25–35 ms in the next runs; the scroll bar's gradient is still threaded). Time to window: 1.04–1.61× by run (the bare window itself takes 96–151 ms
here); inside the app's start, the first use of PySide6's ``Qt`` namespace built its 94 enum
types (23 ms) before the first paint — the shell now paints without it (back to back, 15 runs
each: app − bare 81 → 54–60 ms, ratio 1.55 → 1.36–1.41); the editable install's import finder
adds ~17 ms that an installed wheel does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # media.make_track, the test-media generator

LABELS = ["black-metal", "doom-metal", "thrash-metal", "death-metal"]

BARE = """
import time, sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1280, 780); w.show()
while not (w.windowHandle() and w.windowHandle().isExposed()):  # exposing paints it
    app.processEvents()
print("SHOWN", time.time())
"""

APP = """
import time, sys
from musictagger import session
session.start()  # as musictagger.gui.app.main does, before the QApplication: the start-up recovery
from PySide6.QtWidgets import QApplication
app = QApplication([])
from musictagger.gui.app import create_window
w = create_window(progressive=True)  # as musictagger-gui starts it
while not (w.windowHandle() and w.windowHandle().isExposed()):  # exposing paints it
    app.processEvents()
shown = time.time()
while not w.built:
    app.processEvents()
print("SHOWN", shown, time.time(), "torch" in sys.modules)
w.close()
"""


def make_packs(models: Path) -> list[str]:
    from tinypacks import make_audio_pack, make_cover_pack

    from musictagger.ml.frontend import MelSpectrogram

    thresholds = {label: 0.01 for label in LABELS}
    made = []
    params = {"widths": [8, 16, 16], "dropout": 0.0, "in_size": 64}
    cover_input = {"size": 64, "resize": "shorter_side_then_center_crop", "mean": [0.5] * 3, "std": [0.25] * 3}
    make_cover_pack(
        models,
        labels=LABELS,
        name="bench-covers",
        params=params,
        input=cover_input,
        thresholds=thresholds,
        card="# bench covers",
    )
    made.append("bench-covers (cover_cnn)")
    spec = {
        "sample_rate": 16000,
        "n_fft": 512,
        "hop_length": 256,
        "n_mels": 32,
        "fmin": 0.0,
        "fmax": 8000.0,
        "mel_htk": False,
        "mel_norm": "slaney",
        "power": 2.0,
        "log": {"type": "db", "ref": 1.0, "amin": 1e-10, "multiplier": 10.0, "top_db": 80.0},
        "clip_seconds": 1.0,
        "frames": 0,
        "excerpts": {"count": 2, "positions": [0.3, 0.7]},
    }
    spec["frames"] = MelSpectrogram.from_spec({**spec, "frames": 1}).frames(16000)
    aparams = {
        "n_mels": 32,
        "frames": spec["frames"],
        "conv_widths": [8, 16],
        "pools": [[2, 2], [2, 2]],
        "gru_width": 8,
        "dropout": 0.0,
    }
    make_audio_pack(
        models,
        labels=LABELS,
        name="bench-audio",
        params=aparams,
        input=spec,
        thresholds=thresholds,
        card="# bench audio",
    )
    made.append("bench-audio (crnn)")
    return made


def make_library(root: Path, tracks: int, per_album: int) -> int:
    from media import make_cover, make_track

    n_albums = max(1, tracks // per_album)
    for a in range(n_albums):
        folder = root / f"Artist {a % 37}" / f"Album {a}"
        folder.mkdir(parents=True, exist_ok=True)
        cover = make_cover(((a * 53) % 255, (a * 97) % 255, (a * 31) % 255), (160, 160))
        for t in range(per_album):
            make_track(
                folder,
                "flac",
                seconds=2.0,
                sample_rate=16000,
                title=f"T{t}",
                artist=f"Artist {a % 37}",
                album=f"Album {a}",
                track=t + 1,
                genres=["Metal"],
                cover=cover if t == 0 else None,
                freq=110.0 + 20 * t,
            )
    return n_albums


class StallMeter:
    """Largest gap between ticks of a 5 ms QTimer: how long the event loop could not run.

    With ``MT_BENCH_STACKS=1`` a thread also samples the main thread's Python stack every 2 ms
    while a tick is overdue by 15 ms; each phase then prints, for its five longest stalls, the
    innermost frames seen most often — where the event loop was held."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self.times: list[float] = []
        self._t0 = 0.0
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.samples: dict[float, dict[tuple[str, ...], int]] = {}  # stall start -> stack -> count
        self._sampling = False
        self.collections: list[tuple[float, int, float]] = []  # (at, generation, ms) of the cyclic GC
        self._gc_started = 0.0
        if os.environ.get("MT_BENCH_STACKS"):
            import gc
            import threading

            gc.callbacks.append(self._gc)

            self._main = threading.get_ident()
            threading.Thread(target=self._sample, daemon=True).start()

    def _gc(self, phase: str, info: dict) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._gc_started = now
        elif self._sampling and now - self._gc_started > 0.005:
            self.collections.append((self._gc_started - self._t0, info["generation"], (now - self._gc_started) * 1000))

    def _sample(self) -> None:
        import traceback

        while True:
            time.sleep(0.002)
            last = self._last
            if not self._sampling or time.perf_counter() - last < 0.015:
                continue
            frame = sys._current_frames().get(self._main)
            if frame is None:
                continue
            stack = tuple(
                f"{Path(fs.filename).name}:{fs.lineno} {fs.name}" for fs in traceback.extract_stack(frame)[-8:]
            )
            by_stack = self.samples.setdefault(last, {})
            by_stack[stack] = by_stack.get(stack, 0) + 1

    def _report_stacks(self, top: list[tuple[float, float]]) -> None:
        for gap, at in top:
            start = self._t0 + at - gap
            stacks = next((v for k, v in self.samples.items() if abs(k - start) < 0.003), None)
            if not stacks:
                print(f"   {gap * 1000:.0f} ms @ {at:.2f} s: no Python frame sampled (C++ or another thread)")
                continue
            stack, n = max(stacks.items(), key=lambda kv: kv[1])
            print(f"   {gap * 1000:.0f} ms @ {at:.2f} s, {n}/{sum(stacks.values())} samples in:")
            for line in stack:
                print(f"       {line}")

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self.times.append(now - self._t0)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self.times = []
        self.samples = {}
        self.collections = []
        self._last = self._t0 = time.perf_counter()
        self._sampling = True
        self.timer.start()

    def stop(self) -> dict:
        self.timer.stop()
        self._sampling = False
        top = sorted(zip(self.gaps, self.times), reverse=True)[:5]
        if os.environ.get("MT_BENCH_DEBUG"):
            print("   top gaps (ms @ s):", ", ".join(f"{g * 1000:.0f}@{t:.2f}" for g, t in top))
        if os.environ.get("MT_BENCH_STACKS"):
            self._report_stacks(top)
            slow = ", ".join(f"gen {g} {ms:.0f} ms @ {at:.2f} s" for at, g, ms in self.collections[:8])
            print(f"   garbage collections over 5 ms: {len(self.collections)} {slow}")
        g = sorted(self.gaps) or [0.0]
        return {"max_ms": g[-1] * 1000, "p99_ms": g[int(0.99 * (len(g) - 1))] * 1000, "ticks": len(g)}


def _wait(app, done) -> None:
    while not done():
        app.processEvents()
        time.sleep(0.001)


def _phase(name: str, meter: StallMeter, seconds: float, extra: str = "") -> dict:
    r = meter.stop()
    print(f"{name:8s} {seconds:6.1f} s   longest stall {r['max_ms']:6.1f} ms   p99 {r['p99_ms']:5.1f} ms   {extra}")
    return r


def _busy_process() -> subprocess.Popen:
    """A CPU-bound process beside the app, as on a machine doing something else (it ends by
    itself if this process dies)."""
    spin = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", spin])


def measure_stall(tracks: int, per_album: int, busy: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="mt-gui-bench-") as tmp:
        tmp = Path(tmp)
        os.environ["MUSICTAGGER_HOME"] = str(tmp / "home")
        # Packs and media are made in a child process: this one must start without torch, like the app.
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--prepare", str(tmp), "--tracks", str(tracks), "--per-album", str(per_album)],
            check=True,
        )
        n_albums = max(1, tracks // per_album)
        print(
            f"library: {n_albums} albums, {n_albums * per_album} tracks, prepared in {time.perf_counter() - t0:.1f} s"
        )

        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        from musictagger.gui.app import create_window

        hog = _busy_process() if busy else None
        print("beside: a CPU-bound process (busy machine)" if hog else "beside: nothing (--no-busy)")
        results: dict[str, float] = {}
        try:
            window = create_window()
            c = window.controller
            meter = StallMeter()
            meter.start()
            t0 = time.perf_counter()
            _wait(app, lambda: c.model.rowCount() >= n_albums)
            results["scan"] = _phase("scan", meter, time.perf_counter() - t0)["max_ms"]
            meter.start()  # the models load in the background once the scan is done
            t0 = time.perf_counter()
            _wait(app, lambda: not c.runner.active)
            results["warm-up"] = _phase(
                "warm-up", meter, time.perf_counter() - t0, "(model process starts: torch + models load there)"
            )["max_ms"]

            meter.start()
            t0 = time.perf_counter()
            assert c.suggest(None)
            _wait(app, lambda: not c.runner.active)
            elapsed = time.perf_counter() - t0
            device = window.engine_info.device_name if window.engine_info else "?"
            results["suggest"] = _phase(
                "suggest", meter, elapsed, f"({n_albums * per_album / elapsed:.0f} tracks/s, {device}, uncached)"
            )["max_ms"]

            meter.start()
            t0 = time.perf_counter()
            finished: list = []
            c.run_finished.connect(finished.append)
            assert c.prepare_apply(None)
            _wait(app, lambda: window.apply_dialog is not None and window.apply_dialog.isVisible())
            window.apply_dialog.accept()
            _wait(app, lambda: bool(finished) and not c.runner.active)
            run = finished[0]
            results["apply"] = _phase(
                "apply", meter, time.perf_counter() - t0, f"(diff of {len(run.outcomes)} files, then the write)"
            )["max_ms"]
            window.close()
            results["grid"] = measure_grid(app, tmp)
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
        worst = max(results, key=results.get)
        verdict = "OK" if results[worst] <= 50 else "ABOVE GOAL"
        print(
            "=> longest event-loop stall per phase: "
            + ", ".join(f"{k} {v:.0f} ms" for k, v in results.items())
            + f" (goal <= 50 ms each) {verdict}"
        )


def measure_grid(app, tmp: Path, n_albums: int = 10_000) -> float:
    """10,000 albums in the cover grid (a few real cover files shared by all, each album's
    thumbnail loaded on its own), scrolled from top to bottom as a fast mouse wheel does: a third
    of a page 30 times a second (10 pages a second)."""
    from musictagger.gui.window import MainWindow
    from musictagger.library import Album, Track

    covers = sorted((tmp / "music").rglob("*.flac"))[:: max(1, 10)][:20]
    albums = []
    for i in range(n_albums):
        path = str(covers[i % len(covers)])
        track = Track(path=path, format="flac", title="T", artist=f"Artist {i % 300}", album=f"Album {i}")
        track.has_embedded_cover = True
        albums.append(Album(f"grid\x1f{i}", f"/grid/{i}", f"Album {i}", f"Artist {i % 300}", 2000, [track], "embedded"))
    window = MainWindow(progressive=False)
    window.resize(1280, 780)
    window.show()
    window.controller.model.set_albums(albums)
    window.set_view("grid")
    grid = window.grid
    meter = StallMeter()
    meter.start()
    t0 = time.perf_counter()
    bar = grid.verticalScrollBar()
    while bar.value() < bar.maximum():
        bar.setValue(bar.value() + bar.pageStep() // 3)
        deadline = time.perf_counter() + 1 / 30
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.001)
    r = _phase("grid", meter, time.perf_counter() - t0, f"({n_albums} albums scrolled end to end, covers loading)")
    window.close()
    return r["max_ms"]


def prepare(folder: Path, tracks: int, per_album: int) -> None:
    os.environ["MUSICTAGGER_HOME"] = str(folder / "home")
    from musictagger.config import Config, save_config
    from musictagger.paths import app_dirs

    make_packs(app_dirs().ensure().models)
    make_library(folder / "music", tracks, per_album)
    cfg = Config()
    cfg.library.roots = [str(folder / "music")]
    cfg.inference.packs = "user"
    save_config(cfg)


def _time_to_window(code: str, env: dict) -> tuple[float, list[str]]:
    """Seconds from process start to the window's first exposure, and the rest of the SHOWN line."""
    start = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("SHOWN")), None)
    if line is None:
        raise SystemExit(f"child failed:\n{out.stderr}")
    parts = line.split()
    return float(parts[1]) - start, [str(float(p) - start) if p[:1].isdigit() else p for p in parts[2:]]


def measure_time_to_window(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mt-gui-ttw-") as tmp:
        home = Path(tmp) / "home"
        empty = Path(tmp) / "empty-library"
        empty.mkdir()
        # Byte-code caching on (as in an installed app), into a throw-away folder.
        env = {
            **os.environ,
            "MUSICTAGGER_HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from musictagger.config import Config, save_config\n"
                "from musictagger.journal import Journal\n"
                f"c = Config(); c.library.roots = [{str(empty)!r}]; save_config(c)\n"
                "with Journal() as journal: journal.runs()  # a journal exists, as after any write",
            ],
            env=env,
            check=True,
        )
        _time_to_window(APP, env)  # fills the byte-code cache
        bare, app, complete, torch_loaded = [], [], [], set()
        for _ in range(runs):  # interleaved, so both see the same disk cache and load
            bare.append(_time_to_window(BARE, env)[0])
            t, (built, torch) = _time_to_window(APP, env)
            app.append(t)
            complete.append(float(built))
            torch_loaded.add(torch)
        b, a, c = statistics.median(bare), statistics.median(app), statistics.median(complete)
        print(
            f"time to window: bare PySide6 {b * 1000:.0f} ms, musictagger {a * 1000:.0f} ms "
            f"(median of {runs}) => ratio {a / b:.2f}x (goal <= 1.5x); torch imported at show: {torch_loaded}"
        )
        print(
            f"window complete (controller, docks, model built after the first paint): {c * 1000:.0f} ms "
            f"=> {c / b:.2f}x the bare window"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--per-album", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-stall", action="store_true")
    parser.add_argument("--no-busy", action="store_true", help="no CPU-bound process beside the app")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)  # internal: the child that makes the data
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.tracks, args.per_album)
        return
    measure_time_to_window(args.runs)
    if not args.skip_stall:
        measure_stall(args.tracks, args.per_album, busy=not args.no_busy)


if __name__ == "__main__":
    main()
