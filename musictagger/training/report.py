"""What a training run reports, and the model card written from it (no torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from musictagger.errors import FileProblem


@dataclass
class TrainReport:
    pack_path: Path
    name: str
    version: str
    kind: str
    labels: list[str]
    metrics: dict[str, Any]  # as stored in the manifest (per_label_ap, macro_ap, …)
    data: dict[str, Any]  # counts, split, seed, date, source
    epochs_run: int
    best_epoch: int
    stopped_early: bool
    resumed_from_epoch: int | None
    history: list[dict[str, float | None]]
    device: str
    elapsed_s: float
    errors: list[FileProblem] = field(default_factory=list)  # unusable inputs

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["pack_path"] = str(self.pack_path)
        out["errors"] = [e.to_json() for e in self.errors]
        return out


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _label_name(label: str) -> str:
    try:
        from musictagger.taxonomy import Taxonomy

        tax = Taxonomy.default()
        return tax.name(label) if label in tax else label
    except Exception:  # noqa: BLE001 - a card must be writable even without a taxonomy
        return label


# Headline figures, in the order the card lists them, with what they mean.
HEADLINES = (
    ("macro_ap", "macro average precision over labels (validation)"),
    ("macro_auc", "macro ROC-AUC over labels (validation)"),
    ("top1", "top-1 accuracy: the highest-scoring label is a true label"),
    ("top5", "top-5 accuracy: a true label is among the five highest"),
    (
        "broad_balanced_accuracy",
        "balanced accuracy over the broad genres: mean per-genre recall of the "
        "highest broad-genre score (chance 1/number of genres, whatever the class sizes)",
    ),
    ("broad_chance", "chance level of the balanced accuracy over the broad genres"),
    ("broad_accuracy", "accuracy over the broad genres (highest broad-genre score is the true one)"),
    ("metal_vs_hiphop_balanced_accuracy", "metal vs hip hop balanced accuracy (mean of the two recalls; chance 0.5)"),
    ("metal_vs_hiphop_auc", "metal vs hip hop ROC-AUC of p(metal) − p(hip hop) (chance 0.5)"),
    ("metal_vs_hiphop_accuracy", "metal vs hip hop accuracy (albums that are one of the two)"),
    ("teacher_top5_overlap", "share of the teacher's top-5 labels the student also ranks top-5"),
    ("teacher_mean_abs_diff", "mean |Δp| between student and teacher probabilities"),
    ("macro_f1_at_thresholds", "macro F1 at the calibrated thresholds (validation)"),
)


def headline_lines(metrics: dict[str, Any]) -> list[str]:
    """One markdown bullet per headline figure present in ``metrics``: ``- **key**: value — meaning``.

    The card is generated from these, so a test can check that the card says what the manifest says.
    """
    return [f"- **{key}**: {_fmt(metrics[key])} — {meaning}" for key, meaning in HEADLINES if key in metrics]


def _split_line(d: dict[str, Any]) -> str:
    how = f"(seed {d.get('seed')}, validation share {d.get('val_fraction')})"
    if d.get("split") == "artist-kfold":
        return (
            f"- Evaluation: {d.get('folds')}-fold cross-validation grouped by artist ({d.get('train_artists', 0)} "
            f"artists, seed {d.get('seed')}): every figure below is out-of-fold — each item scored by a head "
            "fitted without its artist — and thresholds are calibrated on those predictions; the pack's own head "
            "is then fitted on every item."
        )
    if d.get("split") == "calibration":
        return (
            f"- Calibration: {d.get('items', 0)} labelled tracks measured with the published weights (no training "
            "by musictagger); thresholds and figures come from them."
        )
    if d.get("split", "artist") == "random":
        return (
            f"- Split: at random by item — {d.get('train_artists', 0)} training artists, {d.get('val_artists', 0)} "
            f"validation artists, {d.get('shared_artists', 0)} on both sides {how}. Figures include "
            "recognising those artists: they overstate what the model does for an artist it never saw."
        )
    return (
        f"- Split: by artist — {d.get('train_artists', 0)} training artists, {d.get('val_artists', 0)} validation "
        f"artists, none on both sides {how}."
    )


def model_card(report: TrainReport, *, description: str, limits: list[str], license_: str) -> str:
    d = report.data
    m = report.metrics
    lines = [
        f"# {report.name} {report.version} ({report.kind} model)",
        "",
        description,
        "",
        "## Data",
        "",
        f"- Source: {d.get('source', 'n/a')}",
        f"- Items used: {d.get('items', 0)} ({d.get('train_items', 0)} training, {d.get('val_items', 0)} validation); "
        f"{d.get('skipped', 0)} skipped without a usable label, {d.get('unreadable', 0)} unreadable.",
        _split_line(d),
        f"- Trained: {d.get('date')}, {report.epochs_run} epochs (best epoch {report.best_epoch}"
        f"{', stopped early' if report.stopped_early else ''}), on {report.device}."
        if report.epochs_run
        else f"- Made: {d.get('date')}, on {report.device} (no epochs: a convex head fitted to convergence, or none).",
    ]
    if d.get("teacher"):
        lines.append(f"- Distilled from the teacher model {d['teacher']} (soft targets: its probabilities).")
    lines += [
        "",
        "## Labels",
        "",
        "| label | training items | validation items | validation AP | threshold |",
        "|---|---|---|---|---|",
    ]
    counts_t = d.get("train_label_counts", {})
    counts_v = d.get("val_label_counts", {})
    ap = m.get("per_label_ap", {})
    thresholds = d.get("thresholds", {})
    for label in report.labels:
        lines.append(
            f"| {_label_name(label)} (`{label}`) | {counts_t.get(label, 0)} | {counts_v.get(label, 0)} | "
            f"{_fmt(ap.get(label))} | {_fmt(thresholds.get(label))} |"
        )
    lines += ["", "## Validation figures", "", *headline_lines(m), ""]
    cv = m.get("cross_validation")
    if isinstance(cv, dict):
        lines += [f"## Cross-validation ({cv.get('folds')} folds, grouped by {cv.get('grouped_by')})", ""]
        lines += ["| figure | mean | sd | folds |", "|---|---|---|---|"]
        for key, v in cv.items():
            if isinstance(v, dict) and v.get("n"):
                lines.append(f"| {key} | {_fmt(v['mean'])} | {_fmt(v['sd'])} | {v['n']} |")
        lines.append("")
    lines += ["## Limits", "", *[f"- {x}" for x in limits], "", "## Licence", "", license_, ""]
    return "\n".join(lines)
