"""Library scan benchmark: a cold scan (fresh index) against a warm rescan (nothing changed).

    .venv/bin/python benchmarks/scan.py [--files 3000] [--per-album 10] [--repeat 2] [--keep]

Generates a library of small MP3/FLAC/Ogg tracks (one file per format is encoded, then copied and
tagged with mutagen, which is much faster than encoding each), in album folders with a cover
image in every other one, under a temporary MUSICTAGGER_HOME. Goal: warm <= 5 % of cold.

"Cold" means a fresh index; the files themselves are in the OS page cache right after being
written, so a cold scan from a spinning disk or a network share is slower than printed here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # media: the test-media generator

from media import copy_track, make_track  # noqa: E402

from musictagger.library import Index, ScanResult, scan  # noqa: E402

FORMATS = {"mp3": ("MP3", "MPEG_LAYER_III"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS")}
GENRES = ["Black Metal", "Death Metal", "Doom Metal", "Thrash Metal", "Post-Rock", "Shoegaze"]


def make_templates(folder: Path, seconds: float = 0.5, rate: int = 22050) -> dict[str, Path]:
    t = np.arange(int(seconds * rate)) / rate
    audio = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    templates = {}
    for ext, (fmt, subtype) in FORMATS.items():
        path = folder / f"template.{ext}"
        sf.write(path, audio, rate, format=fmt, subtype=subtype)
        templates[ext] = path
    return templates


def make_art_templates(folder: Path) -> dict[str, Path]:
    """The same formats with a typical embedded front cover (600 px JPEG, ~100 KB), as rips have."""
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (150, 150, 3), dtype=np.uint8)).resize((600, 600))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    art = folder / "art"
    art.mkdir(exist_ok=True)
    return {
        ext: make_track(art / f"template.{ext}", ext, seconds=0.5, sample_rate=22050, cover=buf.getvalue())
        for ext in FORMATS
    }


def make_library(root: Path, n_files: int, per_album: int, embedded_art: float = 0.5) -> int:
    templates = make_templates(root.parent)
    with_art = make_art_templates(root.parent)
    cover = b"\xff\xd8\xff\xe0" + os.urandom(20_000)  # only its name and size matter to a scan
    exts = list(FORMATS)
    n_albums = (n_files + per_album - 1) // per_album
    made = 0
    for a in range(n_albums):
        ext = exts[a % len(exts)]
        folder = root / f"Artist {a % 97:02d}" / f"{1980 + a % 40} - Album {a:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        if a % 2:
            (folder / "cover.jpg").write_bytes(cover)
        for n in range(1, per_album + 1):
            if made == n_files:
                break
            art = (a % 100) < embedded_art * 100  # this share of albums carries embedded art
            copy_track(
                (with_art if art else templates)[ext],
                folder / f"{n:02d} - Track {n}.{ext}",
                title=f"Track {n}",
                artist=f"Artist {a % 97:02d}",
                album=f"Album {a:04d}",
                tracknumber=str(n),
                date=str(1980 + a % 40),
                genre=[GENRES[a % len(GENRES)], GENRES[(a + 1) % len(GENRES)]],
            )
            made += 1
    return n_albums


def timed_scan(library: Path, db: Path) -> tuple[float, float, ScanResult]:
    """(wall seconds, CPU seconds of this process, result). CPU time (user + system) is the
    steadier figure on a machine shared with other jobs: waiting for a core is not counted."""
    start, start_cpu = time.perf_counter(), time.process_time()
    with Index(db) as index:
        result = scan([library], index=index)
    return time.perf_counter() - start, time.process_time() - start_cpu, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000, help="number of tracks (default 3000)")
    parser.add_argument("--per-album", type=int, default=10, help="tracks per album folder (default 10)")
    parser.add_argument("--repeat", type=int, default=2, help="cold runs (warm: one more); the best is kept")
    parser.add_argument(
        "--embedded-art",
        type=float,
        default=0.5,
        help="share of albums whose tracks carry an embedded ~100 KB cover, as rips do (default 0.5)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated library and print where")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="musictagger-bench-scan-"))
    os.environ["MUSICTAGGER_HOME"] = str(work / "home")
    library = work / "library"
    library.mkdir()
    try:
        start = time.perf_counter()
        n_albums = make_library(library, args.files, args.per_album, args.embedded_art)
        print(
            f"generated {args.files} files in {n_albums} albums ({args.embedded_art:.0%} of albums with embedded "
            f"art) in {time.perf_counter() - start:.1f} s"
        )
        db = work / "home" / "data" / "index.sqlite3"

        # Best of a few runs: the machine may be shared, and the best run is the code's own cost.
        colds = []
        for _ in range(args.repeat):
            for leftover in db.parent.glob(db.name + "*"):
                leftover.unlink()  # a fresh index: every file is read
            colds.append(timed_scan(library, db))
        warms = [timed_scan(library, db) for _ in range(args.repeat + 1)]
        cold_s, _, cold = min(colds, key=lambda r: r[0])
        warm_s, _, warm = min(warms, key=lambda r: r[0])
        cold_cpu, warm_cpu = min(r[1] for r in colds), min(r[1] for r in warms)
        assert cold.files_read == args.files and not cold.errors, (cold.files_read, cold.errors[:3])
        assert warm.files_cached == args.files and warm.files_read == 0
        assert len(warm.albums) == len(cold.albums) == n_albums

        for name, runs, best, cpu in (
            ("cold scan (fresh index)", colds, cold_s, cold_cpu),
            ("warm rescan (no change)", warms, warm_s, warm_cpu),
        ):
            print(
                f"{name}: {best:7.3f} s wall ({args.files / best:6.0f} files/s), {cpu:7.3f} s CPU;"
                f"  wall runs: {', '.join(f'{r[0]:.3f}' for r in runs)}"
            )
        for name, ratio in (("wall", warm_s / cold_s), ("CPU", warm_cpu / cold_cpu)):
            print(f"warm / cold ({name}): {ratio:6.1%}  (goal <= 5%: {'met' if ratio <= 0.05 else 'NOT met'})")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
