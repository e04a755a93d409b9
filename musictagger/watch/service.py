"""Processing one album folder for the watcher: scan → suggest → notify, or write (auto-apply)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from musictagger.config import Config
from musictagger.watch.state import WatchState, folder_signature

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.journal import Journal, RunResult
    from musictagger.library import Index
    from musictagger.pipeline.suggester import Suggester
    from musictagger.pipeline.types import AlbumSuggestions

log = logging.getLogger("musictagger.watch")


@dataclass
class AlbumEvent:
    """What happened to one album folder; given to the ``notify`` callback (CLI log line, GUI toast)."""

    folder: str
    result: AlbumSuggestions | None
    labels: list[str]
    run: RunResult | None = None
    error: str | None = None

    def describe(self, undo_hint: str | None = None) -> str:
        """One line for a notification. ``undo_hint`` says how to undo a write, with ``{run}`` for
        the run id (default: the CLI command; the GUI says where its Undo is)."""
        name = self.folder
        if self.result is not None:
            name = f"{self.result.album_artist or 'Unknown artist'} — {self.result.album or self.folder}"
        if self.error:
            return f"{name}: error: {self.error}"
        shown = (
            ", ".join(
                f"{s.name} {s.confidence:.2f}"
                for s in (self.result.suggestions if self.result else [])
                if not s.implied
            )
            or "no suggestion above threshold"
        )
        if self.run is not None and self.run.run_id is not None:
            hint = (undo_hint or "undo: musictagger undo {run}").format(run=self.run.run_id)
            return f"{name}: wrote {', '.join(self.labels) or 'nothing'} (run {self.run.run_id}; {hint})"
        return f"{name}: {shown}"


class AlbumProcessor:
    """Callable given to :class:`FolderWatcher`: processes one folder and marks it done."""

    def __init__(
        self,
        config: Config,
        suggester: Suggester,
        index: Index,
        journal: Journal,
        state: WatchState,
        *,
        auto_apply: bool = False,
        min_confidence: float = 0.8,
        notify: Callable[[AlbumEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.suggester = suggester
        self.index = index
        self.journal = journal
        self.state = state
        self.auto_apply = auto_apply
        self.min_confidence = min_confidence
        self.notify = notify or (lambda e: log.info(e.describe()))

    def __call__(self, folder: str) -> None:
        from musictagger.library import scan
        from musictagger.pipeline.apply import review_changes
        from musictagger.pipeline.review import ReviewPolicy, review_for

        before = folder_signature(folder)
        scanned = scan([folder], index=self.index, config=self.config)
        albums = [a for a in scanned.albums if a.folder == folder] or scanned.albums
        run_id = None
        for error in scanned.errors:
            self.notify(AlbumEvent(error.path, None, [], error=error.message))
        for result in self.suggester.run(albums):
            album = next(a for a in albums if a.key == result.key)
            policy = ReviewPolicy.from_config(self.config, min_confidence=self.min_confidence)
            review = review_for(result, policy, self.suggester.pack_infos)
            labels = review.labels()
            run = None
            if self.auto_apply and labels:
                changes = review_changes(album, review, self.config.tags)
                run = self.journal.apply(changes, kind="watch", config=self.config.tags, meta={"folder": folder})
                run_id = run.run_id
            self.notify(AlbumEvent(folder, result, labels, run))
        # Both the content we saw and the content we left are done: our own write never retriggers.
        if before:
            self.state.mark_done(before, folder, run_id)
        if run_id is not None:  # only our own write may change the content under a done mark
            after = folder_signature(folder)
            if after and after != before:
                self.state.mark_done(after, folder, run_id)
