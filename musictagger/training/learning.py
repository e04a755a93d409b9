"""Learning from the user's own library: packs "my-library-cover" and "my-library-audio".

The user's tagged albums are the labels (through the taxonomy). What is trained depends on size:

* **Small libraries** (fewer than ``head_only_max`` albums, the usual case) with a bundled pack
  of the kind available: the bundled model's backbone is kept frozen and only a new linear head
  is fitted, on embeddings (``embed()``) computed once per cover / audio excerpt. Minutes on a
  laptop CPU, and far less prone to overfitting a few hundred albums than training a network.
  The head is then exported as a *full* pack (backbone weights + new head, same architecture), so
  inference needs nothing special.
* **Large libraries**, or no bundled pack: a full :func:`~musictagger.training.train_pack` run,
  starting from the bundled weights where they fit.

Packs go to the user model folder (``app_dirs().models``), where
``musictagger.pipeline.select_packs("user")`` finds them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musictagger.progress import CancelToken, ProgressCallback, ProgressTracker
from musictagger.training.data import Dataset, DatasetError, from_folder

USER_PACK = {"cover": "my-library-cover", "audio": "my-library-audio"}
HEAD_NAMES = {"cover_cnn": "classifier", "crnn": "head"}


@dataclass
class LearnedPack:
    kind: str
    name: str
    path: str
    mode: str  # "linear-head" on a bundled backbone, or "full"
    base: str | None  # the backbone's pack, for linear-head
    labels: list[str]
    label_counts: dict[str, int]
    albums_used: int
    albums_skipped: int
    macro_ap: float | None
    per_label_ap: dict[str, float | None]
    elapsed_s: float


@dataclass
class LearnReport:
    trained: list[LearnedPack] = field(default_factory=list)
    not_trained: dict[str, str] = field(default_factory=dict)  # kind -> why not
    albums_used: int = 0
    albums_skipped: int = 0

    def summary(self) -> str:
        from musictagger.training.report import _label_name

        lines = []
        for p in self.trained:
            ap = "n/a" if p.macro_ap is None else f"{p.macro_ap:.2f}"
            lines.append(
                f"{p.name} ({p.mode}, {p.albums_used} albums, {p.albums_skipped} without a usable genre): "
                f"{len(p.labels)} labels, validation macro AP {ap}"
            )
            for lab in p.labels:
                v = p.per_label_ap.get(lab)
                lines.append(
                    f"  {_label_name(lab)}: {p.label_counts.get(lab, 0)} albums, AP {'n/a' if v is None else f'{v:.2f}'}"
                )
        for kind, why in self.not_trained.items():
            lines.append(f"{kind}: not trained — {why}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _bundled_base(kind: str):
    from musictagger.ml.packs import find_packs

    candidates = [p for p in find_packs(include_user=False) if p.kind == kind and p.architecture["name"] in HEAD_NAMES]
    return max(candidates, key=lambda p: p.version) if candidates else None


def learn(
    roots: Sequence[str | Path],
    *,
    kinds: Sequence[str] = ("cover", "audio"),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    epochs: int | None = None,
    device: str = "auto",
    seed: int = 0,
    options: Any = None,
    base: dict[str, Any] | None = None,
    head_only_max: int = 2000,
    out_dir: str | Path | None = None,
) -> LearnReport:
    """Train the user's packs from the tagged albums under ``roots``.

    ``base`` maps a kind to the pack whose backbone to reuse (default: the bundled pack of that
    kind; ``{}`` forces full training). ``out_dir`` defaults to the user model folder.
    """
    from musictagger.paths import app_dirs
    from musictagger.training import train_pack
    from musictagger.training.trainer import TrainOptions

    options = options or TrainOptions()
    target = Path(out_dir) if out_dir is not None else app_dirs().ensure().models
    report = LearnReport()
    for kind in kinds:
        started = time.monotonic()
        try:
            ds = from_folder(roots, kind, min_count=options.min_count, progress=progress, cancel=cancel)
        except DatasetError as exc:
            report.not_trained[kind] = str(exc)
            continue
        report.albums_used = max(report.albums_used, len(ds.items))
        report.albums_skipped = ds.skipped if not report.trained else min(report.albums_skipped, ds.skipped)
        chosen = (base or {}).get(kind) if base is not None else _bundled_base(kind)
        name = USER_PACK[kind]
        try:
            if chosen is not None and len(ds.items) < head_only_max:
                metrics, labels, counts = fit_head(
                    kind,
                    ds,
                    chosen,
                    target,
                    name,
                    epochs=epochs or 300,
                    seed=seed,
                    device=device,
                    options=options,
                    progress=progress,
                    cancel=cancel,
                )
                mode = "linear-head"
            else:
                r = train_pack(
                    kind,
                    ds,
                    out_dir=target,
                    name=name,
                    epochs=epochs or 30,
                    seed=seed,
                    device=device,
                    options=options,
                    progress=progress,
                    cancel=cancel,
                    init_from=chosen,
                )
                metrics, labels = r.metrics, r.labels
                counts = {lab: r.data["train_label_counts"][lab] + r.data["val_label_counts"][lab] for lab in labels}
                mode = "full"
        except DatasetError as exc:
            report.not_trained[kind] = str(exc)
            continue
        report.trained.append(
            LearnedPack(
                kind=kind,
                name=name,
                path=str(target / name),
                mode=mode,
                base=f"{chosen.name} {chosen.version}" if chosen is not None and mode == "linear-head" else None,
                labels=labels,
                label_counts=counts,
                albums_used=len(ds.items),
                albums_skipped=ds.skipped,
                macro_ap=metrics.get("macro_ap"),
                per_label_ap=metrics.get("per_label_ap", {}),
                elapsed_s=time.monotonic() - started,
            )
        )
    return report


def fit_head(
    kind: str,
    ds: Dataset,
    base,
    out_dir: Path,
    name: str,
    *,
    epochs: int,
    seed: int,
    device: str,
    options: Any,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    views: int = 4,
) -> tuple[dict[str, Any], list[str], dict[str, int]]:
    """Fit a linear head on frozen ``base`` embeddings and save the full pack; return its metrics."""
    import torch
    from torch import nn

    from musictagger.ml.device import select_device, set_cpu_threads
    from musictagger.ml.packs import build_model
    from musictagger.training import metrics as M
    from musictagger.training.finish import PackSpec, finish_pack, held_out_metrics
    from musictagger.training.split import artist_key, artist_split
    from musictagger.training.trainer import AudioFeed, CoverFeed

    dev = select_device(device)
    if dev.type == "cpu":
        set_cpu_threads(options.cpu_threads)
    labels = list(ds.labels)
    index = {lab: j for j, lab in enumerate(labels)}
    train_items, val_items = artist_split(ds.items, options.val_fraction, seed)
    if not train_items or not val_items:
        raise DatasetError(f"{ds.source}: a validation split needs albums by at least two artists")
    val_keys = {it.key for it in val_items}
    errors: list[tuple[str, str]] = []
    tracker = ProgressTracker("embed", len(ds.items), progress)
    backbone = base.load_model(dev)
    rng = np.random.default_rng(seed)

    # Embeddings: per item a list of rows (covers: the clean view + augmented views for training;
    # audio: one row per excerpt), computed once with the frozen backbone.
    def embed(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return backbone.embed(torch.from_numpy(np.ascontiguousarray(x)).to(dev)).float().cpu().numpy()

    rows: dict[str, np.ndarray] = {}
    if kind == "cover":
        from musictagger.ml.cover_input import preprocess

        feed = CoverFeed(base.input)
        ok = feed.prepare(ds.items, val_keys, tracker, cancel, errors)
        for it in ok:
            if it.key in val_keys:
                x = [feed.val_inputs[it.key]]
            else:
                img = feed.images[it.key]
                x = [preprocess(img, base.input)]
                x += [preprocess(img, base.input, augment=True, rng=rng) for _ in range(views)]
            rows[it.key] = embed(np.stack(x))
    else:
        feed = AudioFeed(base.input, options, dev, None, labels)
        ok = feed.prepare(ds.items, val_keys, tracker, cancel, errors)
        for i, x in feed.val_batches(ok):
            rows[ok[i].key] = embed(x)
    train_items = [it for it in train_items if it.key in rows]
    val_items = [it for it in val_items if it.key in rows]
    if not train_items or not val_items:
        raise DatasetError(f"{ds.source}: too few readable albums to train and validate")

    def targets(items):
        y = np.zeros((len(items), len(labels)), dtype=np.float32)
        for r, it in enumerate(items):
            for lab in it.labels:
                y[r, index[lab]] = 1.0
        return y

    y_tr, y_va = targets(train_items), targets(val_items)
    x_tr = np.concatenate([rows[it.key] for it in train_items])
    y_rows = np.concatenate([np.repeat(y_tr[r : r + 1], len(rows[it.key]), axis=0) for r, it in enumerate(train_items)])
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-6
    freq = y_tr.mean(axis=0)
    pos_weight = np.clip((1 - freq) / np.maximum(freq, 1e-6), 1.0, options.pos_weight_max).astype(np.float32)

    torch.manual_seed(seed)
    head = nn.Linear(x_tr.shape[1], len(labels))
    opt = torch.optim.AdamW(head.parameters(), lr=1e-2, weight_decay=1e-3)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(pos_weight))
    xt = torch.from_numpy((x_tr - mean) / std)
    yt = torch.from_numpy(y_rows)

    def val_probs(h: nn.Module) -> np.ndarray:
        with torch.inference_mode():
            return np.stack(
                [torch.sigmoid(h(torch.from_numpy((rows[it.key] - mean) / std))).mean(0).numpy() for it in val_items]
            )

    fit = ProgressTracker("train", epochs, progress)
    best, best_state, bad = -1.0, None, 0
    for step in range(epochs):
        if cancel is not None:
            cancel.raise_if_cancelled()
        opt.zero_grad()
        loss_fn(head(xt), yt).backward()
        opt.step()
        if step % 10 == 9 or step == epochs - 1:
            ap = M.macro(M.per_label(M.average_precision, y_va, val_probs(head), labels)) or 0.0
            if ap > best + 1e-6:
                best, bad = ap, 0
                best_state = {k: v.clone() for k, v in head.state_dict().items()}
            else:
                bad += 1
                if bad >= 5:
                    break
        fit.advance(current=f"step {step + 1}")
    head.load_state_dict(best_state)
    p_va = val_probs(head)
    metrics, thresholds = held_out_metrics(y_va, p_va, labels)

    # Fold the input standardisation into the head: W' = W / std, b' = b − W'·mean.
    w = head.weight.detach().numpy() / std[None, :]
    b = head.bias.detach().numpy() - w @ mean
    arch = base.architecture
    arch["params"]["n_labels"] = len(labels)
    model = build_model(arch, n_labels=len(labels))
    prefix = HEAD_NAMES[arch["name"]]
    state = {k: v for k, v in base.load_model("cpu").state_dict().items() if not k.startswith(prefix + ".")}
    state[f"{prefix}.weight"] = torch.from_numpy(w.astype(np.float32))
    state[f"{prefix}.bias"] = torch.from_numpy(b.astype(np.float32))
    model.load_state_dict(state, strict=True)

    counts = {lab: int(y_tr[:, j].sum() + y_va[:, j].sum()) for j, lab in enumerate(labels)}
    data = {
        "source": ds.source,
        "items": len(train_items) + len(val_items),
        "train_items": len(train_items),
        "val_items": len(val_items),
        "train_artists": len({artist_key(i.artist) for i in train_items}),
        "val_artists": len({artist_key(i.artist) for i in val_items}),
        "skipped": ds.skipped,
        "unreadable": len(ds.items) - len(rows),
        "seed": seed,
        "val_fraction": options.val_fraction,
        "date": time.strftime("%Y-%m-%d"),
        "train_label_counts": {lab: int(y_tr[:, j].sum()) for j, lab in enumerate(labels)},
        "val_label_counts": {lab: int(y_va[:, j].sum()) for j, lab in enumerate(labels)},
        "mode": "linear-head",
        "base": f"{base.name} {base.version}",
    }
    description = (
        f"Your library's {kind} model: a linear head for {len(labels)} of your genres on the frozen "
        f"backbone of {base.name} {base.version}, learnt from your own tags."
    )
    limits = [
        f"Learnt from {data['items']} of your albums; validation uses {data['val_items']} albums by "
        f"{data['val_artists']} artists, so the figures are rough.",
        "It repeats your tagging habits, including mistakes; genres with few albums are learnt poorly.",
        f"Only the last layer was trained; what {base.name} cannot see, this cannot either.",
    ]
    spec = PackSpec(name=name, version="1.0.0", kind=kind, labels=labels, input=base.input, architecture=arch,
                    description=description, license="GPL-3.0-or-later (trained from your own library)",
                    limits=limits)  # fmt: skip
    finish_pack(
        out_dir,
        spec,
        model.state_dict(),
        metrics=metrics,
        thresholds=thresholds,
        data=data,
        training={"mode": "linear-head", "base": f"{base.name} {base.version}"},
        report={
            "epochs_run": step + 1,
            "best_epoch": 0,
            "stopped_early": bad >= 5,
            "resumed_from_epoch": None,
            "history": [],
            "device": str(dev),
            "elapsed_s": 0.0,
            "errors": errors,
        },  # fmt: skip
    )
    return metrics, labels, counts
