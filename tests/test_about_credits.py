"""About names the pretrained networks the bundled packs build on, their packages and licences."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_about_lists_every_backbone_with_its_licence(qtbot):
    from musictagger.gui.about_dialog import AboutDialog
    from musictagger.ml.backbones import SOURCES

    dialog = AboutDialog(None)
    qtbot.addWidget(dialog)
    from PySide6.QtWidgets import QTextBrowser

    text = dialog.findChild(QTextBrowser, "backboneCredits").toPlainText()
    for name, src in SOURCES.items():
        assert name in text and src.requirement in text
    assert "Apache-2.0" in text and "ISC" in text


def test_credits_do_not_import_torch():
    code = "import sys, musictagger.ml.backbones as b; b.credits_markdown(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
