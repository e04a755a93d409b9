"""Where the app's resources (icon, desktop entry, AppStream metainfo, style sheet) are; the app
icon and the style sheet.

In a source checkout or editable install they are the repository's ``resources/`` folder; an
installed wheel may carry them under ``<prefix>/share/musictagger/resources``.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QWidget

APP_ID = "io.github.musictagger"
ICON_FILE = f"{APP_ID}.svg"
DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
STYLESHEET_FILE = "styles/musictagger.qss"


def resources_dir() -> Path | None:
    candidates = [
        Path(__file__).resolve().parents[2] / "resources",
        Path(sys.prefix) / "share" / "musictagger" / "resources",
    ]
    return next((c for c in candidates if (c / ICON_FILE).is_file()), None)


def resource_path(name: str) -> Path | None:
    folder = resources_dir()
    return folder / name if folder is not None and (folder / name).is_file() else None


def app_icon() -> QIcon:
    """The installed theme icon if there is one, else the SVG shipped with the app."""
    path = resource_path(ICON_FILE)
    fallback = QIcon(str(path)) if path else QIcon()
    return QIcon.fromTheme(APP_ID, fallback)


def stylesheet() -> str:
    """The app's style sheet (spacing and polish only; colours are ``palette(...)`` references, so
    light and dark themes both keep their own colours). Empty if the resources are not installed."""
    path = resource_path(STYLESHEET_FILE)
    return path.read_text(encoding="utf-8") if path is not None else ""


def apply_stylesheet(window: QWidget) -> None:
    """Style ``window`` and its children (dialogs parented to it included), not the whole application:
    other top-level windows of the process keep the platform look."""
    window.setStyleSheet(stylesheet())
    window.setPalette(same_when_inactive(readable_disabled(window.palette())))


def same_when_inactive(palette):
    """``palette`` with its inactive colours equal to its active ones. Qt repaints every widget of a
    window whose palette differs between the two each time the window is activated or deactivated
    — every dialog that opens or closes — and a library table full of covers and chips is a long
    repaint; the selection then also keeps its colour while a dialog is open."""
    from PySide6.QtGui import QPalette

    fixed = copy.copy(palette)  # not QPalette(palette): its overloads go through the Qt namespace
    for role in QPalette.ColorRole:
        if role is not QPalette.ColorRole.NColorRoles:
            fixed.setBrush(QPalette.ColorGroup.Inactive, role, palette.brush(QPalette.ColorGroup.Active, role))
    return fixed


def _contrast(a, b) -> float:
    def lum(c) -> float:
        def lin(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable_disabled(palette):
    """``palette`` with disabled text that can still be read (WCAG 3:1 against its background):
    greyed, not gone. Several dark themes draw disabled labels barely above the background."""
    from PySide6.QtGui import QColor, QPalette

    fixed = copy.copy(palette)
    pairs = (
        (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
        (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
        (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    )
    for text_role, back_role in pairs:
        back = palette.color(QPalette.ColorGroup.Disabled, back_role)
        disabled = palette.color(QPalette.ColorGroup.Disabled, text_role)
        if _contrast(disabled, back) >= 3.0:
            continue
        normal = palette.color(QPalette.ColorGroup.Active, text_role)
        for mix in (0.55, 0.65, 0.75, 0.85, 1.0):
            color = QColor.fromRgbF(
                back.redF() + (normal.redF() - back.redF()) * mix,
                back.greenF() + (normal.greenF() - back.greenF()) * mix,
                back.blueF() + (normal.blueF() - back.blueF()) * mix,
            )
            if _contrast(color, back) >= 3.0:
                break
        fixed.setColor(QPalette.ColorGroup.Disabled, text_role, color)
    return fixed
