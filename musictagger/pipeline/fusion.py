"""Fusion of model outputs into album suggestions — pure arithmetic, no torch, no I/O.

The rules, in order:

1. **Per track**: the mean of its excerpts' probabilities (``mean_probs``).
2. **Per album, audio**: the mean over its tracks (each track counts once, whatever its length).
3. **Into the taxonomy**: packs whose labels are free tags (an imported model) are mapped through
   their ``label_map``; a taxonomy label fed by several tags takes the *max* of them (any one tag is
   evidence), and the threshold of the tag that gave it.
4. **Per source kind** (:data:`KINDS`: the cover and audio packs, the packs learnt from the user's
   *library*, and the *artist* prior) several views are averaged per label, weighted by their
   validation quality for that label (``ModelPack.label_quality()``, AP on held-out data).
5. **Across kinds**: per label, the quality-weighted mean of the kinds' probabilities, each kind
   also scaled by its configured weight (``fusion.cover_weight`` …). Thresholds are fused with the
   same weights, so a label is suggested when its fused probability reaches its fused threshold; a
   label the user has 200 albums of trusts the library, one they never used still gets the bundled
   models' opinion.
6. **Selection**: labels at or above threshold and ``min_confidence``, best first, at most ``top_k``;
   then **parent closure**: each selected label's ancestors are added as ``implied`` suggestions
   (confidence = the higher of their own score and their best child's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import get_args

from musictagger.pipeline.types import SourceKind, Suggestion

QUALITY_FLOOR = 0.05  # a pack never gets zero say on a label it was trained on
KINDS: tuple[SourceKind, ...] = get_args(SourceKind)


@dataclass(frozen=True)
class SourceView:
    """One pack's output on one album, already in taxonomy ids."""

    kind: SourceKind
    probs: Mapping[str, float]
    thresholds: Mapping[str, float]
    quality: Mapping[str, float]


def mean_probs(rows: Sequence[Sequence[float]]) -> list[float]:
    """Column means of equally long probability rows (excerpts of a track, tracks of an album)."""
    if not rows:
        return []
    n = len(rows[0])
    return [sum(r[i] for r in rows) / len(rows) for i in range(n)]


def to_taxonomy(
    labels: Sequence[str],
    probs: Sequence[float],
    thresholds: Mapping[str, float],
    quality: Mapping[str, float],
    label_map: Mapping[str, Sequence[str]] | None,
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """A pack's per-label outputs → (probs, thresholds, quality) keyed by taxonomy id."""
    p_out: dict[str, float] = {}
    t_out: dict[str, float] = {}
    q_out: dict[str, float] = {}
    for label, p in zip(labels, probs):
        targets = label_map.get(label, ()) if label_map is not None else (label,)
        for target in targets:
            if target not in p_out or p > p_out[target]:
                p_out[target] = float(p)
                t_out[target] = float(thresholds.get(label, 0.5))
                q_out[target] = max(float(quality.get(label, 0.5)), QUALITY_FLOOR)
    return p_out, t_out, q_out


def combine(views: Iterable[SourceView]) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Quality-weighted mean per label over several views → (probs, thresholds, weights)."""
    acc: dict[str, list[float]] = {}
    for v in views:
        for label, p in v.probs.items():
            q = max(v.quality.get(label, 0.5), QUALITY_FLOOR)
            a = acc.setdefault(label, [0.0, 0.0, 0.0, 0.0])
            a[0] += q * p
            a[1] += q * v.thresholds.get(label, 0.5)
            a[2] += q
            a[3] = max(a[3], q)
    probs = {k: a[0] / a[2] for k, a in acc.items()}
    thr = {k: a[1] / a[2] for k, a in acc.items()}
    weight = {k: a[3] for k, a in acc.items()}
    return probs, thr, weight


def fuse(
    views: Sequence[SourceView],
    *,
    names: Mapping[str, str] | None = None,
    parents: Mapping[str, Sequence[str]] | None = None,
    weights: Mapping[SourceKind, float] | None = None,
    min_confidence: float = 0.0,
    top_k: int = 5,
) -> tuple[list[Suggestion], dict[SourceKind, dict[str, float]]]:
    """Fuse the views of one album.

    ``names`` maps taxonomy ids to display names; ``parents`` maps an id to its ancestors, nearest
    first (``Taxonomy.parents``); ``weights`` scales each kind (default 1; 0 turns it off).
    Returns (suggestions, {kind: {label: probability}}).
    """
    names = names or {}
    parents = parents or {}
    weights = weights or {}
    per_kind = {kind: combine(v for v in views if v.kind == kind) for kind in KINDS}
    scores = {kind: per_kind[kind][0] for kind in KINDS}

    fused: dict[str, tuple[float, float]] = {}
    for label in {k for kind in KINDS for k in scores[kind]}:
        num = thr = den = 0.0
        for kind in KINDS:
            p, t, q = per_kind[kind]
            w_kind = float(weights.get(kind, 1.0))
            if label in p and w_kind > 0:
                w = q[label] * w_kind
                num, thr, den = num + w * p[label], thr + w * t[label], den + w
        if den > 0:
            fused[label] = (num / den, thr / den)

    def suggestion(label: str, implied: bool, confidence: float | None = None) -> Suggestion:
        p, t = fused.get(label, (0.0, 0.5))
        return Suggestion(
            label=label,
            name=names.get(label, label),
            confidence=p if confidence is None else confidence,
            cover=scores["cover"].get(label),
            audio=scores["audio"].get(label),
            threshold=t,
            implied=implied,
            library=scores["library"].get(label),
            artist=scores["artist"].get(label),
        )

    ranked = sorted(fused, key=lambda k: (-fused[k][0], k))
    chosen = [k for k in ranked if fused[k][0] >= fused[k][1] and fused[k][0] >= min_confidence]
    if top_k > 0:
        chosen = chosen[:top_k]
    out = [suggestion(k, implied=False) for k in chosen]
    present = set(chosen)
    implied: dict[str, float] = {}
    for s in out:
        for parent in parents.get(s.label, ()):
            if parent not in present:
                own = fused.get(parent, (0.0, 0.5))[0]
                implied[parent] = max(implied.get(parent, 0.0), own, s.confidence)
    for label, conf in sorted(implied.items(), key=lambda kv: -kv[1]):
        out.append(suggestion(label, implied=True, confidence=conf))
    return out, scores
