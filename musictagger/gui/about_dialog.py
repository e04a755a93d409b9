"""About: versions (musictagger, Qt, torch when already loaded), the device, and the packs' model cards."""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

import musictagger
from musictagger.gui.models_loader import ModelsInfo


def version_lines(info: ModelsInfo | None) -> list[str]:
    """Never imports torch: it is reported only when a run already loaded it."""
    torch = sys.modules.get("torch")
    return [
        f"musictagger {musictagger.__version__}",
        f"Qt {qVersion()} · PySide6 {PySide6.__version__}",
        f"Python {platform.python_version()}",
        f"torch {torch.__version__}" if torch is not None else "torch: loaded by the core process, not the window",
        f"Device: {info.device_name}" if info else "Device: not chosen yet",
    ]


class AboutDialog(QDialog):
    def __init__(self, info: ModelsInfo | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About musictagger")
        self.setObjectName("aboutDialog")
        self.resize(640, 520)
        header = QLabel(
            "<h2>musictagger</h2><p>Multi-label subgenre tags for your music library, suggested from "
            "cover art and audio, fully offline. Every write is journaled and can be undone.</p>"
            "<p>License: GPL-3.0-or-later</p>"
        )
        header.setWordWrap(True)
        self.versions = QLabel("<br>".join(version_lines(info)))
        tabs = QTabWidget()
        for title, card in info.cards if info else ():
            browser = QTextBrowser()
            browser.setMarkdown(card)
            tabs.addTab(browser, title)
        if tabs.count() == 0:
            tabs.addTab(QLabel("Model cards appear here once the models are loaded (run Suggest)."), "Models")
        from musictagger.ml.backbones import credits_markdown

        credits = QTextBrowser()
        credits.setObjectName("backboneCredits")
        credits.setOpenExternalLinks(True)
        credits.setMarkdown(credits_markdown())
        tabs.addTab(credits, "Pretrained networks")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.versions)
        layout.addWidget(tabs, 1)
        layout.addWidget(buttons)
