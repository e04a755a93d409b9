"""The desktop app's second pass (issue #14), driven for real: a generated library, tiny real model
packs, the real window (Qt offscreen), the real core process, real SQLite, real tag writes.

Review decisions that stick (re-suggest, rescan, relaunch, the CLI), hand-added tags written as
manual, the learn report, undo/errors as information, results that explain themselves, the apply
diff grouped by album, layout at the default and minimum sizes, the cover grid, the first start.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pytest.importorskip("PySide6.QtWidgets")

import test_gui  # noqa: E402
from media import make_cover, make_track  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from test_gui import TIMEOUT_MS, _genres, _key_of  # noqa: E402
from tinypacks import make_cover_pack  # noqa: E402

from musictagger.config import Config, save_config  # noqa: E402

# The generated two-album library and the window on it (see test_gui).
library = test_gui.library
window = test_gui.window


def _suggest(qtbot, win, keys: list[str] | None) -> None:
    """Ctrl+G on ``keys`` (Ctrl+Shift+G on None), then wait until the run is over."""
    c = win.controller
    done: list = []
    c.suggest_finished.connect(done.append)
    if keys is None:
        win.actions.suggest_all.trigger()
    else:
        win.select_keys(keys)
        win.actions.suggest.trigger()
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT_MS)


def _detail_rows(win) -> dict[str, int]:
    model = win.detail.suggestions
    return {model.index(i).data(): i for i in range(model.rowCount())}


def _untick_with_space(qtbot, win, names: list[str]) -> None:
    view = win.detail.suggestion_view
    win.activateWindow()
    view.setFocus()
    for name in names:
        view.setCurrentIndex(win.detail.suggestions.index(_detail_rows(win)[name]))
        qtbot.keyClick(view, Qt.Key.Key_Space)


def _checked(win, name: str) -> bool:
    model = win.detail.suggestions
    return model.index(_detail_rows(win)[name]).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def _chip_states(win, key: str) -> dict[str, bool]:
    from musictagger.gui.album_model import ChipsRole, Column

    model = win.controller.model
    chips = model.index(model.entry_row(key), Column.SUGGESTED).data(ChipsRole)
    return {chip.text: chip.accepted for chip in chips}


# ------------------------------------------------------------------------------ 1. decisions stick


def test_unticked_tags_stay_unticked_after_resuggest_rescan_and_suggest_all(qtbot, window, library):
    win, c = window, window.controller
    alpha = _key_of(win, "Alpha")
    _suggest(qtbot, win, [alpha])
    qtbot.waitUntil(lambda: win.detail.entry is not None and win.detail.entry.key == alpha, timeout=TIMEOUT_MS)
    _untick_with_space(qtbot, win, ["Doom Metal", "Thrash Metal"])
    assert not _checked(win, "Doom Metal") and not _checked(win, "Thrash Metal") and _checked(win, "Black Metal")

    _suggest(qtbot, win, [alpha])  # Ctrl+G again
    assert _chip_states(win, alpha) == {"Black Metal": True, "Doom Metal": False, "Thrash Metal": False}
    assert not _checked(win, "Doom Metal") and not _checked(win, "Thrash Metal")

    scanned: list = []
    c.scanned.connect(scanned.append)
    win.actions.rescan.trigger()  # F5, then Ctrl+Shift+G
    qtbot.waitUntil(lambda: bool(scanned), timeout=TIMEOUT_MS)
    _suggest(qtbot, win, None)
    assert _chip_states(win, alpha) == {"Black Metal": True, "Doom Metal": False, "Thrash Metal": False}

    # Apply writes what the user kept, not what was rejected.
    win.select_keys([alpha])
    win.actions.apply.trigger()
    qtbot.waitUntil(lambda: win.apply_dialog is not None and win.apply_dialog.isVisible(), timeout=TIMEOUT_MS)
    done: list = []
    c.run_finished.connect(done.append)
    win.apply_dialog.apply_button.click()
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT_MS)
    for path in library["alpha"]:
        genres = _genres(path)
        assert "Black Metal" in genres and "Doom Metal" not in genres and "Thrash Metal" not in genres


# ------------------------------------------------------------------------------ 2. state survives a restart, shared with the CLI


def test_review_survives_quit_and_relaunch_and_the_cli_apply_honours_it(qtbot, library):
    from musictagger.gui.app import create_window

    win = create_window()
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == 2, timeout=TIMEOUT_MS)
    alpha = _key_of(win, "Alpha")
    _suggest(qtbot, win, [alpha])
    qtbot.waitUntil(lambda: win.detail.entry is not None and win.detail.entry.key == alpha, timeout=TIMEOUT_MS)
    _untick_with_space(qtbot, win, ["Doom Metal"])
    win.detail.add_edit.setText("Sludge Metal")
    qtbot.keyClick(win.detail.add_edit, Qt.Key.Key_Return)
    win.close()  # quit

    again = create_window()  # relaunch
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.controller.model.rowCount() == 2, timeout=TIMEOUT_MS)
    entry = again.controller.model.entry(alpha)
    assert entry.status.label == "Suggested"
    assert _chip_states(again, alpha) == {
        "Black Metal": True,
        "Doom Metal": False,
        "Thrash Metal": True,
        "Sludge Metal": True,
    }
    assert entry.review.manual == ["Sludge Metal"]
    assert again.controller.model.entry(_key_of(again, "Beta")).status.label == "New"
    again.close()

    # `musictagger apply --write` in another process writes what was decided in the app.
    out = subprocess.run(
        [sys.executable, "-m", "musictagger", "apply", str(library["root"]), "--write", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "MUSICTAGGER_HOME": str(library["home"])},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    files = {f["path"]: f for f in json.loads(out.stdout)["files"]}
    for path in library["alpha"]:
        genres = _genres(path)
        assert {"Black Metal", "Thrash Metal", "Sludge Metal"} <= set(genres), genres
        assert "Doom Metal" not in genres
        assert "Doom Metal" not in files[str(path)]["new"]

    # ... and the app, opened again, shows both albums Applied with the decisions kept.
    third = create_window()
    qtbot.addWidget(third)
    qtbot.waitUntil(lambda: third.controller.model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert {e.album.album: e.status.label for e in third.controller.model.entries} == {
        "Alpha": "Applied",
        "Beta": "Applied",
    }
    assert third.controller.model.entry(alpha).review.decisions == {"Doom Metal": False}
    third.close()


# ------------------------------------------------------------------------------ 3. manual tags are manual


def test_a_tag_added_by_hand_is_written_as_manual(qtbot, window, library):
    from musictagger.journal import Journal
    from musictagger.tags import read_tags

    win, c = window, window.controller
    alpha = _key_of(win, "Alpha")
    _suggest(qtbot, win, [alpha])
    qtbot.waitUntil(lambda: win.detail.entry is not None and win.detail.entry.key == alpha, timeout=TIMEOUT_MS)
    win.detail.add_edit.setText("Funeral Doom Metal")
    qtbot.keyClick(win.detail.add_edit, Qt.Key.Key_Return)
    win.actions.apply.trigger()
    qtbot.waitUntil(lambda: win.apply_dialog is not None and win.apply_dialog.isVisible(), timeout=TIMEOUT_MS)
    done: list = []
    c.run_finished.connect(done.append)
    win.apply_dialog.apply_button.click()
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT_MS)

    custom = read_tags(library["alpha"][0], pictures=False).custom
    confidences = custom["MUSICTAGGER_CONFIDENCES"]
    assert "Funeral Doom Metal=manual" in confidences, confidences
    assert "Funeral Doom Metal=0.00" not in confidences
    assert "Black Metal=0." in confidences  # model tags keep their confidence
    with Journal() as journal:
        run = journal.runs()[0]
        entry = journal.entries(run.id)[0]
    assert run.meta["manual"] == {str(library["alpha_dir"]): ["Funeral Doom Metal"]}
    assert "Funeral Doom Metal=manual" in json.dumps(entry.new)


# ------------------------------------------------------------------------------ 4. learn dialog


def _visible_text(widget) -> str:
    """What a person can read in ``widget``: labels, text views, lists, progress bars."""
    from PySide6.QtWidgets import QLabel, QListWidget, QPlainTextEdit, QProgressBar, QTextEdit

    parts = []
    for w in widget.findChildren(QLabel):
        parts.append(w.text())
    for w in widget.findChildren(QTextEdit) + widget.findChildren(QPlainTextEdit):
        parts.append(w.toPlainText())
    for w in widget.findChildren(QListWidget):
        parts += [w.item(i).text() for i in range(w.count())]
    for w in widget.findChildren(QProgressBar):
        parts.append(w.text())
    return "\n".join(parts)


def test_learn_dialog_shows_phases_and_a_readable_report(qtbot, window):
    from PySide6.QtWidgets import QProgressBar

    from musictagger.gui.learn_dialog import LearnDialog, training_available

    if not training_available():
        pytest.skip("training core not installed")
    dialog = LearnDialog(window.controller, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled(), timeout=TIMEOUT_MS)
    text = _visible_text(dialog)
    assert "LearnReport(" not in text and "not_trained" not in text, text
    assert "Nothing could be learnt" in text  # two albums are not a training set
    assert "cover model" in text and "audio model" in text  # each kind, with the reason
    assert re.search(r"●\s+Read your library's tags", text), text  # the scan phase, done
    bar = dialog.findChild(QProgressBar)
    assert "Scanning" not in bar.text() and bar.value() == bar.maximum()


def test_learn_report_lists_per_label_figures_and_links_the_pack_report(tmp_path):
    from musictagger.gui.learn_dialog import render_report
    from musictagger.training.learning import LearnedPack, LearnReport

    pack_dir = tmp_path / "my-library-cover"
    pack_dir.mkdir()
    (pack_dir / "MODEL_CARD.md").write_text("# card\n")
    report = LearnReport(
        trained=[
            LearnedPack(
                kind="cover",
                name="my-library-cover",
                path=str(pack_dir),
                mode="linear-head",
                base="covers-v1 1.0.0",
                labels=["black-metal", "doom-metal"],
                label_counts={"black-metal": 40, "doom-metal": 6},
                albums_used=46,
                albums_skipped=3,
                macro_ap=0.62,
                per_label_ap={"black-metal": 0.81, "doom-metal": None},
                elapsed_s=75.0,
            )
        ],
        not_trained={"audio": "only 1 album has a genre the taxonomy knows"},
    )
    html = render_report(report)
    assert "Black Metal" in html and "81%" in html and "40" in html
    assert "Doom Metal" in html and "n/a" in html  # no figure is not 0 %
    assert "62%" in html and "covers-v1 1.0.0" in html
    assert "only 1 album" in html
    assert "MODEL_CARD.md" in html  # the link to the pack's own report


# ------------------------------------------------------------------------------ 5. undo and errors


def test_nothing_to_undo_is_information_and_a_bad_file_is_listed_once(qtbot, window, library, tmp_path):
    win, c = window, window.controller
    assert not win.actions.undo_run.isEnabled()  # a fresh library has nothing to undo
    infos: list[str] = []
    c.info.connect(infos.append)
    c.undo()  # as Ctrl+Z did before the action knew
    qtbot.waitUntil(lambda: bool(infos), timeout=TIMEOUT_MS)
    assert "Nothing to undo" in infos[0]
    assert win.errors.count == 0

    bad = library["root"] / "Broken"
    bad.mkdir()
    (bad / "01 broken.mp3").write_bytes(b"not an mp3 at all" * 10)
    scanned: list = []
    c.scanned.connect(scanned.append)
    win.actions.rescan.trigger()
    qtbot.waitUntil(lambda: len(scanned) == 1, timeout=TIMEOUT_MS)
    second = tmp_path / "second"
    (second / "Band C" / "Gamma").mkdir(parents=True)
    make_track(second / "Band C" / "Gamma", "ogg", title="G1", artist="Band C", album="Gamma")
    c.add_roots([str(second)])  # adding a folder rescans the whole library
    qtbot.waitUntil(lambda: len(scanned) == 2, timeout=TIMEOUT_MS)
    broken = [e for e in win.errors.items() if e.path.endswith("broken.mp3")]
    assert len(broken) == 1, [e.path for e in win.errors.items()]
    assert win.errors.count == 1


def test_a_folder_added_while_a_scan_runs_is_scanned_after_it(qtbot, window, library, tmp_path):
    c = window.controller
    second = tmp_path / "second"
    (second / "Band C" / "Gamma").mkdir(parents=True)
    make_track(second / "Band C" / "Gamma", "ogg", title="G1", artist="Band C", album="Gamma")
    scanned: list = []
    c.scanned.connect(scanned.append)
    assert c.scan()  # running: its end has not reached this thread yet
    c.add_roots([str(second)])
    from musictagger.gui.tasks import ScanTask

    # Two scans, then none running (a scan's result reaches this thread just before its end does).
    qtbot.waitUntil(lambda: len(scanned) == 2 and not c.is_running(ScanTask), timeout=TIMEOUT_MS)
    assert "Gamma" in {e.album.album for e in c.model.entries}
    qtbot.wait(200)
    assert len(scanned) == 2  # and no third one


# ------------------------------------------------------------------------------ 7. results explain themselves


@pytest.fixture
def doubtful(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A library whose cover pack reaches no threshold (every label below 0.5)."""
    home = tmp_path / "home"
    monkeypatch.setenv("MUSICTAGGER_HOME", str(home))
    make_cover_pack(home / "data" / "models", {"black-metal": -0.4, "doom-metal": -1.2, "jazz": -6.0})
    root = tmp_path / "music"
    folder = root / "Band D" / "Delta"
    folder.mkdir(parents=True)
    make_track(folder, "flac", title="D1", artist="Band D", album="Delta", cover=make_cover((10, 10, 10), (64, 64)))
    cfg = Config()
    cfg.library.roots = [str(root)]
    cfg.inference.packs = "user"
    cfg.inference.device = "cpu"
    save_config(cfg)
    return root


def test_no_suggestion_above_threshold_shows_greyed_best_guesses_with_numbers(qtbot, doubtful):
    from musictagger.gui.app import create_window
    from musictagger.gui.suggestion_model import RowRole

    win = create_window()
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == 1, timeout=TIMEOUT_MS)
    key = win.controller.model.entries[0].key
    _suggest(qtbot, win, [key])
    qtbot.waitUntil(lambda: win.detail.entry is not None and win.detail.suggestions.rowCount() > 0, timeout=TIMEOUT_MS)
    assert "Nothing above your threshold" in win.detail.tags_title.text()
    model = win.detail.suggestions
    rows = [model.index(i).data(RowRole) for i in range(model.rowCount())]
    assert [r.name for r in rows][:2] == ["Black Metal", "Doom Metal"]  # best first
    assert all(r.kind == "guess" for r in rows)
    assert not any(
        model.index(i).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked for i in range(len(rows))
    )
    tip = model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert "cover: 40%" in tip and "audio: n/a" in tip  # a number, and n/a (no audio model) is not 0 %
    jazz = next(r for r in rows if r.name == "Jazz")
    assert dict(jazz.evidence) == {"cover": pytest.approx(0.0025, abs=1e-3), "audio": None}
    assert "cover: 0%" in model.index(rows.index(jazz)).data(Qt.ItemDataRole.ToolTipRole)
    chips = _chip_states(win, key)
    assert chips == {"Black Metal": False, "Doom Metal": False, "Jazz": False}  # shown greyed in the table

    # Ticking a best guess accepts it; Apply would write it.
    model.toggle(0)
    assert win.controller.model.entry(key).pending_labels() == ["Black Metal"]
    win.close()


# ------------------------------------------------------------------------------ 8. apply diff


def _apply_diff_of(qtbot, home: Path, roots: list[Path], albums: int, **tags_settings):
    """The app on ``roots`` with a cover pack that is sure of Black Metal: Suggest All, then the
    apply diff of every album (returns the window; its ``apply_dialog`` is open)."""
    from musictagger.gui.app import create_window

    make_cover_pack(home / "data" / "models", {"black-metal": 3.0})
    cfg = Config()
    cfg.library.roots = [str(r) for r in roots]
    cfg.inference.packs = "user"
    for key, value in tags_settings.items():
        setattr(cfg.tags, key, value)
    save_config(cfg)
    win = create_window()
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == albums, timeout=TIMEOUT_MS)
    _suggest(qtbot, win, None)
    win.actions.apply_all.trigger()
    qtbot.waitUntil(lambda: win.apply_dialog is not None and win.apply_dialog.isVisible(), timeout=TIMEOUT_MS)
    return win


def test_apply_diff_is_grouped_by_album_and_folder_genre_first_old_in_full(qtbot, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MUSICTAGGER_HOME", str(home))
    old = ["Death Metal", "Melodic Death Metal", "Technical Death Metal", "Progressive Metal"]
    roots = [tmp_path / "music", tmp_path / "incoming"]
    red = make_cover((200, 30, 30), (64, 64))
    for root in roots:  # the same album in two folders
        folder = root / "Band" / "Same"
        folder.mkdir(parents=True)
        for i in (1, 2, 3):
            make_track(folder, "mp3", title=f"Track {i}", artist="Band", album="Same", track=i, genres=old, cover=red)
    win = _apply_diff_of(qtbot, home, roots, 2, max_genres=0)
    tree = win.apply_dialog.tree
    assert tree.topLevelItemCount() == 2  # one row per album, not one per file
    folders = set()
    for i in range(2):
        album = tree.topLevelItem(i)
        assert album.text(0) in ("Band — Same  (music/Band/Same)", "Band — Same  (incoming/Band/Same)")
        assert album.text(1) == "; ".join(old)  # the genre change on the album's row, Old whole
        assert "Black Metal" in album.text(2)
        labels = [album.child(j).text(0) for j in range(album.childCount())]
        assert labels[0].startswith("Folder: ") and labels[1] == "Files (3)" and labels[2].startswith("Provenance")
        folders.add(album.child(0).text(0).removeprefix("Folder: "))
        assert not album.child(2).isExpanded()  # provenance folded
    assert folders == {str(r / "Band" / "Same") for r in roots}
    fm = tree.fontMetrics()
    assert tree.columnWidth(1) >= fm.horizontalAdvance("; ".join(old))  # Old not cut
    win.apply_dialog.reject()
    win.close()


def test_apply_diff_says_when_an_albums_genre_does_not_change(qtbot, tmp_path, monkeypatch):
    """An album already tagged with what was accepted: its row says so, not two empty cells."""
    home = tmp_path / "home"
    monkeypatch.setenv("MUSICTAGGER_HOME", str(home))
    folder = tmp_path / "music" / "Band" / "Tagged"
    folder.mkdir(parents=True)
    make_track(folder, "flac", artist="Band", album="Tagged", genres=["Black Metal", "Metal"], cover=make_cover())
    win = _apply_diff_of(qtbot, home, [tmp_path / "music"], 1)
    album = win.apply_dialog.tree.topLevelItem(0)
    assert album.text(0) == "Band — Tagged"
    assert album.text(1) == "(genre unchanged)" and album.text(2) == ""
    tree = win.apply_dialog.tree
    assert tree.columnWidth(1) >= tree.fontMetrics().horizontalAdvance("(genre unchanged)") + 20  # not cut
    assert "Provenance" in album.child(album.childCount() - 1).text(0)
    win.apply_dialog.reject()
    win.close()


# ------------------------------------------------------------------------------ 9. folders, first start


def test_two_copies_of_an_album_are_told_apart_by_folder(qtbot, library, tmp_path):
    from musictagger.gui.album_model import Column
    from musictagger.gui.app import create_window

    copy = tmp_path / "incoming" / "Band A" / "Alpha"
    copy.mkdir(parents=True)
    make_track(copy, "flac", title="A1", artist="Band A", album="Alpha", track=1)
    win = create_window()
    qtbot.addWidget(win)
    win.controller.add_roots([str(tmp_path / "incoming")])
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == 3, timeout=TIMEOUT_MS)
    model = win.controller.model
    rows = [r for r in range(model.rowCount()) if model.index(r, Column.ALBUM).data() == "Alpha"]
    assert len(rows) == 2
    shown = {model.index(r, Column.FOLDER).data() for r in rows}
    assert shown == {os.path.join("music", "Band A", "Alpha"), os.path.join("incoming", "Band A", "Alpha")}
    tips = {model.index(r, Column.ALBUM).data(Qt.ItemDataRole.ToolTipRole) for r in rows}
    assert tips == {str(library["alpha_dir"]), str(copy)}
    assert not win.table.isColumnHidden(Column.FOLDER)
    win.close()


def test_first_start_shows_the_welcome_panel_and_actions_wait_for_a_library(qtbot, tmp_path, monkeypatch):
    from musictagger.gui.app import create_window

    monkeypatch.setenv("MUSICTAGGER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_MUSIC_DIR", str(tmp_path / "no-music"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/Music either
    win = create_window()
    qtbot.addWidget(win)
    qtbot.wait(50)
    a = win.actions
    assert win.stack.currentWidget() is win.welcome and win.welcome.isVisible()
    assert "Add your music folder" in win.welcome.findChild(type(win.status.device_label), "welcomeText").text()
    for action in (a.suggest, a.suggest_all, a.apply, a.apply_all, a.undo_run, a.tag_library, a.rescan):
        assert not action.isEnabled(), action.text()
    assert a.add_folder.isEnabled()

    music = tmp_path / "music" / "Band" / "Album"
    music.mkdir(parents=True)
    make_track(music, "flac", title="T", artist="Band", album="Album")
    win.controller.add_roots([str(tmp_path / "music")])
    qtbot.waitUntil(
        lambda: win.controller.model.rowCount() == 1 and not win.controller.runner.busy(), timeout=TIMEOUT_MS
    )
    assert win.stack.currentWidget() is win.table
    assert a.suggest_all.isEnabled() and a.rescan.isEnabled() and not a.undo_run.isEnabled()
    win.close()


# ------------------------------------------------------------------------------ 6. layout


def test_chips_never_overflow_their_cell():
    from musictagger.gui.chips import plan_chips

    rng = random.Random(7)
    for _ in range(2000):
        widths = [rng.uniform(30, 160) for _ in range(rng.randint(0, 8))]
        available = rng.uniform(10, 500)
        plan = plan_chips(widths, available, gap=4, more_width=lambda n: 28 + 7 * len(str(n)), min_width=36)
        used = sum(plan.widths) + 4 * max(0, len(plan.widths) - 1)
        if plan.more:
            used += (4 if plan.widths else 0) + 28 + 7 * len(str(plan.more))
        assert used <= available + 1e-6, (widths, available, plan)
        assert len(plan.widths) + plan.more in (len(widths), 0) or plan.more == len(widths) - len(plan.widths)
        assert all(w <= want + 1e-9 for w, want in zip(plan.widths, widths))
        if sum(widths) + 4 * max(0, len(widths) - 1) <= available:
            assert plan.widths == widths and plan.more == 0


def test_layout_at_the_default_and_the_minimum_size(qtbot, window, library):
    from PySide6.QtWidgets import QToolButton

    from musictagger.gui.album_model import Column
    from musictagger.gui.detail import MIN_TAG_ROWS
    from musictagger.gui.evidence import EvidenceDelegate
    from musictagger.progress import Progress

    win = window
    win.resize(1280, 780)
    win.show()
    qtbot.waitUntil(lambda: win.table.isVisible())
    qtbot.wait(50)
    header = win.table.horizontalHeader()
    right = header.sectionViewportPosition(Column.STATUS) + header.sectionSize(Column.STATUS)
    assert right <= win.table.viewport().width(), "Status is on screen at the default size"
    assert header.sectionSize(Column.SUGGESTED) >= 200

    # The errors panel takes room from the table, never the album panel's tag list.
    win.errors.add("scan", "/x", "a problem")
    win.errors.show()
    qtbot.wait(50)
    row_h = EvidenceDelegate.row_height(win.detail.suggestion_view.fontMetrics())
    assert win.detail.suggestion_view.height() >= MIN_TAG_ROWS * row_h

    # A long progress line is elided, whole in its tooltip.
    long = Progress("suggest", 12, 64, "A Band With A Very Long Name — " + " ".join(["An Album Title"] * 8), eta_s=40)
    win.status.show_progress(long)
    label = win.status.task_label
    assert label.toolTip().endswith("An Album Title") and label.shown_text().endswith("…")
    assert label.fontMetrics().horizontalAdvance(label.shown_text()) <= label.contentsRect().width()

    # At the minimum size every toolbar action is on screen or in the toolbar's » menu.
    win.resize(win.minimumSizeHint())
    qtbot.wait(100)
    tb = win.toolbar
    ext = tb.findChild(QToolButton, "qt_toolbar_ext_button")
    hidden = [
        a
        for a in tb.actions()
        if not a.isSeparator() and tb.widgetForAction(a) and not tb.widgetForAction(a).isVisible()
    ]
    assert not hidden or (ext is not None and ext.isVisible()), [a.text() for a in hidden]
    assert tb.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly


@pytest.mark.parametrize("dark", [False, True])
def test_rejected_chips_and_guesses_are_readable_on_both_themes(dark):
    from musictagger.gui.chips import muted_text_color

    palette = QPalette()
    base, text = (QColor(30, 30, 30), QColor(230, 230, 230)) if dark else (QColor(255, 255, 255), QColor(20, 20, 20))
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.Text, text)

    def luminance(c) -> float:
        def lin(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())

    muted = muted_text_color(palette)
    hi, lo = sorted((luminance(muted), luminance(base)), reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 3.0  # WCAG for large/UI text


def test_every_setting_has_a_tooltip_and_confidences_are_percent(qtbot, window):
    from PySide6.QtWidgets import QFormLayout

    from musictagger.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.controller.config, window)
    qtbot.addWidget(dialog)
    fields = []
    for form in dialog.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            for role in (QFormLayout.ItemRole.FieldRole, QFormLayout.ItemRole.SpanningRole):
                item = form.itemAt(row, role)
                if item is not None and item.widget() is not None:
                    fields.append(item.widget())
    assert len(fields) >= 15
    missing = [type(w).__name__ + " " + (w.text() if hasattr(w, "text") else "") for w in fields if not w.toolTip()]
    assert not missing, missing
    assert dialog.min_confidence.suffix() == "%" and dialog.auto_threshold.suffix() == "%"
    dialog.min_confidence.setValue(35)
    assert dialog.result_config().inference.min_confidence == pytest.approx(0.35)


# ------------------------------------------------------------------------------ the cover grid


def test_cover_grid_shares_the_selection_and_the_actions(qtbot, window, library):
    from musictagger.gui.album_model import EntryRole

    win, c = window, window.controller
    win.resize(1280, 780)
    win.show()
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # View ▸ Grid
    assert win.stack.currentWidget() is win.grid and win.actions.view_grid.isChecked()
    qtbot.waitUntil(lambda: win.grid.isVisible())
    grid = win.grid
    beta_row = next(
        r for r in range(win.proxy.rowCount()) if win.proxy.index(r, 0).data(EntryRole).album.album == "Beta"
    )
    rect = grid.visualRect(win.proxy.index(beta_row, 0))
    assert rect.isValid() and grid.viewport().rect().contains(rect.center())
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    beta = _key_of(win, "Beta")
    assert win.selected_keys() == [beta]  # the table's selection too
    assert win.detail.entry is not None and win.detail.entry.key == beta
    done: list = []
    c.suggest_finished.connect(done.append)
    qtbot.keyClick(grid, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)  # Ctrl+G from the grid
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT_MS)
    assert c.model.entry(beta).status.label == "Suggested"
    assert c.model.entry(_key_of(win, "Alpha")).status.label == "New"
    # Ctrl+1: back to the table, the same album selected.
    qtbot.keyClick(win, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is win.table
    assert win.selected_keys() == [beta]


def _grid_albums(n: int) -> list:
    """``n`` albums that exist only in the table (no files: the grid shows their placeholders)."""
    from musictagger.library import Album, Track

    albums = []
    for i in range(n):
        track = Track(path=f"/grid/{i}/01.flac", format="flac", title="T", artist="A", album=f"Album {i}")
        albums.append(Album(f"grid\x1f{i}", f"/grid/{i}", f"Album {i}", "A", 2000, [track], "none"))
    return albums


def test_cover_grid_tiles_fill_the_width_at_any_window_size(qtbot, window):
    from musictagger.gui.grid import GRID_COVER, PAD

    win = window
    win.controller.model.set_albums(_grid_albums(40))
    win.show()
    win.set_view("grid")
    grid = win.grid
    for width in (1280, 1000, 1500):
        win.resize(width, 780)

        def laid_out(width: int = width) -> None:
            first_row = [grid.visualRect(grid.model().index(r, 0)) for r in range(grid.model().rowCount())]
            first_row = [r for r in first_row if r.top() == first_row[0].top()]
            assert len(first_row) >= 2 and first_row[0].width() >= GRID_COVER + 2 * PAD
            gap = grid.viewport().width() - (first_row[-1].right() + 1)
            # Whole columns share the width: what is left at the right is the spacing, plus the
            # rounding of the width into columns (under a pixel per column).
            assert 0 <= gap <= grid.spacing() + len(first_row), (width, gap, len(first_row))

        qtbot.waitUntil(laid_out, timeout=TIMEOUT_MS)


def test_covers_arriving_together_repaint_the_grid_as_one_rectangle(qtbot, window):
    """Several tiles' covers in one turn of the event loop: one rectangular repaint (a clip of
    several rectangles sends every cover through Qt's thread pool, a stall on a busy machine)."""
    from PySide6.QtCore import QEvent, QObject

    from musictagger.gui.album_model import EntryRole

    win = window
    win.controller.model.set_albums(_grid_albums(12))
    win.resize(1280, 780)
    win.show()
    win.set_view("grid")
    grid = win.grid
    qtbot.waitUntil(lambda: grid.visualRect(grid.model().index(5, 0)).isValid(), timeout=TIMEOUT_MS)

    class Regions(QObject):
        seen: list[int] = []

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint:
                self.seen.append(event.region().rectCount())
            return False

    qtbot.wait(300)
    regions = Regions()
    regions.seen = []
    grid.viewport().installEventFilter(regions)
    for row in (0, 2, 5):  # not side by side
        grid.covers.ready.emit(grid.model().index(row, 0).data(EntryRole).key)
    qtbot.waitUntil(lambda: bool(regions.seen), timeout=TIMEOUT_MS)
    qtbot.wait(100)
    grid.viewport().removeEventFilter(regions)
    assert regions.seen and all(n == 1 for n in regions.seen), regions.seen


# ------------------------------------------------------------------------------ a long run on the CPU


@pytest.fixture
def big_window(qtbot, tmp_path, monkeypatch):
    """30 albums (a cover and a 2-s track each), a tiny cover pack and a tiny audio pack on the CPU,
    and the word about Fast said as soon as a run has done one album (instead of after 20 minutes)."""
    from tinypacks import make_audio_pack

    import musictagger.pipeline.speed as speed_module
    from musictagger.gui.app import create_window
    from musictagger.paths import app_dirs

    monkeypatch.setenv("MUSICTAGGER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(speed_module, "SLOW_RUN_S", 0.0)
    monkeypatch.setattr(speed_module, "ADVICE_AFTER", 1)
    models = app_dirs().ensure().models
    test_gui.make_tiny_pack(models)
    make_audio_pack(models, {"black-metal": 1.0, "doom-metal": 2.0})
    root = tmp_path / "music"
    for i in range(30):
        folder = root / f"Band {i:02d}" / f"Album {i:02d}"
        folder.mkdir(parents=True)
        make_track(folder, "flac", seconds=2.0, title="T1", artist=f"Band {i:02d}", album=f"Album {i:02d}",
                   cover=make_cover((8 * i, 40, 200 - 6 * i), (96, 96)), freq=220.0 + 10 * i)  # fmt: skip
    cfg = Config()
    cfg.library.roots = [str(root)]
    cfg.inference.packs = "user"
    cfg.inference.device = "cpu"
    save_config(cfg)
    win = create_window()
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.model.rowCount() == 30, timeout=TIMEOUT_MS)
    yield win
    win.close()


def test_a_long_thorough_run_on_the_cpu_offers_fast_and_goes_on_fast(qtbot, big_window):
    from musictagger.config import load_config
    from musictagger.pipeline.review import Status

    win, c = big_window, big_window.controller
    summaries: list = []
    c.suggest_finished.connect(summaries.append)
    win.actions.suggest_all.trigger()
    qtbot.waitUntil(win.advice.isVisible, timeout=TIMEOUT_MS)
    text = win.advice.text.text()
    assert "left on this CPU at Thorough" in text and "Fast" in text, text
    assert not summaries  # said while the run goes on
    qtbot.mouseClick(win.advice.accept_button, Qt.MouseButton.LeftButton)
    assert not win.advice.isVisible()
    assert c.config.inference.speed == "fast" and load_config().inference.speed == "fast"  # saved
    # The run stops after its current album and goes on, fast, with the albums it had not done.
    qtbot.waitUntil(lambda: len(summaries) == 2, timeout=TIMEOUT_MS)
    first, second = summaries
    assert first.cancelled and not second.cancelled
    assert 1 <= first.albums < 30 and first.albums + second.albums == 30
    assert all(e.status == Status.SUGGESTED for e in c.model.entries)
    assert not win.advice.isVisible()


def test_keep_thorough_is_not_asked_again(qtbot, big_window):
    from musictagger.gui.tasks import SuggestTask

    win, c = big_window, big_window.controller
    said: list = []
    c.speed_advice.connect(said.append)
    summaries: list = []
    c.suggest_finished.connect(summaries.append)
    running_when_told: list = []  # the summary comes once the run is over
    c.suggest_finished.connect(lambda _s: running_when_told.append(c.is_running(SuggestTask)))
    win.actions.suggest_all.trigger()
    qtbot.waitUntil(win.advice.isVisible, timeout=TIMEOUT_MS)
    qtbot.mouseClick(win.advice.decline_button, Qt.MouseButton.LeftButton)
    assert not win.advice.isVisible() and c.config.inference.speed == "full"
    qtbot.waitUntil(lambda: len(summaries) == 1, timeout=TIMEOUT_MS)
    assert not summaries[0].cancelled and summaries[0].albums == 30  # the run went on, thorough
    # The summary comes once the run is over: Suggest runs again at once (cached now; the run
    # still reports its albums).
    assert c.suggest([e.key for e in c.model.entries])
    qtbot.waitUntil(lambda: len(summaries) == 2, timeout=TIMEOUT_MS)
    assert said == said[:1] and not win.advice.isVisible()
    assert running_when_told == [False, False]


def test_the_advice_bar_fits_any_width_and_never_widens_the_window(qtbot, window):
    from PySide6.QtWidgets import QBoxLayout

    from musictagger.pipeline.speed import speed_advice
    from musictagger.progress import Progress

    win, bar = window, window.advice
    win.show()
    win.resize(win.minimumSizeHint())
    qtbot.waitUntil(lambda: win.size() == win.minimumSizeHint())
    narrowest = win.width()
    bar.show_advice(speed_advice(Progress("suggest", 5, 4000, eta_s=9000.0), "full", "CPU (2 threads)") or "")

    def arranged(direction: QBoxLayout.Direction) -> None:
        assert bar.isVisible() and bar.main.direction() == direction
        for button in (bar.accept_button, bar.decline_button):  # whole, inside the bar
            assert button.isVisible() and bar.rect().contains(button.geometry()), button.text()
        assert bar.text.height() >= bar.text.heightForWidth(bar.text.width())  # no line cut off

    # At the minimum size: the text, then the buttons below it; the window no wider.
    qtbot.waitUntil(lambda: arranged(QBoxLayout.Direction.TopToBottom), timeout=TIMEOUT_MS)
    assert win.width() == narrowest and win.minimumSizeHint().width() == narrowest
    win.resize(1280, 780)  # wide: the buttons beside the text
    qtbot.waitUntil(lambda: arranged(QBoxLayout.Direction.LeftToRight), timeout=TIMEOUT_MS)


# ------------------------------------------------------------------------------ 10. the core process


def test_the_window_never_imports_torch_and_survives_a_crash_of_the_core_process(qtbot, window, library):
    win, c = window, window.controller
    alpha = _key_of(win, "Alpha")
    _suggest(qtbot, win, [alpha])
    pid = c.core.pid
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)  # a crash in a native library
    qtbot.waitUntil(lambda: not c.core.alive, timeout=TIMEOUT_MS)
    beta = _key_of(win, "Beta")
    _suggest(qtbot, win, [beta])  # a new core process, the models loaded again
    assert c.model.entry(beta).status.label == "Suggested"
    assert c.core.pid not in (None, pid)
    assert win.isVisible()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX priorities")
def test_the_core_process_defers_to_the_window_on_a_busy_machine(qtbot, window, library):
    from musictagger.gui.worker_main import NICENESS

    _suggest(qtbot, window, [_key_of(window, "Alpha")])
    pid = window.controller.core.pid
    assert pid is not None
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert NICENESS >= 10  # well below the window: inference never competes with a repaint
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, own + NICENESS)


def test_the_shell_is_painted_before_pyside_builds_the_qt_namespace(library):
    """The first use of PySide6's ``Qt`` namespace builds all its ~94 enum types (~25 ms): the
    window's shell must paint without it (from the second start on: the first places the album
    panel by name), and the album panel is on the right either way."""
    code = textwrap.dedent("""
        import enum, sys
        built = []
        create = enum.EnumType._create_
        def spy(cls, name, *args, **kwargs):
            built.append(name)
            return create(cls, name, *args, **kwargs)
        enum.EnumType._create_ = spy
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from musictagger.gui.app import create_window
        w = create_window(progressive=True)
        while not (w.windowHandle() and w.windowHandle().isExposed()):
            app.processEvents()
        before = "AlignmentFlag" in built
        while not w.built:
            app.processEvents()
        from PySide6.QtCore import Qt
        right = w.dockWidgetArea(w.detail_dock) == Qt.DockWidgetArea.RightDockWidgetArea
        print("QT_NAMESPACE_BEFORE_PAINT", before, "RIGHT", right, "VISIBLE", w.detail_dock.isVisible())
        w.close()
    """)
    env = {**os.environ, "MUSICTAGGER_HOME": str(library["home"]), "QT_QPA_PLATFORM": "offscreen"}
    lines = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        lines += [ln for ln in out.stdout.splitlines() if ln.startswith("QT_NAMESPACE")]
    assert lines == [
        "QT_NAMESPACE_BEFORE_PAINT True RIGHT True VISIBLE True",  # first start: placed by name
        "QT_NAMESPACE_BEFORE_PAINT False RIGHT True VISIBLE True",  # then from the saved layout
    ]


def test_suggest_in_a_fresh_app_does_not_load_torch_in_the_window_process(library):
    code = textwrap.dedent("""
        import sys, time
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from musictagger.gui.app import create_window
        w = create_window()
        deadline = time.time() + 120
        while w.controller.model.rowCount() < 2 and time.time() < deadline:
            app.processEvents(); time.sleep(0.01)
        done = []
        w.controller.suggest_finished.connect(done.append)
        assert w.controller.suggest(None)
        while not done and time.time() < deadline:
            app.processEvents(); time.sleep(0.01)
        labels = [e.status.label for e in w.controller.model.entries]
        print("STATUS", labels, "TORCH", "torch" in sys.modules)
        w.close()
    """)
    env = {**os.environ, "MUSICTAGGER_HOME": str(library["home"]), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "STATUS ['Suggested', 'Suggested'] TORCH False" in out.stdout, out.stdout + out.stderr


def test_asking_a_model_for_a_role_it_does_not_serve_never_aborts_the_app(window):
    """PySide6 drops a reference to None on each such call (CPython < 3.12); musictagger.gui keeps
    None (and the bools, seen to abort the same way while the grid scrolled) alive, so the album
    table and grid can repaint forever (see musictagger.gui.keep_singletons_alive)."""
    import ctypes

    def references(obj) -> int:  # without the guard's share
        return ctypes.c_ssize_t.from_address(id(obj)).value % (1 << 40)

    index = window.controller.model.index(0, 0)
    for _ in range(references(None) + 100):
        assert index.data(Qt.ItemDataRole.FontRole) is None


def test_disabled_labels_stay_readable_on_a_dark_theme(qtbot, window):
    from musictagger.gui.resources import _contrast, apply_stylesheet
    from musictagger.gui.screenshot import dark_palette

    window.setPalette(dark_palette())  # like several dark themes: disabled text barely visible
    apply_stylesheet(window)
    pal = window.palette()
    for text, back in (
        (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
        (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
        (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    ):
        fg = pal.color(QPalette.ColorGroup.Disabled, text)
        bg = pal.color(QPalette.ColorGroup.Disabled, back)
        assert _contrast(fg, bg) >= 3.0, (text, fg.name(), bg.name())
    assert not window.actions.undo_run.isEnabled()  # greyed, and readable


def test_opening_a_dialog_does_not_repaint_the_library(qtbot, window):
    """A modal dialog deactivates the main window; the library table must not repaint every row for
    it (with thousands of albums on screen that repaint is what held the event loop up)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QDialog

    win = window
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: win.isActiveWindow() and win.controller.model.rowCount() >= 2)
    # The scan and the models' warm-up over: what they change repaints the table by right.
    qtbot.waitUntil(lambda: not win.controller.runner.active and win.engine_info is not None, timeout=TIMEOUT_MS)

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    counter = PaintCounter()
    win.table.viewport().installEventFilter(counter)

    def quiet() -> None:  # covers still arriving repaint their rows: wait until they are all in
        counter.paints = 0
        qtbot.wait(300)
        assert counter.paints == 0

    qtbot.waitUntil(quiet, timeout=TIMEOUT_MS)
    dialog = QDialog(win)
    dialog.open()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: not win.isActiveWindow())
    qtbot.wait(100)
    dialog.reject()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.wait(100)
    win.table.viewport().removeEventFilter(counter)
    assert counter.paints == 0
