"""A slim bar above the library with a word of advice and two answers — today the one about Fast
when a thorough run on the CPU will take long ("About 3 h 10 min left… [Use Fast] [Keep Thorough]").

Not modal and never in the way: it sits above the table or the grid while the run goes on, and goes
when it is answered or the run ends. It never makes the window wider: where the text and the
buttons do not fit side by side the buttons go below the text, and below each other where even
their row does not fit. Colours come from the palette (light and dark themes)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QFrame, QLabel, QLayout, QPushButton, QSizePolicy, QWidget

#: The text's least width beside the buttons before they go below it.
TEXT_MIN_WIDTH = 320


class AdviceBar(QFrame):
    accepted = Signal()  # "Use Fast"
    declined = Signal()  # "Keep Thorough"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adviceBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Any width the window gives it (the layout below fits itself to that width).
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.text = QLabel(wordWrap=True)
        self.text.setObjectName("adviceText")
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.accept_button = QPushButton("Use Fast")
        self.accept_button.setToolTip(
            "Settings ▸ Analysis ▸ Fast from now on; the albums this run has not done yet are done fast"
        )
        self.decline_button = QPushButton("Keep Thorough")
        self.decline_button.setToolTip("Every track, three excerpts each (not asked again until you restart)")
        self.accept_button.clicked.connect(self._accept)
        self.decline_button.clicked.connect(self._decline)
        self.buttons = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.accept_button)
        self.buttons.addWidget(self.decline_button)
        self.main = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.main.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # no minimum width forced
        self.main.setContentsMargins(10, 6, 6, 6)
        self.main.addWidget(self.text, 1)
        self.main.addLayout(self.buttons)
        self.hide()

    def show_advice(self, text: str) -> None:
        self.text.setText(text)
        self.show()
        self._arrange(self.width())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        self._arrange(event.size().width())
        super().resizeEvent(event)

    def _arrange(self, width: int) -> None:
        """Text and buttons side by side where they fit; else the buttons below the text, in a row
        where it fits, else below each other."""
        margins = self.main.contentsMargins()
        room = width - margins.left() - margins.right()
        spacing = max(0, self.buttons.spacing())
        row = self.accept_button.sizeHint().width() + spacing + self.decline_button.sizeHint().width()
        beside = room >= TEXT_MIN_WIDTH + self.main.spacing() + row
        down, across = QBoxLayout.Direction.TopToBottom, QBoxLayout.Direction.LeftToRight
        main, buttons = (across, across) if beside else (down, across if room >= row else down)
        if self.main.direction() != main:
            self.main.setDirection(main)
        if self.buttons.direction() != buttons:
            self.buttons.setDirection(buttons)

    def _accept(self) -> None:
        self.hide()
        self.accepted.emit()

    def _decline(self) -> None:
        self.hide()
        self.declined.emit()
