"""The detail panel's list of one album's suggestions and hand-added tags, each checkable.

Checking a row accepts the tag, unchecking rejects it; the decision goes into the album's
:class:`~musictagger.gui.review.Review` (pending until Apply) and :attr:`review_changed` tells
the table to repaint its chips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from musictagger.gui.review import AlbumEntry

_Index = QModelIndex | QPersistentModelIndex

RowRole = Qt.ItemDataRole.UserRole + 10  # the SuggestionRow


@dataclass(frozen=True)
class SuggestionRow:
    name: str
    confidence: float | None  # None for a tag added by hand
    cover: float | None = None
    audio: float | None = None
    implied: bool = False


class SuggestionListModel(QAbstractListModel):
    review_changed = Signal(str)  # album key

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._entry: AlbumEntry | None = None
        self._rows: list[SuggestionRow] = []

    @property
    def entry(self) -> AlbumEntry | None:
        return self._entry

    def set_entry(self, entry: AlbumEntry | None) -> None:
        self.beginResetModel()
        self._entry = entry
        self._rows = self._build(entry)
        self.endResetModel()

    def reload(self) -> None:
        self.set_entry(self._entry)

    @staticmethod
    def _build(entry: AlbumEntry | None) -> list[SuggestionRow]:
        if entry is None:
            return []
        rows = [SuggestionRow(s.name, s.confidence, s.cover, s.audio, s.implied) for s in entry.suggestions()]
        rows += [SuggestionRow(t, None) for t in entry.review.added]
        return rows

    def add_tag(self, name: str) -> bool:
        if self._entry is None or not self._entry.review.add(name):
            return False
        self.reload()
        self.review_changed.emit(self._entry.key)
        return True

    def toggle(self, row: int) -> None:
        if self._entry is None or not 0 <= row < len(self._rows):
            return
        accepted = self._entry.review.is_accepted(self._rows[row].name)
        self.setData(
            self.index(row),
            Qt.CheckState.Unchecked if accepted else Qt.CheckState.Checked,
            Qt.ItemDataRole.CheckStateRole,
        )

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsUserCheckable if index.isValid() else base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._entry is None:
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if self._entry.review.is_accepted(row.name) else Qt.CheckState.Unchecked
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or self._entry is None:
            return False
        name = self._rows[index.row()].name
        accepted = Qt.CheckState(value) == Qt.CheckState.Checked
        was_added = name in self._entry.review.added
        self._entry.review.set_accepted(name, accepted)
        if was_added and not accepted:
            self.reload()  # an unchecked hand-added tag disappears
        else:
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.review_changed.emit(self._entry.key)
        return True


def _tooltip(row: SuggestionRow) -> str:
    if row.confidence is None:
        return f"{row.name}: added by hand (uncheck to remove)"
    parts = [f"{row.name}: {row.confidence:.0%} overall"]
    parts.append("cover: " + ("—" if row.cover is None else f"{row.cover:.0%}"))
    parts.append("audio: " + ("—" if row.audio is None else f"{row.audio:.0%}"))
    if row.implied:
        parts.append("(parent of a suggested genre)")
    return "\n".join(parts)
