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

BAR_WIDTH = 64


class EvidenceDelegate(QStyledItemDelegate):
    @staticmethod
    def row_height(fm: QFontMetrics) -> int:
        lines = max(2, len(EVIDENCE_SOURCES))
        return max(lines * (fm.height() + 1) + 6, 34)

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        return QSize(200, self.row_height(QFontMetrics(option.font)))  # the view gives each row its full width

    def _check_rect(self, rect: QRect) -> QRect:
        size = QApplication.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
        return QRect(rect.left() + 6, rect.center().y() - size // 2, size, size)

    @staticmethod
    def bars_width(fm: QFontMetrics) -> int:
        name_w = max(fm.horizontalAdvance(src.name) for src in EVIDENCE_SOURCES) + 6
        return name_w + BAR_WIDTH + 6 + fm.horizontalAdvance("100%")

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        row: SuggestionRow | None = index.data(RowRole)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        if row is None:
            return
        accepted = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        check = QStyleOptionButton()
        check.rect = self._check_rect(opt.rect)
        check.state = QStyle.StateFlag.State_Enabled | (
            QStyle.StateFlag.State_On if accepted else QStyle.StateFlag.State_Off
        )
        style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorCheckBox, check, painter, opt.widget)

        fm = QFontMetrics(opt.font)
        bars_w = self.bars_width(fm) if row.evidence else 0
        x = check.rect.right() + 8
        chip = Chip(row.label, row.confidence, accepted, kind=row.kind)
        text = row.label if row.confidence is None else f"{row.label} {format_percent(row.confidence)}"
        room = opt.rect.right() - x - (bars_w + 10 if bars_w else 4)
        want = fm.horizontalAdvance(text) + 16
        w = max(40, min(want, room))
        if w < want:
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(w - 16))
        chip_rect = QRectF(x, opt.rect.center().y() - (fm.height() + 6) / 2, w, fm.height() + 6)
        paint_chip(painter, chip_rect, chip, opt.palette, fm, text)

        if row.evidence:
            left = opt.rect.right() - bars_w - 4
            n = len(row.evidence)
            h = (opt.rect.height() - 6) / n
            for i, (name, value) in enumerate(row.evidence):
                self._bar(painter, opt.palette, fm, QRectF(left, opt.rect.top() + 3 + i * h, bars_w, h), name, value)

    @staticmethod
    def _bar(
        painter: QPainter, palette: QPalette, fm: QFontMetrics, rect: QRectF, name: str, value: float | None
    ) -> None:
        painter.save()
        name_w = max(fm.horizontalAdvance(src.name) for src in EVIDENCE_SOURCES) + 6
        text_color = palette.color(QPalette.ColorRole.Text)
        painter.setPen(text_color)
        painter.drawText(
            QRectF(rect.left(), rect.top(), name_w, rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name,
        )
        track = QRectF(rect.left() + name_w, rect.center().y() - 3, BAR_WIDTH, 6)
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
        painter.setPen(text_color if value is not None else muted_text_color(palette))
        painter.drawText(
            QRectF(track.right() + 6, rect.top(), rect.right() - track.right() - 6, rect.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
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
