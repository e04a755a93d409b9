"""Settings: the config file's sections as a form. OK saves the TOML (``save_config``).

Every setting has a tooltip saying what it does; confidences are percentages here as everywhere
in the app (the config file keeps 0..1).
"""

from __future__ import annotations

import copy

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from musictagger.config import Config

PACK_CHOICES = [
    ("both", "Bundled and learned from my library"),
    ("bundled", "Bundled only"),
    ("user", "Learned from my library only"),
]


def _combo(choices: list[tuple[str, str]], current: str, *, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    for value, text in choices:
        box.addItem(text, value)
    i = box.findData(current)
    if i >= 0:
        box.setCurrentIndex(i)
    elif editable:
        box.setEditText(current)
    return box


def _value(box: QComboBox) -> str:
    if box.isEditable() and box.currentText() != box.itemText(box.currentIndex()):
        return box.currentText().strip()
    return box.currentData()


def _percent_spin(fraction: float) -> QSpinBox:
    """A confidence (0..1 in the config) as a whole percentage."""
    spin = QSpinBox()
    spin.setRange(0, 100)
    spin.setSingleStep(5)
    spin.setSuffix("%")
    spin.setValue(round(fraction * 100))
    return spin


def _fraction(spin: QSpinBox) -> float:
    return spin.value() / 100.0


def _int_spin(value: int, lo: int, hi: int, special: str | None = None) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    if special:
        spin.setSpecialValueText(special)
    spin.setValue(value)
    return spin


class FolderList(QWidget):
    """A list of folders with Add/Remove buttons."""

    def __init__(self, folders: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.addItems(folders)
        add = QPushButton("Add…")
        add.clicked.connect(self._add)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def folders(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _add(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Watch Folder")
        if folder and folder not in self.folders():
            self.list.addItem(folder)

    def _remove(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))


class SettingsDialog(QDialog):
    def __init__(self, config: Config, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._config = copy.deepcopy(config)
        t, i, w = self._config.tags, self._config.inference, self._config.watch

        self.mode = _combo(
            [("merge", "Merge with the genres already there"), ("replace", "Replace the genres")], t.mode
        )
        self.field = _combo([("genre", "Genre"), ("style", "Style (keep Genre broad)")], t.field)
        self.max_genres = _int_spin(t.max_genres, 0, 50, "No limit")
        self.write_parents = QCheckBox("Also write parent genres (Black Metal → Metal)")
        self.write_parents.setChecked(t.write_parents)
        self.id3_version = _combo(
            [("keep", "Keep each file's version"), ("2.4", "ID3v2.4 (multiple values)"), ("2.3", "ID3v2.3 (joined)")],
            t.id3_version,
        )
        self.separator = QLineEdit(t.id3v23_separator)
        self.separator.setMaxLength(3)
        self.provenance = QCheckBox("Record which model suggested what (MUSICTAGGER_* fields)")
        self.provenance.setChecked(t.write_provenance)
        self.keep_mtime = QCheckBox("Keep the files' modification time")
        self.keep_mtime.setChecked(t.keep_mtime)

        self.device = _combo(
            [
                ("auto", "Automatic (GPU if available)"),
                ("cpu", "CPU"),
                ("cuda", "CUDA GPU"),
                ("mps", "Apple GPU (MPS)"),
            ],
            i.device,
            editable=True,
        )
        self.packs = _combo(PACK_CHOICES, i.packs, editable=True)
        self.speed = _combo(
            [("full", "Thorough — every track, three excerpts each"), ("fast", "Fast — three tracks per album")],
            i.speed,
        )
        self.min_confidence = _percent_spin(i.min_confidence)
        self.top_k = _int_spin(i.top_k, 0, 50, "No limit")

        self.watch_folders = FolderList(list(w.folders))
        self.auto_apply = QCheckBox("Apply suggestions to new albums automatically")
        self.auto_apply.setChecked(w.auto_apply)
        self.auto_threshold = _percent_spin(w.auto_apply_min_confidence)
        for widget, tip in (
            (
                self.mode,
                "Merge keeps the genres already in your files and adds the new ones; Replace writes only the new ones",
            ),
            (self.field, "Which tag the genres go to: Genre, or Style for people who keep Genre broad"),
            (self.max_genres, "At most this many genres in the field after a write (the first ones are kept)"),
            (self.write_parents, "With Black Metal, also write Metal (the parent genre in the taxonomy)"),
            (
                self.id3_version,
                "ID3v2.4 stores several genres as separate values; ID3v2.3 joins them with the separator",
            ),
            (self.separator, "What joins several genres in ID3v2.3 tags (Picard uses /)"),
            (
                self.provenance,
                "Write which models suggested each genre, with what confidence and when, in MUSICTAGGER_* fields other players ignore",
            ),
            (
                self.keep_mtime,
                "Restore each file's modification time after writing (some players re-scan files whose time changed)",
            ),
            (self.device, "Where the models run: the GPU when there is one, else the CPU"),
            (self.packs, "Which model packs suggest: the bundled ones, the ones learned from your library, or both"),
            (
                self.speed,
                "Thorough reads every track (three excerpts) and looks at each cover from several views; Fast hears "
                "three tracks spread over each album, one excerpt each, and looks at each cover once — several times "
                "faster without a GPU, slightly less sure",
            ),
            (
                self.min_confidence,
                "Suggestions below this confidence are not suggested; those above are ticked for Apply",
            ),
            (self.top_k, "At most this many suggestions per album"),
            (self.watch_folders, "Folders watched for new albums; none: your library folders"),
            (self.auto_apply, "Write suggestions to new albums without asking (every write can be undone in History)"),
            (self.auto_threshold, "Automatic writes only for suggestions at least this confident"),
        ):
            widget.setToolTip(tip)
            widget.setWhatsThis(tip)

        tabs = QTabWidget()
        tabs.addTab(
            self._form(
                ("Write mode", self.mode),
                ("Target field", self.field),
                ("Max genres", self.max_genres),
                ("", self.write_parents),
                ("MP3 tags", self.id3_version),
                ("ID3v2.3 separator", self.separator),
                ("", self.provenance),
                ("", self.keep_mtime),
            ),
            "Tags",
        )
        tabs.addTab(
            self._form(
                ("Device", self.device),
                ("Model packs", self.packs),
                ("Analysis", self.speed),
                ("Min confidence", self.min_confidence),
                ("Top suggestions", self.top_k),
            ),
            "Suggestions",
        )
        tabs.addTab(
            self._form(
                ("Watched folders", self.watch_folders),
                ("", self.auto_apply),
                ("Auto-apply threshold", self.auto_threshold),
            ),
            "Watch",
        )

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)

    @staticmethod
    def _form(*rows: tuple[str, QWidget]) -> QWidget:
        """A form page; each row's label carries its widget's tooltip too."""
        from PySide6.QtWidgets import QLabel

        page = QWidget()
        form = QFormLayout(page)
        for label, widget in rows:
            if label:
                text = QLabel(label)
                text.setToolTip(widget.toolTip())
                text.setBuddy(widget)
                form.addRow(text, widget)
            else:
                form.addRow(widget)
        return page

    def result_config(self) -> Config:
        """A new :class:`Config` with the form's values (the one passed in is left unchanged)."""
        cfg = copy.deepcopy(self._config)
        t, i, w = cfg.tags, cfg.inference, cfg.watch
        t.mode, t.field = _value(self.mode), _value(self.field)
        t.max_genres = self.max_genres.value()
        t.write_parents = self.write_parents.isChecked()
        t.id3_version = _value(self.id3_version)
        t.id3v23_separator = self.separator.text() or "/"
        t.write_provenance = self.provenance.isChecked()
        t.keep_mtime = self.keep_mtime.isChecked()
        i.device = _value(self.device) or "auto"
        i.packs = _value(self.packs) or "both"
        i.speed = _value(self.speed) or "full"
        i.min_confidence = _fraction(self.min_confidence)
        i.top_k = self.top_k.value()
        w.folders = self.watch_folders.folders()
        w.auto_apply = self.auto_apply.isChecked()
        w.auto_apply_min_confidence = _fraction(self.auto_threshold)
        return cfg
