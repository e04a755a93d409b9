"""Genre string logic: splitting, legacy ID3 references, merge/replace/cap planning (pure)."""

from __future__ import annotations

import pytest

from musictagger.tags import plan_genres, split_genres
from musictagger.tags.genres import resolve_id3_genre


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("Black Metal; Death Metal", ["Black Metal", "Death Metal"]),
        ("Black Metal/Death Metal", ["Black Metal", "Death Metal"]),
        ("Black Metal, Death Metal,Doom Metal", ["Black Metal", "Death Metal", "Doom Metal"]),
        ("Black Metal\0Death Metal", ["Black Metal", "Death Metal"]),
        ("  Black Metal ;; ; Death Metal  ", ["Black Metal", "Death Metal"]),
        ("Black Metal; black metal; BLACK METAL; Doom", ["Black Metal", "Doom"]),
        ("Folk, World, & Country", ["Folk, World, & Country"]),
        ("Rock; Folk, World, & Country, Jazz", ["Rock", "Folk, World, & Country", "Jazz"]),
        ("drum & bass/Jungle", ["drum & bass", "Jungle"]),  # "&" is no separator anyway
        ("AC/DC; ac/dc", ["AC/DC"]),
        ("death/doom/Funeral Doom", ["death/doom", "Funeral Doom"]),
        ("Soul/R&B; R&B", ["Soul/R&B", "R&B"]),
        ("Hip-Hop/Rap/Trap", ["Hip-Hop/Rap", "Trap"]),
        ("Métal Noir Québécois; Пост-панк/日本のロック", ["Métal Noir Québécois", "Пост-панк", "日本のロック"]),
        ("", []),
        (" ; / , ", []),
    ],
)
def test_split_genres_default_rules(stored: str, expected: list[str]) -> None:
    assert split_genres(stored) == expected


def test_split_genres_exception_only_matches_whole_names() -> None:
    # "AC/DC" inside "BAC/DCX" is not the exception, so it is split.
    assert split_genres("BAC/DCX") == ["BAC", "DCX"]


def test_split_genres_custom_separators_and_exceptions() -> None:
    assert split_genres("a|b|c/d", separators=["|"], exceptions=[]) == ["a", "b", "c/d"]
    assert split_genres("Foo|Bar|Baz", separators=["|"], exceptions=["foo|bar"]) == ["Foo|Bar", "Baz"]
    assert split_genres("Drum & Bass; Jungle", separators=[";", "&"], exceptions=["Drum & Bass"]) == [
        "Drum & Bass",
        "Jungle",
    ]
    assert split_genres("Drum & Bass; Jungle", separators=[";", "&"], exceptions=[]) == ["Drum", "Bass", "Jungle"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("17", ["Rock"]),
        ("(17)", ["Rock"]),
        ("(17)(18)", ["Rock", "Techno"]),
        ("(17)Rock", ["Rock", "Rock"]),  # deduplicated by the reader
        ("(9)Black Metal", ["Metal", "Black Metal"]),
        ("(RX)(CR)", ["Remix", "Cover"]),
        ("((Parenthesised)", ["(Parenthesised)"]),
        ("2001", ["2001"]),  # not an ID3v1 index
        ("(999)", []),
        ("Black Metal", ["Black Metal"]),
    ],
)
def test_resolve_id3_genre(value: str, expected: list[str]) -> None:
    assert resolve_id3_genre(value) == expected


def test_plan_merge_keeps_existing_first_and_appends_new_in_order() -> None:
    assert plan_genres(["Rock"], ["Black Metal", "Doom Metal"], mode="merge", max_genres=5) == [
        "Rock",
        "Black Metal",
        "Doom Metal",
    ]


def test_plan_merge_dedupes_case_insensitively_keeping_the_users_spelling() -> None:
    assert plan_genres(["black metal"], ["Black Metal", "Doom", "DOOM"], max_genres=5) == ["black metal", "Doom"]


def test_plan_merge_cap_limits_new_genres_only() -> None:
    assert plan_genres(["A", "B"], ["C", "D", "E"], max_genres=3) == ["A", "B", "C"]
    # Already at or over the cap: nothing added, nothing of the user's removed.
    existing = ["A", "B", "C", "D", "E", "F"]
    assert plan_genres(existing, ["G"], max_genres=5) == existing


def test_plan_merge_no_cap() -> None:
    new = [f"G{i}" for i in range(10)]
    assert plan_genres(["A"], new, max_genres=0) == ["A", *new]


def test_plan_replace_writes_only_new_capped() -> None:
    assert plan_genres(
        ["Rock", "Pop"], ["Black Metal", "black metal", "Doom", "Sludge"], mode="replace", max_genres=2
    ) == [
        "Black Metal",
        "Doom",
    ]
    assert plan_genres(["Rock"], [], mode="replace") == []


def test_plan_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mode"):
        plan_genres([], ["A"], mode="append")
    with pytest.raises(ValueError, match="max_genres"):
        plan_genres([], ["A"], max_genres=-1)
