"""Fusion of model outputs into album suggestions — pure arithmetic, no torch, no I/O.

The rules, in order:

1. **Per track**: the mean of its excerpts' probabilities (``mean_probs``).
2. **Per album, audio**: the mean over its tracks (each track counts once, whatever its length).
3. **Into the taxonomy**: packs whose labels are free tags (an imported model) are mapped through
   their ``label_map``; a taxonomy label fed by several tags takes the *max* of them (any one tag is
   evidence), and the threshold of the tag that gave it.
4. **Per source kind** (cover, audio) several packs are averaged per label, weighted by each pack's
   validation quality for that label (``ModelPack.label_quality()``, AP on held-out data).
5. **Cover + audio**: per label, the quality-weighted mean of the two kinds' probabilities, each kind
   also scaled by the configured ``cover_weight`` / ``audio_weight``. Thresholds are fused with the
   same weights, so a label is suggested when its fused probability reaches its fused threshold.
6. **Selection**: labels at or above threshold and ``min_confidence``, best first, at most ``top_k``;
   then **parent closure**: each selected label's ancestors are added as ``implied`` suggestions
   (confidence = the higher of their own score and their best child's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from musictagger.pipeline.types import Suggestion

QUALITY_FLOOR = 0.05  # a pack never gets zero say on a label it was trained on


@dataclass(frozen=True)
class SourceView:
    """One pack's output on one album, already in taxonomy ids."""

    kind: str  # "cover" | "audio"
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
    cover_weight: float = 1.0,
    audio_weight: float = 1.0,
    min_confidence: float = 0.0,
    top_k: int = 5,
) -> tuple[list[Suggestion], dict[str, float], dict[str, float]]:
    """Fuse cover and audio views of one album.

    ``names`` maps taxonomy ids to display names; ``parents`` maps an id to its ancestors, nearest
    first (``Taxonomy.parents``). Returns (suggestions, cover_probs, audio_probs).
    """
    names = names or {}
    parents = parents or {}
    cover_p, cover_t, cover_q = combine(v for v in views if v.kind == "cover")
    audio_p, audio_t, audio_q = combine(v for v in views if v.kind == "audio")

    fused: dict[str, tuple[float, float]] = {}
    for label in {*cover_p, *audio_p}:
        num = thr = den = 0.0
        if label in cover_p and cover_weight > 0:
            w = cover_q[label] * cover_weight
            num, thr, den = num + w * cover_p[label], thr + w * cover_t[label], den + w
        if label in audio_p and audio_weight > 0:
            w = audio_q[label] * audio_weight
            num, thr, den = num + w * audio_p[label], thr + w * audio_t[label], den + w
        if den > 0:
            fused[label] = (num / den, thr / den)

    def suggestion(label: str, implied: bool, confidence: float | None = None) -> Suggestion:
        p, t = fused.get(label, (0.0, 0.5))
        return Suggestion(
            label=label,
            name=names.get(label, label),
            confidence=p if confidence is None else confidence,
            cover=cover_p.get(label),
            audio=audio_p.get(label),
            threshold=t,
            implied=implied,
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
    return out, cover_p, audio_p
