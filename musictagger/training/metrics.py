"""Evaluation figures for multi-label taggers, in numpy (no scikit-learn, no torch).

Conventions (as scikit-learn's): average precision is the step-wise area under the
precision-recall curve, ``AP = Σ (R_k − R_{k−1}) · P_k`` over descending scores with tied scores
treated as one threshold; ROC-AUC is the Mann-Whitney statistic with average ranks for ties.
A label with no positive (or, for AUC, no negative) example has no defined value: ``None``, and
macro figures average only the defined ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Thresholds are kept strictly inside (0, 1), as pack manifests require.
THRESHOLD_MIN, THRESHOLD_MAX = 0.01, 0.99
FALLBACK_THRESHOLD = 0.5


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    y = np.asarray(y_true, dtype=bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    n_pos = int(y.sum())
    if n_pos == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    # Last index of each run of tied scores: one threshold per distinct score.
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(y)[distinct]
    fp = (distinct + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    xs = x[order]
    starts = np.r_[0, np.nonzero(np.diff(xs))[0] + 1]
    ends = np.r_[starts[1:], len(xs)]
    for a, b in zip(starts, ends):
        ranks[order[a:b]] = (a + b + 1) / 2.0  # mean of 1-based ranks a+1 .. b
    return ranks


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    y = np.asarray(y_true, dtype=bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def per_label(fn, y: np.ndarray, p: np.ndarray, labels: Sequence[str]) -> dict[str, float | None]:
    return {lab: fn(y[:, j], p[:, j]) for j, lab in enumerate(labels)}


def macro(values: dict[str, float | None]) -> float | None:
    defined = [v for v in values.values() if v is not None]
    return float(np.mean(defined)) if defined else None


def best_f1_threshold(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float | None]:
    """(threshold, F1) maximising F1 for one label; ``(0.5, None)`` without positives.

    When the best F1 is no better than calling every item positive (the model does not rank the
    label), the threshold falls back to 0.5 too, with that F1.

    Candidate thresholds are midpoints between consecutive distinct scores (so the choice
    generalises a little beyond the exact validation scores), clipped into (0, 1).
    """
    y = np.asarray(y_true, dtype=bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    n_pos = int(y.sum())
    if n_pos == 0 or len(s) == 0:
        return FALLBACK_THRESHOLD, None
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(y)[distinct].astype(np.float64)
    predicted = (distinct + 1).astype(np.float64)
    f1 = 2 * tp / (predicted + n_pos)
    k = int(np.argmax(f1))
    # A label the model cannot rank reaches its best F1 by calling every item positive; a
    # threshold at the bottom of the scale would then tag everything. Keep the neutral default.
    if f1[k] <= 1.05 * (2 * n_pos / (len(s) + n_pos)):
        return FALLBACK_THRESHOLD, float(f1[k])
    idx = distinct[k]
    below = s[idx + 1] if idx + 1 < len(s) else max(0.0, s[idx] - 0.05)
    threshold = float(np.clip((s[idx] + below) / 2.0, THRESHOLD_MIN, THRESHOLD_MAX))
    return threshold, float(f1[k])


def calibrate_thresholds(
    y: np.ndarray, p: np.ndarray, labels: Sequence[str]
) -> tuple[dict[str, float], dict[str, float | None]]:
    """Per-label F1-maximising thresholds on validation data, and the F1 each reaches."""
    thresholds: dict[str, float] = {}
    f1s: dict[str, float | None] = {}
    for j, lab in enumerate(labels):
        thresholds[lab], f1s[lab] = best_f1_threshold(y[:, j], p[:, j])
    return thresholds, f1s


def top_k_accuracy(y: np.ndarray, p: np.ndarray, k: int, columns: Sequence[int] | None = None) -> float | None:
    """Share of items (with at least one true label among ``columns``) whose top-k predictions,
    over ``columns``, include a true label — as single-label papers report top-1/top-5."""
    cols = np.arange(y.shape[1]) if columns is None else np.asarray(columns, dtype=int)
    if len(cols) == 0:
        return None
    yy, pp = np.asarray(y, dtype=bool)[:, cols], np.asarray(p)[:, cols]
    keep = yy.any(axis=1)
    if not keep.any():
        return None
    top = np.argsort(-pp[keep], axis=1, kind="mergesort")[:, : min(k, len(cols))]
    hits = np.take_along_axis(yy[keep], top, axis=1).any(axis=1)
    return float(hits.mean())


def top_label_confusion(y: np.ndarray, p: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Counts ``C[i, j]``: items carrying label ``columns[i]`` whose highest-scoring label among
    ``columns`` is ``columns[j]`` (an item with two true labels counts in both rows)."""
    cols = np.asarray(columns, dtype=int)
    yy, pp = np.asarray(y, dtype=bool)[:, cols], np.asarray(p)[:, cols]
    top = np.argmax(pp, axis=1)
    c = np.zeros((len(cols), len(cols)), dtype=np.int64)
    for row, t in zip(yy, top):
        for i in np.nonzero(row)[0]:
            c[i, t] += 1
    return c


def pairwise_accuracy(
    y: np.ndarray, p: np.ndarray, a: int, b: int, *, balanced: bool = False
) -> tuple[float | None, int]:
    """Accuracy of "a or b?" on items that carry exactly one of the two labels (e.g. metal vs
    hip hop, as the covers seed reports it), deciding by the larger score; and the item count.
    ``balanced``: the mean of the two classes' recalls (chance 0.5 however unequal they are)."""
    yy = np.asarray(y, dtype=bool)
    keep = yy[:, a] ^ yy[:, b]
    n = int(keep.sum())
    if n == 0:
        return None, 0
    says_a = p[keep, a] >= p[keep, b]
    right = says_a == yy[keep, a]
    if balanced:
        is_a = yy[keep, a]
        return float(np.mean([right[is_a].mean() for is_a in (is_a, ~is_a) if is_a.any()])), n
    return float(right.mean()), n


def balanced_accuracy(y: np.ndarray, p: np.ndarray, columns: Sequence[int]) -> float | None:
    """Mean per-class recall of the highest-scoring label among ``columns``, over items with
    exactly one true label there: accuracy that a majority-class guess cannot inflate (chance is
    ``1 / len(columns)`` whatever the class sizes). Classes with no such item are left out."""
    cols = np.asarray(columns, dtype=int)
    yy, pp = np.asarray(y, dtype=bool)[:, cols], np.asarray(p)[:, cols]
    single = yy.sum(axis=1) == 1
    if not single.any():
        return None
    truth, top = np.argmax(yy[single], axis=1), np.argmax(pp[single], axis=1)
    recalls = [float((top[truth == c] == c).mean()) for c in range(len(cols)) if (truth == c).any()]
    return float(np.mean(recalls))


def pairwise_auc(y: np.ndarray, p: np.ndarray, a: int, b: int) -> float | None:
    """ROC-AUC of "a rather than b" (score ``p[a] − p[b]``) on items carrying exactly one of the
    two labels: the threshold-free form of :func:`pairwise_accuracy`."""
    yy = np.asarray(y, dtype=bool)
    keep = yy[:, a] ^ yy[:, b]
    return roc_auc(yy[keep, a], np.asarray(p)[keep, a] - np.asarray(p)[keep, b])


def topk_overlap(p_ref: np.ndarray, p: np.ndarray, k: int = 5) -> float:
    """Mean share of the reference's top-k labels that are also in the other's top-k (per item)."""
    k = min(k, p_ref.shape[1])
    ref = np.argsort(-p_ref, axis=1)[:, :k]
    got = np.argsort(-p, axis=1)[:, :k]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ref, got)]))
