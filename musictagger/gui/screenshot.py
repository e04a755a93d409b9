"""Save a screenshot of the real main window: ``python -m musictagger.gui.screenshot OUT.png [FOLDER…]``.

Opens the app on the given folders, waits until the scan has filled the table (and a Suggest
has run when ``--suggest`` is given), then grabs the window from the screen — so under a real X
server (Xvfb in CI) it shows what a person would see, window decorations aside. Used for the
docs and by the GUI tests to check the window is not blank.
"""

from __future__ import annotations

import argparse
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musictagger.gui.screenshot")
    parser.add_argument("output")
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--suggest", action="store_true", help="run Suggest on all albums before the shot")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)

    from musictagger.gui.app import create_window
    from musictagger.gui.resources import APP_ID, app_icon

    app = QApplication([sys.argv[0]])
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    window = create_window(args.folders)
    window.resize(1400, 800)
    deadline = time.monotonic() + args.timeout
    state = {"suggested": not args.suggest, "code": 1}

    def poll() -> None:
        c = window.controller
        if time.monotonic() > deadline:
            print("timed out waiting for the library", file=sys.stderr)
            app.exit(2)
            return
        if c.runner.active or (args.folders and not c.model.rowCount()):
            return
        if not state["suggested"]:
            state["suggested"] = True
            c.suggest(None)
            return
        window._select_first_if_none()
        QTimer.singleShot(700, shoot)  # let thumbnails arrive and paint
        timer.stop()

    def shoot() -> None:
        screen = window.screen()
        pixmap = screen.grabWindow(0, window.x(), window.y(), window.width(), window.height())
        if pixmap.isNull() or pixmap.width() == 0:
            pixmap = window.grab()
        state["code"] = 0 if pixmap.save(args.output) else 3
        window.close()
        app.exit(state["code"])

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
