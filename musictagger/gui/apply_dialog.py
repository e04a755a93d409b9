"""The confirmation before writing: album by album, what changes in the genre field, then the files.

One top-level row per album (artist — album, and the folder, so two copies of an album are told
apart). Under it, the genre change first, once for the album when all its files change alike
(else per file), then the files, then the provenance fields folded away. Old and New are shown
whole: the columns take the width of their text, and the full value is in the tooltip.
"""

from __future__ import annotations

import os
from collections import defaultdict

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
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

from musictagger.gui.tasks import ApplyPlan
from musictagger.tags.model import CUSTOM_PREFIX

#: Albums with at most this many are shown expanded.
EXPAND_UP_TO = 12
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
        self.resize(940, 520)
        self.plan = plan
        changed = plan.changed
        failed = [o for o in plan.preview.outcomes if not o.ok]
        by_path = {o.path: o for o in changed}
        groups = [g for g in plan.groups if any(p in by_path for p in g.paths)]
        summary = (
            f"Write tags to {len(changed)} file{'s' if len(changed) != 1 else ''} "
            f"in {len(groups)} album{'s' if len(groups) != 1 else ''}. "
            "Every write is journaled and can be undone (Edit ▸ Undo Last Run)."
        )
        if failed:
            summary += f"\n{len(failed)} file(s) cannot be written and will be skipped (see Errors)."
        self.summary = QLabel(summary, wordWrap=True)
        self.summary.setObjectName("dialogText")

        self._old_texts: list[str] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Album / file / field", "Old", "New"])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for group in groups:
            outcomes = [by_path[p] for p in group.paths if p in by_path]
            n = len(outcomes)
            title = f"{group.artist} — {group.album}"
            top = QTreeWidgetItem(self.tree, [title, group.folder, f"{n} file{'s' if n != 1 else ''}"])
            top.setFont(0, bold)
            top.setToolTip(0, group.folder)
            top.setToolTip(1, group.folder)
            top.setData(0, Qt.ItemDataRole.UserRole, group.key)
            # The genre field first: once for the album when every file changes alike.
            main = [name for name in outcomes[0].new if not name.startswith(CUSTOM_PREFIX)] if outcomes else []
            alike = {
                name: len({(tuple(o.old.get(name) or []), tuple(o.new.get(name) or [])) for o in outcomes}) == 1
                for name in main
            }
            for name in main:
                if alike[name]:
                    self._field(top, name, outcomes[0].old.get(name), outcomes[0].new.get(name), manual=group.manual)
            files = QTreeWidgetItem(top, [f"Files ({n})", "", ""])
            for o in outcomes:
                item = QTreeWidgetItem(files, [os.path.basename(o.path), "", ""])
                item.setToolTip(0, o.path)
                for name in main:
                    if not alike[name]:
                        self._field(item, name, o.old.get(name), o.new.get(name), manual=group.manual)
                        item.setExpanded(True)
            files.setExpanded(n <= 3 or any(not v for v in alike.values()))
            provenance = defaultdict(set)
            for o in outcomes:
                for name, value in o.new.items():
                    if name.startswith(CUSTOM_PREFIX):
                        provenance[name].add((values_text(o.old.get(name)), values_text(value)))
            if provenance:
                prov = QTreeWidgetItem(top, [f"Provenance ({len(provenance)} fields)", "", ""])
                prov.setToolTip(0, "Which models suggested what, with what confidence, and when (our own fields)")
                for name in sorted(provenance):
                    pairs = sorted(provenance[name])
                    old, new = pairs[0] if len(pairs) == 1 else ("(varies)", "(varies)")
                    row = QTreeWidgetItem(prov, [_field_title(name), old, new])
                    row.setToolTip(1, old)
                    row.setToolTip(2, new)
                prov.setExpanded(False)
            top.setExpanded(len(groups) <= EXPAND_UP_TO)
        # Old as wide as its longest value (the folder paths of the album rows are elided instead).
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        fm = QFontMetrics(self.tree.font())
        pad = 24
        old_w = max((fm.horizontalAdvance(t) for t in self._old_texts), default=80) + pad
        self.tree.setColumnWidth(
            0, min(max(fm.horizontalAdvance("Album / file / field") + pad, self._first_width(fm) + pad), 380)
        )
        self.tree.setColumnWidth(1, max(120, old_w))

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

    def _first_width(self, fm: QFontMetrics) -> int:
        indent = self.tree.indentation()
        width = 0
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            bold = QFont(top.font(0))
            width = max(width, QFontMetrics(bold).horizontalAdvance(top.text(0)) + indent)
            for j in range(top.childCount()):
                width = max(width, fm.horizontalAdvance(top.child(j).text(0)) + 2 * indent)
        return width

    def _field(
        self, parent: QTreeWidgetItem, name: str, old: list[str] | None, new: list[str] | None, *, manual=()
    ) -> None:
        old_text, new_text = values_text(old), values_text(new)
        self._old_texts.append(old_text)
        item = QTreeWidgetItem(parent, [_field_title(name), old_text, new_text])
        item.setData(0, Qt.ItemDataRole.UserRole, name)
        item.setToolTip(1, old_text)
        yours = [m for m in manual if m in (new or [])]
        item.setToolTip(2, new_text + (f"\nAdded by you: {', '.join(yours)}" if yours else ""))
        font = item.font(2)
        font.setBold(True)
        item.setFont(2, font)
