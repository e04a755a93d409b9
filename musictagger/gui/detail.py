"""The album detail panel: big cover, tracks, suggestions with evidence, and adding a tag."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musictagger.gui.evidence import EvidenceDelegate
from musictagger.gui.review import AlbumEntry
from musictagger.gui.suggestion_model import SuggestionListModel

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.gui.thumbs import ThumbnailCache

COVER_SIZE = 240


class AlbumDetail(QWidget):
    """Shows one :class:`AlbumEntry`. Edits go into its review; :attr:`review_changed` reports them."""

    review_changed = Signal(str)

    def __init__(self, covers: ThumbnailCache, parent: QWidget | None = None) -> None:
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

        self.tracks = QTreeWidget()
        self.tracks.setHeaderLabels(["#", "Title", "Format", "Genres"])
        self.tracks.setRootIsDecorated(False)
        self.tracks.setUniformRowHeights(True)
        self.tracks.setAlternatingRowColors(True)

        self.suggestions = SuggestionListModel(self)
        self.suggestions.review_changed.connect(self.review_changed)
        self.suggestion_view = QListView()
        self.suggestion_view.setObjectName("suggestionList")
        self.suggestion_view.setModel(self.suggestions)
        self.suggestion_view.setItemDelegate(EvidenceDelegate(self.suggestion_view))
        self.suggestion_view.setUniformItemSizes(True)
        self.suggestion_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # Space toggles the focused tag; shown in the Edit menu by the window.
        self.toggle_action = QAction("Toggle Accept of Focused Tag", self)
        self.toggle_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.toggle_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.toggle_action.triggered.connect(self.toggle_current)
        self.suggestion_view.addAction(self.toggle_action)

        self.add_edit = QLineEdit(placeholderText="Add a genre…", clearButtonEnabled=True)
        self.add_edit.returnPressed.connect(self._add_tag)
        self.completion = QStringListModel(self)
        completer = QCompleter(self.completion, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_edit.setCompleter(completer)
        add_button = QPushButton("Add")
        add_button.clicked.connect(self._add_tag)

        add_row = QHBoxLayout()
        add_row.addWidget(self.add_edit, 1)
        add_row.addWidget(add_button)
        review = QWidget()
        review_layout = QVBoxLayout(review)
        review_layout.setContentsMargins(0, 0, 0, 0)
        review_layout.addWidget(QLabel("Suggestions (checked ones are written on Apply):"))
        review_layout.addWidget(self.suggestion_view, 1)
        review_layout.addLayout(add_row)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(review)
        splitter.addWidget(self.tracks)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.cover)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
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
        self.tracks.clear()
        enabled = entry is not None
        self.add_edit.setEnabled(enabled)
        if entry is None:
            self.title.setText("No album selected")
            self.subtitle.setText("Select an album to review its suggestions.")
            self.cover.clear()
            return
        a = entry.album
        self.title.setText(a.album or "(no album tag)")
        self.subtitle.setText(
            " · ".join(
                x for x in (a.artist, str(a.year) if a.year else "", f"{len(a.tracks)} tracks", entry.status.label) if x
            )
        )
        for t in a.tracks:
            QTreeWidgetItem(
                self.tracks, [str(t.track or ""), t.title or t.path.rsplit("/", 1)[-1], t.format, ", ".join(t.genres)]
            )
        self.tracks.resizeColumnToContents(0)
        self._show_cover()

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
