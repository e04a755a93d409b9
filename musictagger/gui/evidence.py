"""Delegate of the detail panel's suggestion list: checkbox, chip, and the evidence bars.

Each suggestion shows two small bars — what the cover model and what the audio model said —
so a person sees at a glance whether a tag comes from the artwork, the sound, or both.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionButton, QStyleOptionViewItem

from musictagger.gui.chips import Chip, confidence_color, paint_chip
from musictagger.gui.suggestion_model import RowRole, SuggestionRow

BAR_WIDTH = 70


class EvidenceDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(200, max(2 * fm.height() + 6, 34))  # the view gives each row its full width

    def _check_rect(self, rect: QRect) -> QRect:
        size = QApplication.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
        return QRect(rect.left() + 6, rect.center().y() - size // 2, size, size)

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
        label = row.name + (" (parent)" if row.implied else "")
        chip_w = min(fm.horizontalAdvance(label + " 100%") + 16, opt.rect.width() - BAR_WIDTH - 60)
        x = check.rect.right() + 8
        chip_rect = QRectF(x, opt.rect.center().y() - (fm.height() + 6) / 2, max(chip_w, 40), fm.height() + 6)
        paint_chip(
            painter, chip_rect, Chip(label, row.confidence, accepted, added=row.confidence is None), opt.palette, fm
        )

        bars_x = opt.rect.right() - BAR_WIDTH - 52
        if row.confidence is not None and bars_x > chip_rect.right():
            top = opt.rect.top() + 3
            h = (opt.rect.height() - 6) / 2
            self._bar(painter, opt.palette, fm, QRectF(bars_x, top, BAR_WIDTH + 48, h), "cover", row.cover)
            self._bar(painter, opt.palette, fm, QRectF(bars_x, top + h, BAR_WIDTH + 48, h), "audio", row.audio)

    @staticmethod
    def _bar(
        painter: QPainter, palette: QPalette, fm: QFontMetrics, rect: QRectF, name: str, value: float | None
    ) -> None:
        painter.save()
        text_w = 44
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(
            QRectF(rect.left(), rect.top(), text_w, rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name,
        )
        track = QRectF(rect.left() + text_w, rect.center().y() - 3, BAR_WIDTH, 6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(track, 3, 3)
        if value is not None:
            painter.setBrush(confidence_color(value, palette))
            filled = QRectF(
                track.left(), track.top(), max(3.0, track.width() * max(0.0, min(1.0, value))), track.height()
            )
            painter.drawRoundedRect(filled, 3, 3)
        painter.restore()

    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem, index) -> bool:
        """A click anywhere on the row toggles it (the whole row is the target, not just the box)."""
        if event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            accepted = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
            return model.setData(
                index, Qt.CheckState.Unchecked if accepted else Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole
            )
        return False
