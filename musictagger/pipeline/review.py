"""The review of an album: what the models suggested, what the user decided, and what gets written.

Qt-free and torch-free: the desktop app, the command line (``apply`` honours the decisions made in
the app), the folder watcher and the whole-library batch all read the same rules from here.

An :class:`AlbumReview` keeps, per album key:

* the latest suggestions (:class:`~musictagger.pipeline.types.AlbumSuggestions`), the packs that
  made them and the best guesses below threshold;
* the user's **decisions** — only what the user decided, per tag name (accepted or rejected);
* the tags the user added by hand (**manual**), which are written as manual in the provenance.

What a tag without a decision defaults to follows the :class:`ReviewPolicy` (the settings): a
suggestion is accepted when it reaches the minimum confidence, an implied parent only when parents
are written, a best guess never. Defaults are never stored, so a re-suggest updates the scores and
the defaults of undecided tags, and never overturns a decision. :meth:`AlbumReview.items` is the
one list the table's chips, the album panel and Apply all read.

:class:`ReviewStore` persists reviews in the library index (table ``reviews``, see
:mod:`musictagger.library.index`), keyed by album key — stable across rescans of unchanged files.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from musictagger.errors import FileProblem
from musictagger.pipeline.types import AlbumSuggestions, PackInfo, Suggestion

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config
    from musictagger.library import Index

#: How many best guesses below threshold an album keeps (shown when nothing reached its threshold).
BEST_GUESSES = 3

# The kinds of a review item, in the order :meth:`AlbumReview.items` lists them.
SUGGESTED = "suggested"  # reached its threshold
PARENT = "parent"  # implied parent of a suggested tag (Black Metal → Metal)
GUESS = "guess"  # a best guess below threshold (listed when nothing reached its threshold)
KEPT = "kept"  # accepted by the user earlier, no longer suggested: a decision is never overturned
MANUAL = "manual"  # added by hand


class Status(enum.IntEnum):
    """Where an album is in the review; the order is the sort order of the Status column."""

    NEW = 0
    SUGGESTED = 1
    APPLIED = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.capitalize()


@dataclass(frozen=True)
class ReviewPolicy:
    """What a tag without a decision defaults to (the settings)."""

    min_confidence: float = 0.0
    write_parents: bool = False

    @classmethod
    def from_config(cls, config: Config, *, min_confidence: float | None = None) -> ReviewPolicy:
        threshold = config.inference.min_confidence if min_confidence is None else min_confidence
        return cls(float(threshold), bool(config.tags.write_parents))


@dataclass(frozen=True)
class ReviewItem:
    """One tag of a review as the user sees it: a chip in the table, a row in the album panel."""

    name: str
    kind: str  # SUGGESTED, PARENT, GUESS, KEPT or MANUAL
    accepted: bool
    evidence: Suggestion | None = None  # the scores behind it; None for a tag added by hand

    @property
    def confidence(self) -> float | None:
        return None if self.evidence is None else self.evidence.confidence

    @property
    def manual(self) -> bool:
        return self.kind == MANUAL


def best_guesses(
    result: AlbumSuggestions, *, n: int = BEST_GUESSES, names: Mapping[str, str] | None = None
) -> list[Suggestion]:
    """The labels the models leaned towards without reaching a threshold, best first.

    The score is the mean of the sources that scored the label — cover, audio, the packs learnt from
    the library, the artist prior (the fused confidence also weighs
    each pack by its validation quality, which the result does not keep). Display names come from
    ``names`` or the taxonomy (parsing it costs tens of milliseconds the first time: call this in
    a worker, not in a GUI thread).
    """
    listed = {s.label for s in result.suggestions}
    sources = (result.cover_scores, result.audio_scores, result.library_scores, result.artist_scores)
    scored = []
    for label in set().union(*sources) - listed:
        values = [scores.get(label) for scores in sources]
        known = [v for v in values if v is not None]
        scored.append((sum(known) / len(known), label, values))
    scored.sort(key=lambda t: (-t[0], t[1]))
    scored = scored[: max(0, n)]
    if not scored:
        return []
    if names is None:
        from musictagger.taxonomy import Taxonomy

        tax = Taxonomy.default()
        names = {label: tax.name(label) if label in tax else label for _, label, _ in scored}
    return [
        Suggestion(
            label=label, name=names.get(label, label), confidence=p, cover=cover, audio=audio, library=lib, artist=art
        )
        for p, label, (cover, audio, lib, art) in scored
    ]


@dataclass
class AlbumReview:
    """The review of one album (see the module's docstring for the rules)."""

    key: str
    result: AlbumSuggestions | None = None
    packs: tuple[PackInfo, ...] = ()  # the packs that made ``result``: written as provenance
    guesses: list[Suggestion] = field(default_factory=list)
    decisions: dict[str, bool] = field(default_factory=dict)  # tag name -> accepted, as the user decided
    manual: list[str] = field(default_factory=list)  # tags added by hand, in the order added
    status: Status = Status.NEW
    message: str = ""  # the last error, for a tooltip
    policy: ReviewPolicy = field(default_factory=ReviewPolicy, compare=False)

    # ------------------------------------------------------------------ suggestions
    def apply_result(
        self,
        result: AlbumSuggestions,
        packs: Iterable[PackInfo] = (),
        guesses: Sequence[Suggestion] | None = None,
    ) -> None:
        """New suggestions (a suggest or re-suggest): scores and defaults change, decisions and
        manual tags stay. ``guesses`` as computed by :func:`best_guesses` (computed here if None)."""
        self.result = result
        self.packs = tuple(packs)
        self.guesses = list(best_guesses(result) if guesses is None else guesses)
        self.status = Status.ERROR if result.errors and not result.suggestions else Status.SUGGESTED
        self.message = "; ".join(m for _, m in result.errors)

    @property
    def suggestions(self) -> list[Suggestion]:
        return list(self.result.suggestions) if self.result is not None else []

    @property
    def nothing_above_threshold(self) -> bool:
        """Suggested, but no tag (other than parents) reached its threshold: the guesses are shown."""
        return self.result is not None and not any(not s.implied for s in self.result.suggestions)

    # ------------------------------------------------------------------ what the user sees
    def _default(self, s: Suggestion) -> bool:
        return self.policy.write_parents if s.implied else s.confidence >= self.policy.min_confidence

    def items(self) -> list[ReviewItem]:
        """Every tag of the review, in order: suggestions (parents included), best guesses when
        nothing reached its threshold, tags accepted earlier and no longer suggested, tags added by
        hand. ``accepted`` is the user's decision, else the policy's default."""
        decided = {k.casefold(): v for k, v in self.decisions.items()}
        out: list[ReviewItem] = []
        seen: set[str] = set()

        def add(item: ReviewItem) -> None:
            out.append(item)
            seen.add(item.name.casefold())

        for s in self.suggestions:
            if s.name.casefold() not in seen:
                add(
                    ReviewItem(
                        s.name, PARENT if s.implied else SUGGESTED, decided.get(s.name.casefold(), self._default(s)), s
                    )
                )
        guesses = {g.name.casefold(): g for g in self.guesses}
        if self.nothing_above_threshold:
            for g in self.guesses:
                if g.name.casefold() not in seen:
                    add(ReviewItem(g.name, GUESS, decided.get(g.name.casefold(), False), g))
        manual = {m.casefold() for m in self.manual}
        for name, accepted in self.decisions.items():
            folded = name.casefold()
            if accepted and folded not in seen and folded not in manual:
                add(ReviewItem(name, KEPT, True, guesses.get(folded)))
        for name in self.manual:
            if name.casefold() not in seen:
                add(ReviewItem(name, MANUAL, True, None))
        return out

    def item(self, name: str) -> ReviewItem | None:
        folded = name.casefold()
        return next((i for i in self.items() if i.name.casefold() == folded), None)

    def is_accepted(self, name: str) -> bool:
        item = self.item(name)
        return item is not None and item.accepted

    def labels(self) -> list[str]:
        """What Apply writes: the accepted tags, in the order of :meth:`items`."""
        return [i.name for i in self.items() if i.accepted]

    @property
    def manual_labels(self) -> list[str]:
        """The accepted tags that are the user's, not a model's (provenance ``manual``)."""
        return [i.name for i in self.items() if i.accepted and (i.kind == MANUAL or i.evidence is None)]

    @property
    def has_changes(self) -> bool:
        return bool(self.labels())

    @property
    def has_decisions(self) -> bool:
        """Whether the user did anything to this review (what a batch must honour)."""
        return bool(self.decisions or self.manual)

    # ------------------------------------------------------------------ decisions
    def set_accepted(self, name: str, value: bool) -> bool:
        """Accept or reject a listed tag (unticking a tag added by hand removes it). False if
        there is no such tag or nothing changed."""
        item = self.item(name)
        if item is None or item.accepted == value:
            return False
        if item.kind == MANUAL:
            self.manual = [m for m in self.manual if m.casefold() != item.name.casefold()]
            return True
        self._forget_decision(item.name)
        self.decisions[item.name] = bool(value)
        return True

    def toggle(self, name: str) -> bool:
        """Flip a tag; returns whether it is accepted now."""
        self.set_accepted(name, not self.is_accepted(name))
        return self.is_accepted(name)

    def add(self, name: str) -> bool:
        """Add a tag by hand, or accept the listed tag of that name; False if already accepted."""
        name = name.strip()
        if not name:
            return False
        item = self.item(name)
        if item is not None:
            return self.set_accepted(item.name, True)
        self._forget_decision(name)  # rejected once and no longer listed: the user now wants it
        self.manual.append(name)
        return True

    def _forget_decision(self, name: str) -> None:
        for known in [k for k in self.decisions if k.casefold() == name.casefold()]:
            del self.decisions[known]

    def copy(self) -> AlbumReview:
        """An independent copy (to hand to another thread)."""
        return dataclasses.replace(
            self, guesses=list(self.guesses), decisions=dict(self.decisions), manual=list(self.manual)
        )


def review_for(
    result: AlbumSuggestions,
    policy: ReviewPolicy,
    packs: Iterable[PackInfo] = (),
    stored: AlbumReview | None = None,
) -> AlbumReview:
    """The review of a fresh ``result``: the stored review's decisions and manual tags (if any)
    over the new suggestions. ``stored`` is not modified."""
    review = stored.copy() if stored is not None else AlbumReview(result.key)
    review.policy = policy
    review.apply_result(result, packs)
    return review


# ---------------------------------------------------------------------------------- persistence


def _suggestion_from(data: Mapping[str, Any]) -> Suggestion:
    from musictagger.pipeline.evidence import SimilarAlbum

    known = {f.name for f in dataclasses.fields(Suggestion)}
    fields = {k: v for k, v in data.items() if k in known}
    fields["similar"] = tuple(SimilarAlbum(**a) for a in fields.get("similar", ()))
    if fields.get("artist_detail") is not None:
        fields["artist_detail"] = tuple(int(n) for n in fields["artist_detail"])
    return Suggestion(**fields)


def _result_to_json(result: AlbumSuggestions) -> str:
    # Per-label scores and per-track scores are not kept: they are large, and the suggestions,
    # their evidence and the best guesses are what a review shows.
    return json.dumps(
        {
            "key": result.key,
            "folder": result.folder,
            "album": result.album,
            "album_artist": result.album_artist,
            "suggestions": [dataclasses.asdict(s) for s in result.suggestions],
            "errors": [list(e) for e in result.errors],
            "cached": result.cached,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _result_from_json(text: str) -> AlbumSuggestions:
    data = json.loads(text)
    return AlbumSuggestions(
        key=data["key"],
        folder=data.get("folder", ""),
        album=data.get("album"),
        album_artist=data.get("album_artist"),
        suggestions=[_suggestion_from(s) for s in data.get("suggestions", [])],
        errors=[FileProblem(str(p), str(m)) for p, m in data.get("errors", [])],
        cached=bool(data.get("cached", False)),
    )


def review_to_row(review: AlbumReview) -> tuple[Any, ...]:
    """The ``reviews`` row of a review (see ``_v2_reviews`` in :mod:`musictagger.library.index`)."""
    dumps = json.dumps
    return (
        review.key,
        review.status.name.lower(),
        review.message,
        _result_to_json(review.result) if review.result is not None else None,
        dumps([dataclasses.asdict(s) for s in review.guesses], ensure_ascii=False),
        dumps([p.to_json() for p in review.packs], ensure_ascii=False),
        dumps(review.decisions, ensure_ascii=False),
        dumps(review.manual, ensure_ascii=False),
        time.time(),
    )


def review_from_row(row: Sequence[Any], policy: ReviewPolicy | None = None) -> AlbumReview:
    key, status, message, result, guesses, packs, decisions, manual = row[:8]
    try:
        status_value = Status[str(status).upper()]
    except KeyError:
        status_value = Status.NEW
    return AlbumReview(
        key=key,
        result=_result_from_json(result) if result else None,
        packs=tuple(PackInfo(p["name"], p["version"], p["kind"]) for p in json.loads(packs or "[]")),
        guesses=[_suggestion_from(g) for g in json.loads(guesses or "[]")],
        decisions={str(k): bool(v) for k, v in json.loads(decisions or "{}").items()},
        manual=[str(m) for m in json.loads(manual or "[]")],
        status=status_value,
        message=message or "",
        policy=policy or ReviewPolicy(),
    )


class ReviewStore:
    """Reviews in the library index. Use from one thread at a time (as :class:`Index`)."""

    def __init__(self, index: Index | None = None) -> None:
        from musictagger.library import Index

        self._own = index is None
        self.index = index if index is not None else Index()

    def close(self) -> None:
        if self._own:
            self.index.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, keys: Iterable[str] | None = None, policy: ReviewPolicy | None = None) -> dict[str, AlbumReview]:
        """The stored reviews (of ``keys`` only, when given), by album key."""
        return {row[0]: review_from_row(row, policy) for row in self.index.review_rows(keys)}

    def get(self, key: str, policy: ReviewPolicy | None = None) -> AlbumReview | None:
        return self.load([key], policy).get(key)

    def save(self, reviews: Iterable[AlbumReview]) -> None:
        """Insert or replace, in one transaction."""
        rows = [review_to_row(r) for r in reviews]
        if rows:
            self.index.put_review_rows(rows)

    def delete(self, keys: Iterable[str]) -> None:
        self.index.delete_reviews(keys)
