"""The last stage of every training path: measure, calibrate, describe, save.

Whether a pack's weights came from epochs of gradient descent (:mod:`.trainer`), a head on
cached embeddings (:mod:`.heads`) or a head fitted on the user's library (:mod:`.learning`),
it ends the same way, here: per-label thresholds calibrated on held-out predictions, the
figures every card and manifest carry, the manifest, the model card, and an atomic, validated
save (:func:`musictagger.ml.packs.save_pack`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musictagger.errors import FileProblem
from musictagger.training import metrics as M
from musictagger.training.report import TrainReport, model_card

if TYPE_CHECKING:  # pragma: no cover
    import torch

ExtraMetrics = Callable[[np.ndarray, np.ndarray, list[str]], dict[str, Any]]


def held_out_metrics(
    y: np.ndarray, p: np.ndarray, labels: Sequence[str], extra: ExtraMetrics | None = None
) -> tuple[dict[str, Any], dict[str, float]]:
    """(metrics, thresholds) from held-out truths ``y`` and probabilities ``p`` (items × labels).

    Thresholds maximise each label's F1 on these predictions (so F1 at them is optimistic; AP and
    ROC-AUC do not depend on them).
    """
    labels = list(labels)
    thresholds, f1s = M.calibrate_thresholds(y, p, labels)
    per_ap = M.per_label(M.average_precision, y, p, labels)
    per_auc = M.per_label(M.roc_auc, y, p, labels)
    metrics: dict[str, Any] = {
        "per_label_ap": per_ap,
        "per_label_auc": per_auc,
        "per_label_f1": f1s,
        "macro_ap": M.macro(per_ap),
        "macro_auc": M.macro(per_auc),
        "macro_f1_at_thresholds": M.macro(f1s),
        "top1": M.top_k_accuracy(y, p, 1),
        "top5": M.top_k_accuracy(y, p, 5),
        "validation_items": int(len(y)),
    }
    if extra is not None:
        metrics.update(extra(y, p, labels))
    return metrics, thresholds


@dataclass
class PackSpec:
    """Everything about a pack except its weights and figures."""

    name: str
    version: str
    kind: str
    labels: list[str]
    input: dict[str, Any]
    architecture: dict[str, Any]
    description: str
    license: str
    limits: list[str]
    label_space: str = "taxonomy"
    label_map: dict[str, list[str]] = field(default_factory=dict)
    backbones: list[dict[str, str]] = field(default_factory=list)  # [{"name", "sha256"}]


def finish_pack(
    out_dir: Path,
    spec: PackSpec,
    state_dict: Mapping[str, torch.Tensor],
    *,
    metrics: dict[str, Any],
    thresholds: dict[str, float],
    data: dict[str, Any],
    training: dict[str, Any],
    report: dict[str, Any],
) -> TrainReport:
    """Write the pack ``out_dir/spec.name`` and return its :class:`TrainReport`.

    ``data``: counts, split and source (the card's "Data" section); ``training``: extra
    manifest facts (epochs, device, options); ``report``: the TrainReport's run fields
    (``epochs_run``, ``best_epoch``, ``stopped_early``, ``resumed_from_epoch``, ``history``,
    ``device``, ``elapsed_s``, ``errors``).
    """
    from musictagger.ml.packs import save_pack

    data = dict(data, thresholds=thresholds)
    result = TrainReport(
        pack_path=Path(out_dir) / spec.name,
        name=spec.name,
        version=spec.version,
        kind=spec.kind,
        labels=list(spec.labels),
        metrics=metrics,
        data=data,
        **report,
    )
    manifest: dict[str, Any] = {
        "name": spec.name,
        "version": spec.version,
        "kind": spec.kind,
        "labels": list(spec.labels),
        "label_space": spec.label_space,
        "input": spec.input,
        "architecture": spec.architecture,
        "thresholds": thresholds,
        "metrics": metrics,
        "training": {k: v for k, v in data.items() if k != "thresholds"} | training,
        "license": spec.license,
        "description": spec.description,
    }
    if spec.label_space == "free" and spec.label_map:
        manifest["label_map"] = spec.label_map
    if spec.backbones:
        manifest["backbones"] = [dict(ref) for ref in spec.backbones]
    card = model_card(result, description=spec.description, limits=spec.limits, license_=spec.license)
    save_pack(Path(out_dir) / spec.name, manifest, state_dict, card)
    return result


def run_without_epochs(
    elapsed_s: float, errors: list[FileProblem] | None = None, device: str = "cpu"
) -> dict[str, Any]:
    """The ``report`` argument of :func:`finish_pack` for a pack made without epochs (a head fitted to
    convergence, or a published model measured)."""
    return {"epochs_run": 0, "best_epoch": 0, "stopped_early": False, "resumed_from_epoch": None, "history": [],
            "device": device, "elapsed_s": elapsed_s, "errors": list(errors or [])}  # fmt: skip


def label_matrix(label_sets: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """Multi-hot (items × labels) float32 targets; labels outside ``labels`` are ignored."""
    index = {lab: j for j, lab in enumerate(labels)}
    y = np.zeros((len(label_sets), len(labels)), dtype=np.float32)
    for i, item_labels in enumerate(label_sets):
        for lab in item_labels:
            if lab in index:
                y[i, index[lab]] = 1.0
    return y


def positive_weights(freq: np.ndarray, cap: float) -> np.ndarray:
    """BCE positive-class weights from label frequencies: (1 − f)/f, between 1 and ``cap``."""
    return np.clip((1.0 - freq) / np.maximum(freq, 1e-6), 1.0, cap).astype(np.float32)
