"""The confirmation before writing: every file that would change, old → new, field by field."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from musictagger.gui.tasks import ApplyPlan


def _values(values: list[str] | None) -> str:
    return "; ".join(values) if values else "(empty)"


class ApplyDialog(QDialog):
    def __init__(self, plan: ApplyPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Apply Tags")
        self.setObjectName("applyDialog")
        self.resize(860, 480)
        changed = plan.changed
        failed = [o for o in plan.preview.outcomes if not o.ok]
        summary = (
            f"Write tags to {len(changed)} file{'s' if len(changed) != 1 else ''} "
            f"in {len(plan.labels)} album{'s' if len(plan.labels) != 1 else ''}. "
            "Every write is journaled and can be undone (Edit ▸ Undo Last Run)."
        )
        if failed:
            summary += f"\n{len(failed)} file(s) cannot be written and will be skipped (see Errors)."
        self.summary = QLabel(summary, wordWrap=True)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File / field", "Old", "New"])
        self.tree.setAlternatingRowColors(True)
        for outcome in changed:
            item = QTreeWidgetItem(self.tree, [os.path.basename(outcome.path), "", ""])
            item.setToolTip(0, outcome.path)
            for name in sorted(outcome.new):
                QTreeWidgetItem(item, [name, _values(outcome.old.get(name)), _values(outcome.new.get(name))])
            item.setExpanded(len(changed) <= 50)
        self.tree.resizeColumnToContents(0)

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
