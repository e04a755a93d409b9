"""The genre taxonomy: tree integrity, lookups, and normalisation of messy genre strings."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from shared import shared_path

from musictagger.errors import TaxonomyError
from musictagger.taxonomy import Label, Taxonomy, map_free_tags, match_key, normalise

# Band-level coverage reached on band_styles/metal_bands_2017.csv is 98.12 %; the margin leaves room
# for deliberate reclassifications without letting a real regression through.
BAND_COVERAGE_FLOOR = 0.975


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.default()


# ------------------------------------------------------------------------------- normalisation

CASES = [
    # plain names, case, hyphens, spacing, glued words, accents
    ("Black Metal", ["black-metal"]),
    ("black metal", ["black-metal"]),
    ("BLACK   METAL", ["black-metal"]),
    ("blackmetal", ["black-metal"]),
    ("Post-Metal", ["post-metal"]),
    ("post metal", ["post-metal"]),
    ("Nü-Metal", ["nu-metal"]),
    ("Avantgarde Metal", ["avant-garde-metal"]),
    # "Metal" suffix optional for metal styles
    ("Black", ["black-metal"]),
    ("Death", ["death-metal"]),
    ("Thrash", ["thrash-metal"]),
    ("Sludge", ["sludge-metal"]),
    ("Funeral doom", ["funeral-doom-metal"]),
    ("Heavy", ["heavy-metal"]),
    ("Metal", ["metal"]),
    # adjectives that are not labels of their own
    ("Melodic Black", ["black-metal"]),
    ("Raw Black Metal", ["black-metal"]),
    ("Epic Heavy Metal", ["heavy-metal"]),
    ("Technical thrash", ["thrash-metal"]),
    ("Atmospheric doom", ["doom-metal"]),
    ("Extreme power", ["power-metal"]),
    # adjectives that do make a sub-label
    ("Melodic Death Metal", ["melodic-death-metal"]),
    ("Atmospheric Black Metal", ["atmospheric-black-metal"]),
    ("Technical Death", ["technical-death-metal"]),
    ("Brutal death", ["brutal-death-metal"]),
    ("Tech-Death", ["technical-death-metal"]),
    ("Depressive black", ["depressive-black-metal"]),
    ("DSBM", ["depressive-black-metal"]),
    # "Blackened" adds Black Metal, "Symphonic" as a modifier adds Symphonic Metal
    ("Blackened Death Metal", ["black-metal", "death-metal"]),
    ("Symphonic Black Metal", ["symphonic-metal", "black-metal"]),
    # scene names and era qualifiers
    ("Bay area thrash", ["thrash-metal"]),
    ("Teutonic Thrash Metal", ["thrash-metal"]),
    ("Gothenburg", ["melodic-death-metal"]),
    ("Swedish death", ["death-metal"]),
    ("NWOBHM", ["nwobhm"]),
    ("New wave of british heavy,Heavy", ["nwobhm"]),
    ("Us power", ["power-metal"]),
    ("First wave of black", ["black-metal"]),
    ("Heavy Metal (early), Hard Rock (later)", ["heavy-metal", "hard-rock"]),
    ("Black Metal (early); Ambient (mid)", ["black-metal", "ambient"]),
    # compounds
    ("Death/Thrash Metal", ["death-metal", "thrash-metal"]),
    ("Symphonic power,Gothic", ["symphonic-metal", "power-metal", "gothic-metal"]),
    ("Melodic Death/Black", ["melodic-death-metal", "black-metal"]),
    ("Doom/Death", ["doom-metal", "death-metal"]),
    ("Death doom", ["death-metal", "doom-metal"]),
    ("Doom/Stoner", ["doom-metal", "stoner-metal"]),
    ("Heavy/Power", ["heavy-metal", "power-metal"]),
    ("Progressive Death", ["progressive-metal", "death-metal"]),
    ("Deathgrind", ["death-metal", "grindcore"]),
    ("Crossover thrash", ["thrash-metal", "hardcore"]),
    ("Post-Black", ["black-metal", "post-metal"]),
    # a label implied by a more specific one is left out
    ("Death, Melodic death", ["melodic-death-metal"]),
    ("Viking folk", ["viking-metal"]),
    ("Atmospheric,Sludge,Metal", ["sludge-metal"]),
    # "with X influences" names an influence, not the genre
    ("Progressive Metal with Jazz influences", ["progressive-metal"]),
    ("Gothic Metal with Doom elements", ["gothic-metal"]),
    # 'n' Roll
    ("Black 'n' Roll", ["black-metal"]),
    ("Death 'n' Roll", ["death-metal"]),
    ("Death ',N',Roll", ["death-metal"]),
    ("Rock 'n' Roll", ["rock-and-roll"]),
    ("Rock & Roll", ["rock-and-roll"]),
    # broad vs metal: same word, different label
    ("Folk", ["folk"]),
    ("Folk Metal", ["folk-metal"]),
    ("Folk, Black", ["folk-metal", "black-metal"]),
    ("Folk rock", ["folk", "rock"]),
    ("Progressive Rock", ["progressive-rock"]),
    ("Progressive Metal", ["progressive-metal"]),
    ("Progressive", ["progressive-rock"]),
    ("Progressive, Death", ["progressive-metal", "death-metal"]),
    ("Progressive House", ["house"]),
    ("Gothic", ["gothic-rock"]),
    ("Gothic Rock", ["gothic-rock"]),
    ("Industrial", ["industrial"]),
    ("Industrial black", ["industrial-metal", "black-metal"]),
    ("Alternative", ["alternative-rock"]),
    ("Alternative Metal", ["alternative-metal"]),
    ("Glam rock", ["glam-rock"]),
    ("Death rock", ["gothic-rock"]),
    ("Stoner rock", ["stoner-metal"]),
    ("Avant-garde", ["experimental"]),
    ("Avantgarde black", ["avant-garde-metal", "black-metal"]),
    ("Experimental black", ["black-metal"]),
    # broad genres as they appear in files
    ("Hip-Hop", ["hip-hop"]),
    ("hiphop", ["hip-hop"]),
    ("Rap", ["hip-hop"]),
    ("Hip-Hop/Rap", ["hip-hop"]),
    ("Electronica", ["electronic"]),
    ("EDM", ["electronic"]),
    ("R&B", ["rnb"]),
    ("RnB", ["rnb"]),
    ("Rhythm and Blues", ["rnb"]),
    ("Funk / Soul", ["funk", "soul"]),
    ("classical music", ["classical"]),
    ("video game music", ["video-game-music"]),
    ("Soundtrack", ["soundtrack"]),
    ("Stage & Screen", ["soundtrack"]),
    ("Drum & Bass", ["drum-and-bass"]),
    ("Drum'n'Bass", ["drum-and-bass"]),
    ("Trip-Hop", ["trip-hop"]),
    ("Singer/Songwriter", ["singer-songwriter"]),
    ("Folk, World, & Country", ["folk", "world", "country"]),
    ("Indie Rock", ["indie", "rock"]),
    ("Chiptune", ["chiptune"]),
    ("8-bit", ["chiptune"]),
    ("Post-Rock", ["post-rock"]),
    ("Crust", ["crust-punk"]),
    # strings repaired after being split in odd places
    ("Post-,Rock", ["post-rock"]),
    ("Black,Trip-,Hop", ["black-metal", "trip-hop"]),
    ("E,B,M", ["industrial"]),
    ("Atmospheric blackinstrumental", ["atmospheric-black-metal"]),
    # nothing to recognise: no label rather than a wrong one
    ("", []),
    ("   ", []),
    ("???", []),
    ("female vocalists", []),
    ("80s", []),
    ("Instrumental", []),
    ("Suomi", []),
    ("Symphonic", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_normalise_table(tax: Taxonomy, text: str, expected: list[str]) -> None:
    assert tax.normalise(text) == expected


def test_table_is_big_and_names_only_real_labels(tax: Taxonomy) -> None:
    assert len(CASES) >= 60
    for _, expected in CASES:
        assert all(label_id in tax for label_id in expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Folk", ["folk-metal"]),
        ("Progressive", ["progressive-metal"]),
        ("Gothic", ["gothic-metal"]),
        ("Symphonic", ["symphonic-metal"]),
        ("Alternative", ["alternative-metal"]),
        ("Avantgarde", ["avant-garde-metal"]),
        ("Drone", ["doom-metal"]),
        ("Math", ["mathcore"]),
        ("Experimental", []),
        # words that are never metal stay what they are
        ("Folk rock", ["folk", "rock"]),
        ("Hard rock", ["hard-rock"]),
        ("Progressive rock", ["progressive-rock"]),
    ],
)
def test_metal_context_settles_bare_words(tax: Taxonomy, text: str, expected: list[str]) -> None:
    assert tax.normalise(text, context="metal") == expected


def test_module_shortcut_uses_the_bundled_taxonomy() -> None:
    assert normalise("Melodic Death/Black") == ["melodic-death-metal", "black-metal"]
    assert normalise("Folk", context="metal") == ["folk-metal"]


def test_normalise_many_reads_values_as_one_description(tax: Taxonomy) -> None:
    assert tax.normalise_many(["Black Metal", "Folk"]) == ["black-metal", "folk-metal"]
    assert tax.normalise_many(["Metal", "Black Metal", "Ambient"]) == ["black-metal", "ambient"]
    assert tax.normalise_many(["Rock", "Jazz", "Rock"]) == ["rock", "jazz"]
    assert tax.normalise_many([]) == []


def test_every_name_and_alias_normalises_to_its_label(tax: Taxonomy) -> None:
    for label in tax.labels():
        for text in (label.name, *label.aliases):
            assert tax.normalise(text) == [label.id], text


def test_results_are_known_specific_deterministic_and_copies(tax: Taxonomy) -> None:
    fresh = Taxonomy.from_file(_bundled_path())  # its own, empty cache
    for text, _ in CASES:
        first = tax.normalise(text)
        first.append("mutated by the caller")
        again = tax.normalise(text)
        assert "mutated by the caller" not in again
        assert again == fresh.normalise(text)
        for label_id in again:
            assert not set(tax.parents(label_id)) & set(again), (text, again)


def test_match_key_folds_case_accents_and_punctuation() -> None:
    assert match_key("  Nü-Metal ") == "nu metal"
    assert match_key("Rock 'n' Roll") == "rock n roll"
    assert match_key("R&B") == "r and b"
    assert match_key("Post_Rock") == "post rock"


# ------------------------------------------------------------------------------------- the tree


def test_tree_parents_exist_and_there_are_no_cycles(tax: Taxonomy) -> None:
    for label in tax.labels():
        seen = {label.id}
        for ancestor in tax.parents(label.id):
            assert ancestor in tax
            assert ancestor not in seen
            seen.add(ancestor)
        if label.parent is not None:
            assert label.parent in tax
            assert tax.parents(label.id)[0] == label.parent
            assert label.id in tax.children(label.parent)


def test_ids_are_slugs_names_unique_kinds_consistent(tax: Taxonomy) -> None:
    names = [label.name.casefold() for label in tax.labels()]
    assert len(names) == len(set(names))
    for label in tax.labels():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", label.id)
        assert label.name != label.id
        assert label.kind == ("broad" if label.parent is None else "sub")
        assert isinstance(label.aliases, tuple)
    assert len(tax.ids()) == len(tax) == len(tax.labels())


def test_spec_labels_are_present_under_the_right_parents(tax: Taxonomy) -> None:
    metal_subgenres = {
        "black-metal",
        "death-metal",
        "melodic-death-metal",
        "technical-death-metal",
        "brutal-death-metal",
        "doom-metal",
        "sludge-metal",
        "funeral-doom-metal",
        "thrash-metal",
        "speed-metal",
        "power-metal",
        "heavy-metal",
        "nwobhm",
        "progressive-metal",
        "folk-metal",
        "viking-metal",
        "pagan-metal",
        "gothic-metal",
        "symphonic-metal",
        "metalcore",
        "deathcore",
        "stoner-metal",
        "groove-metal",
        "grindcore",
        "industrial-metal",
        "nu-metal",
        "post-metal",
    }
    for label_id in metal_subgenres:
        assert tax.root(label_id) == "metal", label_id
    broad = {
        "rock",
        "pop",
        "electronic",
        "hip-hop",
        "jazz",
        "blues",
        "classical",
        "country",
        "folk",
        "reggae",
        "rnb",
        "punk",
        "ambient",
        "funk",
        "latin",
        "world",
        "soundtrack",
        "experimental",
        "new-age",
        "easy-listening",
        "singer-songwriter",
        "gospel",
        "indie",
    }
    assert broad <= set(tax.roots())
    assert tax.parents("melodic-death-metal") == ["death-metal", "metal"]
    assert tax.parents("progressive-rock") == ["rock"]
    assert tax.parents("folk-metal") == ["metal"]
    assert tax.parents("folk") == []
    assert tax.children("folk-metal") == ["viking-metal", "pagan-metal"]


def test_closure_adds_ancestors_after_the_given_ids(tax: Taxonomy) -> None:
    assert tax.closure(["melodic-death-metal"]) == ["melodic-death-metal", "death-metal", "metal"]
    assert tax.closure(["black-metal", "death-metal"]) == ["black-metal", "death-metal", "metal"]
    assert tax.closure(["viking-metal", "rock", "viking-metal"]) == [
        "viking-metal",
        "rock",
        "folk-metal",
        "metal",
    ]
    assert tax.closure([]) == []
    with pytest.raises(KeyError):
        tax.closure(["no-such-genre"])


def test_names_and_lookup(tax: Taxonomy) -> None:
    assert tax.name("nwobhm") == "NWOBHM"
    assert tax.to_names(["black-metal", "rnb"]) == ["Black Metal", "R&B"]
    assert tax["melodic-death-metal"] == Label(
        id="melodic-death-metal",
        name="Melodic Death Metal",
        parent="death-metal",
        aliases=tax["melodic-death-metal"].aliases,
        kind="sub",
    )
    assert tax.lookup("black metal") == "black-metal"
    assert tax.lookup("BLACK METAL") == "black-metal"
    assert tax.lookup("  Melodic   Death Metal ") == "melodic-death-metal"
    assert tax.lookup("melodeath") == "melodic-death-metal"
    assert tax.lookup("hip-hop") == "hip-hop"
    assert tax.lookup("dsbm") == "depressive-black-metal"
    assert tax.lookup("Folk") == "folk"
    assert tax.lookup("Folk Metal") == "folk-metal"
    assert tax.lookup("Melodic Black") is None  # lookup is exact; normalise is the fuzzy one
    assert tax.lookup("nonsense") is None
    assert "black-metal" in tax and "Black Metal" not in tax
    with pytest.raises(KeyError):
        tax["Black Metal"]


# ------------------------------------------------------------------------------- loading files


def _bundled_path() -> Path:
    import musictagger.taxonomy as module

    return Path(module.__file__).with_name("genres.toml")


def test_default_is_cached_and_equals_the_bundled_file() -> None:
    assert Taxonomy.default() is Taxonomy.default()
    from_file = Taxonomy.from_file(_bundled_path())
    assert from_file.labels() == Taxonomy.default().labels()


MINIMAL = """
[labels.metal]
name = "Metal"
[labels.black-metal]
name = "Black Metal"
parent = "metal"
[labels.folk]
name = "Folk"
"""


def test_from_file_loads_a_custom_taxonomy(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    tax = Taxonomy.from_file(path)
    assert tax.ids() == ["metal", "black-metal", "folk"]
    assert tax.roots() == ["metal", "folk"]
    assert tax.normalise("Melodic Black") == ["black-metal"]  # 'melodic' unknown here: skipped
    assert tax.normalise("Folk Metal") == ["folk", "metal"]  # no folk-metal label in this one


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[labels.x]\nname = "X"\nparent = "nowhere"\n', "unknown parent"),
        ('[labels.x]\nname = "black metal"\n', "share the name"),
        ('[labels.x]\nname = "X"\naliases = ["Black Metal"]\n', "names both"),
        ('[labels.Bad_Id]\nname = "X"\n', "slug"),
        ('[labels.x]\nname = "X"\ncolour = "red"\n', "unknown key"),
        ('[labels.x]\nname = "X"\nkind = "huge"\n', "kind"),
        ('[labels.folk-metal]\nname = "Folk Metal"\nparent = "metal"\n', "context_words"),
        ('[phrases]\n"blackgaze" = ["shoegaze"]\n', "unknown label"),
        ('[ignore]\nwords = ["Folk"]\n', "claimed by both"),
        ("[labels.x]\nname = 'X'\n[[broken", "not valid TOML"),
    ],
)
def test_malformed_files_raise_taxonomy_error(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message):
        Taxonomy.from_file(path)


def test_cycles_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cycle.toml"
    path.write_text('[labels.a]\nname = "A"\nparent = "b"\n[labels.b]\nname = "B"\nparent = "a"\n', encoding="utf-8")
    with pytest.raises(TaxonomyError, match="cycle"):
        Taxonomy.from_file(path)


def test_missing_file_raises_taxonomy_error(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        Taxonomy.from_file(tmp_path / "absent.toml")


def test_import_pulls_in_neither_torch_nor_qt() -> None:
    code = (
        "import sys, musictagger.taxonomy as t; t.normalise('Black Metal');"
        "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- real shared data


@pytest.mark.shared
def test_msd_top50_tags_map_honestly(tax: Taxonomy) -> None:
    path = shared_path("published_models/choi2016_crnn_msd/tags.txt")
    tags = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    mapped = map_free_tags(tags)
    assert list(mapped) == tags and len(tags) == 50
    for tag, ids in mapped.items():
        assert all(i in tax for i in ids), tag
    expected = {
        "heavy metal": ["heavy-metal"],
        "metal": ["metal"],
        "alternative rock": ["alternative-rock"],
        "alternative": ["alternative-rock"],
        "Hip-Hop": ["hip-hop"],
        "rnb": ["rnb"],
        "Progressive rock": ["progressive-rock"],
        "electronica": ["electronic"],
        "House": ["house"],
        "chillout": ["downtempo"],
        "female vocalists": [],
        "male vocalists": [],
        "80s": [],
        "beautiful": [],
        "instrumental": [],
        "acoustic": [],
        "guitar": [],
    }
    for tag, ids in expected.items():
        assert mapped[tag] == ids, tag
    # the mood, era and voice tags say nothing about genre: a solid share must stay unmapped
    assert 15 <= sum(1 for ids in mapped.values() if not ids) <= 25


@pytest.mark.shared
def test_band_style_coverage(tax: Taxonomy) -> None:
    path = shared_path("band_styles/metal_bands_2017.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        column = "style" if "style" in (reader.fieldnames or []) else "styles"
        styles = [row[column] or "" for row in reader]
    assert len(styles) > 4000
    mapped = sum(1 for style in styles if any("metal" in tax.parents(i) for i in tax.normalise(style, context="metal")))
    assert mapped / len(styles) >= BAND_COVERAGE_FLOOR
