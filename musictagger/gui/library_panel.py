"""The album panel's "In your library" tab: the evidence a suggestion takes from the user's own
tagged albums, after Learn from My Library.

For one suggested genre at a time (a combo box, which follows the tag list's current row) it lists
the library albums carrying that genre nearest to this album — "looks like" (cover embedding) and
"sounds like" (audio embedding), with the similarity as a percentage — each with its cover
thumbnail, album and artist; clicking one asks the window to select that album
(:attr:`LibraryPanel.album_requested`). Below, the artist prior where it spoke: "3 of this artist's
4 other albums are tagged Death Metal".

Like Picard's "other versions" or MusicBee's related items, it stays compact: a tab beside the
album's tracks, there only when a suggestion has such evidence. Thumbnails come from the window's
:class:`~musictagger.gui.thumbs.ThumbnailCache` (decoded in the core process); the albums are found
in the library by folder (``find_album``), so one that is not in the library shown has no cover and
cannot be selected (its tooltip says so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from musictagger.gui.chips import format_percent, muted_text_color
from musictagger.pipeline.review import PARENT

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.gui.album_model import AlbumEntry
    from musictagger.gui.thumbs import ThumbnailCache
    from musictagger.pipeline.evidence import SimilarAlbum
    from musictagger.pipeline.review import ReviewItem

_Index = QModelIndex | QPersistentModelIndex

#: The thumbnail's size in a row (the table's thumbnails: usually in memory already).
THUMB = 40
SOURCE_WORDS = {"cover": "looks like", "audio": "sounds like"}
SOURCE_TIPS = {
    "cover": "its cover looks like this album's (the cover model's embeddings)",
    "audio": "it sounds like this album (the audio model's embeddings, averaged over the tracks)",
}

SimilarRole = Qt.ItemDataRole.UserRole + 20  # the SimilarAlbum of the row
EntryRole = Qt.ItemDataRole.UserRole + 21  # its AlbumEntry in the library, or None


def artist_sentence(genre: str, detail: tuple[int, int]) -> str:
    """The artist prior in words: ``detail`` is (the artist's other albums tagged ``genre``, those albums)."""
    tagged, other = detail
    if other <= 0:
        return ""
    if other == 1:
        return f"This artist's other album is {'' if tagged else 'not '}tagged {genre}"
    if tagged >= other:
        return f"{'Both' if other == 2 else f'All {other}'} of this artist's other albums are tagged {genre}"
    if tagged == 0 and other == 2:
        return f"Neither of this artist's other albums is tagged {genre}"
    if tagged == 0:
        return f"None of this artist's {other} other albums is tagged {genre}"
    verb = "is" if tagged == 1 else "are"
    return f"{tagged} of this artist's {other} other albums {verb} tagged {genre}"


def similar_text(sim: SimilarAlbum) -> str:
    """ "looks like 87%" / "sounds like 74%"."""
    return f"{SOURCE_WORDS.get(sim.source, sim.source)} {format_percent(sim.similarity)}"


@dataclass(frozen=True)
class GenreEvidence:
    """What the library says about one suggested genre of this album."""

    name: str
    similar: tuple[Any, ...]  # SimilarAlbum
    artist_detail: tuple[int, int] | None
    implied: bool = False

    @property
    def artist_text(self) -> str:
        return artist_sentence(self.name, self.artist_detail) if self.artist_detail else ""

    @classmethod
    def of(cls, items: Sequence[ReviewItem]) -> list[GenreEvidence]:
        """The review's tags that carry library evidence, in the tag list's order."""
        out = []
        for item in items:
            s = item.evidence
            if s is None:
                continue
            similar = tuple(getattr(s, "similar", ()) or ())
            detail = getattr(s, "artist_detail", None)
            if similar or detail:
                out.append(cls(item.name, similar, tuple(detail) if detail else None, item.kind == PARENT))
        return out


class SimilarAlbumModel(QAbstractListModel):
    """The similar albums of one genre; each found in the library (``find_album``) for its cover."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[Any, AlbumEntry | None]] = []
        self.thumbs: ThumbnailCache | None = None

    def set_albums(self, albums: Sequence[Any], find: Callable[[str, str | None], AlbumEntry | None] | None) -> None:
        self.beginResetModel()
        self._rows = [(a, find(a.folder, a.album) if find is not None else None) for a in albums]
        self.endResetModel()

    def entry(self, row: int) -> AlbumEntry | None:
        return self._rows[row][1] if 0 <= row < len(self._rows) else None

    def thumb_ready(self, key: str) -> None:
        for row, (_sim, entry) in enumerate(self._rows):
            if entry is not None and entry.key == key:
                self.dataChanged.emit(self.index(row), self.index(row), [Qt.ItemDataRole.DecorationRole])

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        sim, entry = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return sim.album or sim.folder.rstrip("/").rsplit("/", 1)[-1]
        if role == SimilarRole:
            return sim
        if role == EntryRole:
            return entry
        if role == Qt.ItemDataRole.DecorationRole:
            if entry is None or self.thumbs is None:
                return None
            return self.thumbs.get(entry.album)
        if role == Qt.ItemDataRole.ToolTipRole:
            who = f"{sim.album_artist or 'Unknown artist'} — {sim.album or '(no album tag)'}"
            why = f"{similar_text(sim).capitalize()}: {SOURCE_TIPS.get(sim.source, '')}"
            act = (
                "Click to select it."
                if entry is not None
                else "Not in the folders of the library shown here: nothing to select."
            )
            return f"{who}\n{sim.folder}\n{why}\n{act}"
        return None


class SimilarAlbumDelegate(QStyledItemDelegate):
    """A row: the cover thumbnail, the album, then the artist and "looks like 87%"."""

    @staticmethod
    def row_height(fm: QFontMetrics) -> int:
        return max(THUMB + 6, 2 * fm.height() + 8)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(200, self.row_height(QFontMetrics(option.font)))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        sim = index.data(SimilarRole)
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        if sim is None:
            return
        pal = option.palette
        rect = QRect(option.rect)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        cover = QRect(rect.left() + 4, rect.top() + (rect.height() - THUMB) // 2, THUMB, THUMB)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.size().scaled(cover.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(cover.center())
            painter.drawPixmap(target, pixmap)
        else:  # no cover (yet), or an album not in the library shown
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Mid))
            painter.drawRoundedRect(QRectF(cover), 3, 3)
            painter.setPen(muted_text_color(pal))
            painter.drawText(cover, Qt.AlignmentFlag.AlignCenter, "♪")
        x = cover.right() + 8
        width = rect.right() - x - 4
        fm = QFontMetrics(option.font)
        bold = QFont(option.font)
        bold.setBold(True)
        bfm = QFontMetrics(bold)
        text_color = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = text_color if selected else muted_text_color(pal)
        top = rect.top() + (rect.height() - bfm.height() - fm.height() - 2) // 2
        painter.setFont(bold)
        painter.setPen(text_color)
        title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        painter.drawText(
            QRect(x, top, width, bfm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            bfm.elidedText(title, Qt.TextElideMode.ElideRight, width),
        )
        # Second line: the figure keeps its room, the artist is elided before it.
        figure = similar_text(sim)
        figure_w = fm.horizontalAdvance(figure)
        artist = sim.album_artist or "Unknown artist"
        artist_room = max(0, width - figure_w - fm.horizontalAdvance(" · "))
        line = fm.elidedText(artist, Qt.TextElideMode.ElideRight, artist_room) + " · " + figure
        painter.setFont(option.font)
        painter.setPen(muted)
        painter.drawText(
            QRect(x, top + bfm.height() + 2, width, fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(line, Qt.TextElideMode.ElideLeft, width),
        )
        painter.restore()


class _SimilarList(QListView):
    """Enter/Return on a row selects its album too (a click does, through ``clicked``)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.clicked.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class LibraryPanel(QWidget):
    """ "Albums like this, tagged [genre ▾]": that genre's similar albums, then the artist prior.
    :attr:`genres` is empty when no suggestion has evidence from the library (the album panel then
    hides it)."""

    #: The folder and album title of a library album to select in the table or grid.
    album_requested = Signal(str, str)

    def __init__(
        self,
        thumbs: ThumbnailCache | None = None,
        find_album: Callable[[str, str | None], AlbumEntry | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPanel")
        self.thumbs = thumbs
        self.find_album = find_album
        self._genres: list[GenreEvidence] = []

        self.title = QLabel("Albums like this, tagged")
        self.title.setObjectName("libraryTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.genre = QComboBox()
        self.genre.setObjectName("libraryGenre")
        self.genre.setToolTip(
            "Which suggested genre's evidence from your library to show (it follows the tag list's current row)"
        )
        self.genre.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.genre.currentIndexChanged.connect(self._show_current)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title)
        head.addWidget(self.genre, 1)

        self.model = SimilarAlbumModel(self)
        self.model.thumbs = thumbs
        self.albums = _SimilarList()
        self.albums.setObjectName("similarAlbums")
        self.albums.setModel(self.model)
        self.albums.setItemDelegate(SimilarAlbumDelegate(self.albums))
        self.albums.setUniformItemSizes(True)
        self.albums.setMouseTracking(True)
        self.albums.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.albums.setCursor(Qt.CursorShape.PointingHandCursor)
        self.albums.clicked.connect(self._clicked)
        self.albums.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        row_h = SimilarAlbumDelegate.row_height(QFontMetrics(self.albums.font()))
        self.albums.setMinimumHeight(row_h + 2 * self.albums.frameWidth())

        self.artist = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.artist.setObjectName("artistPrior")
        self.artist.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.artist.setToolTip(
            "The artist prior: how this artist's other albums in your library are tagged "
            "(one of the sources the suggestion weighs)"
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.albums, 1)
        layout.addWidget(self.artist)
        layout.addStretch(0)
        if thumbs is not None:
            thumbs.ready.connect(self.model.thumb_ready)
        self.set_items([])

    # ------------------------------------------------------------------ content
    @property
    def genres(self) -> list[str]:
        return [g.name for g in self._genres]

    @property
    def current(self) -> GenreEvidence | None:
        i = self.genre.currentIndex()
        return self._genres[i] if 0 <= i < len(self._genres) else None

    def set_items(self, items: Sequence[ReviewItem]) -> None:
        """A new album (or new suggestions): its genres with library evidence; the one shown stays
        if it is still there, else the first suggested (not implied) one."""
        previous = self.current.name if self.current is not None else None
        self._genres = GenreEvidence.of(items)
        names = self.genres
        self.genre.blockSignals(True)
        self.genre.clear()
        self.genre.addItems(names)
        chosen = names.index(previous) if previous in names else None
        if chosen is None:
            chosen = next((i for i, g in enumerate(self._genres) if not g.implied), 0)
        self.genre.setCurrentIndex(chosen if names else -1)
        self.genre.blockSignals(False)
        self._show_current()

    def show_genre(self, name: str) -> bool:
        """Show ``name``'s evidence (the tag list's current row); False if it has none."""
        folded = name.casefold()
        for i, g in enumerate(self._genres):
            if g.name.casefold() == folded:
                self.genre.setCurrentIndex(i)
                return True
        return False

    def _show_current(self, *_args) -> None:
        g = self.current
        self.model.set_albums(g.similar if g is not None else (), self.find_album)
        self.albums.setVisible(self.model.rowCount() > 0)
        text = g.artist_text if g is not None else ""
        self.artist.setText(text)
        self.artist.setVisible(bool(text))

    def _clicked(self, index: QModelIndex) -> None:
        sim = index.data(SimilarRole)
        if sim is not None:
            # After the click is handled: selecting the album replaces this panel's rows.
            QTimer.singleShot(0, lambda: self.album_requested.emit(sim.folder, sim.album or ""))
