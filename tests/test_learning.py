"""Learning from my library, v2: heads on pretrained embeddings, looks-like / sounds-like evidence,
the artist prior, the check-my-tags list, and embeddings that are computed once.

A generated library with learnable structure: Black Metal albums have dark covers and noise,
Jazz albums bright covers and soft chords, Doom Metal albums red covers and a low drone — three
artists each. The base packs run real pretrained backbones (EfficientNet-Lite0, musicnn), small
settings (one view, one patch) so the whole learn takes seconds."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musictagger.ml import backbones

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(backbones.source(n).module) is None for n in ("efficientnet-lite0", "musicnn-msd")),
    reason="the pretrained backbone packages are not installed (make setup)",
)

STYLES = {
    "Black Metal": ((20, 20, 28), "noise"),
    "Jazz": ((235, 205, 120), "chords"),
    "Doom Metal": ((150, 20, 20), "drone"),
}


def _cover(colour, seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 30, (128, 128, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG")
    return out.getvalue()


def _audio(kind: str, seed: int, seconds: float = 3.5, sr: int = 22050) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    if kind == "noise":
        return (0.3 * rng.standard_normal(len(t))).astype(np.float32)
    if kind == "drone":
        f = 55 + 5 * rng.random()
        return (0.4 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(2 * np.pi * 2 * f * t)).astype(np.float32)
    notes = 220 * 2 ** (rng.choice([0, 3, 4, 7, 10], 3) / 12)
    return (0.15 * sum(np.sin(2 * np.pi * f * t) for f in notes) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))).astype(
        np.float32
    )


def _album(root: Path, artist: str, title: str, genre: str, style: str, seed: int) -> Path:
    from mutagen.flac import FLAC, Picture

    folder = root / artist / title
    folder.mkdir(parents=True, exist_ok=True)
    colour, sound = STYLES[style]
    path = folder / "01 Track.flac"
    sf.write(path, _audio(sound, seed), 22050, format="FLAC")
    f = FLAC(path)
    f["artist"], f["albumartist"], f["album"], f["title"], f["genre"] = artist, artist, title, "Track", genre
    pic = Picture()
    pic.type, pic.mime, pic.data = 3, "image/jpeg", _cover(colour, seed)
    f.add_picture(pic)
    f.save()
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The library, the base packs, and a MUSICTAGGER_HOME shared by the module's tests."""
    import os

    from tinypacks import make_backbone_audio_pack, make_backbone_cover_pack

    base = tmp_path_factory.mktemp("learn")
    home = base / "home"
    old = os.environ.get("MUSICTAGGER_HOME")
    os.environ["MUSICTAGGER_HOME"] = str(home)
    lib = base / "library"
    seed = 0
    for style in STYLES:
        for a in range(3):
            for b in range(2):
                seed += 1
                _album(lib, f"{style} Band {a}", f"Album {b}", style, style, seed)
    _album(lib, "Lonely Band", "Only One", "Funeral Doom Metal", "Doom Metal", 99)
    planted = _album(lib, "Jazz Band 0", "Odd One", "Black Metal", "Jazz", 98)  # tagged against its look and sound
    packs = base / "packs"
    make_backbone_cover_pack(packs, ["black-metal", "jazz", "doom-metal"], name="base-cover")
    make_backbone_audio_pack(packs, name="base-audio")
    yield {"lib": lib, "packs": packs, "home": home, "planted": planted, "base": base}
    if old is None:
        os.environ.pop("MUSICTAGGER_HOME", None)
    else:
        os.environ["MUSICTAGGER_HOME"] = old


@pytest.fixture(scope="module")
def learnt(world):
    from musictagger.ml.packs import load_pack
    from musictagger.training import learn

    base = {"cover": load_pack(world["packs"] / "base-cover"), "audio": load_pack(world["packs"] / "base-audio")}
    report = learn([world["lib"]], base=base, device="cpu", min_albums=3)
    return report, base


def test_learn_trains_both_heads_on_the_embeddings_and_beats_chance(learnt):
    report, _ = learnt
    assert {p.kind for p in report.trained} == {"cover", "audio"}
    by = {r.label: r for r in report.labels}
    for label in ("black-metal", "jazz", "doom-metal"):
        assert by[label].learnt
        # out-of-fold, artist-grouped: chance is the positive rate, about a third
        assert by[label].per_kind["cover"]["ap"] >= 0.8, by[label]
        assert by[label].per_kind["audio"]["ap"] >= 0.8, by[label]
    assert all(p.folds >= 2 for p in report.trained)
    assert report.html_path and "Check my tags" in Path(report.html_path).read_text()


def test_a_label_with_too_few_albums_is_reported_not_trained(learnt):
    report, _ = learnt
    funeral = next(r for r in report.labels if r.label == "funeral-doom-metal")
    assert not funeral.learnt and "1 album" in funeral.why
    for p in report.trained:
        assert "funeral-doom-metal" not in p.labels


def test_a_library_with_nothing_to_learn_says_so_before_looking_at_a_cover(world):
    from musictagger.training import learn

    lib = world["base"] / "tiny-library"
    _album(lib, "Jazz Band 0", "Album 0", "Jazz", "Jazz", 1)
    _album(lib, "Jazz Band 1", "Album 0", "Jazz", "Jazz", 2)
    report = learn([lib], device="cpu", html_report=False)  # the bundled base packs: never loaded
    assert report.albums_used == 2 and not report.trained and report.embedded == 0
    assert set(report.not_trained) == {"cover", "audio"}
    assert all("no genre has" in why for why in report.not_trained.values())
    assert {r.name: r.learnt for r in report.labels} == {"Jazz": False}


def test_check_my_tags_finds_the_planted_mislabel(learnt, world):
    report, _ = learnt
    top = [t.folder for t in report.check_my_tags[:3]]
    assert str(world["planted"]) in top
    planted = next(t for t in report.check_my_tags if t.folder == str(world["planted"]))
    assert any(name == "Black Metal" for name, _ in planted.doubtful)


def test_relearning_computes_no_embedding_again(learnt, world):
    from musictagger.training import learn

    _, base = learnt
    again = learn([world["lib"]], base=base, device="cpu", min_albums=3, html_report=False)
    assert again.embedded == 0  # every cover and track came from the cache
    assert {p.kind for p in again.trained} == {"cover", "audio"}


def test_learnt_packs_keep_the_base_embedding_and_name_their_backbones(learnt):
    from musictagger.pipeline import select_packs

    report, base = learnt
    user = {p.name: p for p in select_packs("user")}
    cover = user["my-library-cover"]
    assert cover.training["mode"] == "library" and cover.manifest.backbones == base["cover"].manifest.backbones
    assert "artist_prior_ap" in cover.metrics
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        _, e1 = cover.load_model().forward_with_embedding(x)
        _, e2 = base["cover"].load_model().forward_with_embedding(x)
    assert torch.allclose(e1, e2, atol=1e-4)


def test_suggest_brings_similar_albums_and_the_artist_prior_from_the_library(learnt, world, capsys):
    from musictagger.cli import main

    new = world["base"] / "new"
    _album(new, "Jazz Band 1", "Brand New", "", "Jazz", 500)  # untagged, by a known artist
    names = "base-cover,base-audio,my-library-cover,my-library-audio"
    packs = ",".join(str(world["packs"] / n) if n.startswith("base") else n for n in names.split(","))
    code = main(["--no-progress", "suggest", str(new), "--json", "--models", packs])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    album = out["albums"][0]
    jazz = next(s for s in album["suggestions"] if s["id"] == "jazz")
    assert jazz["sources"]["library"] is not None and jazz["sources"]["artist"] is not None
    assert 1 <= len(jazz["similar"]) <= 3
    lib = world["lib"]
    for sim in jazz["similar"]:
        assert Path(sim["folder"]).is_relative_to(lib) and sim["source"] in ("cover", "audio")
        assert sim["folder"] != str(world["planted"])  # tagged Black Metal: it does not carry Jazz
        assert "Jazz" in Path(sim["folder"]).parent.name
    assert "library" in album["scores"] and "artist" in album["scores"]
    assert jazz["sources"]["artist"] > 0.5  # the artist's other albums are tagged Jazz
    assert jazz["artist_prior"] == {"albums_with_label": 2, "other_albums": 2}  # its counts, for people


def test_an_album_gone_from_disk_loses_its_cached_embeddings(learnt, world):
    from musictagger.pipeline.cache import ResultCache

    victim = world["lib"] / "Doom Metal Band 2" / "Album 1"
    track = str(victim / "01 Track.flac")
    with ResultCache() as cache:
        before = cache._conn.execute(
            "SELECT COUNT(*) FROM model_cache WHERE input_key LIKE ?", (f"%{track}%",)
        ).fetchone()
        assert before[0] > 0
        shutil.rmtree(victim)
        assert cache.prune() >= 1
        after = cache._conn.execute(
            "SELECT COUNT(*) FROM model_cache WHERE input_key LIKE ?", (f"%{track}%",)
        ).fetchone()
        assert after[0] == 0


def test_exclusive_roots_are_top_level_genres_that_never_share_an_album():
    from musictagger.training.learning import exclusive_roots

    labels = ["metal", "black-metal", "jazz", "hip-hop", "rock"]
    y = np.array(
        [
            [1, 1, 0, 0, 0],
            [1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 0, 1, 0],
            [1, 0, 0, 0, 1],
            [0, 0, 0, 0, 1],
        ],
        dtype=np.float32,
    )
    # black-metal has a parent; rock shares an album with metal, the most frequent: left out
    assert exclusive_roots(labels, y) == ["metal", "jazz", "hip-hop"]
