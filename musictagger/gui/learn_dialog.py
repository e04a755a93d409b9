"""“Learn from my library”: the training core's ``learn``, run in the core process, shown in phases,
and its report as a person reads it.

The training core is optional: :func:`training_available` only looks the module up (no import, so
neither torch nor the trainer is loaded at start).

The dialog knows nothing of how learning works inside: it lists the phases the core reports
through :class:`~musictagger.progress.Progress` stages ("scan", "embed", "train", "evaluate"… a
stage it does not know is added as it comes) and renders the report from its fields
(:class:`~musictagger.training.learning.LearnReport`: ``trained`` packs with per-label figures,
``not_trained`` with the reason), read defensively so that new fields do not break it.
"""

from __future__ import annotations

import html
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from musictagger.gui.chips import format_percent
from musictagger.gui.controller import LibraryController
from musictagger.gui.statusbar import describe_progress, format_duration
from musictagger.gui.tasks import CallTask
from musictagger.progress import Progress

TRAINING_MODULE = "musictagger.training"
NOT_INSTALLED = "training core not installed"

#: The phases a person is told about, in order, by progress stage. Stages not listed are added as
#: they come (their name capitalised); "decode" is reading audio, shown as part of "embed".
PHASES: tuple[tuple[str, str], ...] = (
    ("scan", "Read your library's tags"),
    ("embed", "Look at covers and listen to excerpts"),
    ("train", "Train"),
    ("evaluate", "Check on albums set aside"),
)
STAGE_ALIASES = {"decode": "embed", "load": "embed"}
PENDING, RUNNING, DONE, SKIPPED = "○", "◐", "●", "–"

#: Names of the files a learned pack may carry a report in (the first one found is linked).
REPORT_FILES = ("report.html", "evaluation.html", "training.html", "MODEL_CARD.md")


def training_available() -> bool:
    try:
        return importlib.util.find_spec(TRAINING_MODULE) is not None
    except (ImportError, ValueError):
        return False


def label_name(label: str) -> str:
    """A taxonomy id as a person reads it ("black-metal" → "Black Metal")."""
    try:
        from musictagger.taxonomy import Taxonomy

        tax = Taxonomy.default()
        if label in tax:
            return tax.name(label)
    except Exception:  # noqa: BLE001 - a name is only cosmetic
        pass
    return label.replace("-", " ").title()


def report_link(pack: Any) -> Path | None:
    """The pack's report file: an attribute the report may carry, else a known file in its folder."""
    for attr in ("report_html", "report_path", "html"):
        value = getattr(pack, attr, None)
        if value and Path(value).is_file():
            return Path(value)
    folder = getattr(pack, "path", None)
    if folder:
        for name in REPORT_FILES:
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    return None


def render_report(report: Any) -> str:
    """The report as rich text: what was learnt (per label: albums, validation figures), what
    could not be learnt and why, and a link to each pack's own report."""
    trained = list(getattr(report, "trained", []) or [])
    not_trained = dict(getattr(report, "not_trained", {}) or {})
    parts: list[str] = []
    if not trained:
        parts.append("<h3>Nothing could be learnt</h3>")
        parts.append("<p>Your suggestions are unchanged: the bundled models stay in use.</p>")
    else:
        names = ", ".join(html.escape(str(getattr(p, "name", "?"))) for p in trained)
        parts.append(f"<h3>Learnt: {names}</h3>")
        parts.append("<p>The next Suggest uses them beside the bundled models.</p>")
    for pack in trained:
        name = html.escape(str(getattr(pack, "name", "?")))
        kind = html.escape(str(getattr(pack, "kind", "")))
        used, skipped = getattr(pack, "albums_used", None), getattr(pack, "albums_skipped", None)
        macro = getattr(pack, "macro_ap", None)
        mode = getattr(pack, "mode", "")
        base = getattr(pack, "base", None)
        how = {"linear-head": f"a new last layer on {html.escape(str(base))}" if base else "a new last layer"}.get(
            mode, "the whole model" if mode == "full" else html.escape(str(mode))
        )
        lines = [f"<h4>{name} <small>({kind} model)</small></h4>", "<p>"]
        if used is not None:
            lines.append(f"Learnt from <b>{used}</b> albums")
            if skipped:
                lines.append(f" ({skipped} skipped: no genre the taxonomy knows)")
            lines.append(". ")
        lines.append(f"Trained {how}")
        elapsed = getattr(pack, "elapsed_s", None)
        if elapsed:
            lines.append(f" in {format_duration(float(elapsed))}")
        lines.append(". ")
        lines.append(
            "Average precision on albums set aside: "
            + (f"<b>{format_percent(macro)}</b>" if macro is not None else "<b>n/a</b> (too few albums to check)")
            + " (100% would be perfect; a genre that appears in a share <i>p</i> of albums scores "
            "about <i>p</i> by chance).</p>"
        )
        counts = dict(getattr(pack, "label_counts", {}) or {})
        per_ap = dict(getattr(pack, "per_label_ap", {}) or {})
        labels = list(getattr(pack, "labels", []) or counts)
        if labels:
            rows = sorted(labels, key=lambda lab: (-(counts.get(lab) or 0), lab))
            lines.append(
                "<table cellspacing='0' cellpadding='3'><tr><th align='left'>Genre</th>"
                "<th align='right'>Albums</th><th align='right'>Precision</th><th align='left'></th></tr>"
            )
            for lab in rows:
                ap = per_ap.get(lab)
                note = "not enough albums set aside to check" if ap is None else ("weak" if ap < 0.3 else "")
                lines.append(
                    f"<tr><td>{html.escape(label_name(lab))}</td><td align='right'>{counts.get(lab, 0)}</td>"
                    f"<td align='right'>{format_percent(ap)}</td><td><i>{note}</i></td></tr>"
                )
            lines.append("</table>")
        link = report_link(pack)
        if link is not None:
            lines.append(f"<p><a href='{QUrl.fromLocalFile(str(link)).toString()}'>Open the full report</a></p>")
        parts.append("".join(lines))
    if not_trained:
        parts.append("<h4>Not learnt</h4><ul>")
        for kind, why in not_trained.items():
            parts.append(f"<li><b>{html.escape(str(kind))} model</b>: {html.escape(str(why))}</li>")
        parts.append("</ul>")
        parts.append(
            "<p>Learning needs albums tagged with genres the taxonomy knows, by at least two artists per "
            "genre (some albums are set aside to check the result).</p>"
        )
    return "".join(parts)


@dataclass
class _Phase:
    stage: str
    title: str
    item: QListWidgetItem
    state: str = PENDING


class LearnDialog(QDialog):
    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Learn from My Library")
        self.setObjectName("learnDialog")
        self.resize(620, 560)
        self.controller = controller
        self.task: CallTask | None = None
        self.report: Any = None
        roots = controller.roots
        self.intro = QLabel(
            "Train models on the genres already in your library, so that suggestions follow your own "
            "tagging. It runs in the background (minutes on a laptop); the new models are used beside "
            "the bundled ones.<br><br>Folders: "
            + (html.escape(", ".join(roots)) if roots else "none — add a music folder first"),
            wordWrap=True,
        )
        self.intro.setObjectName("dialogText")
        self.phases = QListWidget()
        self.phases.setObjectName("learnPhases")
        self.phases.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.phases.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self._phases: dict[str, _Phase] = {}
        for stage, title in PHASES:
            self._add_phase(stage, title)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self.progress.setTextVisible(True)
        self.result = QTextBrowser()
        self.result.setObjectName("learnReport")
        self.result.setOpenLinks(False)
        self.result.anchorClicked.connect(self._open_link)
        self.result.setPlaceholderText("The report appears here when learning ends.")
        self.result.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.ActionRole)
        self.stop_button = self.buttons.addButton("Stop", QDialogButtonBox.ButtonRole.ActionRole)
        self.stop_button.setEnabled(False)
        self.start_button.setEnabled(bool(roots) and training_available())
        if not training_available():
            self.start_button.setToolTip(NOT_INSTALLED)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.phases)
        layout.addWidget(self.result, 1)
        layout.addWidget(self.buttons)
        self._fit_phases()

    # ------------------------------------------------------------------ phases
    def _add_phase(self, stage: str, title: str) -> _Phase:
        item = QListWidgetItem(f"{PENDING}  {title}")
        self.phases.addItem(item)
        phase = _Phase(stage, title, item)
        self._phases[stage] = phase
        self._fit_phases()
        return phase

    def _fit_phases(self) -> None:
        """The phase list as tall as its rows (no scrolling, no empty space)."""
        rows = max(1, self.phases.count())
        self.phases.setFixedHeight(self.phases.sizeHintForRow(0) * rows + 2 * self.phases.frameWidth() + 4)

    def _set(self, phase: _Phase, state: str, detail: str = "") -> None:
        phase.state = state
        phase.item.setText(f"{state}  {phase.title}" + (f" — {detail}" if detail else ""))
        font = phase.item.font()
        font.setBold(state == RUNNING)
        phase.item.setFont(font)

    def phase_states(self) -> dict[str, str]:
        return {stage: p.state for stage, p in self._phases.items()}

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        for phase in self._phases.values():
            self._set(phase, PENDING)
        self.report = None
        self.result.clear()
        self.task = CallTask(self.controller.core, "Learning", "learn", self.controller.roots, self.controller.config)
        self.task.signals.progress.connect(self._on_progress)
        self.task.signals.finished.connect(self._on_finished)
        self.task.signals.failed.connect(self._on_failed)
        self.task.signals.cancelled.connect(self._on_cancelled)
        self.controller.runner.start(self.task)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting…")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_progress(self, p: Progress) -> None:
        stage = STAGE_ALIASES.get(p.stage, p.stage)
        phase = self._phases.get(stage) or self._add_phase(stage, stage.replace("_", " ").capitalize())
        order = list(self._phases)
        for earlier in order[: order.index(stage)]:
            if self._phases[earlier].state == RUNNING:
                self._set(self._phases[earlier], DONE)
        count = f"{p.done}/{p.total}" if p.total else ""
        self._set(phase, RUNNING, count)
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(min(p.done, p.total))
        else:
            self.progress.setRange(0, 0)
        self.progress.setFormat(describe_progress(p))

    def _ended(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(text)
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.task = None

    def _on_finished(self, report: Any) -> None:
        self.report = report
        trained = bool(getattr(report, "trained", None))
        for phase in self._phases.values():
            if phase.state == RUNNING:
                self._set(phase, DONE)
            elif phase.state == PENDING:
                self._set(phase, SKIPPED, "not needed" if trained else "not reached")
        if trained:
            self.controller.engine.reset(self.controller.config)  # new packs are used by the next Suggest
        self.result.setHtml(render_report(report))
        self._ended("Done" if trained else "Finished: nothing learnt (see below)")

    def _on_failed(self, _title: str, message: str) -> None:
        for phase in self._phases.values():
            if phase.state == RUNNING:
                self._set(phase, SKIPPED, "failed")
        self.result.setHtml(f"<h3>Learning failed</h3><p>{html.escape(message)}</p>")
        self._ended("Failed")

    def _on_cancelled(self) -> None:
        for phase in self._phases.values():
            if phase.state == RUNNING:
                self._set(phase, SKIPPED, "stopped")
        self._ended("Stopped")

    def _open_link(self, url: QUrl) -> None:
        QDesktopServices.openUrl(url)

    def reject(self) -> None:
        self.stop()
        super().reject()
