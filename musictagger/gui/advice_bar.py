"""A slim bar above the library with a word of advice and two answers — today the one about Fast
when a thorough run on the CPU will take long ("About 3 h 10 min left… [Use Fast] [Keep Thorough]").

Not modal and never in the way: it sits above the table or the grid while the run goes on, and goes
when it is answered or the run ends. Colours come from the palette (light and dark themes)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class AdviceBar(QFrame):
    accepted = Signal()  # "Use Fast"
    declined = Signal()  # "Keep Thorough"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adviceBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel(wordWrap=True)
        self.text.setObjectName("adviceText")
        self.accept_button = QPushButton("Use Fast")
        self.accept_button.setToolTip(
            "Settings ▸ Analysis ▸ Fast from now on; the albums this run has not done yet are done fast"
        )
        self.decline_button = QPushButton("Keep Thorough")
        self.decline_button.setToolTip("Every track, three excerpts each (not asked again until you restart)")
        self.accept_button.clicked.connect(self._accept)
        self.decline_button.clicked.connect(self._decline)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.accept_button)
        layout.addWidget(self.decline_button)
        self.hide()

    def show_advice(self, text: str) -> None:
        self.text.setText(text)
        self.show()

    def _accept(self) -> None:
        self.hide()
        self.accepted.emit()

    def _decline(self) -> None:
        self.hide()
        self.declined.emit()
