"""The confirmation before writing: album by album, what changes in the genre field, then the files.

One top-level row per album, which is its genre change: artist — album, Old and New (when all its
files change alike; else per file, under Files). Under it the folder (two copies of an album are
also told apart in their titles), the files, and the provenance fields folded away. Old and New
are shown whole: the columns take the width of their text, and the full value is in the tooltip.

A diff of thousands of files never holds up the window: albums are listed a chunk per turn of the
event loop, and the rows of a "Files" or "Provenance" node are made when it is opened.
"""

from __future__ import annotations

import os
from collections import defaultdict

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musictagger.gui.tasks import ApplyGroup, ApplyPlan
from musictagger.tags.types import CUSTOM_PREFIX

#: Albums with at most this many are shown expanded.
EXPAND_UP_TO = 12
#: Albums listed per turn of the event loop (fewer before the dialog is first shown).
CHUNK = 16
FIRST_CHUNK = 6
FIELD_NAMES = {"genre": "Genre", "style": "Style"}


def values_text(values: list[str] | None) -> str:
    return "; ".join(values) if values else "(empty)"


def _field_title(name: str) -> str:
    if name.startswith(CUSTOM_PREFIX):
        return name[len(CUSTOM_PREFIX) :].capitalize()
    return FIELD_NAMES.get(name, name)


class ApplyDialog(QDialog):
    def __init__(self, plan: ApplyPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Apply Tags")
        self.setObjectName("applyDialog")
        self.resize(1080, 560)
        self.plan = plan
        changed = plan.changed
        failed = [o for o in plan.preview.outcomes if not o.ok]
        by_path = {o.path: o for o in changed}
        groups = [g for g in plan.groups if any(p in by_path for p in g.paths)]
        fields = [n for o in changed for n in o.new if not n.startswith(CUSTOM_PREFIX)]
        field = FIELD_NAMES.get(fields[0], fields[0]) if fields else "Genre"
        summary = (
            f"Write tags to {len(changed)} file{'s' if len(changed) != 1 else ''} "
            f"in {len(groups)} album{'s' if len(groups) != 1 else ''}. "
            "Every write is journaled and can be undone (Edit ▸ Undo Last Run)."
        )
        if failed:
            summary += f"\n{len(failed)} file(s) cannot be written and will be skipped (see Errors)."
        self.summary = QLabel(summary, wordWrap=True)
        self.summary.setObjectName("dialogText")

        self._old_widths: list[int] = []
        self._first_widths: list[int] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Album / file / field", f"Old {field.lower()}", f"New {field.lower()}"])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.itemExpanded.connect(self._fill)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._bold = QFont(self.tree.font())
        self._bold.setBold(True)
        self._fm = QFontMetrics(self.tree.font())
        self._by_path = by_path
        # Albums come in chunks, one per turn of the event loop: a diff of thousands of files
        # never holds the window up. Files and provenance rows are made when opened.
        self._titles: dict[str, list[str]] = {}
        for g in groups:
            self._titles.setdefault(f"{g.artist} — {g.album}", []).append(g.folder)
        self._todo = list(groups)
        self._expand = len(groups) <= EXPAND_UP_TO
        self._add_chunk(FIRST_CHUNK)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = buttons.addButton("Write Tags", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setEnabled(bool(changed))
        self.apply_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    @property
    def complete(self) -> bool:
        """Every album of the plan is listed."""
        return not self._todo

    def _add_chunk(self, size: int = 0) -> None:
        size = size or CHUNK
        chunk, self._todo = self._todo[:size], self._todo[size:]
        for group in chunk:
            self._add_album(group)
        # Old as wide as its longest value (the folder paths of the album rows are elided instead).
        pad = 24
        self.tree.setColumnWidth(
            0, min(max([self._fm.horizontalAdvance("Album / file / field"), *self._first_widths]) + pad, 440)
        )
        self.tree.setColumnWidth(1, max(120, max(self._old_widths, default=80) + pad))
        if self._todo:
            QTimer.singleShot(0, self._add_chunk)

    def _add_album(self, group: ApplyGroup) -> None:
        outcomes = [self._by_path[p] for p in group.paths if p in self._by_path]
        n = len(outcomes)
        title = f"{group.artist} — {group.album}"
        copies = self._titles.get(title, [])
        if len(copies) > 1:  # two copies of an album: say which is which, by what differs in the paths
            common = os.path.commonpath(copies)
            title += f"  ({os.path.relpath(group.folder, common) if common else group.folder})"
        # The album's row is its genre change (Old, New), when all its files change alike.
        main = [name for name in outcomes[0].new if not name.startswith(CUSTOM_PREFIX)] if outcomes else []
        alike = {
            name: len({(tuple(o.old.get(name) or []), tuple(o.new.get(name) or [])) for o in outcomes}) == 1
            for name in main
        }
        top = QTreeWidgetItem(self.tree, [title, "", ""])
        top.setFont(0, self._bold)
        top.setToolTip(0, group.folder)
        top.setData(0, Qt.ItemDataRole.UserRole, group.key)
        self._first_widths.append(QFontMetrics(self._bold).horizontalAdvance(title) + self.tree.indentation())
        for name in main[:1]:
            if alike[name]:
                self._values(top, outcomes[0].old.get(name), outcomes[0].new.get(name), group.manual)
            else:
                top.setText(1, "(differs per file: see Files)")
        if not main:  # the tags already say what was accepted: only our provenance fields are written
            top.setText(1, "(genre unchanged)")
            self._old_widths.append(self._fm.horizontalAdvance("(genre unchanged)"))
            top.setForeground(1, self.tree.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
            top.setToolTip(1, "The files already carry the accepted genres; only the provenance fields are written")
        folder = QTreeWidgetItem(top, [f"Folder: {group.folder}", "", ""])
        folder.setToolTip(0, group.folder)
        folder.setData(0, Qt.ItemDataRole.UserRole, group.folder)
        folder.setFirstColumnSpanned(True)
        files = QTreeWidgetItem(top, [f"Files ({n})", "", ""])
        files.setData(0, Qt.ItemDataRole.UserRole, ("files", group, outcomes, main, alike))
        files.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        if any(name.startswith(CUSTOM_PREFIX) for o in outcomes for name in o.new):
            names = {name for o in outcomes for name in o.new if name.startswith(CUSTOM_PREFIX)}
            prov = QTreeWidgetItem(top, [f"Provenance ({len(names)} fields)", "", ""])
            prov.setToolTip(0, "Which models suggested what, with what confidence, and when (our own fields)")
            prov.setData(0, Qt.ItemDataRole.UserRole, ("provenance", group, outcomes))
            prov.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        top.setExpanded(self._expand)
        if self._expand and not all(alike.values()):
            files.setExpanded(True)

    def _fill(self, item: QTreeWidgetItem) -> None:
        """Make the rows of a "Files" or "Provenance" node when it is first opened."""
        what = item.data(0, Qt.ItemDataRole.UserRole)
        if not isinstance(what, tuple) or item.childCount():
            return
        if what[0] == "files":
            _, group, outcomes, main, alike = what
            for o in outcomes:
                row = QTreeWidgetItem(item, [os.path.basename(o.path), "", ""])
                row.setToolTip(0, o.path)
                for name in main:
                    if not alike[name]:
                        self._field(row, name, o.old.get(name), o.new.get(name), manual=group.manual)
                        row.setExpanded(True)
        else:
            _, group, outcomes = what
            provenance = defaultdict(set)
            for o in outcomes:
                for name, value in o.new.items():
                    if name.startswith(CUSTOM_PREFIX):
                        provenance[name].add((values_text(o.old.get(name)), values_text(value)))
            for name in sorted(provenance):
                pairs = sorted(provenance[name])
                old, new = pairs[0] if len(pairs) == 1 else ("(varies)", "(varies)")
                row = QTreeWidgetItem(item, [_field_title(name), old, new])
                row.setToolTip(1, old)
                row.setToolTip(2, new)

    def _field(
        self, parent: QTreeWidgetItem, name: str, old: list[str] | None, new: list[str] | None, *, manual=()
    ) -> None:
        item = QTreeWidgetItem(parent, [_field_title(name), "", ""])
        item.setData(0, Qt.ItemDataRole.UserRole, name)
        self._values(item, old, new, manual)

    def _values(self, item: QTreeWidgetItem, old: list[str] | None, new: list[str] | None, manual=()) -> None:
        """Old and New of the genre field on a row, whole (the column is as wide as the longest)."""
        old_text, new_text = values_text(old), values_text(new)
        self._old_widths.append(self._fm.horizontalAdvance(old_text))
        item.setText(1, old_text)
        item.setText(2, new_text)
        item.setToolTip(1, old_text)
        yours = [m for m in manual if m in (new or [])]
        item.setToolTip(2, new_text + (f"\nAdded by you: {', '.join(yours)}" if yours else ""))
        font = QFont(self.tree.font())
        font.setBold(True)
        item.setFont(2, font)
