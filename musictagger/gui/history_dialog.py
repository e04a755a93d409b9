"""The history of runs from the journal, with Undo for any run that still has changes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musictagger.errors import MusictaggerError


class HistoryDialog(QDialog):
    """Lists :meth:`Journal.runs`; :attr:`undo_requested` carries the run id to undo."""

    undo_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, limit: int = 500) -> None:
        super().__init__(parent)
        self.setWindowTitle("History of Runs")
        self.setObjectName("historyDialog")
        self.resize(760, 420)
        self.limit = limit
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Run", "Kind", "Started", "Files", "Failed", "Status"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.note = QLabel(wordWrap=True)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.undo_button = buttons.addButton("Undo Run", QDialogButtonBox.ButtonRole.ActionRole)
        self.undo_button.clicked.connect(self._undo)
        refresh = buttons.addButton("Refresh", QDialogButtonBox.ButtonRole.ResetRole)
        refresh.clicked.connect(self.reload)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        """Read the runs (a small SQLite query; fine on the GUI thread)."""
        from musictagger.session import open_session

        self.tree.clear()
        try:
            with open_session() as session:
                runs = session.journal.runs(self.limit)
        except MusictaggerError as exc:
            self.note.setText(f"The journal cannot be read: {exc}")
            runs = []
        for run in runs:
            status = run.status + (f", undone by run {run.undone_by}" if run.undone_by else "")
            if run.undoes_run:
                status += f" (undoes run {run.undoes_run})"
            item = QTreeWidgetItem(
                self.tree,
                [str(run.id), run.kind, run.started.replace("T", " ")[:19], str(run.files), str(run.failed), status],
            )
            item.setData(0, Qt.ItemDataRole.UserRole, run)
        for col in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(col)
        if not runs and not self.note.text():
            self.note.setText("No runs yet: tags written from here or the command line appear in this list.")
        self._update_buttons()

    def selected_run(self):
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def select_run(self, run_id: int) -> bool:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole).id == run_id:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _update_buttons(self) -> None:
        run = self.selected_run()
        self.undo_button.setEnabled(
            run is not None and run.files > 0 and run.undone_by is None and run.status != "running"
        )

    def _undo(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.undo_requested.emit(run.id)
            self.accept()
