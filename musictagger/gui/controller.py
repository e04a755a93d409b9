"""The library and its runs, without widgets: what the window's actions do.

The controller owns the configuration, the album table model, the task runner and the model
engine. Each action starts a background task and returns at once; results come back as Qt
signals and are folded into the model here, in the GUI thread.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable, Sequence

from PySide6.QtCore import QObject, Signal

from musictagger.config import Config, save_config
from musictagger.gui.album_model import AlbumTableModel
from musictagger.gui.engine import Engine, EngineInfo
from musictagger.gui.errors_panel import ErrorItem
from musictagger.gui.review import AlbumEntry, Status
from musictagger.gui.tasks import (
    ApplyPlan,
    ApplyTask,
    GenreNamesTask,
    PreviewTask,
    ScanTask,
    SuggestSummary,
    SuggestTask,
    Task,
    TaskRunner,
    UndoTask,
    WarmUpTask,
)
from musictagger.gui.thumbs import ThumbnailCache
from musictagger.progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.journal import FileChange, RunResult
    from musictagger.library import ScanResult, Track
    from musictagger.pipeline.types import AlbumSuggestions


class LibraryController(QObject):
    progress = Signal(object)  # Progress
    message = Signal(str)  # a one-line summary when a run ends
    errors = Signal(list)  # list[ErrorItem]
    engine_loaded = Signal(object)  # EngineInfo
    engine_failed = Signal(str)  # why the models could not be loaded ahead of time
    genre_names = Signal(object)  # list[str]: the taxonomy's names, for completion
    scanned = Signal(object)  # ScanResult
    entry_changed = Signal(str)  # album key
    suggest_finished = Signal(object)  # SuggestSummary
    preview_ready = Signal(object)  # ApplyPlan
    run_finished = Signal(object)  # RunResult (apply or undo)
    roots_changed = Signal(list)
    busy_changed = Signal(bool)

    def __init__(self, config: Config, *, thumbs: ThumbnailCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.model = AlbumTableModel(thumbs, self)
        self.model.genre_field = config.tags.field
        self.runner = TaskRunner(self)
        self.runner.busy_changed.connect(self.busy_changed)
        self.engine = Engine(config)

    # ------------------------------------------------------------------ settings and roots
    @property
    def roots(self) -> list[str]:
        return list(self.config.library.roots)

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
            self.roots_changed.emit(self.roots)
            self.scan()
        return added

    def remove_root(self, path: str) -> None:
        if path in self.config.library.roots:
            self.config.library.roots = [r for r in self.config.library.roots if r != path]
            self._save()
            self.roots_changed.emit(self.roots)
            self.scan()

    def update_config(self, config: Config) -> None:
        """New settings from the dialog: saved, and the engine rebuilt if what shapes it changed."""
        old = self.config
        reload_engine = (old.inference, old.fusion) != (config.inference, config.fusion)
        roots_changed = old.library.roots != config.library.roots
        self.config = config
        self.model.genre_field = config.tags.field
        self._save()
        if reload_engine:
            self.engine.reset(config)
        self.model.refresh_all()
        if roots_changed:
            self.roots_changed.emit(self.roots)

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
        self.runner.shutdown()

    def _on_progress(self, p: Progress) -> None:
        self.progress.emit(p)

    def _on_failed(self, title: str, message: str) -> None:
        self.errors.emit([ErrorItem(title.lower(), "", message)])
        self.message.emit(f"{title} failed: {message}")

    # ------------------------------------------------------------------ scan
    def scan(self, roots: Sequence[str] | None = None) -> bool:
        """Scan the library roots (or ``roots``); False if a scan is already running or nothing to scan."""
        roots = list(roots) if roots is not None else self.roots
        if not roots or self.is_running(ScanTask):
            return False
        task = ScanTask(roots, self.config)
        task.signals.finished.connect(self._on_scanned)
        self._start(task)
        return True

    def _on_scanned(self, result: "ScanResult") -> None:
        self.model.set_albums(result.albums)
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
        self._start(task)
        return True

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
        task = GenreNamesTask()
        task.signals.finished.connect(self._on_genre_names)
        task.signals.failed.connect(self._on_failed)
        self.runner.start(task)

    def _on_genre_names(self, names: list[str]) -> None:
        self.genre_names.emit(names)

    def _on_engine_info(self, info: EngineInfo) -> None:
        self.engine_loaded.emit(info)

    def _on_suggestion(self, result: "AlbumSuggestions") -> None:
        self.model.set_result(result, min_confidence=self.config.inference.min_confidence,
                              write_parents=self.config.tags.write_parents)
        if result.errors:
            self.errors.emit([ErrorItem("suggest", path, msg) for path, msg in result.errors])
        self.entry_changed.emit(result.key)

    def _on_suggested(self, summary: SuggestSummary) -> None:
        state = "stopped after" if summary.cancelled else "done:"
        self.message.emit(f"Suggest {state} {summary.albums} album{'s' if summary.albums != 1 else ''}")
        self.suggest_finished.emit(summary)

    # ------------------------------------------------------------------ apply
    def _entries(self, keys: Sequence[str] | None) -> list[AlbumEntry]:
        if keys is None:
            return self.model.entries
        found = (self.model.entry(k) for k in keys)
        return [e for e in found if e is not None]

    def build_changes(self, keys: Sequence[str] | None = None) -> tuple[list["FileChange"], dict[str, list[str]]]:
        """The file changes for the accepted tags of ``keys`` (None: every reviewed, not yet applied album)."""
        from musictagger.pipeline.apply import album_changes, provenance

        entries = self._entries(keys)
        if keys is None:
            entries = [e for e in entries if e.status == Status.SUGGESTED or e.review.added]
        packs = self.engine.info.packs if self.engine.info else ()
        changes: list["FileChange"] = []
        labels: dict[str, list[str]] = {}
        for entry in entries:
            names = entry.pending_labels()
            if not names:
                continue
            prov = provenance(entry.result, names, packs) if entry.result is not None and packs else None
            album_ch = album_changes(entry.album, names, self.config.tags, prov=prov)
            if album_ch:
                labels[entry.key] = names
                changes.extend(album_ch)
        return changes, labels

    def prepare_apply(self, keys: Sequence[str] | None = None) -> bool:
        """Dry-run the apply in the background; :attr:`preview_ready` carries the plan to confirm."""
        changes, labels = self.build_changes(keys)
        if not changes:
            self.message.emit("Nothing to apply: no accepted tags on the chosen albums")
            return False
        task = PreviewTask(changes, self.config.tags, labels)
        task.signals.finished.connect(self._on_previewed)
        self._start(task)
        return True

    def _on_previewed(self, plan: ApplyPlan) -> None:
        if plan.preview.cancelled:
            self.message.emit("Apply cancelled")
            return
        self.errors.emit([ErrorItem("apply", o.path, o.message) for o in plan.preview.outcomes if not o.ok])
        self.preview_ready.emit(plan)

    def apply(self, plan: ApplyPlan) -> None:
        packs = self.engine.info.packs if self.engine.info else ()
        meta = {"source": "gui", "albums": len(plan.labels), "packs": [p.to_json() for p in packs]}
        task = ApplyTask(plan.changes, self.config.tags, meta)
        task.signals.finished.connect(self._on_written)
        self._start(task)

    def undo(self, run_id: int | None = None) -> None:
        """Undo ``run_id`` (default: the last run that still has changes)."""
        task = UndoTask(run_id)
        task.signals.finished.connect(self._on_written)
        self._start(task)

    def _on_written(self, result: "RunResult") -> None:
        """Fold an apply's or undo's outcomes into the in-memory library (no rescan needed)."""
        tracks = self._tracks_by_path()
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
                self.model.set_status(key, Status.ERROR, "; ".join(failures))
            elif result.kind == "undo":
                self.model.set_status(key, Status.SUGGESTED if entry.result else Status.NEW)
            else:
                self.model.set_status(key, Status.APPLIED)
            self.entry_changed.emit(key)
        self.errors.emit([ErrorItem(result.kind, o.path, o.message) for o in result.outcomes if not o.ok])
        verb = "Undo" if result.kind == "undo" else "Apply"
        stopped = " (stopped)" if result.cancelled else ""
        run = f"run {result.run_id}: " if result.run_id is not None else ""
        self.message.emit(f"{verb} {run}{result.changed_count} files changed, {result.failed_count} failed{stopped}")
        self.run_finished.emit(result)

    def _tracks_by_path(self) -> dict[str, tuple[AlbumEntry, "Track"]]:
        return {t.path: (e, t) for e in self.model.entries for t in e.album.tracks}
