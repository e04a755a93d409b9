"""The library and its runs, without widgets: what the window's actions do.

The controller owns the configuration, the album table model (with every album's review, saved as
it changes), the task runner, the core process (where the work runs), the models and the folder
watcher. Each action starts a background task and returns at once; results come back as Qt
signals and are folded into the model here, in the GUI thread.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from musictagger.config import Config, save_config
from musictagger.gui.album_model import AlbumEntry, AlbumTableModel
from musictagger.gui.errors_panel import ErrorItem
from musictagger.gui.models_loader import ModelsInfo, ModelsLoader
from musictagger.gui.retag import RetagPlan, RetagPrepareTask, RetagTask
from musictagger.gui.saver import ReviewSaver
from musictagger.gui.tasks import (
    ApplyPlan,
    ApplyTask,
    FolderScan,
    FolderScanTask,
    GenreNamesTask,
    LibraryScan,
    NothingToUndo,
    PreviewTask,
    ScanTask,
    SuggestedAlbum,
    SuggestSummary,
    SuggestTask,
    Task,
    TaskRunner,
    UndoableTask,
    UndoTask,
    WarmUpTask,
)
from musictagger.gui.thumbs import ThumbnailCache
from musictagger.gui.watching import WatchSession, WatchSignals, WatchStartTask, watch_folders, watch_settings
from musictagger.gui.worker import CoreProcess
from musictagger.pipeline import speed
from musictagger.pipeline.review import ReviewPolicy, Status
from musictagger.progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.gui.jobs import WatchedAlbum
    from musictagger.journal import RunResult
    from musictagger.library import Album, Track
    from musictagger.pipeline.review import AlbumReview
    from musictagger.watch.retag import BatchSummary
    from musictagger.watch.service import AlbumEvent


class LibraryController(QObject):
    progress = Signal(object)  # Progress
    message = Signal(str)  # a one-line summary when a run ends
    errors = Signal(list)  # list[ErrorItem]
    engine_loaded = Signal(object)  # ModelsInfo
    engine_failed = Signal(str)  # why the models could not be loaded ahead of time
    genre_names = Signal(object)  # list[str]: the taxonomy's names, for completion
    scanned = Signal(object)  # ScanResult
    info = Signal(str)  # something to tell, not an error (e.g. nothing to undo)
    undo_available = Signal(bool)  # whether Undo Last Run has something to undo
    library_changed = Signal()  # albums came or went (what the actions can do may change)
    _saver_failed = Signal(str)  # from the saver's thread
    entry_changed = Signal(str)  # album key
    suggest_finished = Signal(object)  # SuggestSummary, once the run is over (Suggest may run again)
    preview_ready = Signal(object)  # ApplyPlan
    run_finished = Signal(object)  # RunResult (apply or undo)
    roots_changed = Signal(list)
    busy_changed = Signal(bool)
    watch_changed = Signal(object)  # list[str]: the folders now watched; None: not watching
    watch_event = Signal(object)  # AlbumEvent, as the watcher reports it (for the notification)
    batch_ready = Signal(object)  # RetagPlan to confirm
    batch_finished = Signal(object)  # BatchSummary
    speed_advice = Signal(str)  # a thorough run on the CPU will take long: the word about Fast

    def __init__(self, config: Config, *, thumbs: ThumbnailCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.model = AlbumTableModel(thumbs, self)
        self.model.genre_field = config.tags.field
        self.model.policy = self.policy
        self.model.roots = self.roots
        self.can_undo = False
        self._saver_failed.connect(self._on_saver_failed)
        self.runner = TaskRunner(self)
        self._scan_again: list[str] | None = None  # roots asked for while a scan ran: scanned after it
        # The word about Fast: said once per run, never again once the user kept Thorough. A
        # Suggest run switched to Fast goes on with the albums it had not done (_resume_fast).
        self._advised = False
        self._keep_thorough = False
        self._suggesting: list[str] = []  # the running Suggest run's albums…
        self._suggested: set[str] = set()  # …and those it has done
        self._resume_fast = False
        self._summary: SuggestSummary | None = None  # the running Suggest run's, once it has one
        self.runner.busy_changed.connect(self.busy_changed)
        self.runner.busy_changed.connect(self._on_busy_changed)
        self.core = CoreProcess()
        self.saver = ReviewSaver(self.core, on_error=self._saver_failed.emit)
        self.engine = ModelsLoader(config, self.core)
        self.watch_signals = WatchSignals(self)
        self.watch_signals.event.connect(self._on_watch_event)
        self.watch_signals.failed.connect(self._on_watch_failed)
        self.watch_session: WatchSession | None = None
        self._closing_session: WatchSession | None = None  # stopped, maybe still finishing an album
        self._watched_with: tuple | None = None  # watch_settings() of the running session

    # ------------------------------------------------------------------ settings and roots
    @property
    def roots(self) -> list[str]:
        return list(self.config.library.roots)

    @property
    def policy(self) -> ReviewPolicy:
        """What undecided tags default to, from the settings."""
        return ReviewPolicy.from_config(self.config)

    def save_review(self, key: str) -> None:
        """Save an album's review (a decision, new suggestions, a new status) in the background."""
        entry = self.model.entry(key)
        if entry is not None:
            self.saver.save(entry.review)

    def review_changed(self, key: str) -> None:
        """The user ticked, unticked or added a tag: repaint the row and save."""
        self.model.refresh(key)
        self.save_review(key)

    def _on_saver_failed(self, message: str) -> None:
        self.errors.emit([ErrorItem("review", "", message)])

    def add_roots(self, paths: Iterable[str]) -> list[str]:
        """Add folders to the library (saved in the config) and rescan; returns those really added."""
        known = {os.path.normcase(os.path.abspath(r)) for r in self.config.library.roots}
        added = []
        for p in paths:
            norm = os.path.abspath(os.fspath(p))
            if os.path.isdir(norm) and os.path.normcase(norm) not in known:
                known.add(os.path.normcase(norm))
                added.append(norm)
        if added:
            self.config.library.roots = [*self.config.library.roots, *added]
            self._save()
            self.model.roots = self.roots
            self.roots_changed.emit(self.roots)
            self.scan()
            self._rewatch()
        return added

    def remove_root(self, path: str) -> None:
        if path in self.config.library.roots:
            self.config.library.roots = [r for r in self.config.library.roots if r != path]
            self._save()
            self.model.roots = self.roots
            self.roots_changed.emit(self.roots)
            self.scan()
            self._rewatch()

    def update_config(self, config: Config) -> None:
        """New settings from the dialog: saved, and the engine rebuilt if what shapes it changed."""
        old = self.config
        reload_engine = (old.inference, old.fusion) != (config.inference, config.fusion)
        roots_changed = old.library.roots != config.library.roots
        self.config = config
        self.model.genre_field = config.tags.field
        self.model.roots = self.roots
        self._save()
        if reload_engine:
            self.engine.reset(config)
        self.model.set_policy(self.policy)
        if roots_changed:
            self.roots_changed.emit(self.roots)
        self._rewatch()

    def _save(self) -> None:
        try:
            save_config(self.config)
        except OSError as exc:
            self.errors.emit([ErrorItem("settings", "", f"cannot save the settings: {exc}")])

    # ------------------------------------------------------------------ running tasks
    def is_running(self, kind: type[Task]) -> bool:
        return self.runner.busy(kind)

    def _start(self, task: Task) -> Task:
        task.signals.progress.connect(self._on_progress)
        task.signals.failed.connect(self._on_failed)
        return self.runner.start(task)

    def stop(self) -> None:
        self.runner.cancel_all()

    def shutdown(self) -> None:
        """On quit: stop the watcher (the album in progress finishes), then every task, the
        model process; every review is saved."""
        session, self.watch_session = self.watch_session, None
        if session is not None:
            session.close(timeout=5.0)
        if self._closing_session is not None:
            self._closing_session.closed.wait(5.0)
        self.runner.cancel_all()
        self.saver.close()  # every review saved, by the core process
        self.core.close()  # the jobs are cancelled; a task waiting on one ends at once
        self.runner.shutdown()

    def _on_progress(self, p: Progress) -> None:
        self.progress.emit(p)
        if self._advised or self._keep_thorough or self.engine.info is None:
            return
        if any(isinstance(t, SuggestTask) for t in self.runner.active):  # the run Use Fast can speed up
            text = speed.speed_advice(p, self.config.inference.speed, self.engine.info.device_name)
            if text:
                self._advised = True
                self.speed_advice.emit(text)

    def _on_busy_changed(self, busy: bool) -> None:
        if not busy:
            self._advised = False  # the next run may get the word again

    def use_fast(self) -> bool:
        """``inference.speed = fast`` from now on (saved, as the settings dialog would). A Suggest
        run going on stops after its current album and goes on, fast, with the albums it has not
        done (True); other runs finish as they are — the next one is fast."""
        config = copy.deepcopy(self.config)
        config.inference.speed = "fast"
        self.update_config(config)
        for task in self.runner.active:
            if isinstance(task, SuggestTask):
                self._resume_fast = True
                task.cancel()
        return self._resume_fast

    def keep_thorough(self) -> None:
        """The user keeps Thorough: no word about Fast again in this session."""
        self._keep_thorough = True

    def _on_failed(self, title: str, message: str) -> None:
        self.errors.emit([ErrorItem(title.lower(), "", message)])
        self.message.emit(f"{title} failed: {message}")

    # ------------------------------------------------------------------ scan
    def scan(self, roots: Sequence[str] | None = None) -> bool:
        """Scan the library roots (or ``roots``); False if nothing to scan, or if a scan is already
        running — then the roots are scanned again right after it (a folder added meanwhile, or while
        the last scan's result was arriving, is never left out)."""
        roots = list(roots) if roots is not None else self.roots
        if not roots:
            return False
        if self.is_running(ScanTask):
            self._scan_again = roots
            return False
        sort = (self.model.sort_column, self.model.sort_order)
        task = ScanTask(self.core, roots, self.config, self.policy, sort)
        task.signals.finished.connect(self._on_scanned)
        self._start(task)
        task.signals.done.connect(self._scan_done)  # after the runner's own handler: no scan is running then
        return True

    def _scan_done(self, _task: object) -> None:
        roots, self._scan_again = self._scan_again, None
        if roots is not None:
            self.scan(roots)

    def _on_scanned(self, scan: LibraryScan) -> None:
        result = scan.result
        self.model.set_albums(result.albums, scan.reviews, scan.prepared)
        self.library_changed.emit()
        self.errors.emit([ErrorItem("scan", e.path, e.message) for e in result.errors])
        tracks = sum(len(a.tracks) for a in result.albums)
        self.message.emit(
            f"{len(result.albums)} albums, {tracks} tracks ({result.files_read} read, "
            f"{result.files_cached} unchanged) in {result.elapsed_s:.1f} s"
        )
        self.scanned.emit(result)

    # ------------------------------------------------------------------ suggest
    def suggest(self, keys: Sequence[str] | None = None) -> bool:
        """Suggest for the given albums (all when None); False if a suggest run is already going."""
        if self.is_running(SuggestTask):
            return False
        entries = self._entries(keys)
        if not entries:
            return False
        task = SuggestTask(self.engine, [e.album for e in entries])
        task.signals.item.connect(self._on_suggestion)
        task.signals.info.connect(self._on_engine_info)
        task.signals.finished.connect(self._on_suggested)
        self._suggesting, self._suggested, self._resume_fast = [e.key for e in entries], set(), False
        self._start(task)
        task.signals.done.connect(self._suggest_done)  # after the runner's own handler: no run then
        return True

    def _suggest_done(self, _task: object) -> None:
        """The run is over (the runner has let it go: Suggest may run again): its summary is told,
        and a run switched to Fast goes on with the albums it had not done."""
        summary, self._summary = self._summary, None
        resume, self._resume_fast = self._resume_fast, False
        if summary is not None:
            state = "stopped after" if summary.cancelled else "done:"
            if summary.cancelled and resume:
                state = "goes on fast after"
            self.message.emit(f"Suggest {state} {summary.albums} album{'s' if summary.albums != 1 else ''}")
            self.suggest_finished.emit(summary)
        rest = [k for k in self._suggesting if k not in self._suggested] if resume else []
        if rest:
            self.suggest(rest)

    def warm_up(self) -> bool:
        """Load the models in the background before they are needed; False if already loaded or loading."""
        if self.engine.info is not None or self.is_running(WarmUpTask) or self.is_running(SuggestTask):
            return False
        task = WarmUpTask(self.engine)
        task.signals.finished.connect(self._on_engine_info)
        task.signals.failed.connect(self._on_warm_up_failed)
        self.runner.start(task)  # failures are not errors yet: nobody asked for a suggestion
        return True

    def _on_warm_up_failed(self, _title: str, message: str) -> None:
        self.engine_failed.emit(message)

    def load_genre_names(self) -> None:
        task = GenreNamesTask(self.core)
        task.signals.finished.connect(self._on_genre_names)
        task.signals.failed.connect(self._on_failed)
        self.runner.start(task)

    def _on_genre_names(self, names: list[str]) -> None:
        self.genre_names.emit(names)

    def _on_engine_info(self, info: ModelsInfo) -> None:
        self.engine_loaded.emit(info)

    def _on_suggestion(self, item: SuggestedAlbum) -> None:
        result = item.result
        self._suggested.add(result.key)
        if self.model.set_result(result, item.packs, item.guesses) is not None:
            self.save_review(result.key)
        if result.errors:
            self.errors.emit([ErrorItem("suggest", e.path, e.message) for e in result.errors])
        self.entry_changed.emit(result.key)

    def _on_suggested(self, summary: SuggestSummary) -> None:
        self._summary = summary  # told when the run is over (_suggest_done)

    # ------------------------------------------------------------------ apply
    def _entries(self, keys: Sequence[str] | None) -> list[AlbumEntry]:
        if keys is None:
            return self.model.entries
        found = (self.model.entry(k) for k in keys)
        return [e for e in found if e is not None]

    def apply_items(self, keys: Sequence[str] | None = None) -> list[tuple[Album, AlbumReview]]:
        """The albums to apply and copies of their reviews (None: every reviewed album not yet
        applied). Only albums with accepted tags."""
        entries = self._entries(keys)
        if keys is None:
            entries = [e for e in entries if e.status == Status.SUGGESTED or e.review.manual]
        return [(e.album, e.review.copy()) for e in entries if e.review.has_changes]

    def prepare_apply(self, keys: Sequence[str] | None = None) -> bool:
        """Dry-run the apply in the background; :attr:`preview_ready` carries the plan to confirm."""
        items = self.apply_items(keys)
        if not items:
            self.info.emit("Nothing to apply: no accepted tags on the chosen albums")
            return False
        task = PreviewTask(self.core, items, self.config.tags)
        task.signals.finished.connect(self._on_previewed)
        self._start(task)
        return True

    def _on_previewed(self, plan: ApplyPlan) -> None:
        if plan.preview.cancelled:
            self.message.emit("Apply cancelled")
            return
        if not plan.changes:
            self.info.emit("Nothing to apply: the accepted tags are already in the files")
            return
        self.errors.emit([ErrorItem("apply", o.path, o.message) for o in plan.preview.outcomes if not o.ok])
        self.preview_ready.emit(plan)

    def apply(self, plan: ApplyPlan) -> None:
        packs = {p for e in self._entries([g.key for g in plan.groups]) for p in e.review.packs}
        meta = {
            "source": "gui",
            "albums": len(plan.groups),
            "packs": [p.to_json() for p in sorted(packs, key=lambda p: (p.kind, p.name))],
            # Tags the user added by hand, per album folder (the files' provenance says "manual" too).
            "manual": {g.folder: list(g.manual) for g in plan.groups if g.manual},
        }
        task = ApplyTask(self.core, plan.changes, self.config.tags, meta)
        task.signals.finished.connect(self._on_written)
        self._start(task)

    def undo(self, run_id: int | None = None) -> None:
        """Undo ``run_id`` (default: the last run that still has changes)."""
        task = UndoTask(self.core, run_id)
        task.signals.finished.connect(self._on_undone)
        self._start(task)

    def check_undo(self) -> None:
        """Find out (in the background) whether Undo Last Run has something to undo."""
        task = UndoableTask(self.core)
        task.signals.finished.connect(self._on_undoable)
        self.runner.start(task)  # a journal that cannot be read shows when Undo is used

    def _on_undoable(self, available: bool) -> None:
        self.can_undo = bool(available)
        self.undo_available.emit(self.can_undo)

    def _on_undone(self, result: RunResult | NothingToUndo) -> None:
        if isinstance(result, NothingToUndo):
            self._on_undoable(False)
            self.info.emit(result.message)
            return
        self._on_written(result)

    def _on_written(self, result: RunResult) -> None:
        """Fold an apply's or undo's outcomes into the in-memory library (no rescan needed)."""
        tracks = self._tracks_by_path([o.path for o in result.outcomes])
        field_name = self.config.tags.field
        touched: dict[str, list[str]] = {}  # album key -> failure messages
        for o in result.outcomes:
            found = tracks.get(o.path)
            if found is None:
                continue
            entry, track = found
            touched.setdefault(entry.key, [])
            if not o.ok:
                touched[entry.key].append(o.message)
            elif o.changed and field_name in o.new:
                if field_name == "style":
                    track.styles = list(o.new[field_name])
                else:
                    track.genres = list(o.new[field_name])
        for key, failures in touched.items():
            entry = self.model.entry(key)
            if entry is None:
                continue
            if failures:
                status, message = Status.ERROR, "; ".join(failures)
            elif result.kind == "undo":
                status, message = (Status.SUGGESTED if entry.result else Status.NEW), ""
            else:
                status, message = Status.APPLIED, ""
            entry.review.status, entry.review.message = status, message
            self.save_review(key)
            self.entry_changed.emit(key)
        self.model.refresh_keys(touched)  # one repaint for the lot
        self.errors.emit([ErrorItem(result.kind, o.path, o.message) for o in result.outcomes if not o.ok])
        verb = "Undo" if result.kind == "undo" else "Apply"
        stopped = " (stopped)" if result.cancelled else ""
        run = f"run {result.run_id}: " if result.run_id is not None else ""
        self.message.emit(f"{verb} {run}{result.changed_count} files changed, {result.failed_count} failed{stopped}")
        if result.run_id is not None and result.changed_count:
            self._on_undoable(True)  # this run can be undone (an undo, by re-applying)
        else:
            self.check_undo()
        self.run_finished.emit(result)

    def _tracks_by_path(self, paths: Sequence[str]) -> dict[str, tuple[AlbumEntry, Track]]:
        """The library's tracks at ``paths``, with their albums (looking only at the albums in
        those paths' folders: a write touches a few albums of a library of thousands)."""
        folders: set[str] = set()
        for path in paths:
            folder = os.path.dirname(path)
            for _ in range(3):  # an album's folder, or a disc folder's parent
                folders.add(folder)
                folder = os.path.dirname(folder)
        return {t.path: (e, t) for e in self.model.entries if e.album.folder in folders for t in e.album.tracks}

    # ------------------------------------------------------------------ watching folders
    @property
    def watching(self) -> bool:
        """Whether the watcher is on (or starting)."""
        return self.watch_session is not None

    def watched_folders(self) -> tuple[list[str], bool]:
        """The folders the watcher uses with the current settings, and whether they are the library's."""
        return watch_folders(self.config)

    def start_watching(self) -> bool:
        """Start watching in the background (loading the models if needed); False if on or nothing to watch."""
        if self.watch_session is not None:
            return False
        folders, _ = watch_folders(self.config)
        if not folders:
            self.message.emit("Nothing to watch: add a music folder, or choose watch folders in Settings ▸ Watch")
            self.watch_changed.emit(None)
            return False
        session = WatchSession(self.engine, copy.deepcopy(self.config), folders, self.watch_signals)
        self.watch_session = session
        self._watched_with = watch_settings(self.config)
        task = WatchStartTask(session, previous=self._closing_session)
        task.signals.progress.connect(self._on_progress)
        task.signals.finished.connect(self._on_watch_started)
        task.signals.failed.connect(self._on_watch_start_failed)
        task.signals.cancelled.connect(self._on_watch_start_cancelled)
        self.runner.start(task)
        self.watch_changed.emit(folders)
        return True

    def stop_watching(self) -> None:
        """Stop watching; the album being processed finishes in the background."""
        session, self.watch_session = self.watch_session, None
        if session is None:
            return
        self._closing_session = session
        session.close_in_background()
        self.watch_changed.emit(None)
        self.message.emit("Stopped watching")

    def _rewatch(self) -> None:
        """Restart a running watcher whose folders or settings changed (new settings, roots, models)."""
        if self.watch_session is not None and watch_settings(self.config) != self._watched_with:
            self.stop_watching()
            self.start_watching()

    def _on_watch_started(self, session: WatchSession) -> None:
        if session is not self.watch_session:
            return  # stopped while it was starting: already closing
        if self.engine.info is not None:
            self.engine_loaded.emit(self.engine.info)
        mode = (
            f"auto-apply at ≥ {session.config.watch.auto_apply_min_confidence:.2f}"
            if session.config.watch.auto_apply
            else "suggest only"
        )
        n = len(session.folders)
        self.message.emit(f"Watching {n} folder{'s' if n != 1 else ''} for new albums ({mode})")

    def _current_session_failed(self) -> bool:
        """After a failed or cancelled start: forget the session if it is the current one."""
        session = self.watch_session
        if session is None or not session.closed.is_set():
            return False
        self.watch_session = None
        self.watch_changed.emit(None)
        return True

    def _on_watch_start_failed(self, _title: str, message: str) -> None:
        if self._current_session_failed():
            self.errors.emit([ErrorItem("watch", "", f"cannot start watching: {message}")])
            self.message.emit(f"Watching failed: {message}")

    def _on_watch_start_cancelled(self) -> None:
        if self._current_session_failed():
            self.message.emit("Watching cancelled")

    def _on_watch_failed(self, folder: str, message: str) -> None:
        self.errors.emit([ErrorItem("watch", folder, message)])

    def _on_watch_event(self, watched: WatchedAlbum) -> None:
        """A processed album: notify, report its problems, and rescan its folder into the table."""
        event = watched.event
        self.watch_event.emit(event)
        problems = []
        if event.error:
            problems.append(ErrorItem("watch", event.folder, event.error))
        if event.result is not None:
            problems += [ErrorItem("watch", e.path, e.message) for e in event.result.errors]
        if event.run is not None:
            problems += [ErrorItem("watch", o.path, o.message) for o in event.run.outcomes if not o.ok]
        self.errors.emit(problems)
        if event.result is None:
            return  # a file the watcher's scan could not read: nothing to show in the table
        task = FolderScanTask(self.core, event.folder, self.config, self.policy, context=watched)
        task.signals.finished.connect(self._on_folder_scanned)
        self._start(task)

    def _on_folder_scanned(self, scan: FolderScan) -> None:
        keys = self.model.merge_albums(scan.folder, scan.result.albums, scan.reviews)
        self.library_changed.emit()
        self.errors.emit([ErrorItem("scan", e.path, e.message) for e in scan.result.errors])
        event: AlbumEvent | None = scan.context.event if scan.context is not None else None
        if event is not None and event.result is not None and self.model.entry(event.result.key) is not None:
            key = event.result.key
            packs = self.engine.info.packs if self.engine.info else ()
            self.model.set_result(event.result, packs, scan.guesses)
            run = event.run
            if run is not None and run.run_id is not None:
                failures = [o.message for o in run.outcomes if not o.ok]
                if failures:
                    self.model.set_status(key, Status.ERROR, "; ".join(failures))
                else:
                    self.model.set_status(key, Status.APPLIED, f"written by the watcher (run {run.run_id})")
                if run.changed_count:
                    self._on_undoable(True)
                self.run_finished.emit(run)
            self.save_review(key)
        for key in keys:
            self.entry_changed.emit(key)

    # ------------------------------------------------------------------ tagging the whole library
    def prepare_batch(self) -> bool:
        """Load the models and work out the batch (resuming?) in the background; :attr:`batch_ready` follows."""
        if self.is_running(RetagPrepareTask) or self.is_running(RetagTask):
            return False
        albums = [e.album for e in self.model.entries]
        if not albums or not self.roots:
            self.message.emit("Nothing to tag: add a music folder first")
            return False
        reviews = {e.key: e.review.copy() for e in self.model.entries if e.review.has_decisions}
        task = RetagPrepareTask(self.engine, albums, self.roots, self.config, reviews)
        task.signals.info.connect(self._on_engine_info)
        task.signals.finished.connect(self._on_batch_prepared)
        self._start(task)
        return True

    def _on_batch_prepared(self, plan: RetagPlan) -> None:
        self.batch_ready.emit(plan)

    def run_batch(self, plan: RetagPlan) -> bool:
        """Tag every album of ``plan`` (confirmed by the user); False if a batch is already running."""
        if self.is_running(RetagTask):
            return False
        task = RetagTask(self.engine, plan)
        task.signals.finished.connect(self._on_batch_done)
        self._start(task)
        return True

    def _on_batch_done(self, summary: BatchSummary) -> None:
        write_failures: set[str] = set()
        if summary.run is not None:
            self._on_written(summary.run)  # the table's genres and statuses, write errors
            write_failures = {o.path for o in summary.run.outcomes if not o.ok}
        self.errors.emit(
            [ErrorItem("batch", e.path, e.message) for e in summary.errors if e.path not in write_failures]
        )
        state = "stopped" if summary.cancelled else "done"
        run = f", run {summary.run.run_id}" if summary.run is not None and summary.run.run_id is not None else ""
        self.message.emit(
            f"Tag whole library {state}: {summary.albums_tagged} albums tagged, {summary.albums_skipped} skipped, "
            f"{summary.albums_failed} failed, {summary.files_changed} files changed{run}"
        )
        self.batch_finished.emit(summary)
