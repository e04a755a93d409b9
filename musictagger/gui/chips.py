"""Genre chips: rounded labels coloured by confidence, painted by a delegate in the album table.

Colours come from :func:`confidence_color`, a single scale used everywhere (table, grid, album
panel, legend). It adapts to the palette: on a dark base the chips are dark and the text light, and
the other way round, so they stay readable in both themes without hard-coded light colours.

How a chip looks says how it stands in the review (:mod:`musictagger.pipeline.review`): filled —
written on Apply; hollow and struck through — rejected; dashed — added by hand; hollow, dotted and
grey — a best guess below threshold. :func:`plan_chips` decides how many fit a width, with a "+N"
chip for the rest, so that no chip is ever cut.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from musictagger.pipeline.review import GUESS, MANUAL

# Hue at confidence 0 and 1: a warm amber for doubtful, through yellow-green, to a clear green.
_HUE_LOW, _HUE_HIGH = 0.08, 0.36
PLAIN = "plain"  # a chip that is not part of a review (current genres, "+N")


@dataclass(frozen=True)
class Chip:
    """One chip: a genre name and how it stands in the review."""

    text: str
    confidence: float | None = None  # None: not from a model (current genres, hand-added tags)
    accepted: bool = True
    kind: str = PLAIN  # PLAIN, or the review item's kind (suggested, parent, guess, kept, manual)

    @property
    def added(self) -> bool:
        return self.kind == MANUAL


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


def muted_text_color(palette: QPalette) -> QColor:
    """Text for rejected chips and best guesses: between text and base, still readable (the
    style's disabled text is too faint on some dark themes)."""
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    mix = 0.62
    return QColor.fromRgbF(
        base.redF() + (text.redF() - base.redF()) * mix,
        base.greenF() + (text.greenF() - base.greenF()) * mix,
        base.blueF() + (text.blueF() - base.blueF()) * mix,
    )


def format_percent(value: float | None) -> str:
    """Confidences for people, the same everywhere: "91%", "n/a" when there is no such score."""
    return "n/a" if value is None else f"{round(max(0.0, min(1.0, value)) * 100)}%"


def chip_label(chip: Chip) -> str:
    if chip.confidence is None:
        return chip.text
    return f"{chip.text} {format_percent(chip.confidence)}"


def paint_chip(
    painter: QPainter, rect: QRectF, chip: Chip, palette: QPalette, font_metrics: QFontMetrics, text: str | None = None
) -> None:
    """One rounded chip in ``rect`` (``text``: the label, elided to fit if it had to be)."""
    fill = confidence_color(chip.confidence, palette)
    radius = rect.height() / 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    font = painter.font()
    if chip.accepted:
        style = Qt.PenStyle.DashLine if chip.added else Qt.PenStyle.SolidLine
        painter.setPen(QPen(fill.darker(140) if not is_dark(palette) else fill.lighter(150), 1, style))
        painter.setBrush(fill)
        text_color = chip_text_color(fill)
    else:
        guess = chip.kind == GUESS
        painter.setPen(
            QPen(palette.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DotLine if guess else Qt.PenStyle.SolidLine)
        )
        painter.setBrush(Qt.BrushStyle.NoBrush)
        text_color = muted_text_color(palette)
        font.setStrikeOut(not guess)
        font.setItalic(guess)
    painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
    painter.setPen(text_color)
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, chip_label(chip) if text is None else text)
    painter.restore()


#: Chips drawn once and then blitted: a repaint of the table or the grid draws hundreds of them,
#: and antialiased rounded rectangles with shaped text are the dearest thing in it.
_CHIP_PIXMAPS: OrderedDict[tuple, QPixmap] = OrderedDict()
CHIP_CACHE_SIZE = 3000


def draw_chip(
    painter: QPainter, rect: QRectF, chip: Chip, palette: QPalette, font_metrics: QFontMetrics, text: str
) -> None:
    """:func:`paint_chip` through a cache of ready pixmaps (same look, a blit instead of drawing)."""
    dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    w, h = math.ceil(rect.width()), math.ceil(rect.height())
    conf = None if chip.confidence is None else round(chip.confidence, 2)
    key = (text, conf, chip.accepted, chip.kind, w, h, dpr, painter.font().key(), palette.cacheKey())
    pixmap = _CHIP_PIXMAPS.get(key)
    if pixmap is None:
        pixmap = QPixmap(round(w * dpr), round(h * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setFont(painter.font())
        paint_chip(p, QRectF(0, 0, rect.width(), rect.height()), chip, palette, font_metrics, text)
        p.end()
        _CHIP_PIXMAPS[key] = pixmap
        if len(_CHIP_PIXMAPS) > CHIP_CACHE_SIZE:
            _CHIP_PIXMAPS.popitem(last=False)
    else:
        _CHIP_PIXMAPS.move_to_end(key)
    painter.drawPixmap(QPointF(rect.left(), rect.top()), pixmap)


@dataclass(frozen=True)
class ChipPlan:
    """What :func:`plan_chips` fits: the widths of the first ``len(widths)`` chips (the last one may
    be narrower than asked: its text is then elided) and how many more the "+N" chip stands for."""

    widths: list[float]
    more: int


def plan_chips(
    widths: Sequence[float],
    available: float,
    *,
    gap: float,
    more_width: Callable[[int], float],
    min_width: float = 36.0,
) -> ChipPlan:
    """Fit chips of ``widths`` into ``available`` pixels, in order, with a "+N" chip (``more_width(N)``
    wide) for those left out. The chips, gaps and "+N" together never exceed ``available``."""
    n = len(widths)
    if n == 0:
        return ChipPlan([], 0)
    if sum(widths) + gap * (n - 1) <= available:
        return ChipPlan(list(widths), 0)
    used = 0.0
    best = 0
    for k in range(1, n):
        used += widths[k - 1] + gap
        if used + more_width(n - k) <= available:
            best = k
        else:
            break
    if best:
        return ChipPlan(list(widths[:best]), n - best)
    # Not even the first chip fits whole: elide it, if a readable part of it fits.
    room = available - (gap + more_width(n - 1) if n > 1 else 0.0)
    if room >= min_width:
        return ChipPlan([min(room, widths[0])], n - 1)
    if more_width(n) <= available:
        return ChipPlan([], n)
    return ChipPlan([], 0)


class ChipRow:
    """Lays out and paints a list of chips in one line (table cells, grid tiles)."""

    PAD_X, GAP = 7, 4

    @classmethod
    def paint(cls, painter: QPainter, rect: QRectF, chips: Sequence[Chip], palette: QPalette, fm: QFontMetrics) -> int:
        """Paint ``chips`` left to right in ``rect``; returns how many were shown whole or elided."""
        if not chips:
            return 0
        widths = [fm.horizontalAdvance(chip_label(c)) + 2 * cls.PAD_X for c in chips]
        plan = plan_chips(
            widths,
            rect.width(),
            gap=cls.GAP,
            more_width=lambda k: fm.horizontalAdvance(f"+{k}") + 2 * cls.PAD_X,
            min_width=fm.horizontalAdvance("M…") + 2 * cls.PAD_X,
        )
        x = rect.left()
        for chip, want, w in zip(chips, widths, plan.widths):
            text = chip_label(chip)
            if w < want:
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(w - 2 * cls.PAD_X))
            draw_chip(painter, QRectF(x, rect.top(), w, rect.height()), chip, palette, fm, text)
            x += w + cls.GAP
        if plan.more:
            more = Chip(f"+{plan.more}")
            w = fm.horizontalAdvance(more.text) + 2 * cls.PAD_X
            draw_chip(painter, QRectF(x, rect.top(), w, rect.height()), more, palette, fm, more.text)
        return len(plan.widths)

    @classmethod
    def width(cls, chips: Sequence[Chip], fm: QFontMetrics) -> int:
        """The width all of ``chips`` need."""
        return int(
            sum(fm.horizontalAdvance(chip_label(c)) + 2 * cls.PAD_X for c in chips) + cls.GAP * max(0, len(chips) - 1)
        )


class ChipDelegate(QStyledItemDelegate):
    """Paints the list of :class:`Chip` found under ``role`` as a row of chips, "+N" when they overflow."""

    MARGIN_X, MARGIN_Y = 4, 4

    def __init__(self, role: int, parent=None) -> None:
        super().__init__(parent)
        self.role = role
        self._selected: dict[int, QPalette] = {}

    def _palette(self, option: QStyleOptionViewItem) -> QPalette:
        """The cell's palette; in a selected row, one whose text and base are the selection's, so
        hollow chips (rejected tags, best guesses) stay readable on the highlight."""
        pal = option.palette
        if not option.state & QStyle.StateFlag.State_Selected:
            return pal
        key = pal.cacheKey()
        selected = self._selected.get(key)
        if selected is None:
            selected = QPalette(pal)
            selected.setColor(QPalette.ColorRole.Text, pal.color(QPalette.ColorRole.HighlightedText))
            selected.setColor(QPalette.ColorRole.Base, pal.color(QPalette.ColorRole.Highlight))
            self._selected = {key: selected}
        return selected

    def _chips(self, index: QModelIndex | QPersistentModelIndex) -> list[Chip]:
        return list(index.data(self.role) or [])

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        # The cell's background and selection only (the view drew the alternating row colour):
        # no initStyleOption, which would ask the model for a dozen roles the chips do not use.
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        chips = self._chips(index)
        if not chips:
            return
        fm = QFontMetrics(option.font)
        rect = option.rect
        h = min(fm.height() + 6, rect.height() - 2 * self.MARGIN_Y)
        y = rect.top() + (rect.height() - h) / 2
        area = QRectF(rect.left() + self.MARGIN_X, y, rect.width() - 2 * self.MARGIN_X, h)
        painter.save()
        painter.setFont(option.font)
        ChipRow.paint(painter, area, chips, self._palette(option), fm)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        fm = QFontMetrics(option.font)
        width = ChipRow.width(self._chips(index), fm) + 2 * self.MARGIN_X
        return QSize(max(width, 80), fm.height() + 6 + 2 * self.MARGIN_Y)
