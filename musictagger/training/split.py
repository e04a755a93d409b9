"""Train/validation split by artist.

Albums by one artist share cover designers, logos, photographers and production: a model that has
seen three Darkthrone covers recognises the fourth by its logo, not by its genre. Splitting items
at random therefore measures memorisation. :func:`artist_split` keeps every artist entirely on
one side, deterministically for a seed, and tries to give every label at least one validation
artist (while keeping at least one training artist for it) so per-label figures are measurable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np

from musictagger.library.types import artist_key


class _HasArtist(Protocol):
    @property
    def artist(self) -> str: ...

    @property
    def labels(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=_HasArtist)


def artist_split(items: Sequence[T], val_fraction: float = 0.2, seed: int = 0) -> tuple[list[T], list[T]]:
    """Split ``items`` into (train, validation) with no artist on both sides.

    About ``val_fraction`` of the items go to validation. Artists are visited in a seeded random
    order; first, for each label from the rarest up, one artist carrying it is moved to
    validation when no validation artist has the label yet and at least one other artist keeps
    it in training; then artists are added, stratified by label (an artist joins while one of
    its labels has fewer than ``val_fraction`` of its items in validation and none would exceed
    about 1.5 times that), and finally unconditionally until the validation share is reached.
    Items keep their input order on each side. An empty artist counts as one (unknown) artist.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), not {val_fraction!r}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[artist_key(item.artist)].append(i)
    artists = sorted(groups)
    if val_fraction == 0.0 or len(artists) < 2:
        return list(items), []
    rng = np.random.default_rng(seed)
    order = [artists[i] for i in rng.permutation(len(artists))]
    labels_of = {a: {lab for i in groups[a] for lab in items[i].labels} for a in artists}
    target = max(1, round(val_fraction * len(items)))

    val: set[str] = set()
    n_val = 0
    by_label: dict[str, list[str]] = defaultdict(list)
    for a in order:
        for lab in labels_of[a]:
            by_label[lab].append(a)
    for lab in sorted(by_label, key=lambda k: (len(by_label[k]), k)):
        holders = by_label[lab]
        if len(holders) < 2 or any(a in val for a in holders):
            continue
        for a in holders:
            if n_val + len(groups[a]) > target * 1.5:
                continue
            # Moving ``a`` must leave a training artist for each of its labels.
            if all(any(b not in val and b != a for b in by_label[other]) for other in labels_of[a]):
                val.add(a)
                n_val += len(groups[a])
                break
    # Then stratified: an artist joins while one of its labels is short of its share of
    # validation items and none would go far past it — so a genre of few prolific artists is
    # not left with one validation artist while another fills the set.
    label_items: dict[str, int] = defaultdict(int)
    val_items: dict[str, int] = defaultdict(int)
    per_artist = {a: _label_counts(items, groups[a]) for a in artists}
    for counts in per_artist.values():
        for lab, n in counts.items():
            label_items[lab] += n
    for a in val:
        for lab, n in per_artist[a].items():
            val_items[lab] += n

    def shortfall(a: str) -> float | None:
        """How far the neediest of ``a``'s labels is below its validation share (0–1); None when
        taking ``a`` would push one of its labels well past its share."""
        counts = per_artist[a]
        if not counts:
            return 0.0
        share = {lab: val_fraction * label_items[lab] for lab in counts}
        if any(val_items[lab] + n > 1.5 * share[lab] + 1 for lab, n in counts.items()):
            return None
        return max((share[lab] - val_items[lab]) / share[lab] for lab in counts)

    def take(a: str) -> None:
        nonlocal n_val
        val.add(a)
        n_val += len(groups[a])
        for lab, n in per_artist[a].items():
            val_items[lab] += n

    def allowed(a: str) -> bool:
        return a not in val and len(val) + 1 < len(artists) and (n_val + len(groups[a]) <= target * 1.5 or n_val == 0)

    while n_val < target:  # stratified: the artist whose labels are furthest below their share
        scored = [(sf, -i, a) for i, a in enumerate(order) if allowed(a) and (sf := shortfall(a)) is not None]
        if not scored or max(scored)[0] <= 0:
            break
        take(max(scored)[2])
    for a in order:  # top up to the target share
        if n_val >= target:
            break
        if allowed(a):
            take(a)
    train = [it for it in items if artist_key(it.artist) not in val]
    validation = [it for it in items if artist_key(it.artist) in val]
    return train, validation


def random_split(items: Sequence[T], val_fraction: float = 0.2, seed: int = 0) -> tuple[list[T], list[T]]:
    """Split ``items`` at random, item by item: an artist's albums land on both sides.

    This measures memorisation along with genre (see the module's docstring) and is never what a
    pack's headline figures use; it exists to reproduce the protocol of published figures that
    split that way (e.g. a random 80/20 split of covers), so ours can be compared with theirs on
    equal terms. Items keep their input order on each side.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), not {val_fraction!r}")
    n_val = round(val_fraction * len(items)) if len(items) > 1 else 0
    val = set(np.random.default_rng(seed).permutation(len(items))[:n_val].tolist())
    return [it for i, it in enumerate(items) if i not in val], [it for i, it in enumerate(items) if i in val]


def artist_folds(items: Sequence[T], k: int = 5, seed: int = 0) -> list[int]:
    """Artist-grouped, label-stratified k-fold assignment: the fold (0..k-1) of each item.

    Every artist's items share one fold, so a model evaluated on fold *f* after training on the
    others has never seen that fold's artists — the figure that predicts what a user gets for a
    new band. Artists are placed one at a time, those carrying the rarest labels (and then the
    most items) first, each into the fold where its labels are furthest below their share
    (1/k of each label's items), ties going to the smaller fold, then to a seeded random order.
    Deterministic for a seed. With fewer artists than folds, some folds stay empty.
    """
    if k < 2:
        raise ValueError(f"k must be at least 2, not {k!r}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[artist_key(item.artist)].append(i)
    artists = sorted(groups)
    rank = {a: int(r) for r, a in zip(np.random.default_rng(seed).permutation(len(artists)), artists)}
    per_artist = {a: _label_counts(items, groups[a]) for a in artists}
    totals: dict[str, int] = defaultdict(int)
    for counts in per_artist.values():
        for lab, n in counts.items():
            totals[lab] += n
    rarity = {a: min((totals[lab] for lab in per_artist[a]), default=len(items) + 1) for a in artists}
    order = sorted(artists, key=lambda a: (rarity[a], -len(groups[a]), rank[a]))
    fold_labels: list[dict[str, int]] = [defaultdict(int) for _ in range(k)]
    fold_size = [0] * k
    fold_of: dict[str, int] = {}
    for a in order:
        counts = per_artist[a]

        def need(f: int, counts: dict[str, int] = counts) -> float:
            return sum(n * (totals[lab] / k - fold_labels[f][lab]) / totals[lab] for lab, n in counts.items())

        best = max(range(k), key=lambda f: (round(need(f), 9), -fold_size[f], -f))
        fold_of[a] = best
        fold_size[best] += len(groups[a])
        for lab, n in counts.items():
            fold_labels[best][lab] += n
    return [fold_of[artist_key(it.artist)] for it in items]


SPLITS = {"artist": artist_split, "random": random_split}


def _label_counts(items: Sequence[_HasArtist], indices: list[int]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for i in indices:
        for lab in items[i].labels:
            counts[lab] += 1
    return dict(counts)
