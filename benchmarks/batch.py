"""Batch re-tag throughput and memory: is RSS flat over a whole-collection `apply --write`?

    python benchmarks/batch.py [--tracks 3000] [--per-album 10] [--models NAME,…]

Generates a collection (copies of a few small real files, each retagged), runs the same core as
`musictagger apply ROOT --write` (scan, then the resumable batch: suggest → journaled writes), and
prints throughput and RSS sampled over the run (at 10 %, 50 %, 90 % and the peak). Flat means the
90 % figure is within a few MiB of the 10 % one. Default packs: bundled; without them tiny test
packs (the point here is the pipeline's memory, not the model's).
"""

from __future__ import annotations

import argparse
import shutil
import time

from _common import RssSampler, peak_rss_mb, temp_home


def make_collection(root, tracks: int, per_album: int) -> None:
    from media import copy_track, make_cover, make_track

    tpl_dir = root.parent / "templates"
    tpl_dir.mkdir(parents=True)
    templates = [
        make_track(tpl_dir, fmt, seconds=20.0, title=fmt, track=i + 1) for i, fmt in enumerate(("flac", "mp3", "ogg"))
    ]
    cover = make_cover((30, 30, 30))
    for i in range(tracks):
        a = i // per_album
        album = root / f"Artist {a % 97:02d}" / f"Album {a:05d}"
        album.mkdir(parents=True, exist_ok=True)
        if i % per_album == 0:
            (album / "folder.jpg").write_bytes(cover)
        tpl = templates[i % len(templates)]
        copy_track(
            tpl,
            album / f"{i % per_album + 1:02d} Track{tpl.suffix}",
            album=f"Album {a:05d}",
            artist=f"Artist {a % 97:02d}",
            tracknumber=str(i % per_album + 1),
        )
    shutil.rmtree(tpl_dir)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=3000)
    ap.add_argument("--per-album", type=int, default=10)
    ap.add_argument("--models")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    home = temp_home("mt-bench-batch-")
    root = home / "collection"
    t0 = time.perf_counter()
    make_collection(root, args.tracks, args.per_album)
    print(f"generated {args.tracks} tracks in {time.perf_counter() - t0:.1f} s")

    from musictagger.config import Config
    from musictagger.journal import Journal
    from musictagger.library import Index, scan
    from musictagger.ml.packs import find_packs
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.cache import ResultCache
    from musictagger.pipeline.suggester import Suggester
    from musictagger.watch.retag import run_batch
    from musictagger.watch.state import WatchState

    if args.models:
        names = args.models.split(",")
    elif find_packs(include_user=False):
        names = [p.name for p in find_packs(include_user=False)]
    else:
        from tinypacks import make_audio_pack, make_cover_pack

        models = home / "home" / "data" / "models"
        make_cover_pack(models, {"black-metal": 3.0, "jazz": -3.0})
        make_audio_pack(models, {"black-metal": 1.0, "doom-metal": 2.0})
        names = ["tiny-cover", "tiny-audio"]
    cfg = Config()
    suggester = Suggester(select_packs(names=names), cfg, device=args.device, cache=ResultCache())
    suggester.load()
    with RssSampler() as rss, Index() as index, Journal() as journal:
        t0 = time.perf_counter()
        albums = scan([root], index=index, config=cfg).albums
        scan_s = time.perf_counter() - t0
        state = WatchState()
        summary = run_batch(albums, [root], suggester, journal, state, cfg)
        total_s = time.perf_counter() - t0
        state.close()
    n = args.tracks
    print(f"device: {suggester.device_name}; packs: {', '.join(names)}")
    print(f"scan {scan_s:.1f} s; batch {total_s - scan_s:.1f} s; {n / total_s:.1f} tracks/s overall")
    print(
        f"albums tagged {summary.albums_tagged}, skipped {summary.albums_skipped}, failed {summary.albums_failed}; "
        f"files changed {summary.files_changed}"
    )
    print(
        f"RSS MiB at 10% {rss.at_fraction(0.1):.0f}, 50% {rss.at_fraction(0.5):.0f}, "
        f"90% {rss.at_fraction(0.9):.0f}; peak {peak_rss_mb():.0f}"
    )
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
