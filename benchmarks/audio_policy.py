"""Which patches of a track should musicnn hear? Quality against cost, measured.

    python benchmarks/audio_policy.py [--shared ../shared/data] [--model musicnn-msd]

For every track of ``audio/`` and ``clips/`` in the shared data, the *dense* answer is musicnn's
mean over every non-overlapping 3-s patch of the whole track (what its own extractor does). Each
policy reads only a few 3-s excerpts (positions are fractions of the duration, as the engine's
:class:`~musictagger.audio.ExcerptPolicy` places them) and is compared with the dense answer:

* ``top5``: overlap of the policy's five highest tags with the dense five (mean over tracks);
* ``top1``: how often the highest tag agrees;
* ``|Δp|``: mean absolute difference of the 50 probabilities;
* ``genre top3``: overlap of the three highest *genre-mapped* tags (those that reach the taxonomy);

and for "albums" (the tracks of one source, which is how the data groups them) the same
agreement of the album mean when only the first *n* tracks of each album are heard (album
sampling). Cost is patches per track (≈ 45 ms each on two CPU cores for musicnn, plus decoding).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from _common import ROOT  # noqa: F401 - puts the checkout on sys.path

POLICIES = {
    "1 @ 50%": (0.5,),
    "2 @ 33/67%": (1 / 3, 2 / 3),
    "3 @ 25/50/75%": (0.25, 0.5, 0.75),
    "5 even": (1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6),
    "8 even": tuple((k + 1) / 9 for k in range(8)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path)
    ap.add_argument("--model", default="musicnn-msd")
    args = ap.parse_args()
    import torch

    from musictagger.audio import ExcerptPolicy, read_duration, read_excerpts
    from musictagger.ml.backbones import load_backbone
    from musictagger.ml.choi2016 import TAGS, label_map
    from musictagger.ml.musicnn import MusicnnFrontend, patches
    from musictagger.paths import shared_data_dir

    shared = args.shared or shared_data_dir()
    if shared is None:
        sys.exit("no shared data (pass --shared or set MUSICTAGGER_SHARED_DATA)")
    torch.set_num_threads(1)
    model, frontend = load_backbone(args.model), MusicnnFrontend()
    genre_cols = [i for i, t in enumerate(TAGS) if t in label_map()]

    tracks: list[tuple[str, Path]] = []
    with open(shared / "audio" / "tracks.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            tracks.append((row["source"], shared / "audio" / row["file"]))
    tracks += [("clips", p) for p in sorted((shared / "clips").glob("*.mp3"))]

    def probs(wave: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = patches(frontend(torch.from_numpy(wave)[None]))
            return torch.sigmoid(model(x)).numpy()

    dense, by_policy, n_patches = [], defaultdict(list), []
    t0 = time.perf_counter()
    for _, path in tracks:
        duration = read_duration(path)
        full = read_excerpts(path, 16000, ExcerptPolicy(duration, 1, (0.5,)))[0]
        p = probs(full)
        dense.append(p.mean(0))
        n_patches.append(len(p))
        for name, positions in POLICIES.items():
            excerpts = read_excerpts(path, 16000, ExcerptPolicy(3.0, len(positions), positions))
            by_policy[name].append(np.concatenate([probs(e) for e in excerpts]).mean(0))
    elapsed = time.perf_counter() - t0
    dense_a = np.stack(dense)
    print(f"{len(tracks)} tracks, {sum(n_patches)} dense patches ({np.mean(n_patches):.0f} per track), {elapsed:.0f} s")

    def agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float]:
        top5 = np.mean([len(set(np.argsort(-x)[:5]) & set(np.argsort(-y)[:5])) / 5 for x, y in zip(a, b)])
        top1 = np.mean(np.argmax(a, 1) == np.argmax(b, 1))
        g3 = np.mean(
            [len(set(np.argsort(-x[genre_cols])[:3]) & set(np.argsort(-y[genre_cols])[:3])) / 3 for x, y in zip(a, b)]
        )
        return float(top5), float(top1), float(np.abs(a - b).mean()), float(g3)

    print(f"{'policy':16} {'patches':>7} {'top5':>6} {'top1':>6} {'|Δp|':>7} {'genre top3':>10}")
    for name, rows in by_policy.items():
        t5, t1, d, g3 = agreement(np.stack(rows), dense_a)
        print(f"{name:16} {len(POLICIES[name]):7d} {t5:6.3f} {t1:6.3f} {d:7.4f} {g3:10.3f}")

    albums: dict[str, list[int]] = defaultdict(list)
    for i, (source, _) in enumerate(tracks):
        albums[source].append(i)
    albums = {k: v for k, v in albums.items() if len(v) >= 5}
    dense_album = np.stack([dense_a[v].mean(0) for v in albums.values()])
    for policy in ("3 @ 25/50/75%", "1 @ 50%"):
        print(f"\nalbum sampling ({len(albums)} sources with ≥ 5 tracks; policy '{policy}' per heard track)")
        rows = np.stack(by_policy[policy])
        for n in (1, 2, 3, 4, 6, 10):
            rng = np.random.default_rng(0)
            trials = []
            for _ in range(20):
                sampled = np.stack([rows[rng.permutation(v)[:n]].mean(0) for v in albums.values()])
                trials.append(agreement(sampled, dense_album))
            t5, t1, d, g3 = np.mean(trials, axis=0)
            print(f"  {n:2d} tracks heard: top5 {t5:.3f} top1 {t1:.3f} |Δp| {d:.4f} genre top3 {g3:.3f}")


if __name__ == "__main__":
    main()
