"""Fusion arithmetic: means, taxonomy mapping, quality weighting, thresholds, top-k, parents."""

import pytest

from musictagger.pipeline.fusion import SourceView, combine, fuse, mean_probs, to_taxonomy


def test_mean_probs_is_columnwise():
    assert mean_probs([[0.2, 1.0], [0.4, 0.0], [0.6, 0.5]]) == pytest.approx([0.4, 0.5])
    assert mean_probs([]) == []


def test_free_tags_map_into_taxonomy_taking_the_max():
    p, t, q = to_taxonomy(
        ["heavy metal", "metal", "jazz", "female vocalists"],
        [0.3, 0.7, 0.2, 0.9],
        {"heavy metal": 0.4, "metal": 0.6},
        {"metal": 0.8},
        {"heavy metal": ["metal/heavy"], "metal": ["metal"], "jazz": ["jazz"], "female vocalists": []},
    )
    assert p == {"metal/heavy": 0.3, "metal": 0.7, "jazz": 0.2}
    assert t["metal"] == 0.6 and t["jazz"] == 0.5  # default threshold when the pack has none
    assert q["metal"] == 0.8 and q["jazz"] == 0.5  # default quality when the pack has none


def test_combine_weights_by_quality():
    a = SourceView("cover", {"x": 0.9}, {"x": 0.5}, {"x": 0.9})
    b = SourceView("cover", {"x": 0.1}, {"x": 0.3}, {"x": 0.1})
    probs, thr, weight = combine([a, b])
    assert probs["x"] == pytest.approx((0.9 * 0.9 + 0.1 * 0.1) / 1.0)
    assert thr["x"] == pytest.approx((0.9 * 0.5 + 0.1 * 0.3) / 1.0)
    assert weight["x"] == 0.9


def test_fuse_cover_and_audio_and_explains_each_label():
    cover = SourceView(
        "cover", {"black": 0.9, "death": 0.2}, {"black": 0.5, "death": 0.5}, {"black": 0.8, "death": 0.2}
    )
    audio = SourceView(
        "audio", {"black": 0.6, "death": 0.7}, {"black": 0.5, "death": 0.5}, {"black": 0.4, "death": 0.6}
    )
    out, scores = fuse([cover, audio], names={"black": "Black Metal", "death": "Death Metal"})
    cp, ap = scores["cover"], scores["audio"]
    by = {s.label: s for s in out}
    assert by["black"].confidence == pytest.approx((0.8 * 0.9 + 0.4 * 0.6) / 1.2)
    assert by["death"].confidence == pytest.approx((0.2 * 0.2 + 0.6 * 0.7) / 0.8)
    assert by["black"].cover == 0.9 and by["black"].audio == 0.6
    assert by["black"].name == "Black Metal"
    assert [s.label for s in out] == ["black", "death"]  # best first
    assert cp == pytest.approx({"black": 0.9, "death": 0.2}) and ap["death"] == pytest.approx(0.7)


def test_thresholds_min_confidence_and_top_k():
    v = SourceView("audio", {"a": 0.9, "b": 0.6, "c": 0.55, "d": 0.3}, {"a": 0.5, "b": 0.7, "c": 0.5, "d": 0.2}, {})
    labels = [s.label for s in fuse([v])[0]]
    assert labels == ["a", "c", "d"]  # b is under its own threshold 0.7; d passes its 0.2
    assert [s.label for s in fuse([v], min_confidence=0.5)[0]] == ["a", "c"]
    assert [s.label for s in fuse([v], top_k=1)[0]] == ["a"]


def test_parent_closure_adds_implied_parents_once():
    v = SourceView("cover", {"metal/black": 0.8, "metal/doom": 0.7, "metal": 0.3}, {}, {})
    parents = {"metal/black": ["metal"], "metal/doom": ["metal"], "metal": []}
    out = fuse([v], parents=parents, names={"metal": "Metal"})[0]
    implied = [s for s in out if s.implied]
    assert [(s.label, s.name) for s in implied] == [("metal", "Metal")]
    assert implied[0].confidence == pytest.approx(0.8)  # the best child's confidence
    assert implied[0].cover == 0.3  # its own evidence is still shown


def test_weights_can_switch_a_source_off():
    cover = SourceView("cover", {"x": 0.9}, {}, {})
    audio = SourceView("audio", {"x": 0.1}, {}, {})
    only_audio = fuse([cover, audio], weights={"cover": 0.0})[0]
    assert only_audio == []  # 0.1 < 0.5 threshold
    only_cover = fuse([cover, audio], weights={"audio": 0.0})[0]
    assert only_cover[0].confidence == pytest.approx(0.9)
    assert only_cover[0].cover_share == pytest.approx(0.9 / 1.0)


def test_library_and_artist_sources_are_weighed_like_the_others():
    cover = SourceView("cover", {"death": 0.3}, {"death": 0.5}, {"death": 0.5})
    library = SourceView("library", {"death": 0.9}, {"death": 0.4}, {"death": 0.9})
    artist = SourceView("artist", {"death": 0.75}, {"death": 0.5}, {"death": 0.6})
    out, scores = fuse([cover, library, artist])
    s = out[0]
    assert s.label == "death" and s.cover == 0.3 and s.library == 0.9 and s.artist == 0.75 and s.audio is None
    assert s.confidence == pytest.approx((0.5 * 0.3 + 0.9 * 0.9 + 0.6 * 0.75) / 2.0)
    assert s.to_json()["sources"] == {"cover": 0.3, "audio": None, "library": 0.9, "artist": 0.75}
    assert scores["library"] == {"death": 0.9}
    # A label the user never tagged still gets the bundled models' opinion alone.
    only = fuse([SourceView("cover", {"jazz": 0.8}, {}, {}), library])[0]
    assert {x.label for x in only} == {"jazz", "death"}
    assert next(x for x in only if x.label == "jazz").to_json()["sources"] == {"cover": 0.8, "audio": None}
    assert fuse([cover, library], weights={"library": 0.0})[0] == []
