"""The bundled packs in models/: they load, stay small, and their model cards state exactly the
figures their manifests carry (the card is generated from the training report)."""

from __future__ import annotations

import pytest

from musictagger.ml.packs import bundled_models_dir, find_packs
from musictagger.training.report import _fmt, _label_name, headline_lines

EXPECTED = {"covers-v1": "cover", "audio-v1": "audio", "covers-v2": "cover", "audio-v2": "audio"}


def bundled():
    if bundled_models_dir() is None:
        return []
    return [p for p in find_packs(include_user=False) if p.bundled]


def test_the_bundled_packs_exist_and_load():
    packs = {p.name: p for p in bundled()}
    if not packs:
        pytest.skip("no bundled packs in models/ (run `make models`)")
    for name, kind in EXPECTED.items():
        if name not in packs:
            continue
        pack = packs[name]
        assert pack.kind == kind
        assert pack.weights_path.stat().st_size < 5 * 1024 * 1024
        model = pack.load_model("cpu")
        assert sum(p.numel() for p in model.parameters()) > 0
        if pack.training.get("split") != "calibration":  # audio-v2: AP only where the corpus has positives
            assert set(pack.metrics["per_label_ap"]) == set(pack.labels)


@pytest.mark.parametrize("pack", bundled(), ids=lambda p: p.name)
def test_model_card_figures_equal_the_manifest_metrics(pack):
    card = pack.model_card()
    metrics = pack.metrics
    lines = headline_lines(metrics)
    assert any("macro_ap" in line for line in lines)
    for line in lines:
        assert line in card
    for label in pack.labels:
        ap = metrics["per_label_ap"].get(label)
        row = next(r for r in card.splitlines() if r.startswith(f"| {_label_name(label)} (`{label}`)"))
        assert f"| {_fmt(ap)} |" in row
        assert f"| {_fmt(pack.manifest.thresholds.get(label))} |" in row  # n/a: a tag with no threshold of its own
    assert "## Limits" in card
    if pack.training.get("split") != "calibration":  # audio-v2 is measured, not trained
        assert "by artist" in card


def test_cover_pack_clearly_beats_chance():
    packs = {p.name: p for p in bundled()}
    if "covers-v1" not in packs:
        pytest.skip("covers-v1 not built")
    m = packs["covers-v1"].metrics
    assert m["broad_accuracy"] > 1 / 6 + 0.15  # six broad genres: chance is about 17 %
    assert m["metal_vs_hiphop_accuracy"] > 0.6  # two classes: chance is 50 %
