"""The two dialogs of "Tag Whole Library": the confirmation before, the summary after."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from musictagger.gui.chips import format_percent
from musictagger.gui.retag import RetagPlan
from musictagger.progress import format_duration

FIELD_NAMES = {"genre": "Genre", "style": "Style"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe_plan(plan: RetagPlan) -> str:
    """The confirmation's text (rich text): what will be written, where, and that it is safe."""
    t, inf = plan.config.tags, plan.config.inference
    n = len(plan.albums)
    mode = "merged with the genres already there" if t.mode == "merge" else "replacing the genres already there"
    limit = f", at most {t.max_genres}" if t.max_genres else ""
    parents = " (and their parent genres)" if t.write_parents else ""
    confidence = "Suggestions that reach their model's threshold"
    if inf.min_confidence > 0:
        confidence += f" and a confidence of at least <b>{format_percent(inf.min_confidence)}</b>"
    lines = [
        f"<p>Tag <b>{_plural(n, 'album')}</b> with the models' suggestions as they stand.</p>",
        "<ul>",
        f"<li>Field: <b>{FIELD_NAMES.get(t.field, t.field)}</b>, {mode}{limit}</li>",
        f"<li>{confidence}{parents}</li>",
        f"<li>Models: {html.escape(plan.packs_text)}</li>",
        f"<li>Folders: {html.escape(', '.join(plan.roots))}</li>",
        "</ul>",
    ]
    if plan.reviews:
        lines.append(
            f"<p>Your review of {_plural(len(plan.reviews), 'album')} is honoured: tags you rejected are not "
            "written, tags you ticked or added are.</p>"
        )
    if plan.resuming:
        lines.append(
            f"<p><b>An earlier batch with these folders and settings was interrupted</b>: it will resume, "
            f"skipping the {_plural(plan.albums_done, 'album')} it had finished.</p>"
        )
    lines.append(
        "<p>The batch is resumable: if it is stopped (Stop) or the app quits, running it again continues "
        "where it stopped. Every write is journaled and the whole run can be undone "
        "(Edit ▸ History of Runs).</p>"
    )
    return "".join(lines)


class RetagConfirmDialog(QDialog):
    def __init__(self, plan: RetagPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle("Tag Whole Library")
        self.setObjectName("batchConfirmDialog")
        self.text = QLabel(describe_plan(plan), wordWrap=True)
        self.text.setObjectName("dialogText")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        verb = "Resume" if plan.resuming else "Tag"
        self.start_button = buttons.addButton(
            f"{verb} {_plural(len(plan.albums), 'Album')}", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.start_button.setEnabled(bool(plan.albums))
        self.start_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def _undo(self) -> None:
        if self.summary.run is not None and self.summary.run.run_id is not None:
            self.undo_requested.emit(self.summary.run.run_id)
        self.accept()
        self.resize(560, self.sizeHint().height())


class RetagSummaryDialog(QDialog):
    """The figures of a finished (or stopped) batch; :attr:`undo_requested` carries its run id."""

    undo_requested = Signal(int)

    def __init__(self, summary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = summary
        self.setWindowTitle("Library Tagged" if not summary.cancelled else "Tagging Stopped")
        self.setObjectName("batchSummaryDialog")
        run_id = summary.run.run_id if summary.run is not None else None
        if summary.cancelled:
            head = "Stopped. Run Tag Whole Library again with the same settings to continue where it stopped."
        else:
            head = "Done" + (": an interrupted batch was resumed." if summary.resumed else ".")
        self.head = QLabel(head, wordWrap=True)
        form = QFormLayout()
        self.figures = {
            "Albums tagged": str(summary.albums_tagged),
            "Albums skipped": str(summary.albums_skipped),
            "Albums failed": str(summary.albums_failed),
            "Files changed": str(summary.files_changed),
            "Time": format_duration(summary.elapsed_s),
            "Run": str(run_id) if run_id is not None else "nothing written",
        }
        for name, value in self.figures.items():
            form.addRow(f"{name}:", QLabel(value))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.undo_button = buttons.addButton("Undo This Run", QDialogButtonBox.ButtonRole.ActionRole)
        self.undo_button.setEnabled(run_id is not None and summary.files_changed > 0)
        self.undo_button.clicked.connect(self._undo)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.head)
        layout.addLayout(form)
        if summary.errors:
            layout.addWidget(QLabel(f"{_plural(len(summary.errors), 'problem')}: see the Errors panel.", wordWrap=True))
        layout.addWidget(buttons)

    def _undo(self) -> None:
        if self.summary.run is not None and self.summary.run.run_id is not None:
            self.undo_requested.emit(self.summary.run.run_id)
        self.accept()
