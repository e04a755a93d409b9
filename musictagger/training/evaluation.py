"""Measuring a pack on labelled data: figures as JSON, and a self-contained HTML page.

The pack runs exactly as the suggestion engine runs it (covers through
:func:`~musictagger.ml.cover_input.preprocess_bytes`; audio as the pack's excerpts through its
mel front end, averaged per track and then per item), so the figures describe what a user gets.
Figures are computed over the labels the pack and the data share (a free-tag pack's outputs are
first mapped into the taxonomy, an id taking its best-scoring tag).

The HTML page has no external assets: plots are inline SVG drawn here, cover thumbnails are
base64 PNGs. It shows per-label AP and ROC-AUC, macro figures, top-1/top-5, a confusion matrix of
the top label, the "most <label>" items per label and the worst misses.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musictagger.errors import FileProblem, MusictaggerError
from musictagger.progress import CancelToken, ProgressCallback, ProgressTracker
from musictagger.training import metrics as M
from musictagger.training.data import Dataset, DatasetError, Item, cover_bytes, resolve


@dataclass
class EvalReport:
    pack: str
    kind: str
    data: str
    items: int
    labels: list[str]
    per_label_ap: dict[str, float | None]
    per_label_auc: dict[str, float | None]
    label_counts: dict[str, int]
    macro_ap: float | None
    macro_auc: float | None
    top1: float | None
    top5: float | None
    confusion: dict[str, Any]  # {"labels": [...], "counts": [[...]]}
    most: dict[str, list[dict[str, Any]]]  # label -> [{key, title, score, true}]
    worst_misses: list[dict[str, Any]]  # [{key, title, label, score, kind: "missed"|"false alarm"}]
    errors: list[FileProblem] = field(default_factory=list)  # JSON: [{path, message}]
    json_path: str | None = None
    html_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _pack_outputs_to_ids(pack) -> tuple[list[str], list[list[int]]]:
    """The taxonomy ids a pack speaks about, and for each the output columns that stand for it."""
    ids: list[str] = []
    cols: dict[str, list[int]] = {}
    for k, mapped in enumerate(pack.taxonomy_ids()):
        for i in mapped:
            if i not in cols:
                ids.append(i)
                cols[i] = []
            cols[i].append(k)
    return ids, [cols[i] for i in ids]


def run_pack(
    pack,
    items: Sequence[Item],
    device: str = "auto",
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    batch_size: int = 16,
) -> tuple[list[int], np.ndarray, list[FileProblem]]:
    """Item-level probabilities of ``pack`` (its own outputs), as the engine computes them.

    Returns (indices of the items that could be read, probabilities (n, outputs), errors).
    """
    import torch

    from musictagger.ml.device import select_device

    dev = select_device(device)
    model = pack.load_model(dev)
    tracker = ProgressTracker("evaluate", len(items), progress)
    ok: list[int] = []
    rows: list[np.ndarray] = []
    errors: list[FileProblem] = []

    def forward(x: np.ndarray, frontend=None) -> np.ndarray:
        outs = []
        with torch.inference_mode():
            for s in range(0, len(x), batch_size):
                t = torch.from_numpy(np.ascontiguousarray(x[s : s + batch_size])).to(dev)
                if frontend is not None:
                    t = frontend(t)
                outs.append(torch.sigmoid(model(t).float()).cpu().numpy())
        return np.concatenate(outs)

    frontend = policy = None
    if pack.kind == "audio":
        from musictagger.audio import ExcerptPolicy
        from musictagger.ml.frontend import build_frontend

        frontend = build_frontend(pack.input).to(dev).eval()
        policy = ExcerptPolicy.from_spec(pack.input)
    for i, item in enumerate(items):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            if pack.kind == "cover":
                from musictagger.ml.cover_input import preprocess_bytes

                data, source = cover_bytes(item)
                rows.append(forward(preprocess_bytes(data, pack.input, source=source)[None])[0])
            else:
                from musictagger.audio import read_excerpts

                per_track = []
                for path in item.tracks:
                    try:
                        assert policy is not None  # an audio pack's
                        ex = read_excerpts(path, int(pack.input["sample_rate"]), policy)
                    except MusictaggerError as exc:
                        errors.append(FileProblem.of(exc, path))
                        continue
                    per_track.append(forward(np.stack(ex).astype(np.float32), frontend).mean(axis=0))
                if not per_track:
                    raise DatasetError(f"{item.key}: no readable track")
                rows.append(np.mean(per_track, axis=0))
            ok.append(i)
        except MusictaggerError as exc:
            errors.append(FileProblem.of(exc, item.key))
        tracker.advance(current=item.key)
    n_out = len(pack.labels)
    return ok, (np.stack(rows) if rows else np.zeros((0, n_out), dtype=np.float32)), errors


def evaluate(
    pack,
    data: Dataset | str | Path,
    *,
    out_dir: str | Path | None = None,
    device: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    top_n: int = 6,
) -> EvalReport:
    from musictagger.ml.packs import ModelPack, find_pack, load_pack

    if not isinstance(pack, ModelPack):
        folder = Path(str(pack))
        pack = load_pack(folder) if folder.is_dir() else find_pack(str(pack))
    ds = resolve(data, pack.kind, min_count=1)
    ids, cols = _pack_outputs_to_ids(pack)
    data_labels = {lab for it in ds.items for lab in it.labels}
    shared = [(i, c) for i, c in zip(ids, cols) if i in data_labels]
    if not shared:
        raise DatasetError(f"{pack.name} and {ds.source} share no label: nothing to measure")
    labels = [i for i, _ in shared]
    ok, raw, errors = run_pack(pack, ds.items, device, progress=progress, cancel=cancel)
    items = [ds.items[i] for i in ok]
    if not items:
        raise DatasetError(f"{ds.source}: no item could be read")
    p = np.stack([raw[:, c].max(axis=1) for _, c in shared], axis=1)
    index = {lab: j for j, lab in enumerate(labels)}
    y = np.zeros_like(p)
    for r, it in enumerate(items):
        for lab in it.labels:
            if lab in index:
                y[r, index[lab]] = 1.0
    per_ap = M.per_label(M.average_precision, y, p, labels)
    per_auc = M.per_label(M.roc_auc, y, p, labels)
    conf_cols = [j for j in range(len(labels)) if y[:, j].any()]
    confusion = {"labels": [labels[j] for j in conf_cols], "counts": M.top_label_confusion(y, p, conf_cols).tolist()}
    most: dict[str, list[dict[str, Any]]] = {}
    for j, lab in enumerate(labels):
        order = np.argsort(-p[:, j], kind="mergesort")[:top_n]
        most[lab] = [
            {
                "key": items[r].key,
                "title": items[r].title or Path(items[r].key).name,
                "score": round(float(p[r, j]), 4),
                "true": bool(y[r, j]),
            }
            for r in order
        ]
    misses = []
    for r in range(len(items)):
        for j, lab in enumerate(labels):
            if y[r, j] and p[r, j] < 0.5:
                misses.append((1.0 - float(p[r, j]), r, lab, "missed"))
            elif not y[r, j] and p[r, j] >= 0.5:
                misses.append((float(p[r, j]), r, lab, "false alarm"))
    misses.sort(key=lambda m: -m[0])
    worst = [
        {
            "key": items[r].key,
            "title": items[r].title or Path(items[r].key).name,
            "label": lab,
            "score": round(float(p[r, index[lab]]), 4),
            "kind": kind,
        }
        for _, r, lab, kind in misses[:12]
    ]
    report = EvalReport(
        pack=f"{pack.name} {pack.version}",
        kind=pack.kind,
        data=ds.source,
        items=len(items),
        labels=labels,
        per_label_ap=per_ap,
        per_label_auc=per_auc,
        label_counts={lab: int(y[:, j].sum()) for j, lab in enumerate(labels)},
        macro_ap=M.macro(per_ap),
        macro_auc=M.macro(per_auc),
        top1=M.top_k_accuracy(y, p, 1),
        top5=M.top_k_accuracy(y, p, 5),
        confusion=confusion,
        most=most,
        worst_misses=worst,
        errors=errors,
    )
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        report.json_path = str(out / "evaluation.json")
        report.html_path = str(out / "evaluation.html")
        Path(report.json_path).write_text(
            json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        by_key = {it.key: it for it in items}
        Path(report.html_path).write_text(render_html(report, by_key), encoding="utf-8")
    return report


# ------------------------------------------------------------------------------------------ HTML
def _name(label: str) -> str:
    from musictagger.taxonomy import Taxonomy

    tax = Taxonomy.default()
    return tax.name(label) if label in tax else label


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def bar_chart_svg(values: dict[str, float | None], title: str, width: int = 560) -> str:
    """Horizontal bars in [0, 1], one row per label; undefined values drawn as a dash."""
    row, left = 18, 170
    height = row * len(values) + 30
    parts = [
        f'<svg width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(title)}"><text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>'
    ]
    for i, (lab, v) in enumerate(values.items()):
        y = 24 + i * row
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end">{html.escape(_name(lab))}</text>'
        )
        if v is None:
            parts.append(f'<text x="{left}" y="{y + 12}" font-size="11">–</text>')
            continue
        w = max(1, round((width - left - 50) * v))
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w}" height="{row - 5}" fill="#4a7ab5"/>')
        parts.append(f'<text x="{left + w + 4}" y="{y + 12}" font-size="11">{v:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def confusion_svg(labels: list[str], counts: list[list[int]]) -> str:
    n = len(labels)
    cell, left, top = 30, 150, 110
    size_w, size_h = left + cell * n + 10, top + cell * n + 10
    parts = [f'<svg width="{size_w}" height="{size_h}" role="img" aria-label="confusion matrix">']
    for j, lab in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text transform="translate({x},{top - 6}) rotate(-60)" font-size="11">{html.escape(_name(lab))}</text>'
        )
    for i, lab in enumerate(labels):
        total = max(1, sum(counts[i]))
        parts.append(
            f'<text x="{left - 6}" y="{top + i * cell + 19}" font-size="11" text-anchor="end">{html.escape(_name(lab))}</text>'
        )
        for j in range(n):
            share = counts[i][j] / total
            shade = int(255 - 200 * share)
            parts.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="rgb({shade},{shade},255)"><title>{counts[i][j]}</title></rect>'
            )
            if counts[i][j]:
                parts.append(
                    f'<text x="{left + j * cell + cell / 2}" y="{top + i * cell + 19}" font-size="10" '
                    f'text-anchor="middle">{counts[i][j]}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def _thumbnail(item: Item | None, size: int = 72) -> str:
    if item is None:
        return ""
    try:
        from musictagger.ml.cover_input import open_image

        data, source = cover_bytes(item)
        img = open_image(data, source=source, target_size=size)
        img.thumbnail((size, size))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return f'<img alt="" width="{img.size[0]}" height="{img.size[1]}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'
    except MusictaggerError:
        return ""


def render_html(r: EvalReport, items: dict[str, Item]) -> str:
    esc = html.escape
    cover = r.kind == "cover"
    rows = "".join(
        f"<tr><td>{esc(_name(lab))}</td><td>{r.label_counts[lab]}</td><td>{_fmt(r.per_label_ap[lab])}</td>"
        f"<td>{_fmt(r.per_label_auc[lab])}</td></tr>"
        for lab in r.labels
    )
    most = []
    for lab, entries in r.most.items():
        cells = "".join(
            f'<figure class="{"hit" if e["true"] else "miss"}">{_thumbnail(items.get(e["key"])) if cover else ""}'
            f"<figcaption>{esc(e['title'])}<br>{e['score']:.2f}{'' if e['true'] else ' ✗'}</figcaption></figure>"
            for e in entries
        )
        most.append(f"<h3>Most “{esc(_name(lab))}”</h3><div class=row>{cells}</div>")
    misses = "".join(
        f"<tr><td>{_thumbnail(items.get(m['key']), 48) if cover else ''}</td><td>{esc(m['title'])}</td>"
        f"<td>{esc(_name(m['label']))}</td><td>{m['kind']}</td><td>{m['score']:.2f}</td></tr>"
        for m in r.worst_misses
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation of {esc(r.pack)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
.row {{ display: flex; flex-wrap: wrap; gap: 8px; }} figure {{ margin: 0; width: 96px; font-size: 11px; }}
figure.miss figcaption {{ color: #b00; }} .figures td:first-child {{ font-weight: bold; }}
</style></head><body>
<h1>Evaluation of {esc(r.pack)} ({esc(r.kind)} model)</h1>
<p>Data: {esc(r.data)} — {r.items} items, {len(r.errors)} unreadable.</p>
<table class=figures>
<tr><td>macro AP</td><td>{_fmt(r.macro_ap)}</td></tr><tr><td>macro ROC-AUC</td><td>{_fmt(r.macro_auc)}</td></tr>
<tr><td>top-1</td><td>{_fmt(r.top1)}</td></tr><tr><td>top-5</td><td>{_fmt(r.top5)}</td></tr></table>
<h2>Per label</h2>
{bar_chart_svg(r.per_label_ap, "Average precision per label")}
{bar_chart_svg(r.per_label_auc, "ROC-AUC per label")}
<table><tr><th>label</th><th>items</th><th>AP</th><th>ROC-AUC</th></tr>{rows}</table>
<h2>Confusion of the top label</h2>
<p>Rows: a true label of the item; columns: the label the model scored highest.</p>
{confusion_svg(r.confusion["labels"], r.confusion["counts"])}
<h2>Highest-scoring items per label</h2>
{"".join(most)}
<h2>Worst misses</h2>
<table><tr><th></th><th>item</th><th>label</th><th>what</th><th>score</th></tr>{misses}</table>
</body></html>
"""
