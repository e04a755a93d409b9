"""The album panel's list of one album's tags (:meth:`AlbumReview.items`), each checkable.

Checking a row accepts the tag, unchecking rejects it; the decision goes into the album's
:class:`~musictagger.pipeline.review.AlbumReview` (pending until Apply, saved in the library index)
and :attr:`review_changed` tells the window to repaint and save.

What each row shows as evidence is table-driven (:data:`EVIDENCE_SOURCES`): a new source of
evidence on :class:`~musictagger.pipeline.types.Suggestion` slots in with one more entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from musictagger.gui.album_model import AlbumEntry
from musictagger.gui.chips import format_percent
from musictagger.gui.library_panel import artist_sentence, similar_text
from musictagger.pipeline.review import GUESS, KEPT, MANUAL, PARENT, ReviewItem
from musictagger.pipeline.types import Suggestion

_Index = QModelIndex | QPersistentModelIndex

RowRole = Qt.ItemDataRole.UserRole + 10  # the SuggestionRow


@dataclass(frozen=True)
class EvidenceSource:
    """One kind of evidence behind a suggestion: a bar in the album panel."""

    name: str  # shown beside the bar
    tip: str
    value: Callable[[Suggestion], float | None]  # None: no model of this kind scored the label
    optional: bool = False  # shown only where it spoke (the library sources, after "learn")


EVIDENCE_SOURCES: tuple[EvidenceSource, ...] = (
    EvidenceSource("cover", "what the cover model said", lambda s: s.cover),
    EvidenceSource("audio", "what the audio model said, averaged over the tracks", lambda s: s.audio),
    EvidenceSource("library", "what the models learnt from your own library said", lambda s: s.library, True),
    EvidenceSource(
        "artist", "share of this artist's other albums in your library with this genre", lambda s: s.artist, True
    ),
)

KIND_NOTES = {
    PARENT: "parent of a suggested genre",
    GUESS: "best guess, below your threshold",
    KEPT: "accepted by you earlier, no longer suggested",
    MANUAL: "added by you",
}


@dataclass(frozen=True)
class SuggestionRow:
    name: str
    kind: str
    confidence: float | None  # None for a tag added by hand
    evidence: tuple[tuple[str, float | None], ...] = ()  # (source name, value) per EVIDENCE_SOURCES
    notes: tuple[str, ...] = ()  # what the library said, in words (for the tooltip)

    @classmethod
    def from_item(cls, item: ReviewItem) -> SuggestionRow:
        evidence: tuple[tuple[str, float | None], ...] = ()
        notes: list[str] = []
        s = item.evidence
        if s is not None and item.kind != PARENT:  # a parent stands for its children
            values = ((src, src.value(s)) for src in EVIDENCE_SOURCES)
            evidence = tuple((src.name, v) for src, v in values if v is not None or not src.optional)
            if s.artist is not None and s.artist_detail is not None:
                notes.append(artist_sentence(item.name, s.artist_detail))
            notes += [f"{similar_text(a).capitalize()}: {a.album_artist or '?'} — {a.album or '?'}" for a in s.similar]
        return cls(item.name, item.kind, item.confidence, evidence, tuple(n for n in notes if n))

    @property
    def implied(self) -> bool:
        return self.kind == PARENT

    @property
    def label(self) -> str:
        return self.name + (" (parent)" if self.kind == PARENT else "")


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
        self._rows = [SuggestionRow.from_item(i) for i in entry.review.items()] if entry is not None else []
        self.endResetModel()

    def reload(self) -> None:
        self.set_entry(self._entry)

    def row_of(self, name: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.name.casefold() == name.casefold()), -1)

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
            return _tooltip(row, self._entry.review.is_accepted(row.name))
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or self._entry is None:
            return False
        name = self._rows[index.row()].name
        if not self._entry.review.set_accepted(name, Qt.CheckState(value) == Qt.CheckState.Checked):
            return False
        if [r.name for r in self._rows] != [i.name for i in self._entry.review.items()]:
            self.reload()  # an unticked tag of yours disappears
        else:
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.review_changed.emit(self._entry.key)
        return True


def _tooltip(row: SuggestionRow, accepted: bool) -> str:
    state = "written on Apply" if accepted else "not written"
    if row.kind == MANUAL:
        return f"{row.name}: added by you, {state} (untick to remove)"
    parts = [f"{row.name}: {format_percent(row.confidence)} overall — {state}"]
    parts += [f"{name}: {format_percent(value)}" for name, value in row.evidence]
    parts += list(row.notes)
    if row.kind in KIND_NOTES:
        parts.append(f"({KIND_NOTES[row.kind]})")
    if any(v is None for _, v in row.evidence):
        parts.append("n/a: no model of that kind scores this genre, or the album has no such input")
    return "\n".join(parts)
