"""The cover grid (View ▸ Grid, Ctrl+2): the library as large covers with album, artist and chips.

It is a second view on the table's model — the same filter proxy and the same selection model —
so search, sorting, selection, the album panel and every action (Suggest, Apply, Space…) work the
same from either. Tiles are painted by :class:`CoverDelegate`; covers load lazily (only tiles on
screen ask for theirs) from a :class:`~musictagger.gui.thumbs.ThumbnailCache` of their own size, and
all tiles have one size, so ten thousand albums lay out and scroll without work per album.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from musictagger.gui.album_model import EntryRole, suggestion_chips
from musictagger.gui.chips import Chip, ChipRow, muted_text_color
from musictagger.pipeline.review import Status

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.gui.album_model import AlbumEntry
    from musictagger.gui.thumbs import ThumbnailCache

#: The cover's size in a tile, in pixels.
GRID_COVER = 160
PAD = 8
TILE_MIN_WIDTH = GRID_COVER + 2 * PAD
SPACING = 4
#: Status badges on the cover (Suggested shows in the chips already).
STATUS_BADGES = {Status.APPLIED: "✓ Applied", Status.ERROR: "! Error"}


class CoverDelegate(QStyledItemDelegate):
    def __init__(self, covers: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.covers = covers
        #: The tile's width: at least the cover and its padding, widened by the grid so that whole
        #: columns fill the view (no empty band at the right).
        self.tile_width = TILE_MIN_WIDTH

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        bold = QFont(option.font)
        bold.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, option.font.pointSizeF() * 0.88))
        return bold, small

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        bold, small = self._fonts(option)
        text_h = QFontMetrics(bold).height() + QFontMetrics(option.font).height()
        chips_h = QFontMetrics(small).height() + 6
        return QSize(self.tile_width, PAD + GRID_COVER + 6 + text_h + 4 + chips_h + PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        entry: AlbumEntry | None = index.data(EntryRole)
        if entry is None:
            return
        pal = option.palette
        rect = QRect(option.rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hover:
            color = pal.color(QPalette.ColorRole.Highlight)
            if not selected:
                color.setAlphaF(0.18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(QRectF(rect).adjusted(2, 2, -2, -2), 6, 6)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight).darker(130), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(rect).adjusted(2.5, 2.5, -2.5, -2.5), 6, 6)

        cover = QRect(rect.left() + (rect.width() - GRID_COVER) // 2, rect.top() + PAD, GRID_COVER, GRID_COVER)
        pixmap = self.covers.get(entry.album)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.size().scaled(cover.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(cover.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Mid))
            painter.drawRoundedRect(QRectF(cover), 4, 4)
            painter.setPen(pal.color(QPalette.ColorRole.Base))
            text = "No cover" if entry.album.cover_source == "none" else "…"
            painter.drawText(QRectF(cover), Qt.AlignmentFlag.AlignCenter, text)

        badge = STATUS_BADGES.get(entry.status)
        bold, small = self._fonts(option)
        if badge:
            painter.setFont(small)
            fm = QFontMetrics(small)
            w, h = fm.horizontalAdvance(badge) + 10, fm.height() + 2
            box = QRectF(cover.right() - w - 4, cover.top() + 4, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Window))
            painter.drawRoundedRect(box, h / 2, h / 2)
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, badge)

        text_color = pal.color(
            QPalette.ColorGroup.Normal, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        y = cover.bottom() + 6
        width = rect.width() - 2 * PAD
        fm = QFontMetrics(bold)
        painter.setFont(bold)
        painter.setPen(text_color)
        title = entry.album.album or "(no album tag)"
        painter.drawText(
            QRect(rect.left() + PAD, y, width, fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(title, Qt.TextElideMode.ElideRight, width),
        )
        y += fm.height()
        fm = QFontMetrics(option.font)
        painter.setFont(option.font)
        painter.setPen(text_color if selected else muted_text_color(pal))
        artist = entry.album.artist + (f" · {entry.album.year}" if entry.album.year else "")
        painter.drawText(
            QRect(rect.left() + PAD, y, width, fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(artist, Qt.TextElideMode.ElideRight, width),
        )
        y += fm.height() + 4
        chips = suggestion_chips(entry) or [Chip(g) for g in entry.current_genres()]
        if chips:
            painter.setFont(small)
            sfm = QFontMetrics(small)
            ChipRow.paint(painter, QRectF(rect.left() + PAD, y, width, sfm.height() + 4), chips, pal, sfm)
        painter.restore()


class CoverGrid(QListView):
    """The grid view. Give it the table's proxy model and selection model (:meth:`share`)."""

    def __init__(self, covers: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("coverGrid")
        self.covers = covers
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(100)
        self.setSpacing(SPACING)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(40)
        self.setMouseTracking(True)
        self._arrived: set[str] = set()  # album keys whose covers arrived, repainted together
        self.tiles = CoverDelegate(covers, self)
        self.setItemDelegate(self.tiles)
        covers.ready.connect(self._cover_ready)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        self.fit_columns(event.size().width())
        super().resizeEvent(event)

    def fit_columns(self, width: int) -> None:
        """Widen the tiles so that as many whole columns as fit share ``width`` (the viewport's)."""
        cell = TILE_MIN_WIDTH + 2 * SPACING
        columns = max(1, (width - 1) // cell)
        tile = max(TILE_MIN_WIDTH, (width - 1) // columns - 2 * SPACING)
        if tile != self.tiles.tile_width:
            self.tiles.tile_width = tile
            self.scheduleDelayedItemsLayout()

    def share(self, table: QAbstractItemView) -> None:
        """Show the table's model, with its selection model: one selection, two views."""
        self.setModel(table.model())
        old = self.selectionModel()
        self.setSelectionModel(table.selectionModel())
        if old is not None and old is not table.selectionModel():
            old.deleteLater()

    def _cover_ready(self, key: str) -> None:
        # One rectangle for all the covers that arrive in one turn of the event loop, not one
        # update per tile: Qt paints a pixmap under a clip of several rectangles by spans handed to
        # its GUI thread pool and waits for them — on a busy machine that wait was the grid's
        # longest stall — while under one rectangle it copies the pixels at once.
        if not self.isVisible():
            return
        if not self._arrived:
            QTimer.singleShot(0, self._repaint_arrived)
        self._arrived.add(key)

    def _repaint_arrived(self) -> None:
        """Repaint the tiles on screen whose covers arrived (where they are now: the view may have
        scrolled since) as one rectangle."""
        keys, self._arrived = self._arrived, set()
        proxy = self.model()
        if proxy is None:
            return
        source = proxy.sourceModel()
        area, dirty = self.viewport().rect(), QRect()
        for key in keys:
            row = source.entry_row(key)
            idx = proxy.mapFromSource(source.index(row, 0)) if row >= 0 else QModelIndex()
            rect = self.visualRect(idx) if idx.isValid() else QRect()
            if rect.intersects(area):
                dirty = dirty.united(rect)
        if not dirty.isNull():
            self.viewport().update(dirty)
