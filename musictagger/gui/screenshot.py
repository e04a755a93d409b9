"""Save a screenshot of the real main window: ``python -m musictagger.gui.screenshot OUT.png [FOLDER…]``.

Opens the app on the given folders, waits until the scan has filled the table (and a Suggest
has run when ``--suggest`` is given), then grabs the window from the screen — so under a real X
server (Xvfb in CI) it shows what a person would see, window decorations aside. Used for the
docs and by the GUI tests to check the window is not blank.

Options set the scene: ``--size 1280x780`` (``min`` for the window's minimum size), ``--dark``
(Fusion with a dark palette), ``--view grid``, ``--select ALBUM`` (the album panel shows it),
``--untick TAG`` / ``--add TAG`` (review it), ``--errors`` (the errors panel open), ``--advice``
(the word about Fast that a long thorough run on the CPU gets), and
``--dialog apply|learn|settings|history`` to grab a dialog over the window instead (``learn``
runs Learn from My Library and waits for its report).
"""

from __future__ import annotations

import argparse
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget


def dark_palette() -> QPalette:
    """A dark palette like the desktops' dark themes (for checking the app in dark mode)."""
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e",
        QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.ToolTipBase: "#3a3a3a",
        QPalette.ColorRole.ToolTipText: "#f0f0f0",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6060",
        QPalette.ColorRole.Highlight: "#3d6fb4",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7fb2ff",
        QPalette.ColorRole.Mid: "#4a4a4a",
        QPalette.ColorRole.Dark: "#1a1a1a",
        QPalette.ColorRole.Light: "#505050",
        QPalette.ColorRole.Midlight: "#404040",
        QPalette.ColorRole.Shadow: "#101010",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    # Like many dark themes: disabled text barely above the background (the app must cope).
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#4d4d4d"))
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musictagger.gui.screenshot")
    parser.add_argument("output")
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--suggest", action="store_true", help="run Suggest on all albums before the shot")
    parser.add_argument("--size", default="1400x800", help="WxH, or min for the window's minimum size")
    parser.add_argument("--dark", action="store_true", help="Fusion style with a dark palette")
    parser.add_argument("--view", choices=("table", "grid"), default="table")
    parser.add_argument("--select", help="the album (title) to select")
    parser.add_argument("--untick", action="append", default=[], help="untick this tag of the selected album")
    parser.add_argument("--add", action="append", default=[], help="add this tag by hand to the selected album")
    parser.add_argument("--errors", action="store_true", help="show the errors panel")
    parser.add_argument("--advice", action="store_true", help="show the word about Fast of a long CPU run")
    parser.add_argument("--dialog", choices=("apply", "learn", "settings", "history"))
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)

    from musictagger.gui.app import create_window
    from musictagger.gui.resources import APP_ID, app_icon

    app = QApplication([sys.argv[0]])
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    if args.dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    window = create_window(args.folders)
    if args.size != "min":
        w, h = (int(v) for v in args.size.lower().split("x"))
        window.resize(w, h)
    deadline = time.monotonic() + args.timeout
    state = {"suggested": not args.suggest, "code": 1, "staged": False, "target": None, "ready": lambda: True}

    def poll() -> None:
        c = window.controller
        if time.monotonic() > deadline:
            print("timed out waiting for the library", file=sys.stderr)
            timer.stop()
            window.close()  # stops what still runs, as quitting the app does
            app.exit(2)
            return
        if c.runner.active or (args.folders and not c.model.rowCount()):
            return
        if not state["suggested"]:
            state["suggested"] = True
            c.suggest(None)
            return
        if not state["staged"]:
            state["staged"] = True
            stage()
            return
        if not state["ready"]():
            return
        timer.stop()
        QTimer.singleShot(900, shoot)  # let thumbnails arrive and paint

    def stage() -> None:
        if args.size == "min":
            window.resize(window.minimumSizeHint())
        window.set_view(args.view)
        entries = window.controller.model.entries
        chosen = next((e for e in entries if args.select and e.album.album == args.select), None)
        if chosen is not None:
            window.select_keys([chosen.key])
            review = chosen.review
            for tag in args.untick:
                review.set_accepted(tag, False)
            for tag in args.add:
                review.add(tag)
            window.controller.review_changed(chosen.key)
            window.detail.refresh()
        else:
            window._select_first_if_none()
        if args.errors:
            window.errors.show()
        if args.advice:
            from musictagger.pipeline.speed import speed_advice
            from musictagger.progress import Progress

            long_run = Progress("suggest", 12, 4800, eta_s=3 * 3600 + 600.0)
            window.advice.show_advice(speed_advice(long_run, "full", "CPU (4 threads)") or "")
        if args.dialog == "apply":
            window.controller.prepare_apply(window.selected_keys() if args.select else None)

            def apply_ready() -> bool:
                dialog = window.apply_dialog
                state["target"] = dialog
                return dialog is not None and dialog.isVisible() and dialog.complete

            state["ready"] = apply_ready
        elif args.dialog == "learn":
            from musictagger.gui.learn_dialog import LearnDialog

            dialog = LearnDialog(window.controller, window)
            dialog.resize(700, 720)
            dialog.show()
            dialog.start()
            state["target"] = dialog
            state["ready"] = lambda: dialog.task is None
        elif args.dialog == "settings":
            from musictagger.gui.settings_dialog import SettingsDialog

            dialog = SettingsDialog(window.controller.config, window)
            dialog.show()
            state["target"] = dialog
        elif args.dialog == "history":
            window.show_history()

            def history_ready() -> bool:
                state["target"] = window.findChild(QWidget, "historyDialog")
                return state["target"] is not None and state["target"].isVisible()

            state["ready"] = history_ready

    def shoot() -> None:
        target = state["target"] if state["target"] is not None else window
        screen = target.screen()
        geo = target.frameGeometry()
        pixmap = screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
        if pixmap.isNull() or pixmap.width() == 0:
            pixmap = target.grab()
        state["code"] = 0 if pixmap.save(args.output) else 3
        window.close()
        app.exit(state["code"])

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
