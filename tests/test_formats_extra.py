"""Formats beyond the first ten, as Picard covers them where mutagen does: Musepack, TAK, OptimFROG
(APEv2), TrueAudio, DSF, DSDIFF (ID3v2), AAC in ADTS and AC-3 (APEv2, or ID3v2 in front of ADTS),
Ogg Speex (Vorbis comments). Each is detected by its header, read, written, verified and undone."""

from __future__ import annotations

from pathlib import Path

import pytest
from media import EXTRA_FORMATS, age, make_extra_track

from musictagger.errors import UnsupportedFormat
from musictagger.journal import FileChange, GenreEdit, Journal
from musictagger.tags import AUDIO_EXTENSIONS, SUPPORTED_FORMATS, detect_format, read_tags

EXT = {"mpc": ".mpc", "tak": ".tak", "ofr": ".ofr", "tta": ".tta", "dsf": ".dsf", "dff": ".dff"}
EXT |= {"aac": ".aac", "ac3": ".ac3", "spx": ".spx"}


@pytest.mark.parametrize("fmt", EXTRA_FORMATS)
def test_extra_format_is_read_written_and_undone(tmp_path: Path, app_home: Path, fmt: str) -> None:
    path = make_extra_track(tmp_path / f"song{EXT[fmt]}", fmt, genres=["Rock"])
    assert EXT[fmt] in AUDIO_EXTENSIONS and fmt in SUPPORTED_FORMATS
    assert detect_format(path) == fmt
    before = read_tags(path)
    assert before.genres == ["Rock"] and before.title == "Test" and before.format == fmt
    with Journal() as journal:
        result = journal.apply([FileChange(str(path), edit=GenreEdit("genre", ("Black Metal",)))])
        assert result.outcomes[0].ok, result.outcomes[0].message
        after = read_tags(path)
        assert after.genres == ["Rock", "Black Metal"] and after.title == "Test"
        journal.undo(result.run_id)
    assert read_tags(path).genres == ["Rock"]


def test_musepack_is_not_called_an_mp3(tmp_path: Path) -> None:
    """A Musepack file behind an ID3v2 tag was detected as MP3 and refused as 'not a valid MP3'."""
    path = make_extra_track(tmp_path / "a.mpc", "mpc")
    data = path.read_bytes()
    tagged = tmp_path / "b.mpc"
    tagged.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + data)  # an empty ID3v2 tag in front
    assert detect_format(tagged) == "mpc"
    assert read_tags(tagged).format == "mpc"


def test_aac_after_an_id3_tag_is_tagged_in_that_tag(tmp_path: Path, app_home: Path) -> None:
    plain = make_extra_track(tmp_path / "a.aac", "aac", genres=[])
    framed = tmp_path / "b.aac"
    # An ID3v2.4 tag with one TCON frame in front of the ADTS stream (as streamed AAC often has).
    from mutagen.id3 import ID3, TCON

    tag = ID3()
    tag.add(TCON(encoding=3, text=["Jazz"]))
    framed.write_bytes(plain.read_bytes())
    tag.save(framed)
    age(framed)
    assert detect_format(framed) == "aac" and read_tags(framed).genres == ["Jazz"]
    with Journal() as journal:
        journal.apply([FileChange(str(framed), edit=GenreEdit("genre", ("Fusion",)))])
    assert read_tags(framed).genres == ["Jazz", "Fusion"]
    assert ID3(framed).getall("TCON")[0].text == ["Jazz", "Fusion"]


@pytest.mark.parametrize(
    ("head", "name"),
    [(b"\x1a\x45\xdf\xa3", "Matroska/WebM"), (b".snd", "Sun/NeXT AU"), (b"#!AMR\n", "AMR"), (b"caff", "Core Audio")],
)
def test_unsupported_formats_are_named(tmp_path: Path, head: bytes, name: str) -> None:
    path = tmp_path / "x.mp3"
    path.write_bytes(head + bytes(5000))
    with pytest.raises(UnsupportedFormat, match=f"format {name}.* is not supported"):
        read_tags(path)


def test_an_ape_link_value_is_no_genre(tmp_path: Path) -> None:
    """Found by the fuzzer: an APEv2 "external" (link) value under Genre raised a TypeError."""
    import mutagen.apev2

    path = make_extra_track(tmp_path / "a.mpc", "mpc")
    tags = mutagen.apev2.APEv2(path)
    tags["Genre"] = mutagen.apev2.APEValue("http://example.org/genre", mutagen.apev2.EXTERNAL)
    tags.save(path)
    assert read_tags(path).genres == []
