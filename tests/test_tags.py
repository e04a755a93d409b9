"""Reading and writing tags on real files of every supported format."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from media import FORMAT_IDS, FORMATS, decode_audio, make_cover, make_track, untagged_bytes

from musictagger.config import TagsConfig
from musictagger.tags import SUPPORTED_FORMATS, detect_format, read_fields, read_tags, write_fields

GENRES = ["Black Metal", "Atmospheric Black Metal", "Post-Rock", "Métal Noir Québécois", "Пост-панк", "日本のロック"]
STYLES = ["Depressive Suicidal Black Metal", "Blackgaze"]
CUSTOM = {
    "MUSICTAGGER_MODEL": ["covers-v1 1.0.0; audio-crnn 1.0.0"],
    "MUSICTAGGER_CONFIDENCES": ["Black Metal=0.91; Metal=0.97"],
}
CODECS = {
    "mp3": "mp3",
    "mp3v23": "mp3",
    "flac": "flac",
    "ogg": "vorbis",
    "opus": "opus",
    "m4a": "aac",
    "alac": "alac",
    "wav": "pcm",
    "aiff": "pcm",
    "wma": "wma",
    "wv": "wavpack",
    "ape": "ape",
}
OTHER_FIELDS = ("title", "artist", "album_artist", "album", "track", "track_total", "disc", "year")


def _config(fmt: str) -> TagsConfig:
    """mp3v23 files are written back as 2.3, exercising the joined-string path."""
    return TagsConfig(id3_version="2.3") if fmt == "mp3v23" else TagsConfig()


def _audio(path: Path, fmt: str) -> np.ndarray | bytes:
    return untagged_bytes(path) if fmt == "ape" else decode_audio(path)


def _same_audio(before: np.ndarray | bytes, after: np.ndarray | bytes) -> bool:
    if isinstance(before, bytes):
        return before == after
    return before.shape == after.shape and np.array_equal(before, after)


@pytest.fixture
def cover() -> bytes:
    return make_cover(text="front")


@pytest.mark.parametrize("fmt", FORMATS)
def test_reads_what_was_written_by_mutagen(tmp_path: Path, fmt: str, cover: bytes) -> None:
    path = make_track(
        tmp_path,
        fmt,
        title="Ænima",
        artist="Tool",
        album="Ænima",
        album_artist="Tool",
        track=3,
        track_total=12,
        disc=1,
        year=1996,
        genres=["Progressive Metal", "Alt Metal"],
        cover=cover,
    )
    tags = read_tags(path)
    assert detect_format(path) == FORMAT_IDS[fmt]
    assert tags.format == FORMAT_IDS[fmt]
    assert tags.codec == CODECS[fmt]
    assert (tags.title, tags.artist, tags.album, tags.album_artist) == ("Ænima", "Tool", "Ænima", "Tool")
    assert (tags.track, tags.track_total, tags.disc, tags.year) == (3, 12, 1, 1996)
    assert tags.genres == ["Progressive Metal", "Alt Metal"]
    assert tags.front_cover() is not None and tags.front_cover().data == cover
    assert tags.front_cover().mime == "image/jpeg"
    assert tags.duration == pytest.approx(1.0, abs=0.1)
    assert tags.sample_rate == (48000 if fmt == "opus" else 44100)
    assert tags.channels == 2
    assert tags.id3_version == {"mp3": "2.4", "mp3v23": "2.3", "wav": "2.4", "aiff": "2.4"}.get(fmt)
    assert read_tags(path, pictures=False).pictures == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_genre_style_custom_leaves_everything_else(tmp_path: Path, fmt: str, cover: bytes) -> None:
    path = make_track(
        tmp_path,
        fmt,
        album_artist="Various",
        track=2,
        track_total=9,
        genres=["Heavy Metal"],
        cover=cover,
        signal="noise",
    )
    config = _config(fmt)
    before = read_tags(path, config)
    audio_before = _audio(path, fmt)

    write_fields(path, {"genre": GENRES, "style": STYLES, **CUSTOM}, config)

    after = read_tags(path, config)
    assert after.genres == GENRES
    assert after.styles == STYLES
    assert after.custom == {name: values[0] for name, values in CUSTOM.items()}
    assert read_fields(path, ["genre", "style", *CUSTOM], config) == {"genre": GENRES, "style": STYLES, **CUSTOM}
    for name in OTHER_FIELDS:
        assert getattr(after, name) == getattr(before, name), name
    assert [(p.data, p.type, p.mime) for p in after.pictures] == [(p.data, p.type, p.mime) for p in before.pictures]
    assert after.format == before.format and after.id3_version == before.id3_version
    assert _same_audio(audio_before, _audio(path, fmt))

    # [] and None delete; fields not named stay.
    write_fields(path, {"style": [], "MUSICTAGGER_MODEL": None}, config)
    assert read_fields(path, ["genre", "style", "MUSICTAGGER_MODEL", "MUSICTAGGER_CONFIDENCES"], config) == {
        "genre": GENRES,
        "style": [],
        "MUSICTAGGER_MODEL": [],
        "MUSICTAGGER_CONFIDENCES": CUSTOM["MUSICTAGGER_CONFIDENCES"],
    }
    assert _same_audio(audio_before, _audio(path, fmt))
    assert read_tags(path, config).pictures[0].data == cover


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "mp3v23"])
def test_true_multi_values_keep_separators_inside_values(tmp_path: Path, fmt: str) -> None:
    """Formats with real multiple values store values that contain a separator intact."""
    path = make_track(tmp_path, fmt)
    values = ["Rock, Pop", "Jazz / Fusion", "Trip Hop; Downtempo"]
    write_fields(path, {"genre": values, "style": values})
    assert read_fields(path, ["genre", "style"]) == {"genre": values, "style": values}


@pytest.mark.parametrize("fmt", FORMATS)
def test_single_stored_string_is_split(tmp_path: Path, fmt: str) -> None:
    path = make_track(tmp_path, fmt, genres=["Black Metal; Folk, World, & Country/Drum & Bass"])
    assert read_tags(path).genres == ["Black Metal", "Folk, World, & Country", "Drum & Bass"]


def test_raw_id3v24_is_one_tcon_with_several_values(tmp_path: Path) -> None:
    from mutagen.id3 import ID3

    path = make_track(tmp_path, "mp3v23")
    write_fields(
        path,
        {"genre": ["Black Metal", "Doom Metal"], "style": ["Funeral Doom", "Drone"]},
        TagsConfig(id3_version="2.4"),
    )
    raw = ID3(path)
    assert raw.version == (2, 4, 0)
    assert [f.text for f in raw.getall("TCON")] == [["Black Metal", "Doom Metal"]]
    assert [(f.desc, f.text) for f in raw.getall("TXXX")] == [("STYLE", ["Funeral Doom", "Drone"])]
    data = path.read_bytes()
    assert b"Black Metal\x00Doom Metal" in data
    assert read_fields(path, ["genre", "style"]) == {
        "genre": ["Black Metal", "Doom Metal"],
        "style": ["Funeral Doom", "Drone"],
    }


@pytest.mark.parametrize("separator", ["/", "; "])
def test_raw_id3v23_is_one_joined_string(tmp_path: Path, separator: str) -> None:
    from mutagen.id3 import ID3

    path = make_track(tmp_path, "mp3")
    config = TagsConfig(id3_version="2.3", id3v23_separator=separator)
    write_fields(
        path, {"genre": ["Black Metal", "Doom Metal", "Пост-панк"], "style": ["Funeral Doom", "Drone"]}, config
    )
    raw = ID3(path, translate=False)
    assert raw.version == (2, 3, 0)
    assert [f.text for f in raw.getall("TCON")] == [[separator.join(["Black Metal", "Doom Metal", "Пост-панк"])]]
    assert [(f.desc, f.text) for f in raw.getall("TXXX")] == [("STYLE", [separator.join(["Funeral Doom", "Drone"])])]
    # The same list comes back, whichever version the reader is configured to write.
    for reader_config in (config, TagsConfig()):
        assert read_fields(path, ["genre", "style"], reader_config) == {
            "genre": ["Black Metal", "Doom Metal", "Пост-панк"],
            "style": ["Funeral Doom", "Drone"],
        }
    assert read_tags(path).year == 2001  # TDRC -> TYER conversion kept the year


@pytest.mark.parametrize("fmt", ["flac", "ogg", "opus"])
def test_raw_vorbis_repeats_the_field(tmp_path: Path, fmt: str) -> None:
    import mutagen

    path = make_track(tmp_path, fmt)
    write_fields(path, {"genre": ["A", "B"], "style": ["C", "D"], "MUSICTAGGER_DATE": ["2024-05-01"]})
    comments = mutagen.File(path).tags
    assert [(k.upper(), v) for k, v in comments if k.upper() in ("GENRE", "STYLE", "MUSICTAGGER_DATE")] == [
        ("GENRE", "A"),
        ("GENRE", "B"),
        ("STYLE", "C"),
        ("STYLE", "D"),
        ("MUSICTAGGER_DATE", "2024-05-01"),
    ]


@pytest.mark.parametrize("fmt", ["m4a", "alac"])
def test_raw_mp4_several_gen_values_and_freeform(tmp_path: Path, fmt: str) -> None:
    from mutagen.mp4 import MP4

    path = make_track(tmp_path, fmt)
    write_fields(path, {"genre": ["A", "B"], "style": ["C", "D"], "MUSICTAGGER_DATE": ["2024-05-01"]})
    tags = MP4(path).tags
    assert tags["\xa9gen"] == ["A", "B"]
    assert [bytes(v) for v in tags["----:com.apple.iTunes:STYLE"]] == [b"C", b"D"]
    assert [bytes(v) for v in tags["----:com.apple.iTunes:MUSICTAGGER_DATE"]] == [b"2024-05-01"]


def test_raw_asf_repeats_the_attribute(tmp_path: Path) -> None:
    from mutagen.asf import ASF

    path = make_track(tmp_path, "wma")
    write_fields(path, {"genre": ["A", "B"], "style": ["C", "D"], "MUSICTAGGER_DATE": ["2024-05-01"]})
    tags = ASF(path).tags
    assert [a.value for a in tags["WM/Genre"]] == ["A", "B"]
    assert [a.value for a in tags["STYLE"]] == ["C", "D"]
    assert [a.value for a in tags["MUSICTAGGER_DATE"]] == ["2024-05-01"]


@pytest.mark.parametrize("fmt", ["wv", "ape"])
def test_raw_apev2_null_separated_list(tmp_path: Path, fmt: str) -> None:
    from mutagen.apev2 import APEv2

    path = make_track(tmp_path, fmt)
    write_fields(path, {"genre": ["A", "B"], "style": ["C", "D"], "MUSICTAGGER_DATE": ["2024-05-01"]})
    tags = APEv2(path)
    assert tags["Genre"].value == "A\0B"
    assert tags["Style"].value == "C\0D"
    assert tags["MUSICTAGGER_DATE"].value == "2024-05-01"


@pytest.mark.parametrize("fmt", ["mp3", "flac", "m4a", "wma", "wv"])
def test_write_replaces_other_spellings_of_style(tmp_path: Path, fmt: str) -> None:
    """A STYLE written by another tagger as "Style"/"style" is replaced, not duplicated."""
    import mutagen
    from mutagen.id3 import TXXX
    from mutagen.mp4 import MP4FreeForm

    path = make_track(tmp_path, fmt)
    audio = mutagen.File(path)
    if fmt == "mp3":
        audio.tags.add(TXXX(encoding=3, desc="Style", text=["Old"]))
    elif fmt == "m4a":
        audio.tags["----:com.apple.iTunes:Style"] = [MP4FreeForm(b"Old")]
    else:
        audio.tags["style" if fmt == "flac" else "Style"] = ["Old"]
    audio.save()
    assert read_tags(path).styles == ["Old"]
    write_fields(path, {"style": ["New"]})
    assert read_tags(path).styles == ["New"]
    write_fields(path, {"style": None})
    assert read_tags(path).styles == []


@pytest.mark.parametrize("fmt", ["mp3", "flac", "ogg", "wav", "aiff"])
def test_writes_into_a_file_without_any_tag(tmp_path: Path, fmt: str) -> None:
    import soundfile
    from media import SOUNDFILE_FORMATS

    path = tmp_path / f"bare.{fmt}"
    container, subtype = SOUNDFILE_FORMATS[fmt]
    soundfile.write(str(path), np.zeros((4410, 1), dtype=np.float32), 44100, format=container, subtype=subtype)
    assert read_tags(path).genres == [] and read_tags(path).title is None
    write_fields(path, {"genre": ["Ambient", "Drone"]})
    assert read_tags(path).genres == ["Ambient", "Drone"]


@pytest.mark.parametrize("stored", ["(17)", "17", "(17)(18)", "(17)Rock", "(9)Black Metal"])
@pytest.mark.parametrize("version", [3, 4])
def test_legacy_numeric_id3_genres(tmp_path: Path, stored: str, version: int) -> None:
    from mutagen.id3 import ID3, TCON

    expected = {
        "(17)": ["Rock"],
        "17": ["Rock"],
        "(17)(18)": ["Rock", "Techno"],
        "(17)Rock": ["Rock"],
        "(9)Black Metal": ["Metal", "Black Metal"],
    }[stored]
    path = make_track(tmp_path, "mp3", genres=[])
    tags = ID3(path)
    tags.add(TCON(encoding=1, text=[stored]))
    tags.save(path, v2_version=version)
    assert ID3(path, translate=False).getall("TCON")[0].text == [stored]  # stored raw, unconverted
    assert read_tags(path).genres == expected


def test_ogg_flac_variant(tmp_path: Path) -> None:
    """FLAC in an Ogg container is detected from its first packet and tagged as Vorbis comments."""
    import av

    path = tmp_path / "song.oga"
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("flac", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4410), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 44100
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    assert detect_format(path) == "ogg"
    write_fields(path, {"genre": ["Noise", "Power Electronics"]})
    tags = read_tags(path)
    assert (tags.codec, tags.genres) == ("flac", ["Noise", "Power Electronics"])


def test_keep_mtime(tmp_path: Path) -> None:
    path = make_track(tmp_path, "flac")
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    write_fields(path, {"genre": ["Rock"]}, TagsConfig(keep_mtime=True))
    assert path.stat().st_mtime_ns == 1_000_000_000_000_000_000
    write_fields(path, {"genre": ["Pop"]})
    assert path.stat().st_mtime_ns != 1_000_000_000_000_000_000


def test_write_strips_values_and_drops_empties(tmp_path: Path) -> None:
    path = make_track(tmp_path, "flac")
    write_fields(path, {"genre": ["  Black Metal ", "", "   "]})
    import mutagen

    assert mutagen.File(path).tags["GENRE"] == ["Black Metal"]


def test_field_names_are_checked(tmp_path: Path) -> None:
    path = make_track(tmp_path, "flac")
    with pytest.raises(ValueError, match="unknown tag field"):
        read_fields(path, ["title"])
    with pytest.raises(ValueError, match="unknown tag field"):
        write_fields(path, {"MUSICTAGGER_lower": ["x"]})


def test_read_fields_missing_are_empty(tmp_path: Path) -> None:
    path = make_track(tmp_path, "m4a", genres=[])
    assert read_fields(path, ["genre", "style", "MUSICTAGGER_MODEL"]) == {
        "genre": [],
        "style": [],
        "MUSICTAGGER_MODEL": [],
    }


def test_supported_formats_cover_the_generator() -> None:
    assert set(FORMAT_IDS.values()) == set(SUPPORTED_FORMATS)


def test_empty_write_leaves_the_file_alone(tmp_path: Path) -> None:
    path = make_track(tmp_path, "mp3v23")
    before = path.read_bytes()
    write_fields(path, {})
    assert path.read_bytes() == before  # not even re-saved as ID3v2.4
