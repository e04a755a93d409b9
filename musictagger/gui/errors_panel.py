"""The Errors panel: every per-file problem of every run, in one list instead of a flood of dialogs.

The same problem reported again (a rescan meets the same bad file) is listed once, with a count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class ErrorItem:
    source: str  # "scan", "suggest", "apply", "undo", …
    path: str
    message: str


class ErrorsPanel(QDockWidget):
    count_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Errors", parent)
        self.setObjectName("errorsDock")
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.summary = QLabel()
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(clear)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        self.setWidget(body)
        self._seen: dict[ErrorItem, tuple[QListWidgetItem, int]] = {}
        self._update_summary()

    @property
    def count(self) -> int:
        return self.list.count()

    def items(self) -> list[ErrorItem]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def add(self, source: str, path: str, message: str) -> None:
        self.add_many([ErrorItem(source, path, message)])

    def add_many(self, errors: list[ErrorItem]) -> None:
        if not errors:
            return
        stamp = time.strftime("%H:%M:%S")
        added = False
        for err in errors:
            where = f"{err.path}: " if err.path else ""
            text = f"[{stamp} {err.source}] {where}{err.message}"
            if err in self._seen:
                item, n = self._seen[err]
                self._seen[err] = (item, n + 1)
                item.setText(f"{text} (seen {n + 1} times)")
                continue
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, err)
            item.setToolTip(err.path or err.message)
            self.list.addItem(item)
            self._seen[err] = (item, 1)
            added = True
        if added:
            self.list.scrollToBottom()
        self._update_summary()

    def clear(self) -> None:
        self.list.clear()
        self._seen.clear()
        self._update_summary()

    def _update_summary(self) -> None:
        n = self.list.count()
        self.summary.setText("No errors" if n == 0 else f"{n} error{'s' if n != 1 else ''}")
        self.count_changed.emit(n)
