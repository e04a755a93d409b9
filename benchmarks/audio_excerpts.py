"""How much reading only the excerpts saves: 3 × 30 s from a 4-minute track vs a full decode.

Writes a 4-minute stereo 44.1 kHz FLAC, MP3 and M4A (AAC) to a temporary folder, then times
``read_excerpts`` (seek + decode the windows + downmix + soxr to 16 kHz) against decoding the
whole file the same way (soundfile for FLAC/MP3, PyAV for M4A; downmix; soxr) and prints the
ratios. Run:
``.venv/bin/python benchmarks/audio_excerpts.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_audio import write_pyav  # noqa: E402  (the tests' encoder for the FFmpeg-only formats)

from musictagger.audio import ExcerptPolicy, read_excerpts  # noqa: E402

RATE = 44100


def full_decode(path: Path) -> np.ndarray:
    """The naive way: decode everything, downmix, resample to 16 kHz (then slice the windows)."""
    if path.suffix == ".m4a":
        import av

        with av.open(str(path)) as container:
            frames = [f.to_ndarray().mean(axis=0) for f in container.decode(container.streams.audio[0])]
        mono = np.concatenate(frames).astype(np.float32)
    else:
        mono = sf.read(path, dtype="float32")[0].mean(axis=1)
    return soxr.resample(mono, RATE, 16000)


def best_of(fn, repeats: int = 5) -> float:
    """Best CPU time of a few runs (CPU, not wall-clock: steadier on a shared machine)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(RATE * 240) / RATE
    music = (0.2 * np.sin(2 * np.pi * 220 * t * (1 + t / 480)) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    policy = ExcerptPolicy(30.0)
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "flac": Path(tmp) / "long.flac",
            "mp3": Path(tmp) / "long.mp3",
            "m4a": Path(tmp) / "long.m4a",
        }
        sf.write(files["flac"], np.stack([music, music], 1), RATE)
        sf.write(files["mp3"], np.stack([music, music], 1), RATE, format="MP3")
        write_pyav(files["m4a"], music, RATE, "aac", "ipod")
        print(f"{'format':6} {'3×30 s excerpts':>16} {'full decode':>12} {'ratio':>7}")
        for name, path in files.items():
            excerpts = best_of(lambda path=path: read_excerpts(path, 16000, policy))
            full = best_of(lambda path=path: full_decode(path))
            print(f"{name:6} {excerpts * 1000:13.0f} ms {full * 1000:9.0f} ms {full / excerpts:6.1f}×")


if __name__ == "__main__":
    main()
