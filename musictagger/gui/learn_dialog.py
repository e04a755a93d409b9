"""“Learn from my library”: the training core's ``learn``, run in the core process, shown in phases,
and its report as a person reads it.

The training core is optional: :func:`training_available` only looks the module up (no import, so
neither torch nor the trainer is loaded at start).

The dialog knows nothing of how learning works inside: it lists the phases the core reports
through :class:`~musictagger.progress.Progress` stages ("scan", "embed", "evaluate"… a stage it
does not know is added as it comes) and renders the report from its fields
(:class:`~musictagger.training.learning.LearnReport`: ``trained`` packs, per-genre ``labels`` with
cover and audio AP, what was not learnt and why, sibling ``confusions``, ``embedded`` vs cached
albums, the ``check_my_tags`` list — a list whose entries select the album in the main window — and
``html_path``), read defensively so that new fields do not break it.
"""

from __future__ import annotations

import html
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontMetrics
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musictagger.gui.chips import format_percent
from musictagger.gui.controller import LibraryController
from musictagger.gui.statusbar import describe_progress
from musictagger.gui.tasks import CallTask
from musictagger.progress import Progress, format_duration

TRAINING_MODULE = "musictagger.training"
NOT_INSTALLED = "training core not installed"

#: The phases a person is told about, in order, by progress stage. Stages not listed are added as
#: they come (their name capitalised); "decode" is reading audio, shown as part of "embed".
PHASES: tuple[tuple[str, str], ...] = (
    ("scan", "Read your library's tags"),
    ("embed", "Look at covers and listen to excerpts"),
    ("evaluate", "Learn each genre, checked on artists set aside"),
)
STAGE_ALIASES = {
    "decode": "embed",
    "load": "embed",
    "infer": "embed",
    "cross-validate": "evaluate",
    "train": "evaluate",
}
PENDING, RUNNING, DONE, SKIPPED = "○", "◐", "●", "–"

#: Rows of the check-my-tags list shown without scrolling.
CHECK_ROWS = 8

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


def _ap(value: Any) -> str:
    return format_percent(value) if isinstance(value, (int, float)) else "n/a"


def _how(pack: Any) -> str:
    """How a pack was made, in words ("a new last layer on covers-v2 2.0.0")."""
    mode, base = str(getattr(pack, "mode", "") or ""), getattr(pack, "base", None)
    if mode == "linear-head" or mode.startswith("head on"):
        return f"a new last layer on {html.escape(str(base))}" if base else "a new last layer"
    return "the whole model" if mode == "full" else html.escape(mode)


def confused_pairs(report: Any, limit: int = 6) -> list[tuple[str, str, int, int]]:
    """The most confused sibling subgenres: (tagged, scored highest as, albums, of how many tagged),
    most first."""
    pairs = []
    for c in list(getattr(report, "confusions", []) or []):
        labels, counts = list(getattr(c, "labels", []) or []), list(getattr(c, "counts", []) or [])
        for i, row in enumerate(counts):
            total = sum(row)
            for j, n in enumerate(row):
                if i != j and n > 0 and i < len(labels) and j < len(labels):
                    pairs.append((label_name(labels[i]), label_name(labels[j]), int(n), int(total)))
    pairs.sort(key=lambda p: (-p[2], -p[2] / max(1, p[3]), p[0], p[1]))
    return pairs[:limit]


def _genre_table(report: Any, trained: list[Any]) -> str:
    """Per genre learnt: albums, artists, average precision of the cover and the audio model."""
    kinds = [k for k in ("cover", "audio") if any(getattr(p, "kind", "") == k for p in trained)] or ["cover", "audio"]
    rows = [r for r in list(getattr(report, "labels", []) or []) if getattr(r, "learnt", False)]
    head = "".join(f"<th align='right'>{k.capitalize()} AP</th>" for k in kinds)
    out = [
        "<table cellspacing='0' cellpadding='3'><tr><th align='left'>Genre</th><th align='right'>Albums</th>"
        f"<th align='right'>Artists</th>{head}<th align='left'></th></tr>"
    ]
    for r in rows:
        per_kind = dict(getattr(r, "per_kind", {}) or {})
        values = [(per_kind.get(k) or {}).get("ap") for k in kinds]
        known = [v for v in values if v is not None]
        note = "too few albums to check" if not known else ("weak" if max(known) < 0.3 else "")
        cells = "".join(f"<td align='right'>{_ap(v)}</td>" for v in values)
        out.append(
            f"<tr><td>{html.escape(str(getattr(r, 'name', '') or label_name(r.label)))}</td>"
            f"<td align='right'>{getattr(r, 'albums', 0)}</td><td align='right'>{getattr(r, 'artists', 0)}</td>"
            f"{cells}<td><i>{note}</i></td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _pack_table(pack: Any) -> str:
    """A pack's own per-label figures (reports without per-genre results)."""
    counts = dict(getattr(pack, "label_counts", {}) or {})
    per_ap = dict(getattr(pack, "per_label_ap", {}) or {})
    labels = list(getattr(pack, "labels", []) or counts)
    if not labels:
        return ""
    out = [
        "<table cellspacing='0' cellpadding='3'><tr><th align='left'>Genre</th>"
        "<th align='right'>Albums</th><th align='right'>Precision</th><th align='left'></th></tr>"
    ]
    for lab in sorted(labels, key=lambda lab: (-(counts.get(lab) or 0), lab)):
        ap = per_ap.get(lab)
        note = "not enough albums set aside to check" if ap is None else ("weak" if ap < 0.3 else "")
        out.append(
            f"<tr><td>{html.escape(label_name(lab))}</td><td align='right'>{counts.get(lab, 0)}</td>"
            f"<td align='right'>{format_percent(ap)}</td><td><i>{note}</i></td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def render_report(report: Any) -> str:
    """The report as rich text: what was learnt (per genre: albums, artists, cover and audio
    average precision), how many albums had to be embedded, what could not be learnt and why, the
    sibling subgenres confused most, and links to the full HTML report. (The check-my-tags list is
    a clickable list of the dialog, beside this text.)"""
    trained = list(getattr(report, "trained", []) or [])
    not_trained = dict(getattr(report, "not_trained", {}) or {})
    labels = list(getattr(report, "labels", []) or [])
    parts: list[str] = []
    if not trained:
        parts.append("<h3>Nothing could be learnt</h3>")
        parts.append("<p>Your suggestions are unchanged: the bundled models stay in use.</p>")
    else:
        names = ", ".join(html.escape(str(getattr(p, "name", "?"))) for p in trained)
        parts.append(f"<h3>Learnt: {names}</h3>")
        parts.append(
            "<p>The next Suggest uses them beside the bundled models, and shows the albums of yours that "
            "look or sound like each new one.</p>"
        )
    used = getattr(report, "albums_used", None)
    embedded = getattr(report, "embedded", None)
    if used:
        skipped = getattr(report, "albums_skipped", 0)
        line = f"<p><b>{used}</b> albums with genre tags the taxonomy knows" + (
            f" ({skipped} without)." if skipped else "."
        )
        if isinstance(embedded, int):
            line += (
                f" <b>{embedded}</b> had to be looked at and listened to, {max(0, used - embedded)} came from "
                "the cache (learning again costs time only for new or changed albums)."
            )
        parts.append(line + "</p>")
    models: list[str] = []  # a paragraph per pack
    for pack in trained:
        name = html.escape(str(getattr(pack, "name", "?")))
        kind = html.escape(str(getattr(pack, "kind", "")))
        bits = [f"<b>{name}</b> ({kind} model): {_how(pack)}"]
        pack_used = getattr(pack, "albums_used", None)
        if pack_used is not None:
            bits.append(f"learnt from {pack_used} albums")
            skipped = getattr(pack, "albums_skipped", None)
            if skipped and not labels:
                bits[-1] += f" ({skipped} skipped: no genre the taxonomy knows)"
        folds = getattr(pack, "folds", 0)
        if folds:
            bits.append(f"{folds}-fold cross-validation by artist")
        macro = getattr(pack, "macro_ap", None)
        bits.append(
            "average precision "
            + (f"<b>{format_percent(macro)}</b>" if macro is not None else "<b>n/a</b> (too few albums to check)")
        )
        elapsed = getattr(pack, "elapsed_s", None)
        if elapsed:
            bits.append(f"in {format_duration(float(elapsed))}")
        line = "<p>" + ", ".join(bits) + "."
        link = report_link(pack)
        if link is not None:
            line += f" <a href='{QUrl.fromLocalFile(str(link)).toString()}'>Its report</a>"
        models.append(line + "</p>")
        if not labels:
            models.append(_pack_table(pack))
    if trained and labels:
        parts.append("<h4>Genres learnt</h4>")
        parts.append(_genre_table(report, trained))
        parts.append(
            "<p><small>AP: average precision on albums scored by a model that never saw their artist "
            "(100% would be perfect; a genre that appears in a share <i>p</i> of albums scores about "
            "<i>p</i> by chance).</small></p>"
        )
    skipped_labels = [r for r in labels if not getattr(r, "learnt", True)]
    if not_trained or skipped_labels:
        parts.append("<h4>Not learnt</h4><ul>")
        for r in skipped_labels:
            name = html.escape(str(getattr(r, "name", "") or label_name(r.label)))
            parts.append(f"<li><b>{name}</b>: {html.escape(str(getattr(r, 'why', '')))}</li>")
        for kind, why in not_trained.items():
            parts.append(f"<li><b>{html.escape(str(kind))} model</b>: {html.escape(str(why))}</li>")
        parts.append("</ul>")
        if not_trained:
            parts.append(
                "<p>Learning needs albums tagged with genres the taxonomy knows, by at least two artists per "
                "genre (some albums are set aside to check the result).</p>"
            )
    if getattr(report, "confusions", None):
        pairs = confused_pairs(report)
        parts.append("<h4>Subgenres confused with each other</h4>")
        if pairs:
            parts.append("<ul>")
            for tagged, scored, n, total in pairs:
                parts.append(
                    f"<li><b>{n}</b> of {total} {html.escape(tagged)} albums scored highest as "
                    f"{html.escape(scored)}</li>"
                )
            parts.append("</ul>")
        else:
            parts.append("<p>None: each sibling subgenre scored highest on its own albums.</p>")
    if trained and labels:
        parts.append("<h4>The models</h4>")
        parts += models
    elif trained:
        parts += models
        parts.append(
            "<p><small>Average precision: 100% would be perfect; a genre that appears in a share <i>p</i> "
            "of albums scores about <i>p</i> by chance.</small></p>"
        )
    html_path = getattr(report, "html_path", None)
    if html_path:
        parts.append(
            f"<p><a href='{QUrl.fromLocalFile(str(html_path)).toString()}'>Open the full report</a> "
            f"<small>({html.escape(str(html_path))})</small></p>"
        )
    return "".join(parts)


def check_rows(report: Any) -> list[tuple[str, str, str, str, str]]:
    """The check-my-tags list as rows: (album as people read it, tagged but scores low, scores high
    but not tagged, folder, album title)."""
    rows = []
    for t in list(getattr(report, "check_my_tags", []) or []):
        folder = str(getattr(t, "folder", ""))
        album = getattr(t, "album", None) or ""
        who = f"{getattr(t, 'album_artist', None) or 'Unknown artist'} — {album or Path(folder).name}"
        doubtful = ", ".join(f"{name} {format_percent(p)}" for name, p in getattr(t, "doubtful", []) or [])
        missing = ", ".join(f"{name} {format_percent(p)}" for name, p in getattr(t, "missing", []) or [])
        rows.append((who, doubtful, missing, folder, album))
    return rows


@dataclass
class _Phase:
    stage: str
    title: str
    item: QListWidgetItem
    state: str = PENDING


class LearnDialog(QDialog):
    """Runs ``learn`` and shows its report. Not modal: the check-my-tags list selects albums in the
    main window (:attr:`album_requested`) while the dialog stays open beside it."""

    album_requested = Signal(str, str)  # folder, album title

    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Learn from My Library")
        self.setObjectName("learnDialog")
        self.resize(700, 720)
        self.controller = controller
        self.task: CallTask | None = None
        self.report: Any = None
        roots = controller.roots
        self.intro = QLabel(
            "Learn the genres already in your library, so that suggestions follow your own tagging and "
            "show the albums of yours that look or sound alike. The first run looks at every cover and "
            "listens to excerpts (minutes for a large library); later runs only at new or changed albums. "
            "It runs in the background; the new models are used beside the bundled ones.<br><br>Folders: "
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

        # Check my tags: albums whose tags disagree most with what the rest of the library taught.
        self.checks_title = QLabel(
            "<b>Check my tags</b> — albums whose genre tags disagree most with what the rest of your "
            "library taught (possible mistakes). Click one to select it in the main window.",
            wordWrap=True,
        )
        self.checks = QTreeWidget()
        self.checks.setObjectName("checkMyTags")
        self.checks.setHeaderLabels(["Album", "Tagged, but scores low", "Scores high, not tagged"])
        self.checks.setRootIsDecorated(False)
        self.checks.setUniformRowHeights(True)
        self.checks.setAlternatingRowColors(True)
        self.checks.itemClicked.connect(self._check_clicked)
        self.checks.itemActivated.connect(self._check_clicked)
        checks_box = QWidget()
        checks_layout = QVBoxLayout(checks_box)
        checks_layout.setContentsMargins(0, 0, 0, 0)
        checks_layout.addWidget(self.checks_title)
        checks_layout.addWidget(self.checks, 1)
        self.checks_box = checks_box
        checks_box.hide()
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.result)
        self.split.addWidget(checks_box)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.ActionRole)
        self.stop_button = self.buttons.addButton("Stop", QDialogButtonBox.ButtonRole.ActionRole)
        self.html_button = self.buttons.addButton("Open Full Report", QDialogButtonBox.ButtonRole.HelpRole)
        self.html_button.setToolTip("The report as a web page, in your browser")
        self.html_button.setEnabled(False)
        self.html_button.clicked.connect(self.open_html_report)
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
        layout.addWidget(self.split, 1)
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
        self.show_checks(None)
        self.html_button.setEnabled(False)
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
        self.show_checks(report)
        self.html_button.setEnabled(bool(self.html_path))
        self._ended("Done" if trained else "Finished: nothing learnt (see below)")

    # ------------------------------------------------------------------ the report
    @property
    def html_path(self) -> str | None:
        """The report's HTML page, if it was written and is still there."""
        path = getattr(self.report, "html_path", None)
        return str(path) if path and Path(path).is_file() else None

    def open_html_report(self) -> None:
        if self.html_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.html_path))

    def show_checks(self, report: Any) -> None:
        """Fill the check-my-tags list (hidden when it is empty)."""
        self.checks.clear()
        rows = check_rows(report) if report is not None else []
        for who, doubtful, missing, folder, album in rows:
            item = QTreeWidgetItem(self.checks, [who, doubtful or "—", missing or "—"])
            item.setData(0, Qt.ItemDataRole.UserRole, (folder, album))
            item.setToolTip(0, f"{folder}\nClick to select this album in the main window")
        for col in range(3):
            self.checks.resizeColumnToContents(col)
        # As tall as its rows (up to CHECK_ROWS; then it scrolls): the report keeps the rest.
        row_h = self.checks.sizeHintForRow(0) if rows else 0
        tree_h = self.checks.header().sizeHint().height() + max(2, min(len(rows), CHECK_ROWS)) * max(row_h, 1)
        tree_h += 2 * self.checks.frameWidth() + 4
        line = QFontMetrics(self.checks_title.font()).lineSpacing()
        self.checks_box.setMaximumHeight(tree_h + 3 * line + 8)
        self.checks_box.setVisible(bool(rows))

    def _check_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        data = item.data(0, Qt.ItemDataRole.UserRole)
        if data:
            folder, album = data
            self.album_requested.emit(str(folder), str(album or ""))

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
