"""Heads on frozen pretrained embeddings, judged by artist-grouped cross-validation.

The covers-v2 recipe (and learning from a user's library) in stages:

1. **embed**: each item's cover through the frozen backbone once per *view* — the clean image,
   its mirror image and a few augmented crops (:func:`embed_covers`); the network never runs
   again after this, so everything below costs milliseconds to seconds;
2. **folds**: artists assigned to k folds, stratified by label
   (:func:`musictagger.training.split.artist_folds`);
3. **cross-validate**: for each fold, a head fitted on the other folds' views scores the fold's
   items from their clean + mirrored embedding (the test-time view the model uses): every item
   gets an *out-of-fold* probability from a model that never saw its artist (:func:`cross_validate`);
4. **fit**: the head on every item (:func:`fit_linear`), thresholds and figures from the
   out-of-fold predictions, and the pack (:func:`musictagger.training.finish.finish_pack`).

The head is an L2-regularised logistic regression per label (one linear layer, sigmoid outputs,
class-weighted), fitted to convergence with L-BFGS on standardised embeddings: convex, so it
needs no epochs, no early stopping and no validation set to pick them, and it is deterministic.

This module imports torch only inside its functions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musictagger.errors import FileProblem
from musictagger.progress import CancelToken, ProgressCallback, ProgressTracker
from musictagger.training import metrics as M
from musictagger.training.data import Dataset, DatasetError, Item, cover_image
from musictagger.training.finish import (
    ExtraMetrics,
    PackSpec,
    finish_pack,
    held_out_metrics,
    label_matrix,
    run_without_epochs,
)
from musictagger.training.split import artist_folds, artist_key


@dataclass(frozen=True)
class HeadRecipe:
    """How a head is fitted and judged. The defaults are what cross-validation chose for covers-v2."""

    l2: float = 1.0  # L2 penalty on the standardised-embedding weights (per item-row mean loss)
    pos_weight_max: float = 10.0
    #: Groups of labels that are one choice (softmax within the group), by name; empty: all independent.
    exclusive: tuple[tuple[str, ...], ...] = ()
    folds: int = 5
    augmented_views: int = 4  # augmented crops per item added to the training rows
    seed: int = 0


@dataclass
class Embeddings:
    """Per view name, one row per item (same order as ``items``). ``test_views`` are the views the
    model averages at inference (``clean`` and the model's deterministic test-time views); any
    other view (augmented crops) only adds training rows."""

    items: list[Item]
    views: dict[str, np.ndarray]
    errors: list[FileProblem] = field(default_factory=list)
    test_views: tuple[str, ...] = ("clean",)

    @property
    def size(self) -> int:
        return next(iter(self.views.values())).shape[1]

    def clean(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """The embedding the model computes at inference: the mean over ``test_views``."""
        sel = slice(None) if rows is None else rows
        return np.mean([self.views[v][sel] for v in self.test_views], axis=0)

    def training_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(X, item index per row): every view of the given items, stacked."""
        xs = [v[rows] for v in self.views.values()]
        return np.concatenate(xs), np.tile(rows, len(xs))


def embed_covers(
    items: Sequence[Item],
    model: Any,
    spec: dict[str, Any],
    *,
    augmented_views: int,
    seed: int,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    batch: int = 16,
) -> Embeddings:
    """Pooled backbone features of each item's cover, per view, from a :class:`~musictagger.ml.heads.CoverHead`.

    Views: ``clean`` (the inference crop), the model's test-time views (``mirror``, ``zoom``…,
    computed exactly as the model computes them) and ``aug0..`` (random resized crops, flips and
    colour jitter, reproducible for ``seed`` and the item's position). Unreadable covers are
    skipped and reported in ``errors``.
    """
    import torch

    from musictagger.ml.cover_input import preprocess
    from musictagger.ml.heads import test_view

    test_names = ["clean", *model.views]
    names = test_names + [f"aug{i}" for i in range(augmented_views)]
    rows: dict[str, list[np.ndarray]] = {n: [] for n in names}
    ok: list[Item] = []
    errors: list[FileProblem] = []
    tracker = ProgressTracker("embed", len(items), progress)
    tracker.update(0, force=True)
    clean: list[np.ndarray] = []
    augmented: list[np.ndarray] = []

    def flush() -> None:
        if not clean:
            return
        with torch.inference_mode():
            x = torch.from_numpy(np.stack(clean))
            for name in test_names:
                v = x if name == "clean" else test_view(x, name)
                rows[name].append(model.pooled_one(v).float().numpy())
            if augmented_views:
                a = torch.from_numpy(np.stack(augmented))
                z = model.pooled_one(a).float().numpy().reshape(len(clean), augmented_views, -1)
                for k in range(augmented_views):
                    rows[f"aug{k}"].append(z[:, k])
        clean.clear()
        augmented.clear()

    size = int(spec["size"])
    for i, item in enumerate(items):
        if cancel is not None:
            cancel.raise_if_cancelled()
        img = cover_image(item, size, errors)
        if img is None:
            tracker.advance(current=item.key)
            continue
        rng = np.random.default_rng([seed, i])
        clean.append(preprocess(img, spec))
        augmented.extend(preprocess(img, spec, augment=True, rng=rng) for _ in range(augmented_views))
        ok.append(item)
        if len(clean) >= max(1, batch // (len(test_names) + augmented_views)):
            flush()
        tracker.advance(current=item.title or item.key)
    flush()
    if not ok:
        raise DatasetError("no cover could be read")
    return Embeddings(ok, {n: np.concatenate(v) for n, v in rows.items()}, errors, tuple(test_names))


@dataclass
class LinearHead:
    """Standardisation + a linear layer: ``logits = ((x − mean)/std) @ weight.T + bias``; within each
    ``exclusive`` group of label indices the probabilities are the softmax of the group's logits
    (as :func:`musictagger.ml.heads.exclusive_logits` computes them in the model)."""

    mean: np.ndarray
    std: np.ndarray
    weight: np.ndarray  # (labels, dim)
    bias: np.ndarray  # (labels,)
    exclusive: list[list[int]] = field(default_factory=list)

    def probs(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.std) @ self.weight.T + self.bias
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
        for group in self.exclusive:
            g = z[:, group] - z[:, group].max(axis=1, keepdims=True)
            e = np.exp(g)
            p[:, group] = e / e.sum(axis=1, keepdims=True)
        return p


def fit_linear(x: np.ndarray, y: np.ndarray, *, l2: float, pos_weight_max: float = 10.0) -> LinearHead:
    """L2-regularised, class-weighted logistic regression per label (L-BFGS to convergence).

    Loss: mean over rows of the weighted BCE, plus ``l2/2 · ‖W‖²`` (bias not penalised), on
    embeddings standardised with the rows' own mean and spread.
    """
    import torch

    from musictagger.training.finish import positive_weights

    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-4
    xs = torch.from_numpy(((x - mean) / std).astype(np.float32))
    yt = torch.from_numpy(y.astype(np.float32))
    n, d = xs.shape
    weight = torch.zeros(y.shape[1], d, requires_grad=True)
    bias = torch.zeros(y.shape[1], requires_grad=True)
    pos = torch.from_numpy(positive_weights(y.mean(axis=0), pos_weight_max))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos, reduction="sum")
    opt = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=500, history_size=20, tolerance_grad=1e-6,
                            tolerance_change=1e-9, line_search_fn="strong_wolfe")  # fmt: skip

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn(xs @ weight.T + bias, yt) / n + 0.5 * l2 * weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return LinearHead(mean.astype(np.float32), std.astype(np.float32), weight.detach().numpy().copy(),
                      bias.detach().numpy().copy())  # fmt: skip


def _targets(items: Sequence[Item], labels: Sequence[str]) -> np.ndarray:
    return label_matrix([it.labels for it in items], labels)


def exclusive_indices(recipe: HeadRecipe, labels: Sequence[str]) -> list[list[int]]:
    """The recipe's exclusive groups as label indices (labels the data lacks are left out; a group
    needs two)."""
    groups = [[labels.index(lab) for lab in group if lab in labels] for group in recipe.exclusive]
    return [g for g in groups if len(g) >= 2]


def fit_on(emb: Embeddings, y: np.ndarray, rows: np.ndarray, recipe: HeadRecipe, labels: Sequence[str]) -> LinearHead:
    x, owner = emb.training_rows(rows)
    head = fit_linear(x, y[owner], l2=recipe.l2, pos_weight_max=recipe.pos_weight_max)
    head.exclusive = exclusive_indices(recipe, labels)
    return head


@dataclass
class CrossValidation:
    """Out-of-fold probabilities for every item, and figures per fold."""

    folds: list[int]
    probs: np.ndarray
    per_fold: list[dict[str, float | None]]

    def summary(self) -> dict[str, dict[str, float | None]]:
        """{figure: {"mean", "sd", "n"}} over the folds where the figure is defined."""
        out: dict[str, dict[str, float | None]] = {}
        for key in sorted({k for f in self.per_fold for k in f}):
            values = [v for f in self.per_fold if (v := f.get(key)) is not None]
            out[key] = {
                "mean": float(np.mean(values)) if values else None,
                "sd": float(np.std(values)) if values else None,
                "n": len(values),
            }
        return out


def cross_validate(
    emb: Embeddings,
    labels: Sequence[str],
    recipe: HeadRecipe,
    *,
    fold_figures: Any = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> CrossValidation:
    """k-fold, artist-grouped: every item scored by a head fitted without its artist.

    ``fold_figures(y, p, labels) -> {name: value}`` adds figures per fold (macro AP and AUC are
    always computed).
    """
    y = _targets(emb.items, labels)
    folds = artist_folds(emb.items, recipe.folds, recipe.seed)
    probs = np.zeros_like(y)
    per_fold: list[dict[str, float | None]] = []
    tracker = ProgressTracker("cross-validate", recipe.folds, progress)
    tracker.update(0, force=True)
    for f in range(recipe.folds):
        if cancel is not None:
            cancel.raise_if_cancelled()
        val = np.array([i for i, k in enumerate(folds) if k == f], dtype=int)
        train = np.array([i for i, k in enumerate(folds) if k != f], dtype=int)
        if len(val) == 0 or len(train) == 0:
            tracker.advance()
            continue
        head = fit_on(emb, y, train, recipe, labels)
        probs[val] = head.probs(emb.clean(val))
        figures: dict[str, float | None] = {
            "macro_ap": M.macro(M.per_label(M.average_precision, y[val], probs[val], labels)),
            "macro_auc": M.macro(M.per_label(M.roc_auc, y[val], probs[val], labels)),
        }
        if fold_figures is not None:
            figures.update(fold_figures(y[val], probs[val], list(labels)))
        per_fold.append(figures)
        tracker.advance(current=f"fold {f + 1}/{recipe.folds}")
    return CrossValidation(folds, probs, per_fold)


def train_cover_head(
    dataset: Dataset,
    *,
    out_dir: Path,
    name: str,
    version: str,
    params: dict[str, Any],
    recipe: HeadRecipe,
    description: str,
    limits: list[str],
    license_: str,
    extra_metrics: ExtraMetrics | None = None,
    fold_figures: ExtraMetrics | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """The covers-v2 recipe: embed → cross-validate → fit → pack. Returns the :class:`TrainReport`."""
    import torch

    from musictagger.ml.backbones import load_backbone_state, source
    from musictagger.ml.efficientnet_lite import MEAN, STD
    from musictagger.ml.heads import build_cover_head

    started = time.monotonic()
    labels = list(dataset.labels)
    params = dict(params, exclusive=exclusive_indices(recipe, labels))
    model = build_cover_head(dict(params, n_labels=len(labels)))
    refs = [{"name": v, "sha256": source(v).sha256} for v in model.variants]
    for net, ref in zip(model.backbones, refs):
        net.load_state_dict(load_backbone_state(ref["name"], ref["sha256"], needed_by=name))
    model.eval()
    spec = {"size": model.resolution, "resize": "shorter_side_then_center_crop", "mean": list(MEAN),
            "std": list(STD)}  # fmt: skip

    emb = embed_covers(dataset.items, model, spec, augmented_views=recipe.augmented_views, seed=recipe.seed,
                       progress=progress, cancel=cancel)  # fmt: skip
    cv = cross_validate(emb, labels, recipe, fold_figures=fold_figures, progress=progress, cancel=cancel)
    y = _targets(emb.items, labels)
    metrics, thresholds = held_out_metrics(y, cv.probs, labels, extra_metrics)
    metrics["cross_validation"] = {"folds": recipe.folds, "grouped_by": "artist", **cv.summary()}

    head = fit_on(emb, y, np.arange(len(emb.items)), recipe, labels)
    with torch.no_grad():
        model.embed_mean.copy_(torch.from_numpy(head.mean))
        model.embed_std.copy_(torch.from_numpy(head.std))
        linear = model.classifier[-1]
        assert isinstance(linear, torch.nn.Linear)
        linear.weight.copy_(torch.from_numpy(head.weight))
        linear.bias.copy_(torch.from_numpy(head.bias))
    counts = {lab: int(v) for lab, v in zip(labels, y.sum(axis=0))}
    artists = {artist_key(it.artist) for it in emb.items}
    data = {
        "source": dataset.source,
        "items": len(emb.items),
        "train_items": len(emb.items),
        "val_items": len(emb.items),
        "train_artists": len(artists),
        "val_artists": len(artists),
        "split": "artist-kfold",
        "folds": recipe.folds,
        "shared_artists": 0,
        "skipped": dataset.skipped,
        "unreadable": len(dataset.items) - len(emb.items),
        "dropped_labels": dataset.dropped_labels,
        "train_label_counts": counts,
        "val_label_counts": counts,
        "seed": recipe.seed,
        "val_fraction": round(1 / recipe.folds, 3),
        "date": time.strftime("%Y-%m-%d"),
    }
    pack_spec = PackSpec(
        name=name,
        version=version,
        kind="cover",
        labels=labels,
        input=spec,
        architecture={"name": "cover_head", "params": dict(params, n_labels=len(labels))},
        description=description,
        license=license_,
        limits=limits,
        backbones=refs,
    )
    return finish_pack(
        out_dir,
        pack_spec,
        model.state_dict(),
        metrics=metrics,
        thresholds=thresholds,
        data=data,
        training={"recipe": asdict(recipe) | {"head": "logistic regression (L-BFGS)"}, "device": "cpu"},
        report=run_without_epochs(time.monotonic() - started, emb.errors),
    )
