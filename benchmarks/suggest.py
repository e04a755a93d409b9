"""Suggest throughput vs decode-only throughput, and peak RSS.

    python benchmarks/suggest.py [--tracks 200] [--minutes 4] [--device auto] [--models NAME,…]

Generates a library (default 200 tracks of 4 minutes in turn MP3/FLAC/M4A/Ogg, as libraries hold
them, 20 albums with covers; copies of one encoded track per format), then in one run:
1. decode-only: the engine's own excerpt reading (same policy, same worker count), no model;
2. full suggest (cache off): decode + mel + CRNN + cover CNN + fusion.
Prints both throughputs (tracks/s), their ratio (goal ≥ 0.5 on CPU, ≥ 0.9 on GPU) and peak RSS.
Default packs: the bundled default ones (covers-v2 + audio-v2); without them a random CRNN is used.
``--speed fast`` runs the suggest with inference.speed = "fast" (3 tracks per album, 1 excerpt each, each
cover once); decode-only still reads every track with the pack's own policy: the cost of touching the
whole library once.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import shutil
import time

from _common import peak_rss_mb, temp_home


def make_library(root, tracks: int, minutes: float, formats: list[str]) -> None:
    """Tagged tracks in a mix of formats, 10 per album, a cover per album. One noise track per
    format is encoded; the rest are retagged copies of it (decode cost does not depend on the
    signal, and encoding hundreds of 4-minute files would take longer than the benchmark)."""
    import numpy as np
    from media import copy_track, make_cover, make_track

    per_album = 10
    rng = np.random.default_rng(0)
    templates_dir = root.parent / "templates"
    templates_dir.mkdir(parents=True, exist_ok=True)
    templates = {
        fmt: make_track(
            templates_dir,
            fmt,
            seconds=minutes * 60,
            sample_rate=44100,
            title=fmt,
            track=n + 1,
            genres=[],
            signal="noise",
        )
        for n, fmt in enumerate(dict.fromkeys(formats))
    }
    for i in range(tracks):
        artist, album_name = f"Artist {i // per_album:03d}", f"Album {i // per_album:03d}"
        album = root / artist / album_name
        album.mkdir(parents=True, exist_ok=True)
        if i % per_album == 0:
            (album / "cover.jpg").write_bytes(make_cover(tuple(int(c) for c in rng.integers(0, 255, 3))))
        template = templates[formats[i % len(formats)]]
        copy_track(
            template,
            album / f"{i % per_album + 1:02d} Track {i}{template.suffix}",
            title=f"Track {i}",
            artist=artist,
            album=album_name,
            tracknumber=str(i % per_album + 1),
        )
    shutil.rmtree(templates_dir)


def default_packs(home) -> list[str]:
    from musictagger.pipeline import select_packs

    try:
        return [p.name for p in select_packs("bundled")]  # what a user runs by default
    except Exception:  # noqa: BLE001 - no bundled packs: fall back to a random pack below
        pass
    # No bundled packs: a randomly initialised pack of the architecture and input we train.
    from tinypacks import make_audio_pack

    from musictagger.training.trainer import DEFAULT_AUDIO_INPUT, DEFAULT_AUDIO_PARAMS

    labels = ["black-metal", "death-metal", "doom-metal", "jazz", "classical"]
    spec = dict(DEFAULT_AUDIO_INPUT)
    params = dict(DEFAULT_AUDIO_PARAMS, n_mels=spec["n_mels"], frames=spec["frames"])
    make_audio_pack(
        home / "home" / "data" / "models", labels=labels, name="bench-audio", params=params, input=spec, card="bench"
    )
    return ["bench-audio"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--models")
    ap.add_argument("--formats", default="mp3,flac,m4a,ogg", help="formats of the generated tracks, in turn")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--speed", choices=("full", "fast"), default="full", help="inference.speed for the suggest run")
    args = ap.parse_args()

    home = temp_home("mt-bench-suggest-")
    lib = home / "library"
    t0 = time.perf_counter()
    make_library(lib, args.tracks, args.minutes, args.formats.split(","))
    print(f"generated {args.tracks} tracks × {args.minutes:g} min ({args.formats}) in {time.perf_counter() - t0:.1f} s")

    from musictagger.audio import ExcerptPolicy, read_excerpts
    from musictagger.config import Config
    from musictagger.library import Index, scan
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.suggester import Suggester

    names = args.models.split(",") if args.models else default_packs(home)
    packs = select_packs(names=names)
    cfg = Config()
    cfg.inference.speed = args.speed
    with Index() as index:
        albums = scan([lib], index=index, config=cfg).albums
    tracks = [t for a in albums for t in a.tracks]
    suggester = Suggester(packs, cfg, device=args.device)
    suggester.load()  # model build + torch import outside both timings
    workers = cfg.inference.decode_workers or max(1, min(8, os.cpu_count() or 2))
    audio = [p for p in packs if p.kind == "audio"]
    spec = audio[0].input if audio else {"sample_rate": 12000, "clip_seconds": 29.12, "excerpts": {}}
    policy = ExcerptPolicy(
        float(spec["clip_seconds"]),
        int(spec.get("excerpts", {}).get("count", 3)),
        tuple(spec.get("excerpts", {}).get("positions", (0.25, 0.5, 0.75))),
    )

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(lambda t: read_excerpts(t.path, int(spec["sample_rate"]), policy), tracks):
            pass
    decode_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    results = list(suggester.run(albums))
    suggest_s = time.perf_counter() - t0
    assert len(results) == len(albums)

    dec_tps, sug_tps = len(tracks) / decode_s, len(tracks) / suggest_s
    print(f"device: {suggester.device_name}; packs: {', '.join(p.name for p in packs)}; decode workers: {workers}")
    print(f"decode-only throughput : {dec_tps:8.1f} tracks/s  ({decode_s:.1f} s)")
    print(f"full suggest throughput: {sug_tps:8.1f} tracks/s  ({suggest_s:.1f} s)")
    print(f"speed                  : {args.speed}; decode-only reads every track with the pack's excerpt policy")
    print(f"ratio suggest/decode   : {sug_tps / dec_tps:8.2f}   (goal ≥ 0.5 CPU, ≥ 0.9 GPU)")
    print(f"peak RSS               : {peak_rss_mb():8.0f} MiB")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
