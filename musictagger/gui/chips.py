"""Genre chips: rounded labels coloured by confidence, painted by a delegate in the album table.

Colours come from :func:`confidence_color`, a single scale used everywhere (table, detail panel,
legend). It adapts to the palette: on a dark base the chips are dark and the text light, and the
other way round, so they stay readable in both themes without hard-coded light colours.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

# Hue at confidence 0 and 1: a warm amber for doubtful, through yellow-green, to a clear green.
_HUE_LOW, _HUE_HIGH = 0.08, 0.36


@dataclass(frozen=True)
class Chip:
    """One chip: a genre name and how it stands in the review."""

    text: str
    confidence: float | None = None  # None: not from a model (current genres, hand-added tags)
    accepted: bool = True
    added: bool = False  # added by hand, pending


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def confidence_color(confidence: float | None, palette: QPalette) -> QColor:
    """The fill of a chip: hue by confidence; lightness by theme so text contrast stays high."""
    dark = is_dark(palette)
    if confidence is None:
        base = palette.color(QPalette.ColorRole.Mid)
        return base.darker(130) if dark else base.lighter(125)
    c = max(0.0, min(1.0, confidence))
    hue = _HUE_LOW + (_HUE_HIGH - _HUE_LOW) * c
    return QColor.fromHslF(hue, 0.55 + 0.25 * c, 0.30 if dark else 0.80)


def chip_text_color(fill: QColor) -> QColor:
    """Black or white, whichever reads better on ``fill`` (relative luminance)."""
    r, g, b = fill.redF(), fill.greenF(), fill.blueF()
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return QColor(Qt.GlobalColor.black) if luminance > 0.45 else QColor(Qt.GlobalColor.white)


def chip_label(chip: Chip) -> str:
    if chip.confidence is None:
        return chip.text
    return f"{chip.text} {round(chip.confidence * 100)}%"


def paint_chip(painter: QPainter, rect: QRectF, chip: Chip, palette: QPalette, font_metrics: QFontMetrics) -> None:
    """One rounded chip in ``rect``; rejected chips are hollow and struck through, added ones dashed."""
    fill = confidence_color(chip.confidence, palette)
    radius = rect.height() / 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if chip.accepted:
        painter.setPen(
            QPen(
                fill.darker(140) if not is_dark(palette) else fill.lighter(150),
                1,
                Qt.PenStyle.DashLine if chip.added else Qt.PenStyle.SolidLine,
            )
        )
        painter.setBrush(fill)
        text_color = chip_text_color(fill)
    else:
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        text_color = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
    painter.setPen(text_color)
    font = painter.font()
    font.setStrikeOut(not chip.accepted)
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, chip_label(chip))
    painter.restore()


class ChipDelegate(QStyledItemDelegate):
    """Paints the list of :class:`Chip` found under ``role`` as a row of chips, "+N" when they overflow."""

    PAD_X, GAP, MARGIN_Y = 7, 4, 4

    def __init__(self, role: int, parent=None) -> None:
        super().__init__(parent)
        self.role = role

    def _chips(self, index: QModelIndex | QPersistentModelIndex) -> list[Chip]:
        return list(index.data(self.role) or [])

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        chips = self._chips(index)
        if not chips:
            return
        fm = QFontMetrics(opt.font)
        h = min(fm.height() + 6, opt.rect.height() - 2 * self.MARGIN_Y)
        y = opt.rect.top() + (opt.rect.height() - h) / 2
        x = opt.rect.left() + 4.0
        right = opt.rect.right() - 4.0
        painter.setFont(opt.font)
        for i, chip in enumerate(chips):
            w = fm.horizontalAdvance(chip_label(chip)) + 2 * self.PAD_X
            rest = len(chips) - i
            more_w = fm.horizontalAdvance(f"+{rest}") + 2 * self.PAD_X if rest > 1 else 0
            if x + w + (more_w + self.GAP if more_w else 0) > right:
                more = Chip(f"+{rest}")
                mw = fm.horizontalAdvance(more.text) + 2 * self.PAD_X
                if x + mw <= right:
                    paint_chip(painter, QRectF(x, y, mw, h), more, opt.palette, fm)
                break
            paint_chip(painter, QRectF(x, y, w, h), chip, opt.palette, fm)
            x += w + self.GAP

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        fm = QFontMetrics(option.font)
        chips = self._chips(index)
        width = sum(fm.horizontalAdvance(chip_label(c)) + 2 * self.PAD_X + self.GAP for c in chips) + 8
        return QSize(max(width, 80), fm.height() + 6 + 2 * self.MARGIN_Y)
