"""The album table: a :class:`QAbstractTableModel` over :class:`AlbumEntry` rows, and its filter proxy.

The rules of a review (what is accepted, what Apply writes) are the core's
(:mod:`musictagger.pipeline.review`); this model only shows them.
"""

from __future__ import annotations

import enum
import gc
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from musictagger.gui.chips import Chip
from musictagger.pipeline.review import GUESS, PARENT, AlbumReview, ReviewPolicy, Status

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import TagField
    from musictagger.gui.thumbs import ThumbnailCache
    from musictagger.library import Album
    from musictagger.pipeline.types import AlbumSuggestions, PackInfo, Suggestion

_Index = QModelIndex | QPersistentModelIndex


@dataclass(eq=False)
class AlbumEntry:
    """One row of the library: the scanned album and its review (suggestions, decisions, status)."""

    album: Album
    review: AlbumReview
    search: str | None = None  # the folded text the search matches (cached; None: to be made)

    @property
    def key(self) -> str:
        return self.album.key

    @property
    def status(self) -> Status:
        return self.review.status

    @property
    def result(self) -> AlbumSuggestions | None:
        return self.review.result

    @property
    def message(self) -> str:
        return self.review.message

    def current_genres(self, field_name: TagField = "genre") -> list[str]:
        if field_name == "style":
            seen: dict[str, str] = {}
            for t in self.album.tracks:
                for s in t.styles:
                    seen.setdefault(s.casefold(), s)
            return list(seen.values())
        return self.album.genres

    def suggestions(self) -> list[Suggestion]:
        return self.review.suggestions

    def pending_labels(self) -> list[str]:
        return self.review.labels()


class Column(enum.IntEnum):
    COVER = 0
    ARTIST = 1
    ALBUM = 2
    YEAR = 3
    TRACKS = 4
    GENRES = 5
    SUGGESTED = 6
    STATUS = 7
    FOLDER = 8


HEADERS = {
    Column.COVER: "",
    Column.ARTIST: "Artist",
    Column.ALBUM: "Album",
    Column.YEAR: "Year",
    Column.TRACKS: "Tracks",
    Column.GENRES: "Current genres",
    Column.SUGGESTED: "Suggested",
    Column.STATUS: "Status",
    Column.FOLDER: "Folder",
}

HEADER_TIPS = {
    Column.GENRES: "The genres in the files now",
    Column.SUGGESTED: (
        "What the models suggest, coloured by confidence (amber: doubtful, green: confident).\n"
        "Filled: written on Apply · struck through: rejected · dashed: added by you · "
        "grey: best guess below your threshold"
    ),
    Column.STATUS: "New → Suggested → Applied (Error: see the tooltip)",
    Column.FOLDER: "Where the album is, from its library folder (the tooltip has the full path)",
}

# Custom roles.
ChipsRole = Qt.ItemDataRole.UserRole + 1  # list[Chip] for the genre columns
SortRole = Qt.ItemDataRole.UserRole + 2
EntryRole = Qt.ItemDataRole.UserRole + 3  # the AlbumEntry of the row
SearchRole = Qt.ItemDataRole.UserRole + 4  # folded text the filter matches against

# The roles and columns data() serves, as plain ints (the hot path of every repaint).
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_SERVED = frozenset(
    {_DISPLAY, _DECORATION, _ALIGNMENT, _TOOLTIP, *(int(r) for r in (ChipsRole, SortRole, EntryRole, SearchRole))}
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_COVER = int(Column.COVER)
_RIGHT_COLUMNS = frozenset({int(Column.YEAR), int(Column.TRACKS)})
N_COLUMNS = len(Column)


#: Columns whose order depends on the review (the others only on the album).
REVIEW_COLUMNS = frozenset({int(Column.SUGGESTED), int(Column.STATUS)})


@dataclass
class PreparedAlbums:
    """A scan's albums as table rows, made and sorted off the GUI thread (:func:`prepare_entries`)."""

    entries: list[AlbumEntry]
    sorted_by: tuple[int, Qt.SortOrder]


def prepare_entries(
    albums: Sequence[Album],
    stored: Mapping[str, AlbumReview],
    policy: ReviewPolicy,
    sort: tuple[int, Qt.SortOrder],
) -> PreparedAlbums:
    """Rows for ``albums`` with their saved reviews, in ``sort`` order (column, order): ten thousand
    of them take a GUI thread a fifth of a second, so a scan's worker makes them."""
    entries = []
    for album in albums:
        review = stored.get(album.key) or AlbumReview(album.key)
        review.policy = policy
        entries.append(AlbumEntry(album, review))
    return PreparedAlbums(sort_entries(entries, *sort), sort)


def sort_entries(entries: list[AlbumEntry], column: int, order: Qt.SortOrder) -> list[AlbumEntry]:
    col = Column(column)
    keyed = sorted(entries, key=lambda e: (sort_value(e, col), e.album.sort_key))
    return keyed[::-1] if order == Qt.SortOrder.DescendingOrder else keyed


def sort_value(entry: AlbumEntry, col: Column, genre_field: TagField = "genre") -> Any:
    """The key a column sorts an album by."""
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
        return ", ".join(entry.current_genres(genre_field)).casefold()
    if col == Column.COVER:
        return a.cover_source
    if col == Column.FOLDER:
        return a.folder.casefold()
    if col == Column.ARTIST:
        return a.artist.casefold()
    return (a.album or "(no album tag)").casefold()


def suggestion_chips(entry: AlbumEntry) -> list[Chip]:
    """The Suggested column's chips (and the grid's): every review item except parents not written."""
    return [
        Chip(i.name, i.confidence, i.accepted, kind=i.kind)
        for i in entry.review.items()
        if i.kind != PARENT or i.accepted
    ]


class AlbumTableModel(QAbstractTableModel):
    """Rows are albums, kept in the sort order (:meth:`sort`: one key per album, computed once —
    a proxy sorting ten thousand rows would ask for two keys per comparison, through Qt); the
    filter proxy only filters."""

    def __init__(self, thumbs: ThumbnailCache | None = None, parent=None) -> None:
        super().__init__(parent)
        self._entries: list[AlbumEntry] = []
        self._rows: dict[str, int] = {}
        self.thumbs: ThumbnailCache | None = None
        self.genre_field: TagField = "genre"
        self.policy = ReviewPolicy()
        self.roots: list[str] = []
        self.sort_column = int(Column.ARTIST)
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.set_thumbs(thumbs)

    def set_thumbs(self, thumbs: ThumbnailCache | None) -> None:
        """The cache the cover column's thumbnails come from."""
        self.thumbs = thumbs
        if thumbs is not None:
            thumbs.ready.connect(self._thumb_ready)

    # ------------------------------------------------------------------ content
    @property
    def entries(self) -> list[AlbumEntry]:
        return list(self._entries)

    def entry(self, key: str) -> AlbumEntry | None:
        row = self._rows.get(key)
        return self._entries[row] if row is not None else None

    def find_album(self, folder: str, album: str | None = None) -> AlbumEntry | None:
        """The library's album in ``folder`` (of those there, the one titled ``album`` if any is);
        None when the folder holds no album of the library (evidence learnt from another folder)."""
        found = [e for e in self._entries if e.album.folder == folder]
        if not found:
            norm = os.path.normcase(os.path.normpath(folder))
            found = [e for e in self._entries if os.path.normcase(os.path.normpath(e.album.folder)) == norm]
        if len(found) > 1 and album:
            titled = [e for e in found if (e.album.album or "").casefold() == album.casefold()]
            found = titled or found
        return found[0] if found else None

    def entry_row(self, key: str) -> int:
        """The source row of an album, -1 if it is not in the library."""
        return self._rows.get(key, -1)

    def _new_entry(self, album: Album, stored: Mapping[str, AlbumReview] | None) -> AlbumEntry:
        review = (stored or {}).get(album.key) or AlbumReview(album.key)
        review.policy = self.policy
        return AlbumEntry(album, review)

    def set_albums(
        self,
        albums: Sequence[Album],
        stored: Mapping[str, AlbumReview] | None = None,
        prepared: PreparedAlbums | None = None,
    ) -> None:
        """Replace the albums after a scan. Albums already listed keep their review; new ones take
        their saved review from ``stored`` (the library index), else start new. With ``prepared``
        (the scan's worker made the rows, in order) this thread only swaps them in."""
        old = {e.key: e for e in self._entries}
        if prepared is None:
            prepared = PreparedAlbums([self._new_entry(a, stored) for a in albums], (-1, self.sort_order))
        entries = []
        kept = False
        for entry in prepared.entries:
            prev = old.get(entry.album.key)
            if prev is not None:
                prev.album = entry.album
                prev.search = None
                entries.append(prev)
                kept = True
            else:
                entry.review.policy = self.policy
                entries.append(entry)
        if prepared.sorted_by != (self.sort_column, self.sort_order) or (kept and self.sort_column in REVIEW_COLUMNS):
            entries = self._sorted(entries)
        self.beginResetModel()
        self._entries = entries
        self._rows = {e.album.key: i for i, e in enumerate(entries)}
        self.endResetModel()
        # The library is long-lived: keep the cyclic garbage collector from walking it again and
        # again (a full collection over ten thousand albums holds the GIL for a fifth of a second).
        gc.freeze()

    def merge_albums(
        self, folder: str, albums: Sequence[Album], stored: Mapping[str, AlbumReview] | None = None
    ) -> list[str]:
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
                continue  # new albums go last: rows do not jump while the watcher adds some
            row = len(self._entries)
            self.beginInsertRows(QModelIndex(), row, row)
            self._entries.append(self._new_entry(album, stored))
            self._rows[album.key] = row
            self.endInsertRows()
        return list(fresh)

    def set_result(
        self, result: AlbumSuggestions, packs: Iterable[PackInfo] = (), guesses: list[Suggestion] | None = None
    ) -> AlbumReview | None:
        """New suggestions for an album: scores change, the user's decisions stay. Returns its review."""
        entry = self.entry(result.key)
        if entry is None:
            return None
        entry.review.apply_result(result, packs, guesses)
        self.refresh(result.key)
        return entry.review

    def set_status(self, key: str, status: Status, message: str = "") -> AlbumReview | None:
        entry = self.entry(key)
        if entry is None:
            return None
        entry.review.status = status
        entry.review.message = message
        self.refresh(key)
        return entry.review

    def set_policy(self, policy: ReviewPolicy) -> None:
        """New settings: the defaults of undecided tags follow them."""
        self.policy = policy
        for e in self._entries:
            e.review.policy = policy
        self.refresh_all()

    def refresh(self, key: str) -> None:
        row = self._rows.get(key)
        if row is not None:
            self._entries[row].search = None
            self.dataChanged.emit(self.index(row, 0), self.index(row, N_COLUMNS - 1))

    def refresh_keys(self, keys) -> None:
        """Repaint the rows of ``keys`` with one signal (their span)."""
        rows = [self._rows[k] for k in keys if k in self._rows]
        for row in rows:
            self._entries[row].search = None
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), N_COLUMNS - 1))

    def refresh_all(self) -> None:
        for e in self._entries:
            e.search = None
        if self._entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1, N_COLUMNS - 1))

    # ------------------------------------------------------------------ sorting and searching
    def _sorted(self, entries: list[AlbumEntry]) -> list[AlbumEntry]:
        return sort_entries(entries, self.sort_column, self.sort_order)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the rows (a header click); selections and the current album follow their albums."""
        if not 0 <= column < N_COLUMNS:
            return
        self.sort_column, self.sort_order = column, order
        if not self._entries:
            return
        self.layoutAboutToBeChanged.emit()
        before = self._entries
        persistent = self.persistentIndexList()
        self._entries = self._sorted(before)
        self._rows = {e.key: i for i, e in enumerate(self._entries)}
        moved = [self.index(self._rows[before[i.row()].key], i.column()) for i in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def search_text(self, row: int) -> str:
        """The folded text of a row that the search matches against (made once, until it changes)."""
        entry = self._entries[row]
        if entry.search is None:
            entry.search = self._search_text(entry)
        return entry.search

    def _thumb_ready(self, key: str) -> None:
        row = self._rows.get(key)
        if row is not None:
            idx = self.index(row, Column.COVER)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def keys(self, rows: Iterable[int]) -> list[str]:
        return [self._entries[r].key for r in rows if 0 <= r < len(self._entries)]

    def folder_text(self, entry: AlbumEntry) -> str:
        """The album's folder from its library folder ("music/Slayer/Reign in Blood")."""
        folder = entry.album.folder
        for root in sorted(self.roots, key=len, reverse=True):
            if folder == root or folder.startswith(os.path.join(root, "")):
                rel = os.path.relpath(folder, root)
                base = os.path.basename(root.rstrip(os.sep)) or root
                return base if rel == "." else os.path.join(base, rel)
        return folder

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else N_COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(Column(section))
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        # Called a thousand times per repaint: roles the model does not serve return at once, and
        # roles and columns are compared as plain ints.
        if role not in _SERVED or not index.isValid():
            return None
        entry = self._entries[index.row()]
        col = index.column()
        if role == _DISPLAY:
            return self._display(entry, col)
        if role == EntryRole:
            return entry
        if role == _DECORATION:
            return self.thumbs.get(entry.album) if col == _COVER and self.thumbs is not None else None
        if role == _ALIGNMENT:
            return _RIGHT if col in _RIGHT_COLUMNS else None
        if role == ChipsRole:
            return self._chips(entry, col)
        if role == SortRole:
            return self._sort_value(entry, Column(col))
        if role == SearchRole:
            return self._search_text(entry)
        return self._tooltip(entry, Column(col))

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
        if col == Column.FOLDER:
            return self.folder_text(entry)
        return None  # cover and chip columns are painted

    def _chips(self, entry: AlbumEntry, col: Column) -> list[Chip]:
        if col == Column.GENRES:
            return [Chip(g) for g in entry.current_genres(self.genre_field)]
        if col == Column.SUGGESTED:
            return suggestion_chips(entry)
        return []

    def _sort_value(self, entry: AlbumEntry, col: Column) -> Any:
        return sort_value(entry, col, self.genre_field)

    def _search_text(self, entry: AlbumEntry) -> str:
        a = entry.album
        parts = [
            a.artist,
            a.album or "",
            *entry.current_genres(self.genre_field),
            *(s.name for s in entry.suggestions()),
            *entry.review.manual,
        ]
        return " ".join(parts).casefold()

    def _tooltip(self, entry: AlbumEntry, col: Column) -> str | None:
        if col == Column.STATUS and entry.message:
            return entry.message
        if col == Column.SUGGESTED and entry.result is not None:
            review = entry.review
            lines = []
            if review.nothing_above_threshold:
                lines.append("Nothing above your threshold — best guesses:")
            for item in review.items():
                conf = "" if item.confidence is None else f" {item.confidence:.0%}"
                state = {PARENT: " (parent)", GUESS: " (best guess)"}.get(item.kind, "")
                if item.manual:
                    state = " (added by you)"
                lines.append(f"{item.name}{conf}{state}" + ("" if item.accepted else " — not written"))
            return "\n".join(lines) or "No suggestion"
        if col in (Column.COVER, Column.ARTIST, Column.ALBUM, Column.FOLDER, Column.GENRES):
            return entry.album.folder
        return None


class AlbumFilterProxy(QSortFilterProxyModel):
    """Keeps rows whose artist/album/genres contain every search word; sorting is passed on to the
    album model (:meth:`AlbumTableModel.sort`), which keeps its rows in order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setDynamicSortFilter(False)  # rows must not jump while suggestions stream in

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        if model is not None:
            model.sort(column, order)

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._words = text.casefold().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if not self._words:
            return True
        text = self.sourceModel().search_text(source_row)
        return all(w in text for w in self._words)
