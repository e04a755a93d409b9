"""Delegate of the album panel's tag list: checkbox, chip, and one evidence bar per source.

Each suggestion shows a bar per source of evidence (:data:`~musictagger.gui.suggestion_model.EVIDENCE_SOURCES`:
what the cover model and the audio model said), with its figure: a person sees at a glance whether a
tag comes from the artwork, the sound, or both. "n/a" (no model of that kind scores the genre, or
the album has no cover) is drawn as a dashed empty frame, distinct from a real 0%.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionButton, QStyleOptionViewItem

from musictagger.gui.chips import Chip, confidence_color, format_percent, muted_text_color, paint_chip
from musictagger.gui.suggestion_model import EVIDENCE_SOURCES, RowRole, SuggestionRow

BAR_WIDTH = 60
#: The shortest bar beside a source's name and figure; narrower, the bars wrap to a second line.
MIN_BAR = 24
BAR_LINE_GAP = 4


class EvidenceDelegate(QStyledItemDelegate):
    """Two lines per tag: the checkbox and the chip (with the overall confidence), then one bar per
    source of evidence side by side, each with its figure — on more lines where the panel is too
    narrow for all of them (four sources after Learn from My Library)."""

    @staticmethod
    def row_height(fm: QFontMetrics, lines: int = 1) -> int:
        """A row with ``lines`` lines of bars (one, unless the bars do not fit side by side)."""
        return 2 * fm.height() + 16 + (max(1, lines) - 1) * (fm.height() + BAR_LINE_GAP)

    @staticmethod
    def min_slot(fm: QFontMetrics) -> int:
        """The least width of one bar: the longest source name, a short bar, "100%"."""
        names = max(fm.horizontalAdvance(src.name) for src in EVIDENCE_SOURCES)
        return names + 5 + MIN_BAR + fm.horizontalAdvance("100%") + 4 + 8

    @classmethod
    def bar_columns(cls, n: int, width: float, fm: QFontMetrics) -> int:
        """How many bars go side by side in ``width`` (the rest wrap to more lines)."""
        return max(1, min(n, int(width // cls.min_slot(fm)))) if n else 1

    def _bars_x(self, left: int, fm: QFontMetrics) -> int:
        return self._check_rect(QRect(left, 0, 10, 10), fm).right() + 8

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        fm = QFontMetrics(option.font)
        row: SuggestionRow | None = index.data(RowRole)
        n = len(row.evidence) if row is not None else 0
        view = option.widget
        width = view.viewport().width() if view is not None and hasattr(view, "viewport") else 300
        room = width - self._bars_x(0, fm) - 4
        lines = -(-n // self.bar_columns(n, room, fm)) if n else 1
        return QSize(200, self.row_height(fm, lines))  # the view gives each row its full width

    def _check_rect(self, rect: QRect, fm: QFontMetrics) -> QRect:
        size = QApplication.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
        line = fm.height() + 6
        return QRect(rect.left() + 6, rect.top() + 3 + (line - size) // 2, size, size)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        row: SuggestionRow | None = index.data(RowRole)
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        if row is None:
            return
        fm = QFontMetrics(option.font)
        accepted = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        check = QStyleOptionButton()
        check.rect = self._check_rect(option.rect, fm)
        check.state = QStyle.StateFlag.State_Enabled | (
            QStyle.StateFlag.State_On if accepted else QStyle.StateFlag.State_Off
        )
        style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorCheckBox, check, painter, option.widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(muted_text_color(option.palette), 1))  # a frame every theme shows
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(check.rect).adjusted(0.5, 0.5, -0.5, -0.5), 2, 2)
        painter.restore()

        painter.save()
        painter.setFont(option.font)
        x = check.rect.right() + 8
        chip = Chip(row.label, row.confidence, accepted, kind=row.kind)
        text = row.label if row.confidence is None else f"{row.label} {format_percent(row.confidence)}"
        room = option.rect.right() - x - 4
        want = fm.horizontalAdvance(text) + 16
        w = max(40, min(want, room))
        if w < want:
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(w - 16))
        paint_chip(painter, QRectF(x, option.rect.top() + 3, w, fm.height() + 6), chip, option.palette, fm, text)

        if row.evidence:
            top = option.rect.top() + fm.height() + 10
            room = option.rect.right() - x - 4
            columns = self.bar_columns(len(row.evidence), room, fm)
            slot = room / columns
            # On more than one line, the bars line up under each other (names in one column width).
            name_w = max(fm.horizontalAdvance(n) for n, _ in row.evidence) + 5 if columns < len(row.evidence) else None
            for i, (name, value) in enumerate(row.evidence):
                line, col = divmod(i, columns)
                rect = QRectF(x + col * slot, top + line * (fm.height() + BAR_LINE_GAP), slot - 8, fm.height())
                self._bar(painter, option.palette, fm, rect, name, value, name_w)
        painter.restore()

    @staticmethod
    def _bar(
        painter: QPainter,
        palette: QPalette,
        fm: QFontMetrics,
        rect: QRectF,
        name: str,
        value: float | None,
        name_w: float | None = None,
    ) -> None:
        """One source: its name (in ``name_w``, else its own width), a bar (a dashed empty frame for
        n/a), its figure."""
        painter.save()
        text_color = palette.color(QPalette.ColorRole.Text)
        muted = muted_text_color(palette)
        name_w = fm.horizontalAdvance(name) + 5 if name_w is None else name_w
        figure_w = fm.horizontalAdvance("100%") + 4
        painter.setPen(muted)
        painter.drawText(
            QRectF(rect.left(), rect.top(), name_w, rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name,
        )
        bar_w = max(12.0, min(float(BAR_WIDTH), rect.width() - name_w - figure_w))
        track = QRectF(rect.left() + name_w, rect.center().y() - 3, bar_w, 6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if value is None:  # n/a: an empty dashed frame, not an empty bar
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(track.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Mid))
            painter.drawRoundedRect(track, 3, 3)
            fraction = max(0.0, min(1.0, value))
            if fraction > 0:
                painter.setBrush(confidence_color(value, palette))
                filled = QRectF(track.left(), track.top(), max(3.0, track.width() * fraction), track.height())
                painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(text_color if value is not None else muted)
        painter.drawText(
            QRectF(track.right() + 4, rect.top(), figure_w, rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            format_percent(value),
        )
        painter.restore()

    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem, index) -> bool:
        """A click anywhere on the row toggles it (the whole row is the target, not just the box)."""
        if event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            accepted = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
            return model.setData(
                index, Qt.CheckState.Unchecked if accepted else Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole
            )
        return False
