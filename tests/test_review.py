"""The review rules of the core (musictagger.pipeline.review): decisions, defaults, persistence,
and the one function that turns a reviewed album into file changes. Real SQLite, real files."""

from __future__ import annotations

from pathlib import Path

from media import make_track

from musictagger.config import TagsConfig
from musictagger.pipeline.review import (
    GUESS,
    KEPT,
    MANUAL,
    AlbumReview,
    ReviewPolicy,
    ReviewStore,
    Status,
    best_guesses,
    review_for,
)
from musictagger.pipeline.types import AlbumSuggestions, PackInfo, Suggestion

PACKS = (PackInfo("tiny-cover", "0.0.1", "cover"),)


def _result(key: str = "k", **confidences: float) -> AlbumSuggestions:
    suggestions = [
        Suggestion(label=name.lower().replace(" ", "-"), name=name, confidence=p, cover=p, audio=None)
        for name, p in confidences.items()
    ]
    return AlbumSuggestions(key, "/music/a", "A", "Band", suggestions, cover_scores={"jazz": 0.2, "doom-metal": 0.3})


def test_a_resuggest_updates_scores_and_never_overturns_a_decision():
    review = review_for(_result(**{"Black Metal": 0.9, "Doom Metal": 0.6}), ReviewPolicy(min_confidence=0.5), PACKS)
    assert review.labels() == ["Black Metal", "Doom Metal"]
    assert review.set_accepted("Doom Metal", False)
    assert review.add("Sludge Metal")
    review.apply_result(_result(**{"Black Metal": 0.7, "Doom Metal": 0.95, "Thrash Metal": 0.8}), PACKS)
    assert review.labels() == ["Black Metal", "Thrash Metal", "Sludge Metal"]  # new label: ticked by threshold
    review.apply_result(_result(**{"Doom Metal": 0.95, "Thrash Metal": 0.4}), PACKS)
    kinds = {i.name: (i.kind, i.accepted) for i in review.items()}
    assert kinds["Thrash Metal"] == ("suggested", False)  # below threshold: its default follows the score
    assert kinds["Doom Metal"] == ("suggested", False)  # rejected stays rejected
    assert kinds["Sludge Metal"] == (MANUAL, True)
    # The user ticked Black Metal only by default: no decision, so it goes when it is no longer suggested.
    assert "Black Metal" not in kinds


def test_an_accepted_tag_no_longer_suggested_is_kept():
    review = review_for(_result(**{"Black Metal": 0.4}), ReviewPolicy(min_confidence=0.5), PACKS)
    assert review.labels() == []
    review.set_accepted("Black Metal", True)
    review.apply_result(_result(**{"Doom Metal": 0.8}), PACKS)
    items = {i.name: i for i in review.items()}
    assert items["Black Metal"].kind == KEPT and items["Black Metal"].accepted
    assert review.labels() == ["Doom Metal", "Black Metal"]
    assert review.manual_labels == ["Black Metal"]  # no score behind it any more: the user's


def test_nothing_above_threshold_lists_best_guesses_unticked():
    result = _result()
    guesses = best_guesses(result, names={"jazz": "Jazz", "doom-metal": "Doom Metal"})
    assert [(g.name, g.confidence) for g in guesses] == [("Doom Metal", 0.3), ("Jazz", 0.2)]
    review = AlbumReview("k")
    review.apply_result(result, PACKS, guesses)
    assert review.nothing_above_threshold
    assert [(i.name, i.kind, i.accepted) for i in review.items()] == [
        ("Doom Metal", GUESS, False),
        ("Jazz", GUESS, False),
    ]
    assert review.toggle("Jazz") and review.labels() == ["Jazz"]


def test_best_guesses_hear_the_library_and_the_artist_prior_too():
    """A genre only the user's library packs and the artist prior lean towards is a best guess too."""
    result = _result()
    result.library_scores = {"sludge-metal": 0.45, "jazz": 0.1}
    result.artist_scores = {"sludge-metal": 0.35}
    guesses = best_guesses(result, names={"jazz": "Jazz", "doom-metal": "Doom Metal", "sludge-metal": "Sludge Metal"})
    assert [(g.name, round(g.confidence, 3)) for g in guesses][:2] == [("Sludge Metal", 0.4), ("Doom Metal", 0.3)]
    sludge = guesses[0]
    assert (sludge.cover, sludge.audio, sludge.library, sludge.artist) == (None, None, 0.45, 0.35)
    jazz = next(g for g in guesses if g.name == "Jazz")
    assert jazz.library == 0.1 and jazz.confidence < 0.2  # the library's doubt pulls it down


def test_reviews_round_trip_through_the_library_index(tmp_path: Path):
    from musictagger.library import Index

    review = review_for(_result(**{"Black Metal": 0.9, "Doom Metal": 0.6}), ReviewPolicy(0.5), PACKS)
    review.set_accepted("Doom Metal", False)
    review.add("Sludge Metal")
    review.status = Status.APPLIED
    db = tmp_path / "index.sqlite"
    with Index(db) as index:
        assert index.user_version >= 2  # the reviews table is migration 2
        ReviewStore(index).save([review])
    with Index(db) as index:
        loaded = ReviewStore(index).load(["k", "other"], ReviewPolicy(0.5))
    assert set(loaded) == {"k"}
    back = loaded["k"]
    assert back.labels() == review.labels() == ["Black Metal", "Sludge Metal"]
    assert back.status == Status.APPLIED and back.packs == PACKS
    assert back.result.suggestions == review.result.suggestions


def test_review_changes_write_manual_tags_as_manual(tmp_path: Path, app_home: Path):
    from musictagger.library import scan
    from musictagger.pipeline.apply import review_changes

    folder = tmp_path / "Band" / "A"
    folder.mkdir(parents=True)
    make_track(folder, "flac", title="T", artist="Band", album="A", genres=["Rock"])
    album = scan([str(tmp_path)]).albums[0]
    review = review_for(_result(album.key, **{"Black Metal": 0.91}), ReviewPolicy(), PACKS)
    review.add("Funeral Doom Metal")
    changes = review_changes(album, review, TagsConfig())
    assert len(changes) == 1
    values = changes[0].values
    assert changes[0].edit is not None and changes[0].edit.field == "genre"  # planned on the file at write time
    assert changes[0].edit.plan(["Rock"]) == ["Rock", "Black Metal", "Funeral Doom Metal"]
    assert values["MUSICTAGGER_CONFIDENCES"] == ["Black Metal=0.91; Funeral Doom Metal=manual"]
    assert values["MUSICTAGGER_MODEL"] == ["tiny-cover 0.0.1"]
    review.set_accepted("Black Metal", False)
    only_manual = review_changes(album, review, TagsConfig())[0].values
    assert only_manual["MUSICTAGGER_MODEL"] == ["manual"]
    review.set_accepted("Funeral Doom Metal", False)  # unticking a tag of yours removes it
    assert review.manual == [] and review_changes(album, review, TagsConfig()) == []


def test_library_evidence_survives_the_saved_review(tmp_path: Path):
    """A suggestion's library and artist sources and its similar albums come back from the index."""
    from musictagger.library import Index
    from musictagger.pipeline.evidence import SimilarAlbum

    similar = (SimilarAlbum("/music/b", "B", "Band", 0.87, "cover"),)
    s = Suggestion("death-metal", "Death Metal", 0.8, cover=0.6, library=0.9, artist=0.75, similar=similar)
    review = review_for(AlbumSuggestions("k", "/music/a", "A", "Band", [s]), ReviewPolicy(0.5), PACKS)
    db = tmp_path / "index.sqlite"
    with Index(db) as index:
        ReviewStore(index).save([review])
    with Index(db) as index:
        back = ReviewStore(index).load(["k"], ReviewPolicy(0.5))["k"]
    (got,) = back.result.suggestions
    assert got == s and got.to_json()["similar"][0]["folder"] == "/music/b"
    assert got.to_json()["sources"] == {"cover": 0.6, "audio": None, "library": 0.9, "artist": 0.75}
