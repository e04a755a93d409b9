"""The window's actions, with their shortcuts (shown in the menus) and icons."""

from __future__ import annotations

import functools

from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import QWidget


def _action(
    parent: QWidget,
    text: str,
    shortcut: str | QKeySequence.StandardKey | None = None,
    *,
    theme: str | None = None,
    standard: str | None = None,
    tip: str = "",
) -> QAction:
    """An action with its shortcut and tooltip. Its icon — ``theme`` from the desktop's icon
    theme, else the style's ``standard`` pixmap (a ``QStyle.StandardPixmap`` name) — is set by
    :meth:`Actions.load_icons`: touching QStyle creates a dozen enum types, which costs more than
    the first paint can afford."""
    action = QAction(_blank_icon(), text, parent)  # keeps the toolbar's height until the icons come
    action.setProperty("iconTheme", theme or "")
    action.setProperty("iconStandard", standard or "")
    if shortcut is not None:
        # setShortcuts([…]), not setShortcut(…): PySide6 resolves the latter's overloads through the
        # ``Qt`` namespace, whose first use builds all its enum types before the first paint.
        action.setShortcuts([QKeySequence(shortcut)])
    tip = tip or text.replace("…", "").replace("&", "")
    if shortcut is not None:
        tip += f" ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    return action


@functools.cache
def _blank_icon() -> QIcon:
    pixmap = QPixmap(32, 32)
    pixmap.fill(QColor(0, 0, 0, 0))  # transparent (a QColor, not Qt.GlobalColor: see window._build_shell)
    return QIcon(pixmap)


class Actions:
    """Every user command of the main window, created once and shared by menus and toolbar."""

    def __init__(self, parent: QWidget) -> None:
        self.add_folder = _action(
            parent,
            "&Add Folder…",
            "Ctrl+O",
            theme="folder-new",
            standard="SP_DirOpenIcon",
            tip="Add a music folder to the library",
        )
        self.rescan = _action(parent, "&Rescan", "F5", theme="view-refresh", standard="SP_BrowserReload")
        self.learn = _action(parent, "&Learn from My Library…", tip="Train models on your own tags")
        self.quit = _action(parent, "&Quit", QKeySequence.StandardKey.Quit, theme="application-exit")

        self.undo_run = _action(parent, "&Undo Last Run", "Ctrl+Z", theme="edit-undo", standard="SP_ArrowBack")
        self.history = _action(parent, "&History of Runs…", "Ctrl+H", theme="document-open-recent")
        self.find = _action(parent, "&Find", "Ctrl+F", theme="edit-find")
        self.settings = _action(parent, "&Settings…", "Ctrl+,", theme="preferences-system")

        self.suggest = _action(
            parent,
            "&Suggest Selected",
            "Ctrl+G",
            theme="system-search",
            standard="SP_MediaPlay",
            tip="Suggest genres for the selected albums",
        )
        self.suggest_all = _action(
            parent,
            "Suggest &All",
            "Ctrl+Shift+G",
            standard="SP_MediaSeekForward",
            tip="Suggest genres for every album",
        )
        self.apply = _action(
            parent,
            "A&pply Selected…",
            "Ctrl+Return",
            theme="document-save",
            standard="SP_DialogApplyButton",
            tip="Write the accepted tags of the selected albums",
        )
        self.apply_all = _action(
            parent, "Apply All A&ccepted…", "Ctrl+Shift+Return", tip="Write the accepted tags of every reviewed album"
        )
        self.stop = _action(parent, "S&top", "Esc", theme="process-stop", standard="SP_BrowserStop")
        # No shortcut: a whole-library write deserves a deliberate menu click (and it asks first).
        self.tag_library = _action(
            parent,
            "Tag &Whole Library…",
            theme="tools-check-spelling",
            tip="Tag every album with the suggestions as they stand (resumable, undoable)",
        )
        # Ctrl+W is Close on most platforms; Ctrl+Shift+W clashes with nothing in the app.
        self.watch = _action(
            parent,
            "&Watch Folders",
            "Ctrl+Shift+W",
            theme="folder-visiting",
            standard="SP_FileDialogContentsView",
            tip="Watch folders for new albums",
        )
        self.watch.setCheckable(True)

        self.about = _action(parent, "&About musictagger", theme="help-about")

        # View: the library as a table or as a grid of covers (one selection, the same actions).
        self.view_table = _action(parent, "&Table", "Ctrl+1", tip="Show the library as a table")
        self.view_grid = _action(parent, "Cover &Grid", "Ctrl+2", tip="Show the library as a grid of covers")
        for action in (self.view_table, self.view_grid):
            action.setCheckable(True)
        self.view_table.setChecked(True)
        self.open_folder = _action(
            parent, "&Open Folder", theme="folder-open", tip="Open the album's folder in the file manager"
        )
        self.copy_path = _action(parent, "&Copy Folder Path", theme="edit-copy", tip="Copy the album's folder path")

    def all(self) -> list[QAction]:
        return [a for a in vars(self).values() if isinstance(a, QAction)]

    def load_icons(self, widget: QWidget) -> None:
        """Give every action its icon: the desktop theme's, else the style's standard pixmap."""
        from PySide6.QtWidgets import QStyle

        style = widget.style()
        for action in self.all():
            standard, theme = action.property("iconStandard"), action.property("iconTheme")
            icon = style.standardIcon(getattr(QStyle.StandardPixmap, standard)) if standard else QIcon()
            if theme:
                icon = QIcon.fromTheme(theme, icon)
            action.setIcon(icon)
