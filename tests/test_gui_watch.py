"""The desktop app's folder watcher and whole-library batch, driven for real.

A real window (Qt offscreen), a tiny real cover pack whose output is known (Black Metal 0.95,
Jazz 0.05 whatever the cover), real album folders copied into a watched folder, real tag writes
through the journal. Quiet periods are 0.3 s so that a watched album is processed within a second.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import copy  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pytest.importorskip("PySide6.QtWidgets")

from media import make_cover, make_track  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from tinypacks import make_cover_pack  # noqa: E402

from musictagger.config import Config, save_config  # noqa: E402

TIMEOUT_MS = 60_000
QUIET = 0.3


def _genres(path: Path) -> list[str]:
    from musictagger.tags import read_tags

    return list(read_tags(path, pictures=False).genres)


def _make_album(folder: Path, artist: str, album: str, n: int = 2, fmt: str = "flac") -> list[Path]:
    folder.mkdir(parents=True)
    cover = make_cover((30, 30, 30), (64, 64))
    return [
        make_track(
            folder,
            fmt,
            title=f"{album} {i}",
            artist=artist,
            album=album,
            track=i,
            genres=["Rock"],
            cover=cover,
            seconds=0.5,
        )
        for i in range(1, n + 1)
    ]


def _copy_in(staging: Path, target: Path) -> list[Path]:
    """Copy a finished album folder into a watched folder, as a user (or a ripper) would."""
    shutil.copytree(staging, target)
    return sorted(target.iterdir())


def _watch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mt-watch-") and t.is_alive()]


@pytest.fixture
def home(app_home: Path) -> Path:
    make_cover_pack(app_home / "data" / "models", {"black-metal": 3.0, "jazz": -3.0})
    return app_home


def _config(root: Path, **watch) -> Config:
    cfg = Config()
    cfg.library.roots = [str(root)]
    cfg.inference.packs = "user"
    cfg.inference.device = "cpu"
    cfg.watch.quiet_seconds = QUIET
    for name, value in watch.items():
        setattr(cfg.watch, name, value)
    save_config(cfg)
    return cfg


def _open_window(qtbot, rows: int):
    from musictagger.gui.app import create_window

    win = create_window()
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == rows, timeout=TIMEOUT_MS)
    return win


def _entry(win, album: str):
    return next((e for e in win.controller.model.entries if e.album.album == album), None)


def _window_ini(home: Path) -> QSettings:
    return QSettings(str(home / "config" / "window.ini"), QSettings.Format.IniFormat)


def test_watching_the_library_suggests_for_a_copied_album_and_stops_cleanly(qtbot, home, tmp_path):
    from musictagger.pipeline.review import Status

    root = tmp_path / "music"
    alpha = _make_album(root / "Band A" / "Alpha", "Band A", "Alpha")
    _config(root)  # no watch folders: the library roots are watched
    win = _open_window(qtbot, 1)
    c, a = win.controller, win.actions
    assert a.watch.isCheckable() and not a.watch.isChecked()
    assert "library folders" in a.watch.toolTip()
    staging = tmp_path / "staging" / "Gamma"
    _make_album(staging, "Band C", "Gamma")

    a.watch.trigger()
    assert a.watch.isChecked() and c.watching
    assert _window_ini(home).value("watch/enabled", False, type=bool) is True
    session = c.watch_session
    # Copied in right away, while the watcher starts (loads the models, arms the watch): new all the
    # same. The album already there is the baseline of a folder never watched before: not processed.
    gamma = _copy_in(staging, root / "Band C" / "Gamma")
    qtbot.waitUntil(lambda: session.running, timeout=TIMEOUT_MS)
    assert win.status.watch_label.isVisible() and "Watching 1 folder" in win.status.watch_label.text()
    qtbot.waitUntil(
        lambda: _entry(win, "Gamma") is not None and _entry(win, "Gamma").status == Status.SUGGESTED, timeout=TIMEOUT_MS
    )
    entry = _entry(win, "Gamma")
    assert [s.name for s in entry.suggestions() if not s.implied] == ["Black Metal"]
    assert entry.review.is_accepted("Black Metal") and not entry.review.is_accepted("Jazz")
    assert "Gamma" in win.status.watch_label.toolTip()
    if win.tray is None:  # no system tray offscreen: the notification is a status-bar message
        assert "Gamma" in win.status.currentMessage() and "Black Metal" in win.status.currentMessage()
    assert c.model.rowCount() == 2
    assert _entry(win, "Alpha").status != Status.SUGGESTED
    for path in [*alpha, *gamma]:
        assert _genres(path) == ["Rock"], "suggest-only watching writes nothing"
    assert win.errors.count == 0

    # New watch settings restart the watcher with them.
    new = copy.deepcopy(c.config)
    new.watch.quiet_seconds = 0.5
    c.update_config(new)
    assert c.watch_session is not session and c.watch_session.config.watch.quiet_seconds == 0.5
    qtbot.waitUntil(lambda: session.closed.is_set() and c.watch_session.running, timeout=TIMEOUT_MS)
    session = c.watch_session

    a.watch.trigger()  # off
    assert not a.watch.isChecked() and not c.watching and not win.status.watch_label.isVisible()
    qtbot.waitUntil(lambda: session.closed.is_set() and not _watch_threads(), timeout=TIMEOUT_MS)
    assert _window_ini(home).value("watch/enabled", True, type=bool) is False
    win.close()


def test_auto_apply_writes_new_albums_waits_for_the_models_and_is_undoable(qtbot, home, tmp_path):
    from musictagger.gui.history_dialog import HistoryDialog
    from musictagger.journal import Journal
    from musictagger.pipeline.review import Status

    root, incoming = tmp_path / "music", tmp_path / "incoming"
    _make_album(root / "Band A" / "Alpha", "Band A", "Alpha")
    incoming.mkdir()
    _config(root, folders=[str(incoming)], auto_apply=True, auto_apply_min_confidence=0.8)
    _window_ini(home).setValue("watch/enabled", True)  # watching was on when the app last quit
    win = _open_window(qtbot, 1)
    c = win.controller
    assert str(incoming) in win.actions.watch.toolTip()
    qtbot.waitUntil(lambda: c.watch_session is not None and c.watch_session.running, timeout=TIMEOUT_MS)
    assert win.actions.watch.isChecked()
    session = c.watch_session

    # While something else runs the models, the watcher's album waits for them (never concurrently).
    lock = c.engine.exclusive()
    lock.__enter__()
    try:
        staging = tmp_path / "staging" / "Delta"
        _make_album(staging, "Band D", "Delta", fmt="mp3")
        target = incoming / "Delta"
        delta = _copy_in(staging, target)
        qtbot.waitUntil(lambda: str(target) in session.watcher.processed, timeout=TIMEOUT_MS)
        qtbot.wait(500)
        assert all(_genres(p) == ["Rock"] for p in delta)
        assert _entry(win, "Delta") is None
    finally:
        lock.__exit__(None, None, None)

    qtbot.waitUntil(
        lambda: _entry(win, "Delta") is not None and _entry(win, "Delta").status == Status.APPLIED, timeout=TIMEOUT_MS
    )
    for path in delta:
        assert _genres(path) == ["Rock", "Black Metal"]  # merged, at ≥ 0.8 only
    assert "Black Metal" in _entry(win, "Delta").album.genres  # rescanned into the table
    with Journal() as journal:
        runs = journal.runs()
    assert [r.kind for r in runs] == ["watch"]
    dialog = HistoryDialog(win)
    qtbot.addWidget(dialog)
    assert dialog.tree.topLevelItem(0).text(1) == "watch"
    assert dialog.select_run(runs[0].id) and dialog.undo_button.isEnabled()

    win.actions.undo_run.trigger()  # the watcher's run is the last one: undone like any other
    qtbot.waitUntil(lambda: all(_genres(p) == ["Rock"] for p in delta), timeout=TIMEOUT_MS)
    win.close()  # quitting stops the watcher
    assert session.closed.is_set() and not _watch_threads()


def test_tag_whole_library_confirms_resumes_and_summarises(qtbot, home, tmp_path):
    from musictagger.journal import Journal
    from musictagger.watch import WatchState
    from musictagger.watch.retag import batch_id_for

    root = tmp_path / "music"
    tracks = [
        *_make_album(root / "Band A" / "Alpha", "Band A", "Alpha"),
        *_make_album(root / "Band B" / "Beta", "Band B", "Beta", n=1, fmt="ogg"),
    ]
    cfg = _config(root)
    # A batch with the same roots and settings that was started and never finished (a quit, a crash).
    state = WatchState()
    state.open_batch(batch_id_for([str(root)], cfg, ["tiny-cover@0.0.1"]), "[]")
    state.close()
    win = _open_window(qtbot, 2)

    win.actions.tag_library.trigger()
    qtbot.waitUntil(lambda: win.batch_dialog is not None and win.batch_dialog.isVisible(), timeout=TIMEOUT_MS)
    text = re.sub(r"<[^>]+>", "", win.batch_dialog.text.text())
    for expected in (
        "Tag 2 albums",
        "Genre",
        "merged",
        "threshold",
        "resumable",
        "undone",
        "interrupted",
        "will resume",
    ):
        assert expected in text, expected
    assert win.batch_dialog.start_button.text() == "Resume 2 Albums"
    win.batch_dialog.start_button.click()

    qtbot.waitUntil(lambda: win.batch_summary is not None and win.batch_summary.isVisible(), timeout=TIMEOUT_MS)
    figures = win.batch_summary.figures
    assert (figures["Albums tagged"], figures["Albums failed"], figures["Files changed"]) == ("2", "0", "3")
    for path in tracks:
        assert _genres(path) == ["Rock", "Black Metal"]
    with Journal() as journal:
        runs = journal.runs()
    assert [r.kind for r in runs] == ["apply"] and figures["Run"] == str(runs[0].id)
    assert "batch_id" in runs[0].meta
    assert "Black Metal" in _entry(win, "Beta").album.genres  # the table knows without a rescan

    win.batch_summary.undo_button.click()  # the summary's Undo: the whole batch run is undone
    qtbot.waitUntil(lambda: all(_genres(p) == ["Rock"] for p in tracks), timeout=TIMEOUT_MS)

    # That batch finished: the next one starts afresh instead of resuming.
    first = win.batch_dialog
    win.actions.tag_library.trigger()
    qtbot.waitUntil(lambda: win.batch_dialog is not first and win.batch_dialog.isVisible(), timeout=TIMEOUT_MS)
    assert not win.batch_dialog.plan.resuming and "interrupted" not in win.batch_dialog.text.text()
    assert win.batch_dialog.start_button.text() == "Tag 2 Albums"
    win.batch_dialog.reject()
    win.close()


def test_stylesheet_is_loaded_and_palette_aware(qtbot, home, tmp_path):
    from musictagger.gui.resources import STYLESHEET_FILE, resource_path, stylesheet

    path = resource_path(STYLESHEET_FILE)
    assert path is not None
    qss = stylesheet()
    assert "palette(" in qss
    # No literal colours: hex, rgb()/rgba()/hsl() or named ones would fight a dark (or light) theme.
    code = re.sub(r"/\*.*?\*/", "", qss, flags=re.S)
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?)\(|:\s*(?:white|black|gray|grey)\b", code)
    root = tmp_path / "music"
    root.mkdir()
    _config(root)
    win = _open_window(qtbot, 0)
    assert win.styleSheet() == qss
    win.close()
