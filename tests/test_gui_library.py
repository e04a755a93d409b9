"""The GUI part of learning from my library (#13), driven for real: a generated tagged library, tiny
base packs on the real pretrained backbones, the real window and core process.

Learn from My Library in the dialog (phases, per-genre figures, the check-my-tags list whose
entries select albums), then Suggest on a new album: the album panel lists the library's albums
that look or sound like it, with their covers, and the artist prior; clicking one selects it.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("torch")

from PySide6.QtCore import Qt  # noqa: E402

from musictagger.config import Config, save_config  # noqa: E402
from musictagger.ml import backbones  # noqa: E402

TIMEOUT_MS = 120_000
needs_backbones = pytest.mark.skipif(
    any(importlib.util.find_spec(backbones.source(n).module) is None for n in ("efficientnet-lite0", "musicnn-msd")),
    reason="the pretrained backbone packages are not installed (make setup)",
)


# ------------------------------------------------------------------------------ words and rows (no window)


def test_the_artist_prior_in_words():
    from musictagger.gui.library_panel import artist_sentence

    assert artist_sentence("Death Metal", (3, 4)) == "3 of this artist's 4 other albums are tagged Death Metal"
    assert artist_sentence("Death Metal", (1, 4)) == "1 of this artist's 4 other albums is tagged Death Metal"
    assert artist_sentence("Jazz", (2, 2)) == "Both of this artist's other albums are tagged Jazz"
    assert artist_sentence("Jazz", (5, 5)) == "All 5 of this artist's other albums are tagged Jazz"
    assert artist_sentence("Jazz", (0, 2)) == "Neither of this artist's other albums is tagged Jazz"
    assert artist_sentence("Jazz", (0, 3)) == "None of this artist's 3 other albums is tagged Jazz"
    assert artist_sentence("Jazz", (1, 1)) == "This artist's other album is tagged Jazz"
    assert artist_sentence("Jazz", (0, 1)) == "This artist's other album is not tagged Jazz"
    assert artist_sentence("Jazz", (0, 0)) == ""


def test_artist_counts_survive_the_saved_review_and_extend_the_json():
    from musictagger.pipeline.evidence import SimilarAlbum
    from musictagger.pipeline.review import AlbumReview, review_from_row, review_to_row
    from musictagger.pipeline.types import AlbumSuggestions, Suggestion

    sim = SimilarAlbum("/m/A/B", "B", "A", 0.87, "cover")
    s = Suggestion("jazz", "Jazz", 0.8, cover=0.7, artist=0.75, similar=(sim,), artist_detail=(3, 4))
    review = AlbumReview("k", result=AlbumSuggestions("k", "/m/A/New", "New", "A", [s]))
    again = review_from_row(review_to_row(review))
    assert again.result is not None and again.result.suggestions[0] == s  # the tuple, not a list
    out = s.to_json()
    assert out["artist_prior"] == {"albums_with_label": 3, "other_albums": 4}
    assert out["similar"][0]["similarity"] == 0.87
    assert "artist_prior" not in Suggestion("jazz", "Jazz", 0.8).to_json()  # only where it spoke


def test_the_learn_report_renders_genres_confusions_the_cache_and_the_html_link(tmp_path):
    from musictagger.gui.learn_dialog import check_rows, confused_pairs, render_report
    from musictagger.training.learning import Confusion, LabelResult, LearnedPack, LearnReport, TagCheck

    page = tmp_path / "my-library-report.html"
    page.write_text("<html></html>")
    pack = LearnedPack("cover", "my-library-cover", str(tmp_path), "head on covers-v2", "covers-v2 2.0.0",
                       ["death-metal", "melodic-death-metal"], {}, 30, 0, 0.7, {}, 2.0, folds=5)  # fmt: skip
    audio = LearnedPack("audio", "my-library-audio", str(tmp_path), "head on audio-v2", "audio-v2 2.0.0",
                        ["death-metal"], {}, 28, 0, 0.6, {}, 1.0, folds=5)  # fmt: skip
    report = LearnReport(
        trained=[pack, audio],
        albums_used=30,
        albums_skipped=4,
        embedded=5,
        labels=[
            LabelResult(
                "death-metal",
                "Death Metal",
                20,
                7,
                True,
                per_kind={"cover": {"ap": 0.91, "auc": 0.9}, "audio": {"ap": 0.66, "auc": 0.8}},
            ),
            LabelResult(
                "melodic-death-metal", "Melodic Death Metal", 10, 4, True, per_kind={"cover": {"ap": None, "auc": None}}
            ),
            LabelResult("funeral-doom-metal", "Funeral Doom Metal", 1, 1, False, why="1 album; at least 6 are needed"),
        ],  # fmt: skip
        confusions=[Confusion("death-metal", ["death-metal", "melodic-death-metal"], [[12, 2], [6, 4]])],
        check_my_tags=[TagCheck("/m/Band/Odd", "Odd", "Band", [("Jazz", 0.05)], [("Black Metal", 0.93)], 1.9)],
        html_path=str(page),
    )
    text = render_report(report)
    assert "Genres learnt" in text and "Death Metal" in text and "91%" in text and "66%" in text
    assert "Melodic Death Metal" in text and "n/a" in text
    assert "Funeral Doom Metal" in text and "at least 6" in text  # not learnt, and why
    assert "<b>5</b> had to be looked at and listened to, 25 came from the cache" in text
    assert "5-fold cross-validation by artist" in text and "covers-v2 2.0.0" in text
    assert confused_pairs(report)[0] == ("Melodic Death Metal", "Death Metal", 6, 10)
    assert "<b>6</b> of 10 Melodic Death Metal albums scored highest as Death Metal" in text
    assert page.as_uri() in text or "my-library-report.html" in text
    assert check_rows(report) == [("Band — Odd", "Jazz 5%", "Black Metal 93%", "/m/Band/Odd", "Odd")]


# ------------------------------------------------------------------------------ the whole flow, for real


@pytest.fixture
def tagged_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Black Metal (dark covers, noise) and Jazz (bright covers, chords): three artists of two
    albums each; a Jazz-looking album tagged Black Metal (a mistake to find); a new, untagged album
    by a Jazz artist. The base packs — tiny heads on EfficientNet-Lite0 and musicnn — are user packs,
    and the settings select the user's packs, so the app learns on, and suggests with, them."""
    from test_learning import _album
    from tinypacks import make_backbone_audio_pack, make_backbone_cover_pack

    monkeypatch.setenv("MUSICTAGGER_HOME", str(tmp_path / "home"))
    from musictagger.paths import app_dirs

    models = app_dirs().ensure().models
    make_backbone_cover_pack(models, ["black-metal", "jazz"], name="base-cover")
    make_backbone_audio_pack(models, name="base-audio")
    root = tmp_path / "music"
    seed = 0
    for style in ("Black Metal", "Jazz"):
        for a in range(3):
            for b in range(2):
                seed += 1
                _album(root, f"{style} Band {a}", f"Album {b}", style, style, seed)
    planted = _album(root, "Jazz Band 0", "Odd One", "Black Metal", "Jazz", 98)
    new = _album(root, "Jazz Band 1", "Brand New", "", "Jazz", 500)
    cfg = Config()
    cfg.library.roots = [str(root)]
    cfg.inference.packs = "user"
    cfg.inference.device = "cpu"
    save_config(cfg)
    return {"root": root, "planted": planted, "new": new}


def _entry_of(win, folder: Path):
    return win.controller.model.find_album(str(folder))


def _click_item(qtbot, view, rect_of) -> None:
    """Click the item at ``rect_of()`` as a user would: once its view is laid out. A list just
    filled or shown gets its geometry an event-loop turn later (a zero-height viewport until
    then, where a click lands on whatever is around it)."""
    qtbot.waitUntil(lambda: view.viewport().rect().contains(rect_of().center()), timeout=TIMEOUT_MS)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect_of().center())


@needs_backbones
@pytest.mark.slow
def test_learn_then_suggest_shows_similar_albums_that_select_on_click(qtbot, tagged_library):
    from musictagger.gui.app import create_window
    from musictagger.gui.learn_dialog import DONE
    from musictagger.pipeline import select_packs

    lib = tagged_library
    win = create_window()
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: win.controller.model.rowCount() == 14, timeout=TIMEOUT_MS)

        # Learn from My Library, in its dialog.
        win.actions.learn.trigger()
        dialog = win.learn_dialog
        assert dialog is not None and dialog.isVisible() and not dialog.isModal()
        dialog.start_button.click()
        qtbot.waitUntil(lambda: dialog.report is not None and dialog.task is None, timeout=TIMEOUT_MS)
        report = dialog.report
        assert {p.kind for p in report.trained} == {"cover", "audio"}, report.summary()
        assert all(p.base.startswith("base-") for p in report.trained)  # learnt on the packs the settings select
        assert dialog.phase_states() == {"scan": DONE, "embed": DONE, "evaluate": DONE}
        text = dialog.result.toPlainText()
        assert "Genres learnt" in text and "Jazz" in text and "Black Metal" in text
        assert "came from the cache" in text
        assert dialog.html_button.isEnabled() and Path(report.html_path).is_file()
        # The learnt packs are user packs: the default settings ("both") select them too.
        assert {"my-library-cover", "my-library-audio"} <= {p.name for p in select_packs("both")}

        # Check my tags: the planted mistake is listed; a click selects it in the main window.
        assert dialog.checks_box.isVisible()
        rows = [dialog.checks.topLevelItem(i) for i in range(dialog.checks.topLevelItemCount())]
        planted = next(r for r in rows if r.data(0, Qt.ItemDataRole.UserRole)[0] == str(lib["planted"]))
        assert "Black Metal" in planted.text(1)
        dialog.checks.scrollToItem(planted)
        _click_item(qtbot, dialog.checks, lambda: dialog.checks.visualItemRect(planted))
        qtbot.waitUntil(
            lambda: win.detail.entry is not None and win.detail.entry.album.folder == str(lib["planted"]),
            timeout=TIMEOUT_MS,  # the panel follows the selection after an event-loop turn: slow on a busy machine
        )
        assert win.selected_keys() == [win.detail.entry.key]

        # Suggest on the new album: the album panel shows albums of the library like it.
        new = _entry_of(win, lib["new"])
        done: list = []
        win.controller.suggest_finished.connect(done.append)
        win.select_keys([new.key])
        win.actions.suggest.trigger()
        qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT_MS)
        assert win.detail.entry is not None and win.detail.entry.key == new.key
        panel = win.detail.library
        assert panel.isVisible() and "Jazz" in panel.genres, panel.genres
        assert panel.show_genre("Jazz")
        model = panel.model
        assert 1 <= model.rowCount() <= 3
        sims = [model.index(i).data(Qt.ItemDataRole.UserRole + 20) for i in range(model.rowCount())]
        for sim in sims:
            assert Path(sim.folder).is_relative_to(lib["root"]) and "Jazz Band" in sim.folder
            assert sim.folder not in (str(lib["planted"]), str(lib["new"]))  # not Jazz / itself
            assert sim.source in ("cover", "audio")
        # Covers come through the thumbnail cache (decoded in the core process).
        qtbot.waitUntil(lambda: model.index(0).data(Qt.ItemDataRole.DecorationRole) is not None, timeout=TIMEOUT_MS)
        # The artist prior in words: both other albums of Jazz Band 1 are tagged Jazz.
        assert panel.artist.text() == "Both of this artist's other albums are tagged Jazz"

        # A click on a similar album selects it (the same selection as the table and the grid),
        # even when the search hides it (the search is cleared).
        win.search.setText("Brand New")
        assert win.proxy.rowCount() == 1 and win.detail.entry.key == new.key
        view = panel.albums
        _click_item(qtbot, view, lambda: view.visualRect(model.index(0)))
        qtbot.waitUntil(
            lambda: win.detail.entry is not None and win.detail.entry.album.folder == sims[0].folder,
            timeout=TIMEOUT_MS,
        )
        assert win.selected_keys() == [win.detail.entry.key] and win.search.text() == ""
    finally:
        if win.learn_dialog is not None:
            win.learn_dialog.close()
        win.close()
