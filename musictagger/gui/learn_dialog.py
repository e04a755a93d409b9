"""“Learn from my library”: runs the training core's ``learn`` in the background, if it is installed.

The training core is optional: :func:`training_available` only looks the module up (no import, so
neither torch nor the trainer is loaded at start); :func:`load_learn` imports it when the dialog
runs and returns its ``learn`` function, or None.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QProgressBar, QVBoxLayout, QWidget

from musictagger.gui.controller import LibraryController
from musictagger.gui.statusbar import describe_progress
from musictagger.gui.tasks import CallTask
from musictagger.progress import Progress

TRAINING_MODULE = "musictagger.training"
NOT_INSTALLED = "training core not installed"


def training_available() -> bool:
    try:
        return importlib.util.find_spec(TRAINING_MODULE) is not None
    except (ImportError, ValueError):
        return False


def load_learn() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module(TRAINING_MODULE)
    except ImportError:
        return None
    fn = getattr(module, "learn", None)
    return fn if callable(fn) else None


class LearnDialog(QDialog):
    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Learn from My Library")
        self.setObjectName("learnDialog")
        self.resize(560, 380)
        self.controller = controller
        self.task: CallTask | None = None
        roots = controller.roots
        self.intro = QLabel(
            "Train models on the genres already in your library, so that suggestions follow your "
            "own tagging. Runs in the background; the new packs appear under “learned from my "
            "library”.\n\nFolders: " + (", ".join(roots) if roots else "none — add a folder first"),
            wordWrap=True,
        )
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.log = QPlainTextEdit(readOnly=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.ActionRole)
        self.stop_button = self.buttons.addButton("Stop", QDialogButtonBox.ButtonRole.ActionRole)
        self.stop_button.setEnabled(False)
        self.start_button.setEnabled(bool(roots))
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.buttons)

    def start(self) -> None:
        learn = load_learn()
        if learn is None:
            self.log.appendPlainText(f"Cannot start: {NOT_INSTALLED} (no {TRAINING_MODULE}.learn).")
            return
        kwargs: dict[str, Any] = {}
        if "config" in inspect.signature(learn).parameters:
            kwargs["config"] = self.controller.config
        self.task = CallTask("Learning", learn, self.controller.roots, **kwargs)
        self.task.signals.progress.connect(self._on_progress)
        self.task.signals.finished.connect(self._on_finished)
        self.task.signals.failed.connect(self._on_failed)
        self.task.signals.cancelled.connect(self._on_cancelled)
        self.controller.runner.start(self.task)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.log.appendPlainText("Started.")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(min(p.done, p.total))
        else:
            self.progress.setRange(0, 0)
        self.progress.setFormat(describe_progress(p))

    def _ended(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.log.appendPlainText(text)
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.task = None

    def _on_finished(self, report: Any) -> None:
        self.controller.engine.reset(self.controller.config)  # new packs are picked up on the next Suggest
        self._ended(f"Done.\n{report}")

    def _on_failed(self, _title: str, message: str) -> None:
        self._ended(f"Failed: {message}")

    def _on_cancelled(self) -> None:
        self._ended("Stopped.")

    def reject(self) -> None:
        self.stop()
        super().reject()
