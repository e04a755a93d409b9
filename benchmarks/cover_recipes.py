"""Which cover recipe? Backbone size, pooling, augmentation and test-time mirroring, compared by
artist-grouped 5-fold cross-validation (mean ± sd over folds), as covers-v2 was chosen.

    python benchmarks/cover_recipes.py [--shared ../shared/data] [--variants lite0,lite1,lite2]
                                       [--augmented 2] [--cache benchmarks/out/cover_embeddings]

Every cover of ``covers/`` + ``black_metal_covers/`` (labels as ``make models`` builds them) goes
once through each backbone; the mean and standard deviation of all eight feature maps are kept per
view (clean, mirror, ``--augmented`` random crops) in ``--cache`` (reused on the next run). Each
recipe then slices those columns and runs the same cross-validation as ``make models``
(:func:`musictagger.training.heads.cross_validate`): the head never sees a fold's artists.
Figures: macro ROC-AUC over the six broad genres, top-1 over them, Black Metal AP.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from _common import ROOT

VARIANTS = {"lite0": "efficientnet-lite0", "lite1": "efficientnet-lite1", "lite2": "efficientnet-lite2"}


def embeddings(variant: str, items, augmented: int, cache: Path):
    """All-map mean/std embeddings per view, computed once and cached."""
    from musictagger.ml.backbones import load_backbone_state
    from musictagger.ml.efficientnet_lite import MEAN, STD
    from musictagger.ml.heads import CoverHead
    from musictagger.training.heads import Embeddings, embed_covers

    path = cache / f"{variant}-aug{augmented}.npz"
    keys = [it.key for it in items]
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        if list(z["keys"]) == keys:
            views = {k: z[k] for k in z.files if k != "keys"}
            return Embeddings(list(items), views, test_views=("clean", "mirror"))
    model = CoverHead(1, [VARIANTS[variant]], stages=range(8), pooling="mean_std", views=["mirror"])
    model.backbones[0].load_state_dict(load_backbone_state(VARIANTS[variant]))
    model.eval()
    spec = {"size": model.resolution, "resize": "shorter_side_then_center_crop", "mean": list(MEAN),
            "std": list(STD)}  # fmt: skip
    t0 = time.perf_counter()
    emb = embed_covers(items, model, spec, augmented_views=augmented, seed=0)
    print(f"  {variant}: embedded {len(emb.items)} covers × {len(emb.views)} views in {time.perf_counter() - t0:.0f} s")
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, keys=np.array([it.key for it in emb.items]), **{k: v.astype(np.float16) for k, v in emb.views.items()}
    )
    return emb


def columns(channels: list[int], stages: list[int], pooling: str) -> np.ndarray:
    cols, at = [], 0
    for i, c in enumerate(channels):
        if i in stages:
            cols.append(np.arange(at, at + c))
            if pooling == "mean_std":
                cols.append(np.arange(at + c, at + 2 * c))
        at += 2 * c
    return np.concatenate(cols)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path)
    ap.add_argument("--variants", default="lite0,lite1,lite2")
    ap.add_argument("--augmented", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "out" / "cover_embeddings")
    args = ap.parse_args()
    import torch

    from musictagger.ml.efficientnet_lite import EfficientNetLite
    from musictagger.paths import shared_data_dir
    from musictagger.training.bundled import BROAD, broad_fold_figures, cover_dataset
    from musictagger.training.heads import Embeddings, HeadRecipe, cross_validate

    torch.set_num_threads(1)
    shared = args.shared or shared_data_dir()
    if shared is None:
        sys.exit("no shared data (pass --shared or set MUSICTAGGER_SHARED_DATA)")
    ds = cover_dataset(shared)
    print(f"{len(ds.items)} covers, labels {ds.labels}")
    base = HeadRecipe(l2=1.0, folds=5, augmented_views=args.augmented)
    broad = (tuple(BROAD.values()),)
    # (name, stages, pooling, augmented training crops, mirror at test time, broad genres one softmax)
    recipes = [
        ("head mean only", [7], "mean", 0, False, False),
        ("head mean, augmented + mirror", [7], "mean", args.augmented, True, False),
        ("stages 3–7 mean+std", [3, 4, 5, 6, 7], "mean_std", 0, False, False),
        ("stages 3–7 mean+std, augmented + mirror", [3, 4, 5, 6, 7], "mean_std", args.augmented, True, False),
        ("… + broad genres one softmax", [3, 4, 5, 6, 7], "mean_std", args.augmented, True, True),
    ]
    variants = args.variants.split(",")
    loaded = {v: embeddings(v, ds.items, args.augmented, args.cache) for v in variants}
    channels = {}
    for v in variants:
        net = EfficientNetLite(VARIANTS[v])
        channels[v] = [s.channels for s in net.stages] + [1280]
    combos = [(v,) for v in variants] + ([tuple(variants[i] for i in (0, -1))] if len(variants) > 1 else [])
    print(f"{'backbones':12} {'recipe':42} {'broad AUC':>13} {'broad top-1':>13} {'BM AP':>13} {'macro AP':>9}")
    for combo in combos:
        for name, stages, pooling, augmented, mirror, softmax in recipes:
            views: dict[str, np.ndarray] = {}
            names = ["clean"] + (["mirror"] if mirror else []) + [f"aug{k}" for k in range(augmented)]
            for n in names:
                views[n] = np.concatenate(
                    [loaded[v].views[n][:, columns(channels[v], stages, pooling)].astype(np.float32) for v in combo],
                    axis=1,
                )
            test_views = ("clean", "mirror") if mirror else ("clean",)
            sliced = Embeddings(loaded[combo[0]].items, views, test_views=test_views)
            recipe = replace(base, exclusive=broad if softmax else ())
            cv = cross_validate(sliced, ds.labels, recipe, fold_figures=broad_fold_figures)
            s = cv.summary()

            def f(key: str, s=s) -> str:
                v = s.get(key) or {}
                return f"{v['mean']:.3f}±{v['sd']:.3f}" if v.get("mean") is not None else "n/a"

            print(
                f"{'+'.join(combo):12} {name:42} {f('broad_macro_auc'):>13} {f('broad_accuracy'):>13} "
                f"{f('black_metal_ap'):>13} {s['macro_ap']['mean']:9.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
