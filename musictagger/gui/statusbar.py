"""The status bar: progress with ETA, the device in use, the loaded packs, and the error count."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QSizePolicy, QStatusBar, QWidget

from musictagger.progress import Progress, format_duration

STAGE_NAMES = {
    "scan": "Scanning",
    "suggest": "Suggesting",
    "load": "Loading models",
    "write": "Writing tags",
    "undo": "Undoing",
    "train": "Learning",
    "embed": "Looking and listening",
    "evaluate": "Learning genres",
    "decode": "Decoding",
    "infer": "Inferring",
    "wait": "Waiting",
    "batch": "Tagging library",
}

#: How long a watcher notification stays in the status bar when there is no system tray.
NOTIFICATION_MS = 10_000
#: How many recent watcher events the watch indicator's tooltip lists.
RECENT_EVENTS = 5


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{int(round(seconds))} s left"
    return f"{format_duration(seconds)} left"


def describe_progress(p: Progress) -> str:
    stage = STAGE_NAMES.get(p.stage, p.stage.capitalize())
    count = f"{p.done}/{p.total}" if p.total else (str(p.done) if p.done else "")
    parts = [f"{stage} {count}".strip()]
    if p.eta_s is not None and p.total:
        parts.append(format_eta(p.eta_s))
    if p.current:
        parts.append(p.current)
    return " · ".join(parts)


class ElidedLabel(QLabel):
    """A one-line label that elides its text to the room it has (the tooltip has it whole), so a
    long progress line never pushes the status bar's other items out or gets cut mid-word."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(80)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.contentsRect().width())
        metrics = QFontMetrics(self.font())
        if metrics.horizontalAdvance(self._full) <= width:  # fits (and no Qt enum before the first paint)
            QLabel.setText(self, self._full)
            return
        from PySide6.QtCore import Qt

        QLabel.setText(self, metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, width))


class StatusBar(QStatusBar):
    errors_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task_label = ElidedLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.progress.hide()
        self.device_label = QLabel("Device: not loaded")
        self.device_label.setToolTip("The models load on the first Suggest.")
        self.packs_label = QLabel("")
        self.errors_button = QPushButton("0 errors")
        self.errors_button.setFlat(True)
        self.errors_button.setObjectName("errorsButton")
        self.errors_button.clicked.connect(self.errors_clicked)
        self.watch_label = QLabel()
        self.watch_label.setObjectName("watchIndicator")
        self.watch_label.hide()
        self._recent: list[str] = []
        self._folders: list[str] = []
        self.addWidget(self.task_label, 1)
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.watch_label)
        self.addPermanentWidget(self.packs_label)
        self.addPermanentWidget(self.device_label)
        self.addPermanentWidget(self.errors_button)

    def show_progress(self, p: Progress) -> None:
        self.task_label.setText(describe_progress(p))
        self.progress.show()
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(min(p.done, p.total))
        else:
            self.progress.setRange(0, 0)  # busy indicator while the total is unknown

    def idle(self, message: str = "") -> None:
        self.progress.hide()
        self.task_label.setText(message)

    def set_engine(self, device_name: str, packs_text: str) -> None:
        self.device_label.setText(f"Device: {device_name}")
        self.device_label.setToolTip(device_name)
        n = packs_text.count(",") + 1 if packs_text and packs_text != "no packs" else 0
        self.packs_label.setText(f"{n} model pack{'s' if n != 1 else ''}")
        self.packs_label.setToolTip("Model packs in use: " + packs_text)

    def set_error_count(self, n: int) -> None:
        self.errors_button.setText(f"{n} error{'s' if n != 1 else ''}")

    def set_watching(self, folders: list[str] | None) -> None:
        """Show (``folders``) or hide (None) the "Watching" indicator."""
        if folders is None:
            self.watch_label.hide()
            return
        self.watch_label.setText(f"Watching {len(folders)} folder{'s' if len(folders) != 1 else ''}")
        self._update_watch_tip(folders)
        self.watch_label.show()

    def add_watch_event(self, text: str) -> None:
        """Remember a watcher event for the indicator's tooltip (the newest first)."""
        self._recent = [text, *self._recent][:RECENT_EVENTS]
        self._update_watch_tip(None)

    def _update_watch_tip(self, folders: list[str] | None) -> None:
        if folders is not None:
            self._folders = folders
        lines = ["Watching:", *self._folders]
        if self._recent:
            lines += ["", "Recent albums:", *self._recent]
        self.watch_label.setToolTip("\n".join(lines))

    def notify(self, text: str) -> None:
        """A notification when there is no system tray: a temporary message over the task text."""
        self.showMessage(text, NOTIFICATION_MS)
