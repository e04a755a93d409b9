"""Entry point of the desktop app (``musictagger-gui``, a gui-script: no console window on Windows).

Imports are kept to Qt and the light core modules so the window shows fast; the models (and
torch) load in a worker thread on the first Suggest.
"""

from __future__ import annotations

import argparse
import sys

from musictagger.gui.resources import APP_ID


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="musictagger-gui", description="Review and apply genre suggestions.")
    parser.add_argument("folders", nargs="*", help="music folders to add to the library")
    # Qt's own options (-platform, -style…) pass through to QApplication.
    return parser.parse_known_args(argv[1:])[0]


def create_window(folders: list[str] | None = None, *, progressive: bool = False):
    """Build and show the main window on the running QApplication; returns it (used by tests too).

    ``progressive=True`` (the app) shows the window's shell first and builds the rest — settings
    included — right after the first paint; by default the window is complete when this returns."""
    from musictagger.gui.window import MainWindow

    window = MainWindow(progressive=progressive)
    window.show()
    window.start(folders)
    return window


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    args = _parse(argv)
    from PySide6.QtWidgets import QApplication

    from musictagger import __version__, session
    from musictagger.gui.resources import app_icon

    session.start()  # the same start-up as every CLI command: interrupted runs recovered

    app = QApplication(argv)
    app.setApplicationName("musictagger")
    app.setApplicationDisplayName("musictagger")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    window = create_window(args.folders, progressive=True)
    code = app.exec()
    del window
    return code


if __name__ == "__main__":
    sys.exit(main())
