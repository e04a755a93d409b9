"""Tagging the whole library in one resumable batch (the core's :func:`~musictagger.watch.retag.run_batch`).

Every album gets the models' suggestions as they stand (at the configured minimum confidence),
except that the decisions made in the review are honoured — rejected tags are not written, tags
accepted or added by hand are — exactly as ``musictagger apply ROOT --write`` does, and with the
same batch identity: a batch stopped in the app can be resumed from the command line and back.

Two tasks: :class:`RetagPrepareTask` loads the models and works out whether an interrupted batch
with the same roots and settings exists (for the confirmation), then :class:`RetagTask` runs it.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from musictagger.gui.tasks import Task
from musictagger.progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config
    from musictagger.gui.models_loader import ModelsLoader
    from musictagger.library import Album
    from musictagger.pipeline.review import AlbumReview
    from musictagger.pipeline.types import PackInfo
    from musictagger.watch.retag import BatchSummary

#: The progress stage the status bar names "Tagging library" (run_batch reports the engine's "suggest").
BATCH_STAGE = "batch"


@dataclass(frozen=True)
class RetagPlan:
    """What the confirmation shows and :class:`RetagTask` runs: the settings are a snapshot, so
    the batch written is the one the user confirmed (and its id the one checked for resuming)."""

    albums: tuple[Album, ...]
    roots: tuple[str, ...]
    config: Config
    packs: tuple[PackInfo, ...]
    batch_id: str
    resuming: bool
    albums_done: int  # albums an interrupted earlier attempt already finished (skipped on resume)
    reviews: dict[str, AlbumReview] = dataclasses.field(default_factory=dict)  # decisions to honour, by key

    @property
    def packs_text(self) -> str:
        return ", ".join(f"{p.name} {p.version}" for p in self.packs) or "no packs"


class RetagPrepareTask(Task):
    """Loads the models (their names and versions are part of the batch id) and builds the plan."""

    title = "Preparing"

    def __init__(
        self,
        engine: ModelsLoader,
        albums: Sequence[Album],
        roots: Sequence[str],
        config: Config,
        reviews: dict[str, AlbumReview] | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.albums = tuple(albums)
        self.roots = tuple(roots)
        self.config = copy.deepcopy(config)
        self.reviews = dict(reviews or {})

    def execute(self) -> RetagPlan:
        from musictagger.session import open_session
        from musictagger.watch.retag import batch_id_for

        self.report(Progress("load", 0, None, "loading models"))
        suggester = self.engine.get(self.cancel_token)
        self._emit("info", self.engine.info)
        packs = tuple(suggester.pack_infos)
        bid = batch_id_for(self.roots, self.config, [f"{p.name}@{p.version}" for p in packs])
        done = 0
        with open_session(self.config) as session:
            state = session.watch_state
            resuming = state.is_unfinished(bid)  # an interrupted batch with this id: the next run resumes it
            if resuming:
                keys = {a.key for a in self.albums}
                done = sum(1 for k, s in state.album_status(bid).items() if s == "done" and k in keys)
        return RetagPlan(self.albums, self.roots, self.config, packs, bid, resuming, done, self.reviews)


class RetagTask(Task):
    """Runs the batch in the core process: suggestions stream album by album into one journaled,
    undoable run."""

    title = "Tagging library"
    writes = True

    def __init__(self, engine: ModelsLoader, plan: RetagPlan) -> None:
        super().__init__()
        self.engine = engine
        self.plan = plan

    def _report(self, p: Progress) -> None:
        self.report(dataclasses.replace(p, stage=BATCH_STAGE) if p.stage == "suggest" else p)

    def execute(self) -> BatchSummary:
        from musictagger.gui.worker import Chunked

        self.engine.get(self.cancel_token)
        with self.engine.exclusive(cancel=self.cancel_token, progress=self.report):
            return self.engine.core.call(
                "batch",
                Chunked(self.plan.albums),
                self.plan.roots,
                self.plan.config,
                self.plan.reviews,
                progress=self._report,
                cancel=self.cancel_token,
            )
