"""The desktop app, driven for real: a generated library, a tiny model pack, the real window.

scan → suggest → accept/reject/add → apply (through the confirmation) → the files changed →
undo restores them. Qt runs offscreen; the pack is a cover CNN of tiny widths with random
weights and thresholds low enough that every label is suggested, so the review is predictable.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pytest.importorskip("PySide6.QtWidgets")

from media import make_cover, make_track  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent, QPalette  # noqa: E402

from musictagger.config import Config, load_config, save_config  # noqa: E402

LABELS = ["black-metal", "doom-metal", "thrash-metal"]
TIMEOUT_MS = 60_000


def make_tiny_pack(models_dir: Path) -> None:
    """A real cover pack: tiny CNN, random (seeded) weights, every label above its threshold."""
    from tinypacks import make_cover_pack

    make_cover_pack(models_dir, labels=LABELS, name="tiny-covers", thresholds={label: 0.01 for label in LABELS})


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    home = tmp_path / "home"
    monkeypatch.setenv("MUSICTAGGER_HOME", str(home))
    from musictagger.paths import app_dirs

    dirs = app_dirs().ensure()
    make_tiny_pack(dirs.models)
    root = tmp_path / "music"
    alpha = root / "Band A" / "Alpha"
    beta = root / "Band B" / "Beta"
    alpha.mkdir(parents=True)
    beta.mkdir(parents=True)
    red, blue = make_cover((200, 30, 30), (120, 120)), make_cover((30, 60, 200), (120, 120))
    alpha_tracks = [
        make_track(
            alpha, "flac", title=f"A{i}", artist="Band A", album="Alpha", track=i, genres=["Heavy Metal"], cover=red
        )
        for i in (1, 2)
    ]
    beta_tracks = [
        make_track(beta, "mp3", title="B1", artist="Band B", album="Beta", track=1, genres=["Rock"], cover=blue)
    ]
    cfg = Config()
    cfg.library.roots = [str(root)]
    cfg.inference.packs = "user"
    cfg.inference.device = "cpu"
    save_config(cfg)
    return {"home": home, "root": root, "alpha": alpha_tracks, "beta": beta_tracks, "alpha_dir": alpha}


@pytest.fixture
def window(qtbot, library):
    from musictagger.gui.app import create_window

    win = create_window()
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == 2, timeout=TIMEOUT_MS)
    yield win
    win.close()


def _key_of(win, album: str) -> str:
    return next(e.key for e in win.controller.model.entries if e.album.album == album)


def _texts(item) -> str:
    """Every text of a tree item and its descendants, for assertions."""
    out = [item.text(c) for c in range(item.columnCount())]
    for i in range(item.childCount()):
        out.append(_texts(item.child(i)))
    return "\n".join(out)


def _genres(path: Path) -> list[str]:
    from musictagger.tags import read_tags

    return list(read_tags(path, pictures=False).genres)


def test_scan_suggest_review_apply_undo(qtbot, window, library):
    from musictagger.gui.album_model import ChipsRole, Column
    from musictagger.pipeline.review import Status

    win, c = window, window.controller
    qtbot.waitUntil(lambda: "Black Metal" in win.detail.completion.stringList(), timeout=TIMEOUT_MS)
    alpha = _key_of(win, "Alpha")
    beta = _key_of(win, "Beta")

    win.select_keys([alpha])
    assert win.selected_keys() == [alpha]
    win.actions.suggest.trigger()
    qtbot.waitUntil(lambda: c.model.entry(alpha).status == Status.SUGGESTED, timeout=TIMEOUT_MS)
    assert c.model.entry(beta).status == Status.NEW  # only the selection was suggested
    assert "CPU" in win.status.device_label.text().upper()
    assert "tiny-covers" in win.status.packs_label.toolTip()

    # The detail panel shows the three labels (and their implied parent "Metal"), with cover evidence.
    qtbot.waitUntil(lambda: win.detail.entry is not None and win.detail.entry.key == alpha, timeout=TIMEOUT_MS)
    rows = {win.detail.suggestions.index(i).data(): i for i in range(win.detail.suggestions.rowCount())}
    assert {"Black Metal", "Doom Metal", "Thrash Metal"} <= set(rows)
    entry = c.model.entry(alpha)
    assert all(s.cover is not None and s.audio is None for s in entry.suggestions() if not s.implied)

    # Reject "Doom Metal" with the keyboard (Space on the focused tag), add a tag by hand.
    view = win.detail.suggestion_view
    win.activateWindow()
    view.setFocus()
    view.setCurrentIndex(win.detail.suggestions.index(rows["Doom Metal"]))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not entry.review.is_accepted("Doom Metal")
    win.detail.add_edit.setText("Sludge Metal")
    qtbot.keyClick(win.detail.add_edit, Qt.Key.Key_Return)
    assert "Sludge Metal" in entry.pending_labels()
    chips = c.model.index(c.model.entry_row(alpha), Column.SUGGESTED).data(ChipsRole)
    assert [ch.accepted for ch in chips if ch.text == "Doom Metal"] == [False]

    # Apply: a dry run first, the confirmation lists the album and both its files, then the write.
    win.actions.apply.trigger()
    qtbot.waitUntil(lambda: win.apply_dialog is not None and win.apply_dialog.isVisible(), timeout=TIMEOUT_MS)
    assert win.apply_dialog.tree.topLevelItemCount() == 1
    assert "Files (2)" in _texts(win.apply_dialog.tree.topLevelItem(0))
    win.apply_dialog.apply_button.click()
    qtbot.waitUntil(lambda: c.model.entry(alpha).status == Status.APPLIED, timeout=TIMEOUT_MS)

    for path in library["alpha"]:
        genres = _genres(path)
        assert genres[0] == "Heavy Metal"  # merge keeps what was there
        assert {"Black Metal", "Thrash Metal", "Sludge Metal"} <= set(genres)
        assert "Doom Metal" not in genres and "Metal" not in genres
    assert _genres(library["beta"][0]) == ["Rock"]
    assert "Sludge Metal" in c.model.entry(alpha).album.genres  # the table knows without a rescan

    # Undo the last run: the files are back as they were.
    win.actions.undo_run.trigger()
    qtbot.waitUntil(lambda: c.model.entry(alpha).status == Status.SUGGESTED, timeout=TIMEOUT_MS)
    for path in library["alpha"]:
        assert _genres(path) == ["Heavy Metal"]
    assert win.errors.count == 0

    from musictagger.journal import Journal

    with Journal() as journal:
        kinds = [r.kind for r in journal.runs()]
    assert kinds == ["undo", "gui-apply"]


def test_history_dialog_lists_runs_and_undoes_the_chosen_one(qtbot, window, library):
    from musictagger.gui.history_dialog import HistoryDialog
    from musictagger.pipeline.review import Status

    c = window.controller
    alpha = _key_of(window, "Alpha")
    c.model.entry(alpha).review.add("Funeral Doom Metal")
    c.review_changed(alpha)
    c.prepare_apply([alpha])
    qtbot.waitUntil(lambda: window.apply_dialog is not None and window.apply_dialog.isVisible(), timeout=TIMEOUT_MS)
    window.apply_dialog.accept()
    qtbot.waitUntil(lambda: c.model.entry(alpha).status == Status.APPLIED, timeout=TIMEOUT_MS)
    assert "Funeral Doom Metal" in _genres(library["alpha"][0])

    dialog = HistoryDialog(window)
    qtbot.addWidget(dialog)
    assert dialog.tree.topLevelItemCount() == 1
    assert not dialog.undo_button.isEnabled()  # nothing selected yet
    run_id = dialog.tree.topLevelItem(0).data(0, Qt.ItemDataRole.UserRole).id
    assert dialog.select_run(run_id)
    dialog.undo_requested.connect(c.undo)
    dialog.undo_button.click()
    qtbot.waitUntil(lambda: _genres(library["alpha"][0]) == ["Heavy Metal"], timeout=TIMEOUT_MS)


def test_search_filters_by_artist_album_and_genre(qtbot, window):
    from musictagger.gui.album_model import EntryRole

    proxy = window.proxy
    qtbot.keyClicks(window.search, "beta")
    assert proxy.rowCount() == 1
    window.search.setText("heavy metal")
    assert proxy.rowCount() == 1
    assert proxy.index(0, 0).data(EntryRole).album.album == "Alpha"
    window.search.setText("band")
    assert proxy.rowCount() == 2
    window.search.setText("nothing like this")
    assert proxy.rowCount() == 0


def test_album_panel_counts_tracks_in_words(qtbot, window):
    """The panel's line under the title: "2 tracks" for Alpha, "1 track" (not "1 tracks") for Beta."""
    for album, words in (("Alpha", "2 tracks"), ("Beta", "1 track ·")):
        window.select_keys([_key_of(window, album)])
        qtbot.waitUntil(
            lambda album=album: window.detail.entry is not None and window.detail.entry.album.album == album,
            timeout=TIMEOUT_MS,
        )
        assert words in window.detail.subtitle.text()


def test_thumbnails_load_in_background_and_are_cached_on_disk(qtbot, window, library):
    thumbs = window.thumbs
    album = window.controller.model.entry(_key_of(window, "Alpha")).album
    qtbot.waitUntil(lambda: thumbs.get(album) is not None, timeout=TIMEOUT_MS)
    pixmap = thumbs.get(album)
    assert max(pixmap.width(), pixmap.height()) == thumbs.size
    on_disk = list((library["home"] / "cache" / "thumbs").glob("*.png"))
    assert on_disk, "thumbnails are written to the disk cache"


def test_settings_dialog_saves_the_config(qtbot, window):
    from musictagger.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.controller.config, window)
    qtbot.addWidget(dialog)
    dialog.mode.setCurrentIndex(dialog.mode.findData("replace"))
    dialog.max_genres.setValue(3)
    dialog.write_parents.setChecked(True)
    dialog.packs.setCurrentIndex(dialog.packs.findData("bundled"))
    assert dialog.speed.currentData() == "full"
    dialog.speed.setCurrentIndex(dialog.speed.findData("fast"))
    window.controller.update_config(dialog.result_config())
    saved = load_config()
    assert (saved.tags.mode, saved.tags.max_genres, saved.tags.write_parents) == ("replace", 3, True)
    assert saved.inference.packs == "bundled" and saved.inference.speed == "fast"
    assert saved.library.roots == window.controller.roots


def test_dropping_a_folder_adds_it_to_the_library(qtbot, window, tmp_path):
    extra = tmp_path / "more" / "Gamma"
    extra.mkdir(parents=True)
    make_track(extra, "ogg", title="G1", artist="Band C", album="Gamma", genres=["Doom Metal"])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(extra.parent))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)
    assert str(extra.parent) in load_config().library.roots
    qtbot.waitUntil(lambda: window.controller.model.rowCount() == 3, timeout=TIMEOUT_MS)


def test_learn_action_follows_the_training_core(window):
    from musictagger.gui.learn_dialog import NOT_INSTALLED, training_available

    assert window.actions.learn.isEnabled() == training_available()
    if not training_available():
        assert window.actions.learn.toolTip() == NOT_INSTALLED


def test_shortcuts_are_the_documented_ones(window):
    a = window.actions
    expected = {
        a.add_folder: "Ctrl+O",
        a.rescan: "F5",
        a.suggest: "Ctrl+G",
        a.suggest_all: "Ctrl+Shift+G",
        a.apply: "Ctrl+Return",
        a.undo_run: "Ctrl+Z",
        a.stop: "Esc",
        a.find: "Ctrl+F",
        a.settings: "Ctrl+,",
        window.detail.toggle_action: "Space",
    }
    assert {act.text(): act.shortcut().toString() for act in expected} == {act.text(): s for act, s in expected.items()}


@pytest.mark.parametrize("dark", [False, True])
def test_chip_text_is_readable_on_both_themes(dark):
    from musictagger.gui.chips import chip_text_color, confidence_color

    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Base, Qt.GlobalColor.black if dark else Qt.GlobalColor.white)

    def luminance(c) -> float:
        def lin(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())

    for conf in (None, 0.0, 0.3, 0.6, 1.0):
        fill = confidence_color(conf, palette)
        text = chip_text_color(fill)
        hi, lo = sorted((luminance(fill), luminance(text)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, (conf, fill.name(), text.name())
    assert confidence_color(0.1, palette).hue() != confidence_color(0.9, palette).hue()


def test_window_appears_before_torch_is_imported(tmp_path):
    """In a fresh interpreter: the shown window has not imported torch (the Suggester does, later)."""
    code = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from musictagger.gui.app import create_window
        w = create_window()
        app.processEvents()
        assert w.isVisible()
        print("TORCH", "torch" in sys.modules)
        w.close()
    """)
    env = {
        **os.environ,
        "MUSICTAGGER_HOME": str(tmp_path / "home"),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_MUSIC_DIR": str(tmp_path / "no-music"),
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "TORCH False" in out.stdout


def test_app_start_paints_the_shell_first_then_builds_the_window(qtbot, library):
    """musictagger-gui's start: menus, toolbar and an empty table are painted before the controller,
    model and docks exist (they come right after), then the saved library opens as usual; a
    problem in the settings file reaches the errors panel even though it is read after the paint."""
    from musictagger.gui.app import create_window
    from musictagger.paths import app_dirs

    config_file = app_dirs().config / "config.toml"
    config_file.write_text(config_file.read_text() + "\n[nonsense]\nkey = 1\n")
    win = create_window(progressive=True)
    qtbot.addWidget(win)
    assert not win.built and not hasattr(win, "controller")
    assert win.menuBar().actions() and not win.actions.suggest.isEnabled()
    qtbot.waitUntil(lambda: win.windowHandle() is not None and win.windowHandle().isExposed(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: win.built, timeout=TIMEOUT_MS)
    assert not win.actions.suggest.icon().isNull()
    assert win.detail_dock.widget() is win.detail
    assert any("nonsense" in item.message for item in win.errors.items()), [i.message for i in win.errors.items()]
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert win.actions.suggest.isEnabled() and win.actions.suggest_all.isEnabled()  # the first album is selected
    win.close()
