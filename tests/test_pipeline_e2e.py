"""suggest → apply → undo end to end, through the real CLI, on generated files with tiny packs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from media import make_cover, make_track
from tinypacks import make_audio_pack, make_cover_pack


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    a = root / "Darkthrone" / "1992 - A Blaze"
    b = root / "Loose"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    cover = make_cover((20, 20, 20))
    for i, fmt in enumerate(("flac", "mp3", "ogg"), start=1):
        make_track(
            a,
            fmt,
            seconds=2.0,
            title=f"Song {i}",
            artist="Darkthrone",
            album="A Blaze",
            track=i,
            genres=["Metal"],
            cover=cover if i == 1 else None,
        )
    make_track(b, "m4a", seconds=2.0, title="Solo", artist="Someone", album="Single", genres=[])
    return root


@pytest.fixture
def packs(app_home: Path) -> Path:
    models = app_home / "data" / "models"
    make_cover_pack(models, {"black-metal": 3.0, "jazz": -3.0, "doom-metal": -1.0})
    make_audio_pack(models, {"black-metal": 1.0, "jazz": -3.0, "doom-metal": 2.0})
    return models


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    from musictagger.cli import main

    code = main(["--no-progress", *argv])
    return code, capsys.readouterr().out


def test_suggest_json_explains_every_label(library, packs, capsys):
    code, out = run_cli(
        capsys, "suggest", str(library), "--json", "--device", "cpu", "--models", "tiny-cover,tiny-audio"
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["device"].startswith("CPU")
    assert {p["name"] for p in data["packs"]} == {"tiny-cover", "tiny-audio"}
    albums = {a["album"]: a for a in data["albums"]}
    blaze = albums["A Blaze"]
    by_label = {s["label"]: s for s in blaze["suggestions"]}
    # cover p = sigmoid(3) = 0.953, audio p = sigmoid(1) = 0.731, equal quality → mean 0.842
    assert by_label["Black Metal"]["sources"]["cover"] == pytest.approx(0.9526, abs=1e-3)
    assert by_label["Black Metal"]["sources"]["audio"] == pytest.approx(0.7311, abs=1e-3)
    assert by_label["Black Metal"]["confidence"] == pytest.approx((0.9526 + 0.7311) / 2, abs=1e-3)
    # doom: cover 0.269, audio 0.881 → 0.575 ≥ 0.5
    assert by_label["Doom Metal"]["confidence"] == pytest.approx((0.2689 + 0.8808) / 2, abs=1e-3)
    assert "Jazz" not in by_label
    assert by_label["Metal"]["implied"] is True  # parent closure
    assert set(blaze["scores"]["cover"]) == {"Black Metal", "Jazz", "Doom Metal"}
    # the album without a cover is judged on audio alone
    single = albums["Single"]
    assert single["scores"]["cover"] == {}
    assert [s["label"] for s in single["suggestions"] if not s["implied"]] == ["Doom Metal", "Black Metal"]
    assert all(s["sources"]["cover"] is None for s in single["suggestions"])


def test_second_run_is_served_from_the_cache(library, packs, capsys):
    run_cli(capsys, "suggest", str(library), "--json", "--device", "cpu", "--models", "tiny-cover,tiny-audio")
    code, out = run_cli(
        capsys, "suggest", str(library), "--json", "--device", "cpu", "--models", "tiny-cover,tiny-audio"
    )
    assert all(a["cached"] for a in json.loads(out)["albums"])
    # Touching a track invalidates only that album's audio result.
    track = next((library / "Loose").iterdir())
    track.touch()
    code, out = run_cli(
        capsys, "suggest", str(library), "--json", "--device", "cpu", "--models", "tiny-cover,tiny-audio"
    )
    cached = {a["album"]: a["cached"] for a in json.loads(out)["albums"]}
    assert cached == {"A Blaze": True, "Single": False}


def test_min_confidence_filters(library, packs, capsys):
    code, out = run_cli(
        capsys,
        "suggest",
        str(library),
        "--json",
        "--device",
        "cpu",
        "--models",
        "tiny-cover,tiny-audio",
        "--min-confidence",
        "0.8",
    )
    blaze = next(a for a in json.loads(out)["albums"] if a["album"] == "A Blaze")
    assert [s["label"] for s in blaze["suggestions"] if not s["implied"]] == ["Black Metal"]


def test_apply_shows_diff_then_writes_then_undo_restores(library, packs, capsys):
    from musictagger.tags import read_tags

    flac = next((library / "Darkthrone").rglob("*.flac"))
    code, out = run_cli(capsys, "apply", str(library), "--device", "cpu", "--models", "tiny-cover,tiny-audio", "--json")
    data = json.loads(out)
    assert data["written"] is False and data["run_id"] is None
    assert read_tags(flac).genres == ["Metal"]  # dry run: nothing written
    changed = {Path(f["path"]).name: f["new"] for f in data["files"] if f["changed"]}
    assert changed[flac.name] == ["Metal", "Black Metal", "Doom Metal"]

    code, out = run_cli(
        capsys, "apply", str(library), "--device", "cpu", "--models", "tiny-cover,tiny-audio", "--write", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["run_id"] is not None
    assert data["summary"]["albums_tagged"] == 2
    tags = read_tags(flac)
    assert tags.genres == ["Metal", "Black Metal", "Doom Metal"]
    assert "tiny-cover 0.0.1" in tags.custom["MUSICTAGGER_MODEL"]
    assert tags.custom["MUSICTAGGER_CONFIDENCES"].startswith("Black Metal=0.84")

    code, out = run_cli(capsys, "undo", "--json")
    assert code == 0
    assert read_tags(flac).genres == ["Metal"]
    assert "MUSICTAGGER_MODEL" not in read_tags(flac).custom


def test_models_list_json(packs, capsys):
    code, out = run_cli(capsys, "models", "list", "--json")
    names = {p["name"]: p for p in json.loads(out)["packs"]}
    assert names["tiny-cover"]["kind"] == "cover" and names["tiny-cover"]["bundled"] is False
    assert names["tiny-audio"]["labels"] == ["black-metal", "jazz", "doom-metal"]


def test_a_track_that_vanished_after_the_scan_is_a_per_file_error(library, packs):
    from musictagger.config import Config
    from musictagger.library import Index, scan
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.suggester import Suggester

    cfg = Config()
    with Index() as index:
        albums = scan([library], index=index, config=cfg).albums
    blaze = next(a for a in albums if a.album == "A Blaze")
    gone = blaze.tracks[1].path
    Path(gone).unlink()
    suggester = Suggester(select_packs(names=["tiny-cover", "tiny-audio"]), cfg, device="cpu")
    results = {r.album: r for r in suggester.run(albums)}
    r = results["A Blaze"]
    assert [e.path for e in r.errors] == [gone] and "not found" in r.errors[0].message
    assert set(r.track_scores) == {t.path for t in blaze.tracks} - {gone}
    assert any(s.name == "Black Metal" for s in r.suggestions)  # the rest of the album still counts
    assert results["Single"].errors == []


def test_suggest_on_a_folder_of_pictures_scores_each_cover(tmp_path, packs, capsys):
    pics = tmp_path / "covers"
    (pics / "sub").mkdir(parents=True)
    (pics / "a.jpg").write_bytes(make_cover((200, 0, 0)))
    (pics / "sub" / "b.PNG").write_bytes(make_cover((0, 0, 200), fmt="PNG"))
    (pics / "notes.txt").write_text("not a picture")
    code, out = run_cli(capsys, "suggest", str(pics), "--json", "--device", "cpu", "--models", "tiny-cover")
    assert code == 0
    items = json.loads(out)["albums"]
    assert [(Path(i["cover"]).name, i["kind"]) for i in items] == [("a.jpg", "cover"), ("b.PNG", "cover")]
    for i in items:
        assert set(i["scores"]["cover"]) == {"Black Metal", "Jazz", "Doom Metal"}
        assert i["suggestions"][0]["label"] == "Black Metal"


def test_cover_images_beside_audio_are_not_separate_items(library, packs, capsys):
    (library / "Darkthrone" / "1992 - A Blaze" / "cover.jpg").write_bytes(make_cover())
    code, out = run_cli(capsys, "suggest", str(library), "--json", "--device", "cpu", "--models", "tiny-cover")
    assert {a["kind"] for a in json.loads(out)["albums"]} == {"album"}


def test_tracks_to_hear_spreads_a_budget_over_the_album():
    from musictagger.pipeline.speed import tracks_to_hear

    assert tracks_to_hear(10, 0) == set(range(10))
    assert tracks_to_hear(3, 4) == {0, 1, 2}
    assert tracks_to_hear(10, 4) == {1, 3, 6, 8}
    assert tracks_to_hear(12, 1) == {6}
    assert all(len(tracks_to_hear(n, k)) == min(n, k) for n in range(1, 30) for k in range(1, 8))


def test_an_audio_budget_per_album_hears_only_that_many_tracks_but_uses_cached_ones(library, packs):
    from musictagger.config import Config
    from musictagger.library import Index, scan
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.cache import ResultCache
    from musictagger.pipeline.speed import SpeedProfile
    from musictagger.pipeline.suggester import Suggester

    cfg = Config()
    with Index() as index:
        albums = scan([library], index=index, config=cfg).albums
    blaze = next(a for a in albums if a.album == "A Blaze")
    one = SpeedProfile(tracks_per_album=1)
    with ResultCache() as cache:

        def run(speed: SpeedProfile | None = None):
            suggester = Suggester(select_packs(names=["tiny-audio"]), cfg, device="cpu", cache=cache, speed=speed)
            return next(suggester.run([blaze]))

        first = run(one)
        assert set(first.track_scores) == {blaze.tracks[1].path}  # the middle track of three
        assert any(s.name == "Doom Metal" for s in first.suggestions)
        every = run()
        assert set(every.track_scores) == {t.path for t in blaze.tracks} and not every.cached
        again = run(one)  # now all three are cached: all are used, nothing decoded
        assert set(again.track_scores) == {t.path for t in blaze.tracks} and again.cached


def test_the_fast_speed_reads_one_excerpt_per_track_and_caches_apart(library, packs):
    from musictagger.config import Config
    from musictagger.library import Index, scan
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.speed import SPEEDS
    from musictagger.pipeline.suggester import Suggester

    cfg = Config()
    cfg.inference.speed = "fast"
    with Index() as index:
        albums = scan([library], index=index, config=cfg).albums
    s = Suggester(select_packs(names=["tiny-audio"]), cfg, device="cpu")
    s.load()
    assert s._loaded is not None
    (lp,) = s._loaded
    assert s.speed == SPEEDS["fast"] and lp.spec_key[2:] == (1, (0.5,)) and lp.key.endswith(SPEEDS["fast"].tag)
    assert SPEEDS["fast"].tag and not SPEEDS["full"].tag
    assert all(r.errors == [] for r in s.run(albums))


def test_embeddings_are_computed_once_cached_with_the_probabilities_and_given_per_album(library, packs):
    import numpy as np

    from musictagger.config import Config
    from musictagger.library import Index, scan
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.cache import ResultCache
    from musictagger.pipeline.suggester import Suggester

    cfg = Config()
    with Index() as index:
        albums = scan([library], index=index, config=cfg).albums
    blaze = next(a for a in albums if a.album == "A Blaze")
    with ResultCache() as cache:
        suggester = Suggester(select_packs(names=["tiny-cover", "tiny-audio"]), cfg, device="cpu", cache=cache)
        first = next(suggester.run([blaze]))
        assert not first.cached
        cover, audio = first.embeddings["tiny-cover"], first.embeddings["tiny-audio"]
        assert cover.ndim == 1 and audio.ndim == 1 and np.isfinite(cover).all() and np.isfinite(audio).all()
        suggester2 = Suggester(select_packs(names=["tiny-cover", "tiny-audio"]), cfg, device="cpu", cache=cache)
        again = next(suggester2.run([blaze]))
        assert again.cached  # nothing decoded, nothing inferred
        assert np.allclose(again.embeddings["tiny-cover"], cover, atol=1e-2)  # stored as float16
        assert np.allclose(again.embeddings["tiny-audio"], audio, atol=1e-2)


def test_a_long_thorough_run_on_the_cpu_gets_a_word_about_fast():
    from musictagger.pipeline.speed import ADVICE_AFTER, SLOW_RUN_S, speed_advice
    from musictagger.progress import Progress

    long = Progress("suggest", ADVICE_AFTER, 5000, eta_s=3 * 3600 + 600.0)
    text = speed_advice(long, "full", "CPU (2 threads)")
    assert text is not None and text.startswith("About 3 h 10 min left on this CPU at Thorough") and "3 tracks" in text
    assert speed_advice(long, "fast", "CPU (2 threads)") is None  # already fast
    assert speed_advice(long, "full", "NVIDIA H100 80GB HBM3 (cuda:0)") is None  # a GPU
    short = Progress("suggest", ADVICE_AFTER, 5000, eta_s=SLOW_RUN_S - 1.0)
    assert speed_advice(short, "full", "CPU (2 threads)") is None
    early = Progress("suggest", ADVICE_AFTER - 1, 5000, eta_s=long.eta_s)  # the ETA is not settled yet
    assert speed_advice(early, "full", "CPU (2 threads)") is None
    assert speed_advice(Progress("scan", 10, 5000, eta_s=long.eta_s), "full", "CPU (2 threads)") is None
    assert speed_advice(Progress("suggest", 10, 5000, eta_s=None), "full", "CPU (2 threads)") is None


def test_the_cli_bar_says_the_word_about_fast_once_above_the_bar(library, packs):
    import io

    from musictagger.cli.progressbar import ProgressBar
    from musictagger.cli.suggest import _speed_advice
    from musictagger.config import Config
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.suggester import Suggester
    from musictagger.progress import Progress

    suggester = Suggester(select_packs(names=["tiny-audio"]), Config(), device="cpu")
    suggester.load()  # its device is known from here on: "CPU (n threads)"
    out = io.StringIO()
    bar = ProgressBar(out, enabled=True, advice=_speed_advice(suggester))
    bar(Progress("suggest", 1, 4000, eta_s=7200.0))  # not settled yet: nothing said
    assert "tip:" not in out.getvalue()
    for done in (3, 4, 5):
        bar(Progress("suggest", done, 4000, eta_s=7200.0))
        bar._last = 0.0  # as if a tenth of a second had passed
    text = out.getvalue()
    assert text.count("tip: About 2 h 00 min left on this CPU") == 1 and "Try --speed fast." in text
    tip, bar_line = text.split("\n")[-2:]  # the tip on a line of its own, the bar drawn again below it
    assert tip.endswith("Try --speed fast.") and "5/4000" in bar_line and "tip" not in bar_line
