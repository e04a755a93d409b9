"""Resumable batch re-tagging of a whole collection (``musictagger apply ROOT… --write``).

A batch is identified by its roots and the settings that decide what gets written. Each album's
completion is recorded in the index as soon as its files have been written; a batch killed at any
point and started again with the same roots and settings continues where it stopped:

- albums recorded done are skipped;
- files the journal shows written by an earlier run of this batch (the crash window between a
  file's write and its album's record) are not written again;
- everything else is processed.

So after any number of kills every album ends up written exactly once, and ``musictagger runs``
shows one run per attempt. Suggestions stream from the engine into the journal album by album,
so memory stays flat however large the collection.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from musictagger import faults
from musictagger.config import Config
from musictagger.errors import FileProblem
from musictagger.progress import CancelToken, ProgressCallback
from musictagger.watch.state import WatchState

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.journal import FileChange, Journal, RunResult
    from musictagger.library import Album
    from musictagger.pipeline.review import AlbumReview
    from musictagger.pipeline.suggester import Suggester


def batch_id_for(roots: Sequence[str | os.PathLike[str]], config: Config, packs: Sequence[str]) -> str:
    """Stable id of a batch: resolved roots + what decides the written values."""
    t, inf = config.tags, config.inference
    key = {
        "roots": sorted(os.path.realpath(os.fspath(r)) for r in roots),
        "field": t.field,
        "mode": t.mode,
        "max": t.max_genres,
        "parents": t.write_parents,
        "min": inf.min_confidence,
        "top_k": inf.top_k,
        "packs": sorted(packs),
    }
    return hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class BatchSummary:
    batch_id: str
    resumed: bool
    albums_total: int
    albums_tagged: int = 0  # albums with at least one file changed in this attempt
    albums_skipped: int = 0  # already done in an earlier attempt, or nothing to write
    albums_failed: int = 0
    files_changed: int = 0
    run: RunResult | None = None
    elapsed_s: float = 0.0
    cancelled: bool = False
    errors: list[FileProblem] = field(default_factory=list)
    # Album key → its review as this attempt wrote it (status Applied, or Error with the message) —
    # for the caller to keep in the library index, so the app shows what the batch did. Not in JSON.
    reviews: dict[str, AlbumReview] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "resumed": self.resumed,
            "albums_total": self.albums_total,
            "albums_tagged": self.albums_tagged,
            "albums_skipped": self.albums_skipped,
            "albums_failed": self.albums_failed,
            "files_changed": self.files_changed,
            "run_id": self.run.run_id if self.run else None,
            "elapsed_s": round(self.elapsed_s, 2),
            "cancelled": self.cancelled,
        }


def written_by_batch(journal: Journal, batch_id: str) -> set[str]:
    """Paths the journal shows written by earlier runs of this batch."""
    done: set[str] = set()
    for run in journal.runs():
        if run.meta.get("batch_id") == batch_id:
            done.update(e.path for e in journal.entries(run.id) if e.status == "done")
    return done


def run_batch(
    albums: Sequence[Album],
    roots: Sequence[str | os.PathLike[str]],
    suggester: Suggester,
    journal: Journal,
    state: WatchState,
    config: Config,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    reviews: Mapping[str, AlbumReview] | None = None,
) -> BatchSummary:
    """Tag ``albums`` with their suggestions, honouring ``reviews`` (by album key: the decisions
    and manual tags of albums the user reviewed; see :mod:`musictagger.pipeline.review`)."""
    from musictagger.pipeline.apply import review_changes
    from musictagger.pipeline.review import ReviewPolicy, Status, review_for

    start = time.monotonic()
    bid = batch_id_for(roots, config, [f"{p.name}@{p.version}" for p in suggester.pack_infos])
    resumed = state.open_batch(bid, json.dumps([os.fspath(r) for r in roots]))
    status = state.album_status(bid) if resumed else {}
    already = written_by_batch(journal, bid) if resumed else set()
    todo = [a for a in albums if status.get(a.key) != "done"]
    summary = BatchSummary(bid, resumed, len(albums), albums_skipped=len(albums) - len(todo))
    t = config.tags
    policy = ReviewPolicy.from_config(config)
    reviews = reviews or {}
    album_paths: dict[str, set[str]] = {}
    made: dict[str, AlbumReview] = {}

    def changes() -> Iterator[FileChange]:
        previous: str | None = None
        for n_album, result in enumerate(suggester.run(todo, progress=progress, cancel=cancel)):
            if previous is not None:  # the journal has finished the previous album's files
                state.mark_album(bid, previous, "done", None)
            album = next(a for a in todo if a.key == result.key)
            summary.errors.extend(result.errors)
            review = review_for(result, policy, suggester.pack_infos, reviews.get(album.key))
            made[album.key] = review
            todo_changes = [c for c in review_changes(album, review, t) if c.path not in already]
            album_paths[album.key] = {c.path for c in todo_changes}
            if not todo_changes:
                summary.albums_skipped += 1
            for i, change in enumerate(todo_changes):
                faults.point("batch.file", album=n_album, file=i)
                yield change
            previous = album.key
            if cancel is not None and cancel.cancelled:
                return
        if previous is not None and not (cancel is not None and cancel.cancelled):
            state.mark_album(bid, previous, "done", None)

    run = journal.apply(
        changes(), kind="apply", config=t, meta={"batch_id": bid, "roots": [os.fspath(r) for r in roots]}, cancel=cancel
    )
    summary.run = run
    summary.cancelled = run.cancelled or bool(cancel and cancel.cancelled)
    failed_paths = {o.path for o in run.outcomes if not o.ok}
    changed_paths = {o.path for o in run.outcomes if o.ok and o.changed}
    summary.files_changed = len(changed_paths)
    summary.errors.extend(o.problem for o in run.outcomes if o.problem is not None)
    messages = {o.path: o.message for o in run.outcomes if not o.ok}
    for key, paths in album_paths.items():
        if paths & failed_paths:
            summary.albums_failed += 1
            state.mark_album(bid, key, "failed", run.run_id)
            made[key].status, made[key].message = (
                Status.ERROR,
                "; ".join(messages[p] for p in sorted(paths & failed_paths)),
            )
            summary.reviews[key] = made[key]
        elif paths & changed_paths:
            summary.albums_tagged += 1
            made[key].status, made[key].message = Status.APPLIED, ""
            summary.reviews[key] = made[key]
    if not summary.cancelled:
        state.finish_batch(bid)
    summary.elapsed_s = time.monotonic() - start
    return summary
