"""The album panel: big cover, where the album is, its tags with their evidence, adding a tag, tracks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import QAction, QFontMetrics, QKeySequence, QLinearGradient, QPainter, QPalette
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musictagger.gui.album_model import AlbumEntry
from musictagger.gui.chips import Chip, confidence_color, draw_chip, muted_text_color
from musictagger.gui.evidence import EvidenceDelegate
from musictagger.gui.library_panel import LibraryPanel
from musictagger.gui.suggestion_model import SuggestionListModel
from musictagger.pipeline.review import GUESS, MANUAL, SUGGESTED

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from musictagger.gui.thumbs import ThumbnailCache

COVER_SIZE = 240
#: The tag list keeps room for this many rows, however small the panel gets.
MIN_TAG_ROWS = 4

NOTHING_ABOVE = "Nothing above your threshold — best guesses (tick one to write it):"
TAGS_TITLE = "Tags (ticked ones are written on Apply):"
LIBRARY_TAB = "In your library"


class ConfidenceLegend(QWidget):
    """What the colours and chip styles mean: the confidence scale, then one chip per state."""

    SAMPLES = (
        (Chip("written", 0.8, True, kind=SUGGESTED), "ticked: written on Apply"),
        (Chip("not written", 0.6, False, kind=SUGGESTED), "unticked: not written"),
        (Chip("yours", None, True, kind=MANUAL), "added by you"),
        (Chip("best guess", 0.3, False, kind=GUESS), "best guess below your threshold"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confidenceLegend")
        self.setToolTip(
            "Chip colour: the models' confidence, from amber (doubtful) to green (confident).\n"
            + "\n".join(f"{c.text}: {what}" for c, what in self.SAMPLES)
        )
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def _line(self) -> int:
        return QFontMetrics(self.font()).height() + 4

    def sizeHint(self) -> QSize:
        return QSize(260, 2 * self._line() + 6)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 2 * self._line() + 6)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fm = QFontMetrics(self.font())
        pal = self.palette()
        line = self._line()
        muted = muted_text_color(pal)
        # Line 1: "0%" [gradient] "100%  confidence"
        left_w = fm.horizontalAdvance("0%") + 4
        right_text = "100% confidence"
        right_w = fm.horizontalAdvance(right_text) + 4
        bar = QRectF(left_w, line / 2 - 4, max(20.0, self.width() - left_w - right_w - 4), 8)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for stop in (0.0, 0.25, 0.5, 0.75, 1.0):
            gradient.setColorAt(stop, confidence_color(stop, pal))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawRoundedRect(bar, 4, 4)
        painter.setPen(muted)
        painter.drawText(QRectF(0, 0, left_w, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "0%")
        painter.drawText(
            QRectF(bar.right() + 4, 0, right_w, line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            right_text,
        )
        # Line 2: one sample chip per state (as many as fit, the tooltip has them all).
        small = self.font()
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.9))
        painter.setFont(small)
        sfm = QFontMetrics(small)
        x = 0.0
        for chip, _what in self.SAMPLES:
            w = sfm.horizontalAdvance(chip.text) + 14
            if x + w > self.width():
                break
            draw_chip(painter, QRectF(x, line + 3, w, sfm.height() + 4), chip, pal, sfm, chip.text)
            x += w + 4
        painter.end()


class AlbumDetail(QWidget):
    """Shows one :class:`AlbumEntry`. Edits go into its review; :attr:`review_changed` reports them.

    ``thumbs`` and ``find_album`` (folder, album title → the library's entry) serve the "In your
    library" section (:class:`LibraryPanel`); :attr:`album_requested` asks to select one of its albums."""

    review_changed = Signal(str)
    album_requested = Signal(str, str)  # folder, album title

    def __init__(
        self,
        covers: ThumbnailCache,
        parent: QWidget | None = None,
        *,
        thumbs: ThumbnailCache | None = None,
        find_album: Callable[[str, str | None], AlbumEntry | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.covers = covers
        self._entry: AlbumEntry | None = None

        self.cover = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.cover.setMinimumSize(COVER_SIZE // 2, COVER_SIZE // 2)
        self.cover.setMaximumHeight(COVER_SIZE)
        self.cover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.folder = QLabel(textFormat=Qt.TextFormat.PlainText)
        self.folder.setObjectName("albumFolder")
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.folder.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.tracks = QTreeWidget()
        self.tracks.setHeaderLabels(["#", "Title", "Format", "Genres"])
        self.tracks.setRootIsDecorated(False)
        self.tracks.setUniformRowHeights(True)
        self.tracks.setAlternatingRowColors(True)

        self.suggestions = SuggestionListModel(self)
        self.suggestions.review_changed.connect(self.review_changed)
        self.suggestions.review_changed.connect(self._update_notes)
        self.suggestion_view = QListView()
        self.suggestion_view.setObjectName("suggestionList")
        self.suggestion_view.setModel(self.suggestions)
        delegate = EvidenceDelegate(self.suggestion_view)
        self.suggestion_view.setItemDelegate(delegate)
        self.suggestion_view.setUniformItemSizes(False)  # a row's bars may need two lines
        self.suggestion_view.setResizeMode(QListView.ResizeMode.Adjust)  # rows measured again on resize
        self.suggestion_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        row_h = EvidenceDelegate.row_height(QFontMetrics(self.suggestion_view.font()))
        self.suggestion_view.setMinimumHeight(MIN_TAG_ROWS * row_h + 2 * self.suggestion_view.frameWidth())

        self.tags_title = QLabel(TAGS_TITLE, wordWrap=True)
        self.tags_title.setObjectName("tagsTitle")
        self.legend = ConfidenceLegend()

        # Space toggles the focused tag; shown in the Edit menu by the window.
        self.toggle_action = QAction("Toggle Accept of Focused Tag", self)
        self.toggle_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.toggle_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.toggle_action.triggered.connect(self.toggle_current)
        self.suggestion_view.addAction(self.toggle_action)

        self.add_edit = QLineEdit(placeholderText="Add a genre…", clearButtonEnabled=True)
        self.add_edit.setToolTip("Add a genre by hand (completion from the genre list); it is written as yours")
        self.add_edit.returnPressed.connect(self._add_tag)
        self.completion = QStringListModel(self)
        completer = QCompleter(self.completion, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_edit.setCompleter(completer)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._add_tag)

        add_row = QHBoxLayout()
        add_row.addWidget(self.add_edit, 1)
        add_row.addWidget(self.add_button)
        self.library = LibraryPanel(thumbs, find_album)
        self.library.album_requested.connect(self.album_requested)
        self.suggestion_view.selectionModel().currentChanged.connect(
            lambda current, _previous: self.library.show_genre(str(current.data() or ""))
        )
        review = QWidget()
        review_layout = QVBoxLayout(review)
        review_layout.setContentsMargins(0, 0, 0, 0)
        review_layout.addWidget(self.tags_title)
        review_layout.addWidget(self.suggestion_view, 1)
        review_layout.addWidget(self.legend)
        review_layout.addLayout(add_row)

        # Below the tags: the tracks, and — after Learn from My Library — the albums of the library
        # like this one, as a tab that is shown first while the user has not chosen the tracks.
        self.bottom = QTabWidget()
        self.bottom.setObjectName("albumTabs")
        self.bottom.setDocumentMode(True)
        self.bottom.setTabBarAutoHide(True)  # the tracks alone need no tab
        self.bottom.addTab(self.tracks, "Tracks")
        self.bottom.tabBarClicked.connect(self._tab_clicked)
        self._prefer_library = True
        # In a scroll area: where the panel is squeezed (the window's least size), it scrolls
        # instead of laying its rows over each other.
        self.library_tab = QScrollArea()
        self.library_tab.setObjectName("libraryTab")
        self.library_tab.setWidget(self.library)
        self.library_tab.setWidgetResizable(True)
        self.library_tab.setFrameShape(QFrame.Shape.NoFrame)
        self.library_tab.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(review)
        splitter.addWidget(self.bottom)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.cover)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.folder)
        layout.addWidget(splitter, 1)
        covers.ready.connect(self._cover_ready)
        self.set_entry(None)

    @property
    def entry(self) -> AlbumEntry | None:
        return self._entry

    def set_completions(self, names: list[str]) -> None:
        self.completion.setStringList(sorted(names, key=str.casefold))

    def set_entry(self, entry: AlbumEntry | None) -> None:
        self._entry = entry
        self.suggestions.set_entry(entry)
        self.library.set_items(entry.review.items() if entry is not None else [])
        self._update_library_tab()
        self.tracks.clear()
        enabled = entry is not None
        self.add_edit.setEnabled(enabled)
        self.add_button.setEnabled(enabled)
        self._update_notes()
        if entry is None:
            self.title.setText("No album selected")
            self.subtitle.setText("Select an album to review its suggestions.")
            self.folder.clear()
            self.folder.setToolTip("")
            self.cover.clear()
            return
        a = entry.album
        self.title.setText(a.album or "(no album tag)")
        n = len(a.tracks)
        tracks = f"{n} track" if n == 1 else f"{n} tracks"
        self.subtitle.setText(
            " · ".join(x for x in (a.artist, str(a.year) if a.year else "", tracks, entry.status.label) if x)
        )
        self.folder.setToolTip(a.folder)
        self._elide_folder()
        for t in a.tracks:
            item = QTreeWidgetItem(
                self.tracks, [str(t.track or ""), t.title or t.path.rsplit("/", 1)[-1], t.format, ", ".join(t.genres)]
            )
            item.setToolTip(1, t.path)
        self.tracks.resizeColumnToContents(0)
        self._show_cover()

    def _update_library_tab(self) -> None:
        """The "In your library" tab where a suggestion has evidence from the library, else none."""
        index = self.bottom.indexOf(self.library_tab)
        if self.library.genres:
            if index < 0:
                self.bottom.insertTab(0, self.library_tab, LIBRARY_TAB)
                self.bottom.setTabToolTip(0, "Albums of your library that look or sound like this one")
            if self._prefer_library:
                self.bottom.setCurrentWidget(self.library_tab)
        elif index >= 0:
            self.bottom.removeTab(index)

    def _tab_clicked(self, index: int) -> None:
        if index >= 0:
            self._prefer_library = self.bottom.widget(index) is self.library_tab

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide_folder()

    def _elide_folder(self) -> None:
        """The album's folder, elided in the middle to the panel's width (the tooltip has it whole)."""
        if self._entry is not None:
            fm = QFontMetrics(self.folder.font())
            width = max(40, self.width() - 24)
            self.folder.setText(fm.elidedText(self._entry.album.folder, Qt.TextElideMode.ElideMiddle, width))

    def _update_notes(self, *_args) -> None:
        review = self._entry.review if self._entry is not None else None
        if review is None or review.result is None:
            self.tags_title.setText(
                TAGS_TITLE if review is not None and review.manual else "Tags: Suggest (Ctrl+G) to get some"
            )
        elif review.nothing_above_threshold:
            self.tags_title.setText(
                NOTHING_ABOVE if review.guesses else "Nothing above your threshold, and no best guess"
            )
        else:
            self.tags_title.setText(TAGS_TITLE)

    def refresh(self) -> None:
        """Re-read the entry (new suggestions arrived, or tags were written)."""
        self.set_entry(self._entry)

    def _show_cover(self) -> None:
        if self._entry is None:
            return
        pixmap = self.covers.get(self._entry.album)
        if pixmap is None:
            self.cover.setText("No cover" if self._entry.album.cover_source == "none" else "…")
        else:
            self.cover.setPixmap(pixmap)

    def _cover_ready(self, key: str) -> None:
        if self._entry is not None and self._entry.key == key:
            self._show_cover()

    def toggle_current(self) -> None:
        index = self.suggestion_view.currentIndex()
        if index.isValid():
            self.suggestions.toggle(index.row())

    def _add_tag(self) -> None:
        text = self.add_edit.text().strip()
        if text and self.suggestions.add_tag(text):
            self.add_edit.clear()
