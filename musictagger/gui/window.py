"""The main window: the album table or cover grid, the album and errors docks, menus, toolbar and status bar.

The window only wires widgets to the :class:`LibraryController`; what actions do lives there.

It is built in two steps so that it is on screen fast (benchmarks/gui.py, "time to window"):
the *shell* — menus, toolbar, search box, status bar, an empty table, the saved geometry and the
style — is built before ``show()``; the *body* — the controller and its model, the docks, the
chips and every connection — right after the first paint (:meth:`MainWindow.finish_build`,
also run at once when the window is created with ``progressive=False``, as tests do). Most of the
difference is PySide6 creating the Python enum types of every class on first use.

The central area is a stack: the first-start panel ("Add your music folder…") while the library has
no folder, else the table (View ▸ Table, Ctrl+1) or the cover grid (View ▸ Grid, Ctrl+2) — two views
of one model with one selection model, so every action works the same from either. Actions are
enabled only when they can run (nothing to suggest on an empty library, nothing to undo before the
first write).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSettings,
    QSize,
    QStandardPaths,
    QTimer,
)
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSystemTrayIcon,
    QTableView,
    QToolBar,
    QWidget,
)

from musictagger.gui.actions import Actions
from musictagger.gui.resources import app_icon, apply_stylesheet
from musictagger.gui.statusbar import StatusBar
from musictagger.paths import app_dirs

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config
    from musictagger.gui.apply_dialog import ApplyDialog
    from musictagger.gui.controller import LibraryController
    from musictagger.gui.detail import AlbumDetail
    from musictagger.gui.errors_panel import ErrorsPanel
    from musictagger.gui.grid import CoverGrid
    from musictagger.gui.learn_dialog import LearnDialog
    from musictagger.gui.models_loader import ModelsInfo
    from musictagger.gui.retag import RetagPlan
    from musictagger.gui.retag_dialog import RetagConfirmDialog, RetagSummaryDialog
    from musictagger.gui.tasks import ApplyPlan
    from musictagger.gui.thumbs import ThumbnailCache
    from musictagger.progress import Progress
    from musictagger.watch.retag import BatchSummary
    from musictagger.watch.service import AlbumEvent

THUMB_SIZE = 40
#: The album dock's width before its content (which asks for about this much) is built.
DETAIL_MIN_WIDTH = 300
#: The window.ini key remembering whether watching was on (the config has no such setting).
WATCH_ENABLED_KEY = "watch/enabled"
#: How long a tray notification shows.
TRAY_MESSAGE_MS = 8000
#: A progressive window builds its body at the first paint, or after this long at the latest.
BODY_DEADLINE_MS = 300
#: The window.ini key of the view shown last ("table" or "grid").
VIEW_KEY = "view/mode"
#: The window.ini key of the table's columns (the version changes when the columns do).
HEADER_KEY = "table_header_v2"
#: Whether the columns are still fitted to the content (no column resized by hand).
AUTO_COLUMNS_KEY = "table_auto_columns"
#: The Suggested column keeps at least this much room for its chips when the columns are fitted.
MIN_SUGGESTED_WIDTH = 240
COLUMN_PAD = 20
#: Below this window width the toolbar shows icons only (the rest goes to its » menu).
COMPACT_TOOLBAR_WIDTH = 1100
WELCOME_TEXT = (
    "<h2>Add your music folder</h2>"
    "<p>musictagger reads your albums' tags and covers, suggests genres and subgenres from the "
    "artwork and the sound, and writes the ones you accept — every write can be undone.</p>"
    "<p>Add a folder with the button below or <b>File ▸ Add Folder</b> (Ctrl+O), or drop a folder "
    "on this window. Nothing is written until you press Apply.</p>"
)


#: The album panel's dock, by the name saved layouts know it by.
DETAIL_DOCK = "detailDock"


class MainWindow(QMainWindow):
    """``progressive=True`` (the app): build the body after the first paint; otherwise at once.
    Without ``config`` the saved settings are read (when the body is built); problems with them
    go to the errors panel and the defaults are used."""

    def __init__(
        self, config: Config | None = None, parent: QWidget | None = None, *, progressive: bool = False
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("musictagger")
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self._config = config
        self.built = False
        self._pending_start: list[str] | None = None
        self._pending_errors: list[tuple[str, str, str]] = []
        self.engine_info: ModelsInfo | None = None
        self.apply_dialog: ApplyDialog | None = None
        self.batch_dialog: RetagConfirmDialog | None = None
        self.batch_summary: RetagSummaryDialog | None = None
        self.learn_dialog: LearnDialog | None = None
        self.tray: QSystemTrayIcon | None = None  # shown while watching, where the desktop has a tray
        self.view_mode = "table"
        self._auto_columns = True  # columns sized to the content until the user resizes one
        self._fit_pending = False
        self._settings = QSettings(str(app_dirs().config / "window.ini"), QSettings.Format.IniFormat)

        self.actions = Actions(self)
        self._build_shell()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self._build_menus()
        self._build_toolbar()
        self._restore_geometry()
        for action in self.actions.all():  # enabled by finish_build, once wired
            action.setEnabled(False)
        apply_stylesheet(self)
        self._progressive = progressive
        if not progressive:
            self.finish_build()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._progressive and not self.built and self.windowHandle() is not None:
            # Build the body once the shell has been painted (the first Expose paints it), and
            # in any case soon: some platforms never expose a window that starts minimised.
            self.windowHandle().installEventFilter(self)
            QTimer.singleShot(BODY_DEADLINE_MS, self.finish_build)

    def finish_build(self) -> None:
        """The body: controller, model, docks, connections, saved dock and column layout. Idempotent."""
        if self.built:
            return
        from musictagger.gui import keep_singletons_alive
        from musictagger.gui.controller import LibraryController

        keep_singletons_alive()
        from musictagger.gui.detail import COVER_SIZE
        from musictagger.gui.grid import GRID_COVER
        from musictagger.gui.thumbs import ThumbnailCache

        config = self._config if self._config is not None else self._load_config()
        self.controller: LibraryController = LibraryController(config, parent=self)
        thumbs_dir = app_dirs().cache / "thumbs"
        core = self.controller.core

        def maker(album, size: int, cache_dir: str):  # in the core process
            return core.call("thumbnail", album, size, cache_dir)

        self.thumbs: ThumbnailCache = ThumbnailCache(THUMB_SIZE, thumbs_dir, maker=maker, parent=self)
        self.covers: ThumbnailCache = ThumbnailCache(COVER_SIZE, thumbs_dir, capacity=64, maker=maker, parent=self)
        self.grid_covers: ThumbnailCache = ThumbnailCache(
            GRID_COVER, thumbs_dir, capacity=600, maker=maker, parent=self
        )
        self.controller.model.set_thumbs(self.thumbs)
        self.actions.load_icons(self)
        self._build_table()
        self._build_central()
        self._build_docks()
        self._add_dock_menus()
        self._fill_remove_menu(self.controller.roots)
        for action in self.actions.all():
            action.setEnabled(True)
        self._connect()
        self._restore_layout()
        self._update_actions()
        self._update_watch_tip()
        self._update_toolbar()
        self.built = True
        for error in self._pending_errors:
            self.errors.add(*error)
        self._pending_errors.clear()
        if self._pending_start is not None:
            self.start(self._pending_start)

    # ------------------------------------------------------------------ construction
    def _build_shell(self) -> None:
        """The empty table and the search box: what the first paint shows."""
        table = QTableView()
        table.setObjectName("albumTable")
        table.setSortingEnabled(True)
        table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setShowGrid(False)
        table.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(THUMB_SIZE + 6)
        self.table = table
        self.search = QLineEdit(placeholderText="Search artist, album, genre…", clearButtonEnabled=True)
        self.search.setObjectName("searchBox")
        self.search.setMinimumWidth(140)
        self.search.setMaximumWidth(320)
        self.search.setToolTip("Show only albums whose artist, album or genres contain every word (Ctrl+F)")
        self.setCentralWidget(table)
        # The album dock's frame too, so that the layout does not jump when its content comes —
        # where the user left it. Placed from the saved layout it needs none of PySide6's ``Qt``
        # enums, whose first use builds all 94 of them (~25 ms before the first paint); only the
        # very first start places it by name.
        self.detail_dock = QDockWidget("Album", self)
        self.detail_dock.setObjectName(DETAIL_DOCK)
        self.detail_dock.setMinimumWidth(DETAIL_MIN_WIDTH)
        state = self._settings.value("state")
        if not (  # restoreState places the docks it names that already exist
            isinstance(state, QByteArray)
            and DETAIL_DOCK.encode("utf-16-be") in state.data()  # how the saved layout names it
            and self.restoreState(state)
        ):
            from PySide6.QtCore import Qt

            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.detail_dock)

    def _build_table(self) -> None:
        """The model behind the table, its columns and chip delegates."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QHeaderView

        from musictagger.gui.album_model import AlbumFilterProxy, ChipsRole, Column
        from musictagger.gui.chips import ChipDelegate

        table = self.table
        self.proxy = AlbumFilterProxy(self)
        self.proxy.setSourceModel(self.controller.model)
        table.setModel(self.proxy)
        table.sortByColumn(Column.ARTIST, Qt.SortOrder.AscendingOrder)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setMinimumSectionSize(36)
        header.setStretchLastSection(False)
        self._default_columns()
        for col in (Column.GENRES, Column.SUGGESTED):
            table.setItemDelegateForColumn(col, ChipDelegate(ChipsRole, table))
        table.setItemDelegateForColumn(Column.FOLDER, MiddleElideDelegate(table))
        header.sectionResized.connect(self._on_section_resized)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self.search.textChanged.connect(self.proxy.set_search)

    def _build_central(self) -> None:
        """The stack in the middle: first-start panel, table, cover grid."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QLabel, QPushButton, QStackedWidget, QVBoxLayout

        from musictagger.gui.grid import CoverGrid

        self.grid: CoverGrid = CoverGrid(self.grid_covers)
        self.grid.share(self.table)
        self.welcome = QWidget()
        self.welcome.setObjectName("welcomePanel")
        text = QLabel(WELCOME_TEXT, wordWrap=True)
        text.setObjectName("welcomeText")
        text.setMaximumWidth(560)
        self.welcome_button = QPushButton(self.actions.add_folder.icon(), "Add Music Folder…")
        self.welcome_button.setObjectName("welcomeButton")
        self.welcome_button.setDefault(True)
        self.welcome_button.clicked.connect(self.add_folder_dialog)
        layout = QVBoxLayout(self.welcome)
        layout.addStretch(1)
        layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addWidget(self.welcome_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        table = self.takeCentralWidget()
        self.stack = QStackedWidget()
        self.stack.setObjectName("centralStack")
        for page in (self.welcome, table, self.grid):
            self.stack.addWidget(page)
        from musictagger.gui.advice_bar import AdviceBar

        self.advice = AdviceBar()  # above the stack, shown while it has something to say
        central = QWidget()
        central.setObjectName("centralArea")
        box = QVBoxLayout(central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.advice)
        box.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        for view in (self.table, self.grid):
            # The table's: columns refitted when its width changes; both: no repaint when a dialog
            # opens or closes (see eventFilter).
            view.viewport().installEventFilter(self)
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(lambda pos, v=view: self._album_menu(v, pos))

    def _default_columns(self) -> None:
        from PySide6.QtWidgets import QHeaderView

        from musictagger.gui.album_model import Column

        header = self.table.horizontalHeader()
        header.resizeSection(Column.COVER, THUMB_SIZE + 12)
        for col, width in (
            (Column.ARTIST, 140),
            (Column.ALBUM, 170),
            (Column.YEAR, 48),
            (Column.TRACKS, 52),
            (Column.GENRES, 150),
            (Column.STATUS, 86),
            (Column.FOLDER, 150),
        ):
            header.resizeSection(col, width)
        # Suggested takes what is left, so Status and Folder are never pushed off screen.
        header.setSectionResizeMode(Column.SUGGESTED, QHeaderView.ResizeMode.Stretch)

    def measure_columns(self) -> None:
        """How wide the text columns want to be for this library (its longest texts, capped);
        once per scan, not on every resize."""
        import heapq

        from PySide6.QtGui import QFontMetrics

        from musictagger.gui.album_model import Column

        model = self.controller.model
        entries = model.entries
        fm = QFontMetrics(self.table.font())

        def widest(texts, cap: int, floor: int) -> int:
            longest = heapq.nlargest(25, texts, key=len)  # measure only the longest few
            return max(floor, min(cap, max((fm.horizontalAdvance(t) for t in longest), default=0) + COLUMN_PAD))

        folders = [model.folder_text(e) for e in heapq.nlargest(25, entries, key=lambda e: len(e.album.folder))]
        self._wanted_widths = {
            Column.ARTIST: widest((e.album.artist for e in entries), 180, 100),
            Column.ALBUM: widest((e.album.album or "" for e in entries), 220, 120),
            Column.FOLDER: widest(folders, 200, 100),
        }

    def fit_columns(self) -> None:
        """Size the text columns to their content (capped) so that Suggested keeps room for its
        chips and every column stays on screen; as long as the user has not resized a column."""
        if not self._auto_columns or not self.built:
            return
        from PySide6.QtGui import QFontMetrics

        from musictagger.gui.album_model import Column

        fm = QFontMetrics(self.table.font())
        header = self.table.horizontalHeader()
        wanted = getattr(self, "_wanted_widths", {})
        fixed = {
            Column.COVER: THUMB_SIZE + 12,
            Column.YEAR: fm.horizontalAdvance("0000") + COLUMN_PAD,
            Column.TRACKS: fm.horizontalAdvance("Tracks") + COLUMN_PAD,
            Column.STATUS: fm.horizontalAdvance("Suggested") + COLUMN_PAD + 6,
        }
        # (wanted, least) for the columns that give way when room is short.
        flexible = {
            Column.ARTIST: (wanted.get(Column.ARTIST, 140), 80),
            Column.ALBUM: (wanted.get(Column.ALBUM, 170), 90),
            Column.GENRES: (150, 100),
            Column.FOLDER: (wanted.get(Column.FOLDER, 150), 70),
        }
        shown = [c for c in flexible if not header.isSectionHidden(c)]
        room = self.table.viewport().width() - sum(w for c, w in fixed.items() if not header.isSectionHidden(c))
        room -= MIN_SUGGESTED_WIDTH
        total = sum(flexible[c][0] for c in shown)
        scale = 1.0 if total <= room or total == 0 else max(0.0, room / total)
        self._fitting = True
        try:
            for col, width in fixed.items():
                header.resizeSection(col, width)
            for col in shown:
                want, least = flexible[col]
                header.resizeSection(col, max(least, int(want * scale)))
        finally:
            self._fitting = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.WindowActivate, QEvent.Type.WindowDeactivate):
            # Item views repaint their whole viewport whenever the window is activated or
            # deactivated (every dialog), though the window's palette is the same either way
            # (resources.same_when_inactive): with a page of covers and chips that repaint held the
            # event loop up for tens of milliseconds.
            return watched is self.table.viewport() or watched is self.grid.viewport()
        if kind == QEvent.Type.Expose and watched is self.windowHandle():
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.finish_build)
        elif kind == QEvent.Type.Resize and self.built and watched is self.table.viewport():
            if self._auto_columns and not self._fit_pending:
                self._fit_pending = True
                QTimer.singleShot(0, self._fit_later)
        return False

    def _fit_later(self) -> None:
        self._fit_pending = False
        self.fit_columns()

    def _on_section_resized(self, logical: int, _old: int, _new: int) -> None:
        from musictagger.gui.album_model import Column

        if not getattr(self, "_fitting", False) and logical != Column.SUGGESTED and self.table.isVisible():
            if self.table.horizontalHeader().sectionResizeMode(logical).name == "Interactive":
                self._auto_columns = False

    def _header_menu(self, pos) -> None:
        """Show or hide columns (the header's context menu)."""
        from musictagger.gui.album_model import HEADERS, Column

        header = self.table.horizontalHeader()
        menu = QMenu(self)
        for col in Column:
            if col in (Column.COVER, Column.ALBUM, Column.SUGGESTED):
                continue
            action = menu.addAction(HEADERS[col])
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(col))
            action.toggled.connect(lambda on, c=col: header.setSectionHidden(c, not on))
        menu.exec(header.mapToGlobal(pos))

    def _album_menu(self, view, pos) -> None:
        """The context menu of the table and the grid: the same actions on the selection."""
        index = view.indexAt(pos)
        if index.isValid() and not view.selectionModel().isRowSelected(index.row(), index.parent()):
            view.setCurrentIndex(index)
            self.select_keys([index.data(_entry_role()).key])
        a = self.actions
        menu = QMenu(self)
        for action in (a.suggest, a.apply, None, a.open_folder, a.copy_path):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.exec(view.viewport().mapToGlobal(pos))

    def _current_folder(self) -> str | None:
        entry = self.detail.entry if self.built else None
        return entry.album.folder if entry is not None else None

    def _open_folder(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        folder = self._current_folder()
        if folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def _copy_path(self) -> None:
        from PySide6.QtWidgets import QApplication

        folder = self._current_folder()
        if folder:
            QApplication.clipboard().setText(folder)
            self.status.idle(f"Copied {folder}")

    def set_view(self, mode: str) -> None:
        """Show the library as the table ("table") or the cover grid ("grid"); remembered."""
        mode = "grid" if mode == "grid" else "table"
        self.view_mode = mode
        self.actions.view_table.setChecked(mode == "table")
        self.actions.view_grid.setChecked(mode == "grid")
        self._settings.setValue(VIEW_KEY, mode)
        self._update_central()
        view = self.grid if mode == "grid" else self.table
        current = self.table.selectionModel().currentIndex()
        if current.isValid():
            view.scrollTo(current)

    def _update_central(self) -> None:
        """The first-start panel while there is no library folder, else the chosen view."""
        if not self.controller.roots and not self.controller.model.rowCount():
            self.stack.setCurrentWidget(self.welcome)
        else:
            self.stack.setCurrentWidget(self.grid if self.view_mode == "grid" else self.table)

    def _build_docks(self) -> None:
        from PySide6.QtCore import Qt

        from musictagger.gui.detail import AlbumDetail
        from musictagger.gui.errors_panel import ErrorsPanel

        self.detail: AlbumDetail = AlbumDetail(
            self.covers, thumbs=self.thumbs, find_album=self.controller.model.find_album
        )
        self.detail_dock.setWidget(self.detail)
        # The album panel keeps the full height: the errors panel only takes room from the table.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.errors: ErrorsPanel = ErrorsPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.errors)
        self.errors.hide()

    def _build_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a.add_folder)
        self.remove_menu = QMenu("&Remove Folder", self)
        self.remove_menu.setEnabled(False)
        file_menu.addMenu(self.remove_menu)
        file_menu.addAction(a.rescan)
        file_menu.addAction(a.watch)
        file_menu.addSeparator()
        file_menu.addAction(a.learn)
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        self.edit_menu = edit = bar.addMenu("&Edit")
        edit.addAction(a.undo_run)
        edit.addAction(a.history)
        edit.addSeparator()
        edit.addAction(a.find)
        edit.addAction(a.settings)
        tags = bar.addMenu("&Tags")
        for action in (a.suggest, a.suggest_all, None, a.apply, a.apply_all, None, a.tag_library, None, a.stop):
            tags.addSeparator() if action is None else tags.addAction(action)
        self.view_menu = bar.addMenu("&View")
        self.view_menu.addAction(a.view_table)
        self.view_menu.addAction(a.view_grid)
        self.view_menu.addSeparator()
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a.about)

    def _add_dock_menus(self) -> None:
        """The menu entries of the docks, once they exist."""
        first = self.edit_menu.actions()[0]
        self.edit_menu.insertAction(first, self.detail.toggle_action)
        self.edit_menu.insertSeparator(first)
        self.view_menu.addAction(self.detail_dock.toggleViewAction())
        self.view_menu.addAction(self.errors.toggleViewAction())

    def _build_toolbar(self) -> None:
        a = self.actions
        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolbar")
        self.toolbar = tb
        self._update_toolbar()
        for action in (a.add_folder, a.rescan, a.watch, None, a.suggest, a.suggest_all, a.apply, a.undo_run, a.stop):
            tb.addSeparator() if action is None else tb.addAction(action)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred)
        tb.addWidget(spacer)
        tb.addWidget(self.search)
        self.addToolBar(tb)

    def _connect(self) -> None:
        a, c = self.actions, self.controller
        a.add_folder.triggered.connect(self.add_folder_dialog)
        a.rescan.triggered.connect(lambda: c.scan())
        a.quit.triggered.connect(self.close)
        a.undo_run.triggered.connect(lambda: c.undo())
        a.history.triggered.connect(self.show_history)
        a.find.triggered.connect(self._focus_search)
        a.settings.triggered.connect(self.show_settings)
        a.suggest.triggered.connect(lambda: c.suggest(self.selected_keys() or None))
        a.suggest_all.triggered.connect(lambda: c.suggest(None))
        a.apply.triggered.connect(lambda: c.prepare_apply(self.selected_keys()))
        a.apply_all.triggered.connect(lambda: c.prepare_apply(None))
        a.stop.triggered.connect(c.stop)
        a.watch.triggered.connect(self.set_watching)
        a.tag_library.triggered.connect(lambda: c.prepare_batch())
        a.about.triggered.connect(self.show_about)
        a.view_table.triggered.connect(lambda: self.set_view("table"))
        a.view_grid.triggered.connect(lambda: self.set_view("grid"))
        a.open_folder.triggered.connect(self._open_folder)
        a.copy_path.triggered.connect(self._copy_path)
        from musictagger.gui.learn_dialog import NOT_INSTALLED, training_available

        self._training = training_available()
        if self._training:
            a.learn.triggered.connect(self.show_learn)
        else:
            a.learn.setToolTip(NOT_INSTALLED)
            a.learn.setStatusTip(NOT_INSTALLED)

        c.progress.connect(self._on_progress)
        c.message.connect(self.status.idle)
        c.info.connect(self.status.idle)
        c.undo_available.connect(lambda _available: self._update_actions())
        c.library_changed.connect(self._on_library_changed)
        c.roots_changed.connect(lambda _roots: self._update_central())
        c.errors.connect(self.errors.add_many)
        c.engine_loaded.connect(self._on_engine)
        c.entry_changed.connect(self._on_entry_changed)
        c.preview_ready.connect(self.confirm_apply)
        c.roots_changed.connect(self._fill_remove_menu)
        c.busy_changed.connect(self._on_busy_changed)
        c.speed_advice.connect(self.advice.show_advice)
        self.advice.accepted.connect(self._use_fast)
        self.advice.declined.connect(c.keep_thorough)
        c.scanned.connect(self._on_scanned)
        c.genre_names.connect(self.detail.set_completions)
        c.engine_failed.connect(self._on_engine_failed)
        c.watch_changed.connect(self._on_watch_changed)
        c.watch_event.connect(self._on_watch_event)
        c.roots_changed.connect(self._update_watch_tip)
        c.batch_ready.connect(self.confirm_batch)
        c.batch_finished.connect(self.show_batch_summary)
        self.errors.count_changed.connect(self.status.set_error_count)
        self.status.errors_clicked.connect(self._show_errors)
        self.detail.review_changed.connect(c.review_changed)
        self.detail.album_requested.connect(self.select_album)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.proxy.modelReset.connect(self._update_actions)

    # ------------------------------------------------------------------ start and state
    def _load_config(self) -> Config:
        from musictagger.config import Config, load_config
        from musictagger.errors import ConfigError

        problems: list[str] = []
        try:
            config = load_config(warnings=problems)
        except ConfigError as exc:
            problems.append(f"{exc}; using the default settings")
            config = Config()
        for problem in problems:
            self.add_error("settings", "", problem)
        return config

    def add_error(self, source: str, path: str, message: str) -> None:
        """A problem for the errors panel (kept until the panel exists)."""
        if self.built:
            self.errors.add(source, path, message)
        else:
            self._pending_errors.append((source, path, message))

    def start(self, extra_roots: list[str] | None = None) -> None:
        """Open the library once the window is on screen: the background work then competes
        with nothing the user is waiting for."""
        if not self.built:  # finish_build starts it
            self._pending_start = list(extra_roots or [])
            return
        QTimer.singleShot(0, lambda: self._open_library(extra_roots or []))

    def _open_library(self, extra_roots: list[str]) -> None:
        """The saved roots, else the user's music folder; then the genre names for completion."""
        c = self.controller
        c.check_undo()
        added = c.add_roots(extra_roots) if extra_roots else []  # adding scans
        if not added:
            music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
            if c.roots:
                c.scan()
            elif music and os.path.isdir(music):
                c.add_roots([music])
            else:
                self.status.idle("Add a music folder to start (File ▸ Add Folder, or drop a folder here)")
                self._update_central()
        c.load_genre_names()
        if self._settings.value(WATCH_ENABLED_KEY, False, type=bool):
            c.start_watching()

    def _restore_geometry(self) -> None:
        geometry = self._settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 780)

    def _restore_layout(self) -> None:
        """Docks and columns as the user left them (they exist only once the body is built)."""
        state = self._settings.value("state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        header = self._settings.value(HEADER_KEY)
        if (
            isinstance(header, QByteArray)
            and not header.isEmpty()
            and self.table.horizontalHeader().restoreState(header)
        ):
            self._auto_columns = False
            self._default_stretch()
        mode = self._settings.value(VIEW_KEY, "table")
        self.view_mode = "grid" if mode == "grid" else "table"
        self.actions.view_table.setChecked(self.view_mode == "table")
        self.actions.view_grid.setChecked(self.view_mode == "grid")
        self._update_central()

    def _default_stretch(self) -> None:
        from PySide6.QtWidgets import QHeaderView

        from musictagger.gui.album_model import Column

        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(Column.SUGGESTED, QHeaderView.ResizeMode.Stretch)

    def save_state(self) -> None:
        self._settings.setValue("geometry", self.saveGeometry())
        if self.built:  # closed before the body was built: the saved docks and columns stand
            self._settings.setValue("state", self.saveState())
            self._settings.setValue(HEADER_KEY, self.table.horizontalHeader().saveState())
            self._settings.setValue(AUTO_COLUMNS_KEY, self._auto_columns)
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        if self.built:
            self.controller.shutdown()
            self.thumbs.shutdown()
            self.covers.shutdown()
            self.grid_covers.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ selection
    def selected_keys(self) -> list[str]:
        """The selected albums (in the table or the grid: they share one selection)."""
        indexes = self.table.selectionModel().selectedIndexes()
        rows = sorted({self.proxy.mapToSource(i).row() for i in indexes})
        return self.controller.model.keys(rows)

    def select_keys(self, keys: list[str]) -> None:
        """Select the rows of these albums (used by tests and by drag-and-drop of album folders)."""
        sel = self.table.selectionModel()
        sel.clearSelection()
        wanted = set(keys)
        first = None
        for row in range(self.proxy.rowCount()):
            idx = self.proxy.index(row, 0)
            entry = idx.data(_entry_role())
            if entry is not None and entry.key in wanted:
                sel.select(idx, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
                first = first or idx
        if first is not None:
            sel.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)

    def select_album(self, folder: str, album: str = "") -> bool:
        """Select the library's album in ``folder`` (titled ``album`` where the folder holds several)
        and show it, in the table or the grid — what a click on a similar album or on an entry of
        the learn report's check-my-tags list does. The search is cleared if it hides the album.
        False (and a word in the status bar) when the library shown has no such album."""
        entry = self.controller.model.find_album(folder, album or None)
        if entry is None:
            self.status.idle(f"Not in the library shown: {folder}")
            return False
        source = self.controller.model.index(self.controller.model.entry_row(entry.key), 0)
        index = self.proxy.mapFromSource(source)
        if not index.isValid() and self.search.text():
            self.search.clear()  # the search hid it
            index = self.proxy.mapFromSource(source)
        if not index.isValid():
            return False
        sel = self.table.selectionModel()
        sel.select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        sel.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        view = self.grid if self.view_mode == "grid" else self.table
        view.scrollTo(index)
        return True

    def _select_first_if_none(self) -> None:
        if not self.table.selectionModel().hasSelection() and self.proxy.rowCount():
            self.table.selectRow(0)

    def _on_scanned(self, _result) -> None:
        self._select_first_if_none()
        if self.controller.model.rowCount():
            self.controller.warm_up()

    def _on_library_changed(self) -> None:
        self.measure_columns()
        self.fit_columns()
        self._update_central()
        self._update_actions()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.set_entry(current.data(_entry_role()) if current.isValid() else None)

    def _on_entry_changed(self, key: str) -> None:
        if self.detail.entry is not None and self.detail.entry.key == key:
            self.detail.refresh()

    # ------------------------------------------------------------------ status
    def _on_progress(self, p: Progress) -> None:
        self.status.show_progress(p)

    def _on_engine(self, info: ModelsInfo) -> None:
        self.engine_info = info
        self.status.set_engine(info.device_name, info.packs_text)

    def _on_engine_failed(self, message: str) -> None:
        self.status.device_label.setText("Models: not available")
        self.status.device_label.setToolTip(message)

    def _on_busy_changed(self, busy: bool) -> None:
        if not busy:
            self.status.progress.hide()
            self.advice.hide()  # the run it spoke of is over
        self._update_actions()

    def _use_fast(self) -> None:
        resumed = self.controller.use_fast()
        rest = "; this run goes on fast with the albums it has not done" if resumed else ""
        self.status.notify(f"Fast from now on (Settings ▸ Analysis){rest}")

    def _update_actions(self, *_args) -> None:
        """Each action enabled exactly when it can run."""
        if not self.built and not hasattr(self, "controller"):
            return
        from musictagger.gui.retag import RetagPrepareTask, RetagTask
        from musictagger.gui.tasks import ScanTask, SuggestTask

        a, c = self.actions, self.controller
        has_albums = c.model.rowCount() > 0
        selected = self.table.selectionModel().hasSelection()
        suggesting = c.is_running(SuggestTask)
        a.suggest.setEnabled(selected and not suggesting)
        a.suggest_all.setEnabled(has_albums and not suggesting)
        a.apply.setEnabled(selected)
        a.apply_all.setEnabled(has_albums)
        a.rescan.setEnabled(bool(c.roots) and not c.is_running(ScanTask))
        a.undo_run.setEnabled(c.can_undo)
        a.tag_library.setEnabled(has_albums and not (c.is_running(RetagPrepareTask) or c.is_running(RetagTask)))
        a.stop.setEnabled(c.runner.busy())
        a.learn.setEnabled(self._training and bool(c.roots))
        a.open_folder.setEnabled(selected)
        a.copy_path.setEnabled(selected)
        a.watch.setEnabled(c.watching or bool(c.watched_folders()[0]))

    def _update_toolbar(self) -> None:
        """Icons beside text when there is room; icons only in a narrow window (what still does
        not fit goes to the toolbar's » menu)."""
        # Set by its name, not read back: this runs as the window is first shown, and the enum
        # would build PySide6's whole ``Qt`` namespace before the first paint (Qt ignores a set to
        # the current value).
        compact = self.width() < COMPACT_TOOLBAR_WIDTH
        self.toolbar.setProperty("toolButtonStyle", "ToolButtonIconOnly" if compact else "ToolButtonTextBesideIcon")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if hasattr(self, "toolbar"):
            self._update_toolbar()

    def _show_errors(self) -> None:
        self.errors.show()
        self.errors.raise_()

    def _focus_search(self) -> None:
        from PySide6.QtCore import Qt

        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _fill_remove_menu(self, roots: list[str]) -> None:
        self.remove_menu.clear()
        for root in roots:
            self.remove_menu.addAction(root).triggered.connect(lambda _c=False, r=root: self.controller.remove_root(r))
        self.remove_menu.setEnabled(bool(roots))

    # ------------------------------------------------------------------ watching folders
    def set_watching(self, on: bool) -> None:
        """The user's toggle: start or stop the watcher, and remember the choice for the next launch."""
        self._settings.setValue(WATCH_ENABLED_KEY, bool(on))
        self._settings.sync()
        if on:
            self.controller.start_watching()
        else:
            self.controller.stop_watching()

    def _on_watch_changed(self, folders: list[str] | None) -> None:
        self.actions.watch.setChecked(folders is not None)  # also when a start failed
        self.status.set_watching(folders)
        if folders is not None and self.tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip("musictagger: watching for new albums")
            self.tray.activated.connect(self._raise_from_tray)
        if self.tray is not None:
            self.tray.setVisible(folders is not None)

    def _raise_from_tray(self, _reason: QSystemTrayIcon.ActivationReason) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _on_watch_event(self, event: AlbumEvent) -> None:
        """A notification per processed album: the tray's balloon where there is one, else the status bar."""
        text = event.describe(undo_hint="undo: Edit ▸ History of Runs")
        self.status.add_watch_event(text)
        if self.tray is not None and self.tray.isVisible() and self.tray.supportsMessages():
            icon = QSystemTrayIcon.MessageIcon.Warning if event.error else QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage("New album" if not event.error else "Album problem", text, icon, TRAY_MESSAGE_MS)
        else:
            self.status.notify(text)

    def _update_watch_tip(self, *_args) -> None:
        folders, from_library = self.controller.watched_folders()
        shortcut = self.actions.watch.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if from_library:
            where = (
                "the library folders (no watch folders are set in Settings ▸ Watch)"
                if folders
                else "the library folders (none yet: add a music folder first)"
            )
        else:
            where = ", ".join(folders)
        mode = "and tag them" if self.controller.config.watch.auto_apply else "and suggest genres for them"
        tip = (
            f"Watch {where} for new albums {mode} ({shortcut}). "
            "On start, albums changed since the last watch are processed too."
        )
        self.actions.watch.setToolTip(tip)
        self.actions.watch.setStatusTip(tip)

    # ------------------------------------------------------------------ tagging the whole library
    def confirm_batch(self, plan: RetagPlan) -> None:
        from musictagger.gui.retag_dialog import RetagConfirmDialog

        if self.batch_dialog is not None:
            self.batch_dialog.deleteLater()
        self.batch_dialog = RetagConfirmDialog(plan, self)
        self.batch_dialog.accepted.connect(lambda p=plan: self.controller.run_batch(p))
        self.batch_dialog.open()

    def show_batch_summary(self, summary: BatchSummary) -> None:
        from musictagger.gui.retag_dialog import RetagSummaryDialog

        if self.batch_summary is not None:
            self.batch_summary.deleteLater()
        self.batch_summary = RetagSummaryDialog(summary, self)
        self.batch_summary.undo_requested.connect(self.controller.undo)
        self.batch_summary.open()

    # ------------------------------------------------------------------ dialogs
    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add Music Folder", str(Path.home()))
        if folder:
            self.controller.add_roots([folder])

    def confirm_apply(self, plan: ApplyPlan) -> None:
        from musictagger.gui.apply_dialog import ApplyDialog

        self.apply_dialog = ApplyDialog(plan, self)
        self.apply_dialog.accepted.connect(lambda p=plan: self.controller.apply(p))
        self.apply_dialog.open()

    def show_history(self) -> None:
        from PySide6.QtCore import Qt

        from musictagger.gui.history_dialog import HistoryDialog

        dialog = HistoryDialog(self)
        dialog.undo_requested.connect(self.controller.undo)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_settings(self) -> None:
        from musictagger.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.controller.config, self)
        dialog.accepted.connect(lambda: self.controller.update_config(dialog.result_config()))
        dialog.accepted.connect(self._update_watch_tip)
        dialog.open()

    def show_about(self) -> None:
        from PySide6.QtCore import Qt

        from musictagger.gui.about_dialog import AboutDialog

        dialog = AboutDialog(self.engine_info, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_learn(self) -> LearnDialog:
        """Learn from My Library: one dialog, not modal (its check-my-tags list selects albums here)."""
        from PySide6.QtCore import Qt

        from musictagger.gui.learn_dialog import LearnDialog

        if self.learn_dialog is None:
            dialog = LearnDialog(self.controller, self)
            dialog.album_requested.connect(self.select_album)
            dialog.destroyed.connect(lambda *_: setattr(self, "learn_dialog", None))
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.learn_dialog = dialog
        self.learn_dialog.show()
        self.learn_dialog.raise_()
        self.learn_dialog.activateWindow()
        return self.learn_dialog

    # ------------------------------------------------------------------ drag and drop
    @staticmethod
    def _dropped_folders(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and os.path.isdir(u.toLocalFile())]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_folders(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = self._dropped_folders(event)
        if folders:
            self.controller.add_roots(folders)
            event.acceptProposedAction()


def _entry_role() -> int:
    from musictagger.gui.album_model import EntryRole

    return EntryRole


def MiddleElideDelegate(parent):  # noqa: N802 - a factory standing for a class, built on first use
    """A delegate that elides its text in the middle (folder paths: both ends matter)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyledItemDelegate

    class _MiddleElide(QStyledItemDelegate):
        def initStyleOption(self, option, index) -> None:  # noqa: N802 - Qt's name
            super().initStyleOption(option, index)
            option.textElideMode = Qt.TextElideMode.ElideMiddle

    return _MiddleElide(parent)
