"""Retrain the packs that ship in ``models/`` from the shared research data (``make models``).

    python -m musictagger.training.bundled --shared ../shared/data --out models/ [--only cover|audio]

* **covers-v1** (cover): ``covers/`` (6 broad genres, set per artist, artist in ``covers.csv``),
  ``black_metal_covers/`` (Black Metal, hence Metal), and weak subgenre labels for the metal
  artists from ``band_styles/metal_bands_2017.csv`` (band name matched case-insensitively to the
  cover's artist, styles normalised through the taxonomy). Subgenres carried by fewer than three
  artists are dropped: one artist's covers cannot teach a style, only that artist.
* **audio-v1** (audio): our small CRNN distilled from the published Choi et al. 2016 CRNN over
  ``audio/`` and ``clips/`` (about two hours of real music). The teacher is converted at run time
  into a temporary folder and never written into the repository; its genre-like tags are mapped
  into the taxonomy and become the student's labels.

Both are CPU jobs sized for about 15 minutes each on two cores; the figures land in each pack's
manifest and model card. Training is seeded, so a rerun reproduces them within noise.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from musictagger.training.data import Dataset, Item, normalise_labels

COVER_PACK, AUDIO_PACK = "covers-v2", "audio-v2"
COVER_PACK_V1, AUDIO_PACK_V1 = "covers-v1", "audio-v1"
BROAD = {
    "metal": "metal",
    "hiphop": "hip-hop",
    "jazz": "jazz",
    "country": "country",
    "reggae": "reggae",
    "classical": "classical",
}
MIN_ARTISTS_PER_LABEL = 3
COVER_SIZE = 112


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def band_styles(shared: Path) -> dict[str, tuple[str, ...]]:
    """casefolded band name → taxonomy ids of its styles (closed under parents)."""
    out: dict[str, tuple[str, ...]] = {}
    for row in _read_csv(shared / "band_styles" / "metal_bands_2017.csv"):
        ids = normalise_labels([s.strip() for s in (row.get("styles") or "").split(",") if s.strip()])
        if ids:
            out.setdefault(row["band"].strip().casefold(), ids)
    return out


def cover_dataset(shared: Path) -> Dataset:
    styles = band_styles(shared)
    items: list[Item] = []
    for row in _read_csv(shared / "covers" / "covers.csv"):
        broad = BROAD[row["genre"]]
        labels = set(normalise_labels([broad])) | {broad}
        if broad == "metal":
            labels |= set(styles.get(row["artist"].strip().casefold(), ()))
        items.append(
            Item(
                key=str(shared / "covers" / row["file"]),
                artist=row["artist"],
                labels=tuple(sorted(labels)),
                cover=str(shared / "covers" / row["file"]),
                title=f"{row['artist']} — {row['album']}",
            )
        )
    black = set(normalise_labels(["Black Metal"]))
    for row in _read_csv(shared / "black_metal_covers" / "albums.csv"):
        items.append(
            Item(
                key=str(shared / "black_metal_covers" / row["file"]),
                artist=row["band"],
                labels=tuple(sorted(black)),
                cover=str(shared / "black_metal_covers" / row["file"]),
                title=f"{row['band']} — {row['album']}",
            )
        )
    artists: dict[str, set[str]] = defaultdict(set)
    for it in items:
        for lab in it.labels:
            artists[lab].add(it.artist.casefold())
    keep = {lab for lab, a in artists.items() if len(a) >= MIN_ARTISTS_PER_LABEL}
    dropped = {lab: len(a) for lab, a in artists.items() if lab not in keep}
    items = [
        Item(it.key, it.artist, tuple(lab for lab in it.labels if lab in keep), it.cover, None, (), it.title)
        for it in items
    ]
    counts: dict[str, int] = defaultdict(int)
    for it in items:
        for lab in it.labels:
            counts[lab] += 1
    names = sorted(keep, key=lambda lab: (-counts[lab], lab))
    ds = Dataset(items, names, "shared/data covers/ + black_metal_covers/ + band_styles weak subgenres")
    ds.dropped_labels = dropped
    return ds


def cover_extra_metrics(y: np.ndarray, p: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Accuracy over the six broad genres and metal-vs-hip-hop, as the seed reports compare."""
    from musictagger.training import metrics as M

    cols = [labels.index(b) for b in BROAD.values() if b in labels]
    single = y[:, cols].sum(axis=1) == 1
    broad_acc = float((np.argmax(p[single][:, cols], axis=1) == np.argmax(y[single][:, cols], axis=1)).mean())
    out: dict[str, Any] = {
        "broad_accuracy": broad_acc,
        "broad_items": int(single.sum()),
        "broad_balanced_accuracy": M.balanced_accuracy(y, p, cols),
        "broad_chance": 1 / len(cols),
    }
    if "metal" in labels and "hip-hop" in labels:
        metal, hiphop = labels.index("metal"), labels.index("hip-hop")
        acc, n = M.pairwise_accuracy(y, p, metal, hiphop)
        out["metal_vs_hiphop_accuracy"] = acc
        out["metal_vs_hiphop_balanced_accuracy"] = M.pairwise_accuracy(y, p, metal, hiphop, balanced=True)[0]
        out["metal_vs_hiphop_auc"] = M.pairwise_auc(y, p, metal, hiphop)
        out["metal_vs_hiphop_items"] = n
    out["broad_confusion"] = {
        "labels": [labels[c] for c in cols],
        "counts": M.top_label_confusion(y[single], p[single], cols).tolist(),
    }
    return out


COVER_LIMITS = [
    "Trained on about 1,250 covers of about 180 artists; broad genres are set per artist, so a "
    "jazz artist's country album is labelled jazz.",
    "Subgenre labels (for metal) are weak: every album of a band gets all of the band's styles from "
    "a 2017 listing, whatever the album sounds like.",
    "Validation is artist-disjoint but small (about 20 % of the artists); per-label AP for labels "
    "with a handful of validation albums is noisy.",
    f"Covers are 150 px; the model sees {COVER_SIZE} px. It reads palette, texture and layout, not text.",
    "Reggae has few albums (45) and little to learn from; expect it rarely.",
]

AUDIO_LIMITS = [
    "The student imitates a teacher (Choi et al. 2016, trained on Million Song Dataset tags), "
    "including its biases; it has never seen a human label.",
    "Distilled over only about two hours of free music (game scores, chiptune, electronic, a "
    "little rock, jazz and classical); genres missing from that audio (metal, hip hop, country…) "
    "are learnt from the teacher's weak responses only.",
    "Agreement is measured on held-out artists' tracks against the teacher, not against truth.",
    "Hears 10-second excerpts at 12 kHz: no content above 6 kHz.",
]


def train_cover_v1(shared: Path, out: Path, *, epochs: int, seed: int, progress=None, split: str = "artist"):
    from musictagger.training import train_pack
    from musictagger.training.trainer import TrainOptions

    options = TrainOptions(
        val_fraction=0.2,
        split=split,
        batch_size=32,
        lr=2e-3,
        patience=20,
        cover_size=COVER_SIZE,
        # Not "colour_stats": two runs with it scored 0.86 and 0.79 metal-vs-hip-hop AUC on this
        # validation set (the CNN alone 0.81) — run-to-run noise larger than the difference.
        cover_params={"widths": [16, 32, 64, 128], "dropout": 0.3},
        description="Cover-art genre tagger: six broad genres (metal, jazz, hip hop, country, classical, "
        "reggae) and metal subgenres, from the album cover alone. Trained from scratch by musictagger.",
        limits=COVER_LIMITS,
        license="GPL-3.0-or-later (weights); trained on copyrighted cover art for research use",
        extra_metrics=cover_extra_metrics,
    )
    return train_pack(
        "cover",
        cover_dataset(shared),
        out_dir=out,
        name=COVER_PACK_V1,
        version="1.0.0",
        epochs=epochs,
        seed=seed,
        device="cpu",
        options=options,
        progress=progress,
    )


def audio_items(shared: Path) -> list[Item]:
    items = []
    for row in _read_csv(shared / "audio" / "tracks.csv"):
        artist = row.get("artist") or row.get("source") or row["file"]
        items.append(
            Item(
                key=str(shared / "audio" / row["file"]),
                artist=artist,
                tracks=(str(shared / "audio" / row["file"]),),
                title=row.get("title", ""),
            )
        )
    for clip in sorted((shared / "clips").glob("*.mp3")):
        artist = clip.stem.split("-")[0] if clip.stem.startswith("bensound") else clip.stem
        items.append(Item(key=str(clip), artist=artist, tracks=(str(clip),), title=clip.stem))
    return items


def train_audio_v1(shared: Path, out: Path, *, epochs: int, seed: int, progress=None):
    from musictagger.ml.choi2016 import import_choi2016
    from musictagger.training import TeacherSource, train_pack
    from musictagger.training.trainer import TrainOptions

    h5 = next((shared / "published_models" / "choi2016_crnn_msd").glob("*.h5"))
    with tempfile.TemporaryDirectory(prefix="musictagger-teacher-") as tmp:
        teacher = import_choi2016(h5, dest_dir=Path(tmp))
        options = TrainOptions(
            val_fraction=0.2,
            batch_size=32,
            lr=2e-3,
            patience=10,
            crops_per_item=12,
            seconds_per_track=120.0,
            teacher_hop_seconds=10.0,
            description="Audio genre tagger: a small CRNN distilled from the published Choi et al. 2016 "
            "MSD tagger, its genre tags mapped into the musictagger taxonomy.",
            limits=AUDIO_LIMITS,
            license="GPL-3.0-or-later (weights); teacher weights MIT (Choi et al. 2016)",
        )
        return train_pack(
            "audio",
            TeacherSource(teacher, items=tuple(audio_items(shared))),
            out_dir=out,
            name=AUDIO_PACK_V1,
            version="1.0.0",
            epochs=epochs,
            seed=seed,
            device="cpu",
            options=options,
            progress=progress,
        )


# ---------------------------------------------------------------------------------------------- v2
#: covers-v2: what artist-grouped 5-fold cross-validation chose (benchmarks/cover_recipes.py and
#: the README have the comparison): EfficientNet-Lite0 and -Lite2 together, frozen; the mean and
#: standard deviation over positions of stages 3–7 of each; averaged over the clean cover, its
#: mirror image and a central zoom of both; 2 augmented crops per cover added in training; the six
#: broad genres one softmax choice.
COVER_V2_PARAMS: dict[str, Any] = {
    "variants": ["efficientnet-lite0", "efficientnet-lite2"],
    "stages": [3, 4, 5, 6, 7],
    "pooling": "mean_std",
    "views": ["mirror", "zoom", "zoom_mirror"],
}
COVER_V2_RECIPE: dict[str, Any] = {
    "l2": 1.0,
    "folds": 5,
    "augmented_views": 2,
    "seed": 0,
    "exclusive": (tuple(BROAD.values()),),
}

COVER_V2_LIMITS = [
    "Trained on about 1,250 covers of about 220 artists; broad genres are set per artist, so a jazz artist's "
    "country album is labelled jazz.",
    "Subgenre labels (for metal) are weak: every album of a band gets all of the band's styles from a 2017 "
    "listing, whatever the album sounds like. Black Metal comes from 202 covers labelled as such.",
    "Figures are out-of-fold: 5-fold cross-validation grouped by artist, so each cover was scored by a model "
    "that never saw its artist. Reggae has three artists: its figures are the roughest.",
    "It reads artwork through an ImageNet network: palette, texture, photos vs drawings, layout. It does not "
    "read band logos or text, and a plain or unusual cover says little.",
]


def broad_fold_figures(y: np.ndarray, p: np.ndarray, labels: list[str]) -> dict[str, float | None]:
    """Per fold: macro ROC-AUC over the six broad genres, top-1 over them, Black Metal AP."""
    from musictagger.training import metrics as M

    cols = [labels.index(b) for b in BROAD.values() if b in labels]
    aucs = [a for c in cols if (a := M.roc_auc(y[:, c], p[:, c])) is not None]
    single = y[:, cols].sum(axis=1) == 1
    out: dict[str, float | None] = {
        "broad_macro_auc": float(np.mean(aucs)) if aucs else None,
        "broad_accuracy": float((np.argmax(p[single][:, cols], 1) == np.argmax(y[single][:, cols], 1)).mean())
        if single.any()
        else None,
    }
    if "black-metal" in labels:
        out["black_metal_ap"] = M.average_precision(
            y[:, labels.index("black-metal")], p[:, labels.index("black-metal")]
        )
    return out


def cover_v2_extra_metrics(y: np.ndarray, p: np.ndarray, labels: list[str]) -> dict[str, Any]:
    out = cover_extra_metrics(y, p, labels)
    figures = broad_fold_figures(y, p, labels)
    out["broad_macro_auc"] = figures["broad_macro_auc"]
    return out


def train_cover_v2(shared: Path, out: Path, *, progress=None):
    from musictagger.training.heads import HeadRecipe, train_cover_head

    return train_cover_head(
        cover_dataset(shared),
        out_dir=out,
        name=COVER_PACK,
        version="2.0.0",
        params=dict(COVER_V2_PARAMS),
        recipe=HeadRecipe(**COVER_V2_RECIPE),
        description="Cover-art genre tagger: six broad genres (metal, jazz, hip hop, country, classical, reggae) "
        "and metal subgenres, from the album cover alone. A logistic-regression head trained by musictagger on "
        "the style statistics of two frozen ImageNet networks, EfficientNet-Lite0 and -Lite2; the six broad "
        "genres are one choice (a cover looks like one of them most), subgenres independent.",
        limits=COVER_V2_LIMITS,
        license_="GPL-3.0-or-later (head weights, trained by musictagger on copyrighted cover art for research "
        "use); backbones EfficientNet-Lite0 and -Lite2 ImageNet weights: Apache-2.0 (efficientnet-lite0/2-pytorch-"
        "model 0.1.0, not redistributed: converted from the installed packages)",
        extra_metrics=cover_v2_extra_metrics,
        fold_figures=broad_fold_figures,
        progress=progress,
    )


#: audio-v2 reads musicnn's 3-s patches at these fractions of each track (benchmarks/audio_policy.py).
AUDIO_V2_POSITIONS = [0.25, 0.5, 0.75]
AUDIO_V2_INPUT: dict[str, Any] = {
    "frontend": "musicnn",
    "sample_rate": 16000,
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 96,
    "clip_seconds": 3.0,
    "frames": 187,
    "excerpts": {"count": len(AUDIO_V2_POSITIONS), "positions": AUDIO_V2_POSITIONS},
}
#: A tag is suggested when it scores above all but this share of the corpus tracks of *other* genres,
#: and never below ``AUDIO_V2_FLOOR``: on musicnn's two reference clips the genre tags that describe
#: them score 0.12–0.35 and the others below 0.1. (Best-F1 thresholds on the corpus's few rock and
#: electronic positives were tried: they fell to 0.01–0.04, i.e. "always", on its mixed-genre game music.)
AUDIO_V2_FALSE_ALARM = 0.05
AUDIO_V2_FLOOR = 0.1
AUDIO_V2_LIMITS = [
    "musicnn (Pons & Serra 2019) was trained on Last.fm tags of Million Song Dataset previews: its genres are "
    "broad (rock, metal, heavy metal, hard rock, punk, Hip-Hop, jazz, electronic, folk, blues, country…); it "
    "knows no metal subgenre beyond heavy metal.",
    "Mood, era, voice and instrument tags (sad, 80s, female vocalists, guitar…) are kept in its output but "
    "map to no genre: they are never suggested.",
    "Thresholds come from musictagger's free audio corpus (two hours: game scores, chiptune, electronic, a "
    "little rock, jazz and classical): a tag fires on at most 5 % of the corpus's tracks of other genres and "
    "never below 0.1. Genres absent from that corpus "
    "(metal, hip hop, country…) are calibrated only against those other genres: expect more false alarms "
    "between neighbouring genres (rock, hard rock, metal) than the figures say.",
    "It hears 3-second patches at 16 kHz (three per track by default); intros, interludes and live recordings "
    "can mislead it.",
]


def audio_calibration_tracks(shared: Path) -> list[tuple[str, Path, tuple[str, ...]]]:
    """(source, path, known taxonomy ids closed under parents) of the corpus tracks with a genre hint."""
    from musictagger.taxonomy import Taxonomy

    tax = Taxonomy.default()
    out = []
    for row in _read_csv(shared / "audio" / "tracks.csv"):
        ids = set(tax.normalise(row.get("genre_hint", "")))
        ids |= {p for i in list(ids) for p in tax.parents(i)}
        out.append((row.get("source") or row["file"], shared / "audio" / row["file"], tuple(sorted(ids))))
    return out


def track_probs(model: Any, frontend: Any, path: Path, spec: dict[str, Any]) -> np.ndarray:
    """A track's mean tag probabilities under the pack's excerpt policy, as the engine computes them."""
    import torch

    from musictagger.audio import ExcerptPolicy, read_excerpts

    excerpts = read_excerpts(path, int(spec["sample_rate"]), ExcerptPolicy.from_spec(spec))
    with torch.inference_mode():
        x = frontend(torch.from_numpy(np.stack(excerpts).astype(np.float32)))
        return torch.sigmoid(model(x)).mean(0).numpy()


def build_audio_v2(shared: Path, out: Path, *, progress=None):
    """audio-v2: musicnn's MSD tagger as it is, its genre tags mapped into the taxonomy, with per-tag
    thresholds and validation quality measured on the free corpus."""
    import time

    from musictagger.ml.backbones import load_backbone_state, source
    from musictagger.ml.choi2016 import TAGS, label_map
    from musictagger.ml.frontend import build_frontend
    from musictagger.ml.heads import MusicnnTagger
    from musictagger.progress import ProgressTracker
    from musictagger.taxonomy import Taxonomy
    from musictagger.training import metrics as M
    from musictagger.training.finish import PackSpec, finish_pack, run_without_epochs

    started = time.monotonic()
    tax = Taxonomy.default()
    spec = json.loads(json.dumps(AUDIO_V2_INPUT))
    model = MusicnnTagger(n_labels=len(TAGS))
    sha = source("musicnn-msd").sha256
    model.backbone.load_state_dict(load_backbone_state("musicnn-msd", sha, needed_by=AUDIO_PACK))
    model.eval()
    frontend = build_frontend(spec)
    tracks = [t for t in audio_calibration_tracks(shared) if t[2]]
    tracker = ProgressTracker("calibrate", len(tracks), progress)
    probs = []
    for _source, path, _ids in tracks:
        probs.append(track_probs(model, frontend, path, spec))
        tracker.advance(current=path.name)
    p = np.stack(probs)
    mapping = label_map(TAGS)
    thresholds: dict[str, float] = {}
    per_ap: dict[str, float | None] = {}
    per_auc: dict[str, float | None] = {}
    counts: dict[str, dict[str, int]] = {}
    for j, tag in enumerate(TAGS):
        ids = mapping.get(tag)
        if not ids:
            continue
        family = set(ids) | {a for i in ids for a in tax.parents(i)}
        pos = np.array([any(i in known for i in ids) for _s, _p, known in tracks])
        neg = np.array([not (family & set(known)) for _s, _p, known in tracks])
        counts[tag] = {"positives": int(pos.sum()), "negatives": int(neg.sum())}
        keep = pos | neg
        t = max(float(np.quantile(p[neg, j], 1.0 - AUDIO_V2_FALSE_ALARM)), AUDIO_V2_FLOOR)
        thresholds[tag] = float(np.clip(t, M.THRESHOLD_MIN, M.THRESHOLD_MAX))
        if pos.sum() >= 2 and neg.sum() >= 2:
            per_ap[tag] = M.average_precision(pos[keep], p[keep, j])
            per_auc[tag] = M.roc_auc(pos[keep], p[keep, j])
    metrics: dict[str, Any] = {
        "per_label_ap": per_ap,
        "per_label_auc": per_auc,
        "macro_ap": M.macro(per_ap),
        "macro_auc": M.macro(per_auc),
        "validation_items": len(tracks),
        "calibration": {
            "rule": f"the {100 * (1 - AUDIO_V2_FALSE_ALARM):.0f}th percentile of the tag's track probability on "
            f"corpus tracks of other genres, at least {AUDIO_V2_FLOOR}",
            "tracks": len(tracks),
            "per_tag": counts,
        },
    }
    data = {
        "source": "musicnn MSD (Million Song Dataset, Last.fm tags) as published; calibrated on shared/data audio/",
        "items": len(tracks),
        "train_items": 0,
        "val_items": len(tracks),
        "split": "calibration",
        "train_label_counts": {},
        "val_label_counts": {t: c["positives"] for t, c in counts.items()},
        "date": time.strftime("%Y-%m-%d"),
    }
    pack_spec = PackSpec(
        name=AUDIO_PACK,
        version="2.0.0",
        kind="audio",
        labels=list(TAGS),
        input=spec,
        architecture={"name": "musicnn_tagger", "params": {"n_labels": len(TAGS), "frames": 187}},
        description="Audio genre tagger: musicnn (Pons & Serra 2019), the Million Song Dataset tagger, run as "
        "published on 3-s patches; its genre tags mapped into the musictagger taxonomy, with thresholds "
        "measured by musictagger.",
        license="ISC (musicnn weights, not redistributed: converted from the installed musicnn 0.1.0 package); "
        "label map and thresholds GPL-3.0-or-later",
        limits=AUDIO_V2_LIMITS,
        label_space="free",
        label_map=mapping,
        backbones=[{"name": "musicnn-msd", "sha256": sha}],
    )
    return finish_pack(
        out,
        pack_spec,
        model.state_dict(),
        metrics=metrics,
        thresholds=thresholds,
        data=data,
        training={"device": "cpu"},
        report=run_without_epochs(time.monotonic() - started),
    )


RECIPES = ("covers-v2", "audio-v2", "covers-v1", "audio-v1")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, help="the shared data folder (default: musictagger.paths.shared_data_dir())")
    p.add_argument("--out", type=Path, default=Path("models"))
    p.add_argument(
        "--only",
        choices=RECIPES + ("cover", "audio"),
        help="one pack (default: covers-v2 and audio-v2; 'cover'/'audio' mean the v2 one; the v1 packs are kept "
        "loadable and can be retrained by name)",
    )
    p.add_argument("--cover-epochs", type=int, default=100, help="covers-v1 only")
    p.add_argument("--audio-epochs", type=int, default=30, help="audio-v1 only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--split",
        choices=("artist", "random"),
        default="artist",
        help="covers-v1 only: 'random' splits by cover, as the metal-vs-rap seed did (artists leak), "
        "to compare with its figure; the bundled pack is always split by artist",
    )
    args = p.parse_args(argv)
    only = {"cover": "covers-v2", "audio": "audio-v2"}.get(args.only or "", args.only)
    if args.split != "artist" and only != "covers-v1":
        p.error("--split random needs --only covers-v1 (and an --out outside models/)")
    from musictagger.paths import shared_data_dir

    shared = args.shared or shared_data_dir()
    if shared is None or not shared.is_dir():
        print("bundled: no shared data folder (pass --shared DIR or set MUSICTAGGER_SHARED_DATA)", file=sys.stderr)
        return 2

    def log(pr):
        if pr.total and (pr.done == pr.total or pr.done % 50 == 0):
            eta = f"{pr.eta_s:.0f}s" if pr.eta_s is not None else "?"
            print(f"  {pr.stage} {pr.done}/{pr.total} eta {eta} {pr.current}", flush=True)

    runs = {
        "covers-v2": lambda: train_cover_v2(shared, args.out, progress=log),
        "audio-v2": lambda: build_audio_v2(shared, args.out, progress=log),
        "covers-v1": lambda: train_cover_v1(
            shared, args.out, epochs=args.cover_epochs, seed=args.seed, progress=log, split=args.split
        ),
        "audio-v1": lambda: train_audio_v1(shared, args.out, epochs=args.audio_epochs, seed=args.seed, progress=log),
    }
    for name in [only] if only else ["covers-v2", "audio-v2"]:
        print(f"building {name}…", flush=True)
        r = runs[name]()
        for h in r.history:
            print(
                f"  epoch {h['epoch']}: "
                + ", ".join(f"{k} {v:.4f}" for k, v in h.items() if k != "epoch" and v is not None),
                flush=True,
            )
        figures = {k: v for k, v in r.metrics.items() if not isinstance(v, dict)}
        print(f"{r.name}: {figures} in {r.elapsed_s:.0f}s", flush=True)
        cv = r.metrics.get("cross_validation")
        if cv:
            for key, v in cv.items():
                if isinstance(v, dict) and v.get("mean") is not None:
                    print(f"  cross-validated {key}: {v['mean']:.3f} ± {v['sd']:.3f} over {v['n']} folds", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
