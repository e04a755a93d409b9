"""The v2 bundled packs (heads on pretrained backbones): what they claim, and what they do on real music."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from musictagger.ml import backbones
from musictagger.ml.packs import find_pack, find_packs
from musictagger.paths import shared_data_dir

SHARED = shared_data_dir()
CLIPS = SHARED / "published_models" / "musicnn" if SHARED else None
installed = {n: importlib.util.find_spec(s.module) is not None for n, s in backbones.SOURCES.items()}


def bundled(name: str):
    packs = {p.name: p for p in find_packs(include_user=False)}
    if name not in packs:
        pytest.skip(f"{name} is not in models/ (make models)")
    return packs[name]


def test_v2_packs_are_the_default_and_v1_stays_loadable_by_name():
    from musictagger.pipeline import select_packs

    bundled("covers-v2")
    bundled("audio-v2")
    names = {p.name for p in select_packs("bundled")}
    assert {"covers-v2", "audio-v2"} <= names and not names & {"covers-v1", "audio-v1"}
    assert find_pack("covers-v1").kind == "cover" and find_pack("audio-v1").kind == "audio"


def test_v2_packs_name_their_backbones_and_carry_only_their_own_tensors():
    for name, names in (("covers-v2", ["efficientnet-lite0", "efficientnet-lite2"]), ("audio-v2", ["musicnn-msd"])):
        pack = bundled(name)
        assert [(r.name, r.sha256) for r in pack.manifest.backbones] == [(n, backbones.source(n).sha256) for n in names]
        assert pack.weights_path.stat().st_size < 1_000_000
        card = pack.model_card()
        for n in names:
            assert backbones.source(n).license in pack.license and backbones.source(n).license in card


def test_covers_v2_cross_validated_figures_are_recorded_and_clear_the_bar():
    m = bundled("covers-v2").metrics
    cv = m["cross_validation"]
    assert cv["folds"] == 5 and cv["grouped_by"] == "artist"
    assert cv["broad_macro_auc"]["n"] == 5 and cv["broad_macro_auc"]["mean"] >= 0.85
    assert cv["black_metal_ap"]["mean"] >= 0.95
    assert m["per_label_auc"]["black-metal"] >= 0.97


@pytest.mark.skipif(CLIPS is None or not CLIPS.is_dir(), reason="needs ../shared/data/published_models/musicnn")
@pytest.mark.skipif(not installed["musicnn-msd"], reason="musicnn 0.1.0 not installed (make setup)")
def test_suggest_json_on_the_musicnn_clips_ranks_the_right_genres_first(app_home, tmp_path, capsys):
    from musictagger.cli import main

    bundled("audio-v2")
    lib = tmp_path / "music"
    clips = {
        "Blues": "TRWJAZW128F42760DD_test.mp3",
        "Ambient": "joram-moments_of_clarity-08-solipsism-59-88.mp3",
    }
    for album, clip in clips.items():
        (lib / album).mkdir(parents=True)
        shutil.copy(CLIPS / clip, lib / album / clip)
    code = main(["--no-progress", "suggest", str(lib), "--json", "--models", "audio-v2"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    top3 = {}
    for a in out["albums"]:
        scores = a["scores"]["audio"]
        top3[Path(a["folder"]).name] = [k.casefold() for k in sorted(scores, key=lambda k: -scores[k])[:3]]
    assert set(top3["Blues"]) & {"blues", "rock", "folk", "country"}, top3
    assert set(top3["Ambient"]) & {"electronic", "ambient", "downtempo", "experimental"}, top3
