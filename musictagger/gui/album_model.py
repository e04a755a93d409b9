"""The album table: a :class:`QAbstractTableModel` over :class:`AlbumEntry` rows, and its filter proxy."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from musictagger.gui.chips import Chip
from musictagger.gui.review import AlbumEntry, Review, Status

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.gui.thumbs import ThumbnailCache
    from musictagger.library import Album
    from musictagger.pipeline.types import AlbumSuggestions

_Index = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    COVER = 0
    ARTIST = 1
    ALBUM = 2
    YEAR = 3
    TRACKS = 4
    GENRES = 5
    SUGGESTED = 6
    STATUS = 7


HEADERS = {
    Column.COVER: "",
    Column.ARTIST: "Artist",
    Column.ALBUM: "Album",
    Column.YEAR: "Year",
    Column.TRACKS: "Tracks",
    Column.GENRES: "Current genres",
    Column.SUGGESTED: "Suggested",
    Column.STATUS: "Status",
}

# Custom roles.
ChipsRole = Qt.ItemDataRole.UserRole + 1  # list[Chip] for the genre columns
SortRole = Qt.ItemDataRole.UserRole + 2
EntryRole = Qt.ItemDataRole.UserRole + 3  # the AlbumEntry of the row
SearchRole = Qt.ItemDataRole.UserRole + 4  # folded text the filter matches against


class AlbumTableModel(QAbstractTableModel):
    """Rows are albums, in scan order; sorting and filtering are the proxy's job."""

    def __init__(self, thumbs: ThumbnailCache | None = None, parent=None) -> None:
        super().__init__(parent)
        self._entries: list[AlbumEntry] = []
        self._rows: dict[str, int] = {}
        self.thumbs = thumbs
        self.genre_field = "genre"
        if thumbs is not None:
            thumbs.ready.connect(self._thumb_ready)

    # ------------------------------------------------------------------ content
    @property
    def entries(self) -> list[AlbumEntry]:
        return list(self._entries)

    def entry(self, key: str) -> AlbumEntry | None:
        row = self._rows.get(key)
        return self._entries[row] if row is not None else None

    def entry_row(self, key: str) -> int:
        """The source row of an album, -1 if it is not in the library."""
        return self._rows.get(key, -1)

    def set_albums(self, albums: Sequence[Album]) -> None:
        """Replace the albums after a scan, keeping suggestions and reviews of albums still there."""
        old = {e.key: e for e in self._entries}
        self.beginResetModel()
        entries = []
        for album in albums:
            prev = old.get(album.key)
            if prev is not None:
                prev.album = album
                entries.append(prev)
            else:
                entries.append(AlbumEntry(album))
        self._entries = entries
        self._rows = {e.key: i for i, e in enumerate(entries)}
        self.endResetModel()

    def merge_albums(self, folder: str, albums: Sequence[Album]) -> list[str]:
        """Fold a rescan of one ``folder`` into the table (the watcher's new or changed album):
        albums already listed are updated in place (keeping their review), new ones are appended,
        and albums under ``folder`` that the rescan no longer finds are removed. Returns the keys
        of the albums now listed from ``folder``."""
        prefix = os.path.join(folder, "")
        fresh = {a.key: a for a in albums}
        gone = [
            i
            for i, e in enumerate(self._entries)
            if e.key not in fresh and (e.album.folder == folder or e.album.folder.startswith(prefix))
        ]
        for row in reversed(gone):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._entries[row]
            self.endRemoveRows()
        if gone:
            self._rows = {e.key: i for i, e in enumerate(self._entries)}
        for album in albums:
            row = self._rows.get(album.key)
            if row is not None:
                self._entries[row].album = album
                self.refresh(album.key)
                continue
            row = len(self._entries)
            self.beginInsertRows(QModelIndex(), row, row)
            self._entries.append(AlbumEntry(album))
            self._rows[album.key] = row
            self.endInsertRows()
        return list(fresh)

    def set_result(self, result: AlbumSuggestions, *, min_confidence: float, write_parents: bool) -> None:
        entry = self.entry(result.key)
        if entry is None:
            return
        entry.result = result
        entry.review = Review.from_result(
            result, min_confidence=min_confidence, write_parents=write_parents, keep_added=entry.review.added
        )
        entry.status = Status.ERROR if result.errors and not result.suggestions else Status.SUGGESTED
        entry.message = "; ".join(m for _, m in result.errors)
        self.refresh(result.key)

    def set_status(self, key: str, status: Status, message: str = "") -> None:
        entry = self.entry(key)
        if entry is not None:
            entry.status = status
            entry.message = message
            self.refresh(key)

    def refresh(self, key: str) -> None:
        row = self._rows.get(key)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def refresh_all(self) -> None:
        if self._entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1, len(Column) - 1))

    def _thumb_ready(self, key: str) -> None:
        row = self._rows.get(key)
        if row is not None:
            idx = self.index(row, Column.COVER)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def keys(self, rows: Iterable[int]) -> list[str]:
        return [self._entries[r].key for r in rows if 0 <= r < len(self._entries)]

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        col = Column(index.column())
        if role == EntryRole:
            return entry
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, col)
        if role == ChipsRole:
            return self._chips(entry, col)
        if role == SortRole:
            return self._sort_value(entry, col)
        if role == SearchRole:
            return self._search_text(entry)
        if role == Qt.ItemDataRole.DecorationRole and col == Column.COVER and self.thumbs is not None:
            return self.thumbs.get(entry.album)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Column.YEAR, Column.TRACKS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, entry: AlbumEntry, col: Column) -> Any:
        a = entry.album
        if col == Column.ARTIST:
            return a.artist
        if col == Column.ALBUM:
            return a.album or "(no album tag)"
        if col == Column.YEAR:
            return str(a.year) if a.year else ""
        if col == Column.TRACKS:
            return str(len(a.tracks))
        if col == Column.STATUS:
            return entry.status.label
        return None  # cover and chip columns are painted

    def _chips(self, entry: AlbumEntry, col: Column) -> list[Chip]:
        if col == Column.GENRES:
            return [Chip(g) for g in entry.current_genres(self.genre_field)]
        if col == Column.SUGGESTED:
            chips = [
                Chip(s.name, s.confidence, entry.review.is_accepted(s.name))
                for s in entry.suggestions()
                if not s.implied or entry.review.is_accepted(s.name)
            ]
            chips += [Chip(t, None, True, added=True) for t in entry.review.added]
            return chips
        return []

    def _sort_value(self, entry: AlbumEntry, col: Column) -> Any:
        a = entry.album
        if col == Column.YEAR:
            return a.year or 0
        if col == Column.TRACKS:
            return len(a.tracks)
        if col == Column.STATUS:
            return int(entry.status)
        if col == Column.SUGGESTED:
            return max((s.confidence for s in entry.suggestions()), default=-1.0)
        if col == Column.GENRES:
            return ", ".join(entry.current_genres(self.genre_field)).casefold()
        if col == Column.COVER:
            return a.cover_source
        return (self._display(entry, col) or "").casefold()

    def _search_text(self, entry: AlbumEntry) -> str:
        a = entry.album
        parts = [
            a.artist,
            a.album or "",
            *entry.current_genres(self.genre_field),
            *(s.name for s in entry.suggestions()),
            *entry.review.added,
        ]
        return " ".join(parts).casefold()

    def _tooltip(self, entry: AlbumEntry, col: Column) -> str | None:
        if col == Column.STATUS and entry.message:
            return entry.message
        if col == Column.SUGGESTED and entry.result:
            return (
                "\n".join(
                    f"{s.name}: {s.confidence:.0%}"
                    + (" (parent)" if s.implied else "")
                    + ("" if entry.review.is_accepted(s.name) else " — rejected")
                    for s in entry.result.suggestions
                )
                or "No suggestion reached its threshold"
            )
        if col in (Column.ALBUM, Column.COVER):
            return entry.album.folder
        return None


class AlbumFilterProxy(QSortFilterProxyModel):
    """Sorts by :data:`SortRole` and keeps rows whose artist/album/genres contain every search word."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(False)  # rows must not jump while suggestions stream in

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._words = text.casefold().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if not self._words:
            return True
        text = self.sourceModel().index(source_row, 0, source_parent).data(SearchRole) or ""
        return all(w in text for w in self._words)
