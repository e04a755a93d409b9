"""End-to-end library scans over real audio files and a real SQLite index."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from media import make_cover, make_track

from musictagger.config import Config, LibraryConfig
from musictagger.library import Album, Index, ScanResult, album_to_json, load_cover, scan
from musictagger.progress import Cancelled, CancelToken, Progress

RED = make_cover((200, 30, 30), (64, 64))
BLUE = make_cover((30, 30, 200), (64, 64), fmt="PNG")
LONG_NAME = "Sigur Rós – Ágætis byrjun – " + "ö" * 90  # ~220 bytes in UTF-8 with the suffix
N_GOOD = 12  # readable tracks in the library below


def build_library(root: Path) -> None:
    """A small mixed library; every album exercises one grouping or cover rule."""

    def track(folder: str, fmt: str, **kw) -> Path:
        d = root / folder
        d.mkdir(parents=True, exist_ok=True)
        return make_track(d, fmt, seconds=0.2, **kw)

    # embedded art, two formats in one album
    tags = dict(artist="Band", album="Embedded", album_artist="Band", year=2001, genres=["Black Metal"])
    track("Band/2001 - Embedded", "flac", title="One", track=1, cover=RED, **tags)
    track("Band/2001 - Embedded", "mp3", title="Two", track=2, cover=RED, **tags)
    # folder art with an odd-case name
    tags = dict(artist="Band", album="Folder Art", year=1999, genres=["Doom Metal", "Heavy Metal"])
    track("Band/1999 - Folder Art", "ogg", title="One", track=1, **tags)
    track(
        "Band/1999 - Folder Art",
        "opus",
        title="Two",
        track=2,
        genres=["Doom Metal"],
        **{k: v for k, v in tags.items() if k != "genres"},
    )
    (root / "Band/1999 - Folder Art/Folder.JPG").write_bytes(BLUE)
    # no art at all
    track("Other/No Art", "m4a", title="Only", artist="Other", album="No Art", year=2010)
    # two discs in CD1/CD2, no album artist but one artist; the cover is in the parent
    track("Duo/Double/CD1", "wav", title="A", artist="Duo", album="Double", track=1, disc=1)
    track("Duo/Double/CD2", "aiff", title="B", artist="Duo", album="Double", track=1, disc=2)
    (root / "Duo/Double/cover.png").write_bytes(BLUE)
    # a compilation: various artists, no album artist, one folder
    for i in range(1, 4):
        track("Comp", "mp3", title=f"Hit {i}", artist=f"Artist {i}", album="Hits", track=i)
    # FLAC data behind an .mp3 extension is a FLAC track
    flac = track("Liars", "flac", title="Lie", artist="Liar", album="Liars", track=1)
    flac.rename(flac.with_name("actually-flac.mp3"))
    # unicode and a very long name
    track("Ünïcødé/日本語", "flac", title=LONG_NAME, artist="Sigur Rós", album="Ágætis byrjun")
    # hidden: skipped
    track(".hidden", "mp3", title="Hidden", album="Hidden")
    # broken files: errors, not crashes
    bad = root / "Broken"
    bad.mkdir()
    (bad / "random.mp3").write_bytes(os.urandom(4096))
    (bad / "empty.flac").write_bytes(b"")
    good = make_track(bad / "whole.flac", "flac", seconds=0.2)
    (bad / "truncated.flac").write_bytes(good.read_bytes()[:60])
    good.unlink()
    # links: a loop back to the root, and a link to nowhere
    os.symlink(root, root / "Band" / "loop")
    os.symlink(root / "missing.flac", root / "Other" / "dead link.flac")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("template") / "lib"
    root.mkdir()
    build_library(root)
    return root


@pytest.fixture
def lib(template, tmp_path) -> Path:
    root = tmp_path / "lib"
    shutil.copytree(template, root, symlinks=True)
    # the loop must point at this copy, not at the template
    (root / "Band" / "loop").unlink()
    os.symlink(root, root / "Band" / "loop")
    return root


@pytest.fixture
def index(tmp_path, app_home):
    with Index() as idx:
        yield idx


def by_album(result: ScanResult) -> dict[str | None, Album]:
    return {a.album: a for a in result.albums}


def errors_of(result: ScanResult) -> dict[str, str]:
    return {e.path: e.message for e in result.errors}


@pytest.mark.timeout(60)
def test_scan_groups_albums_and_finds_covers(lib, index):
    result = scan([lib], index=index)
    albums = by_album(result)
    assert set(albums) == {"Embedded", "Folder Art", "No Art", "Double", "Hits", "Liars", "Ágætis byrjun"}
    assert result.files_seen == N_GOOD + 3 and result.files_read == result.files_seen
    assert sum(len(a.tracks) for a in result.albums) == N_GOOD  # nothing twice through the loop

    emb = albums["Embedded"]
    assert [t.format for t in emb.tracks] == ["flac", "mp3"]
    assert (emb.album_artist, emb.year, emb.cover_source, emb.cover_path) == ("Band", 2001, "embedded", None)
    assert all(t.has_embedded_cover for t in emb.tracks)
    assert load_cover(emb) == (RED, "embedded")

    art = albums["Folder Art"]
    assert [t.format for t in art.tracks] == ["ogg", "opus"]
    assert (art.album_artist, art.cover_source) == ("Band", "folder")
    assert art.cover_path == str(lib / "Band/1999 - Folder Art/Folder.JPG")
    assert art.genres == ["Doom Metal", "Heavy Metal"]
    assert load_cover(art) == (BLUE, "folder")

    assert (albums["No Art"].cover_source, load_cover(albums["No Art"])) == ("none", None)

    double = albums["Double"]
    assert double.folder == str(lib / "Duo/Double")
    assert [(t.disc, t.format) for t in double.tracks] == [(1, "wav"), (2, "aiff")]
    assert (double.album_artist, double.cover_source) == ("Duo", "folder")
    assert double.cover_path == str(lib / "Duo/Double/cover.png")

    hits = albums["Hits"]
    assert (hits.album_artist, hits.artist, len(hits.tracks)) == (None, "Various Artists", 3)
    assert [t.title for t in hits.tracks] == ["Hit 1", "Hit 2", "Hit 3"]

    (liar,) = albums["Liars"].tracks
    assert (liar.path, liar.format) == (str(lib / "Liars/actually-flac.mp3"), "flac")

    (uni,) = albums["Ágætis byrjun"].tracks
    assert uni.title == LONG_NAME and Path(uni.path).name.startswith("01 Sigur Rós")
    assert len(Path(uni.path).name.encode()) > 200

    # albums sorted by artist, year, album; "Various Artists" files under V
    assert [a.album for a in result.albums] == [
        "Folder Art",
        "Embedded",
        "Double",
        "Liars",
        "No Art",
        "Ágætis byrjun",
        "Hits",
    ]
    assert album_to_json(double) == {
        "folder": str(lib / "Duo/Double"),
        "album": "Double",
        "album_artist": "Duo",
        "year": 2001,
        "cover_source": "folder",
        "tracks": [
            {
                "path": str(lib / "Duo/Double/CD1/01 A.wav"),
                "format": "wav",
                "duration": pytest.approx(0.2, abs=0.01),
                "genres": ["Heavy Metal"],
            },
            {
                "path": str(lib / "Duo/Double/CD2/01 B.aiff"),
                "format": "aiff",
                "duration": pytest.approx(0.2, abs=0.01),
                "genres": ["Heavy Metal"],
            },
        ],
    }


def test_bad_files_are_per_file_errors(lib, index):
    result = scan([lib], index=index)
    errors = errors_of(result)
    assert set(errors) == {
        str(lib / "Broken/random.mp3"),
        str(lib / "Broken/empty.flac"),
        str(lib / "Broken/truncated.flac"),
        str(lib / "Other/dead link.flac"),
    }
    assert "not a supported audio file" in errors[str(lib / "Broken/random.mp3")]
    assert "empty" in errors[str(lib / "Broken/empty.flac")]
    assert errors[str(lib / "Broken/truncated.flac")]
    assert errors[str(lib / "Other/dead link.flac")].startswith("broken symbolic link")
    assert "Hidden" not in by_album(result)

    # errors come back from the index on a rescan, without reading the files again
    again = scan([lib], index=index)
    assert again.files_read == 0
    assert errors_of(again) == errors

    shown = scan([lib], index=index, config=Config(library=LibraryConfig(skip_hidden=False)))
    assert "Hidden" in by_album(shown)


def test_rescan_is_incremental(lib, index, tmp_path):
    cold = scan([lib], index=index)
    n = cold.files_seen
    assert (cold.files_read, cold.files_cached) == (n, 0)

    # a new Index on the same database, as after an app restart
    index.close()
    with Index() as idx:
        warm = scan([lib], index=idx)
        assert (warm.files_read, warm.files_cached) == (0, n)
        assert [album_to_json(a) for a in warm.albums] == [album_to_json(a) for a in cold.albums]
        assert [a.cover_source for a in warm.albums] == [a.cover_source for a in cold.albums]

        touched = lib / "Comp/02 Hit 2.mp3"
        st = touched.stat()
        os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert scan([lib], index=idx).files_read == 1

        gone = lib / "Comp/03 Hit 3.mp3"
        gone.unlink()
        after = scan([lib], index=idx)
        assert (after.files_seen, after.files_read) == (n - 1, 0)
        assert idx.get_file(str(gone)) is None
        assert len(by_album(after)["Hits"].tracks) == 2


def test_tag_edit_that_keeps_mtime_and_size_is_still_seen(lib, index):
    import mutagen

    scan([lib], index=index)
    path = lib / "Band/2001 - Embedded/01 One.flac"
    before = path.stat()
    time.sleep(0.05)  # let the file system clock tick, so the ctime can move
    audio = mutagen.File(path)
    audio["title"] = "Uno"  # same length: FLAC padding absorbs it, the size stays
    audio.save()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # what keep_mtime does
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    result = scan([lib], index=index)
    assert result.files_read == 1
    assert [t.title for t in by_album(result)["Embedded"].tracks] == ["Uno", "Two"]


def test_file_vanishing_during_the_scan_is_an_error(lib, index):
    victim = str(lib / "Ünïcødé/日本語" / f"01 {LONG_NAME}.flac")  # the last path in sort order
    assert os.path.exists(victim)

    def delete_once_reading_starts(p: Progress) -> None:
        if p.total is not None and os.path.exists(victim):
            os.unlink(victim)

    result = scan([lib], index=index, progress=delete_once_reading_starts)
    assert not os.path.exists(victim)
    assert "not found" in errors_of(result)[victim]
    assert "Ágætis byrjun" not in by_album(result)
    assert len(result.albums) == 6  # the rest went on


def test_unreadable_folder_is_an_error_and_keeps_its_rows(lib, index):
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions (see test_file_vanishing_during_the_scan_is_an_error)")
    first = scan([lib], index=index)
    locked = lib / "Comp"
    locked.chmod(0)
    try:
        result = scan([lib], index=index)
    finally:
        locked.chmod(0o755)
    assert errors_of(result)[str(locked)] == "cannot read folder: permission denied"
    assert "Hits" not in by_album(result)
    assert scan([lib], index=index).files_cached == first.files_seen


def test_missing_root_keeps_its_rows(lib, index, tmp_path):
    first = scan([lib], index=index)
    moved = tmp_path / "unmounted"
    lib.rename(moved)
    result = scan([lib], index=index)
    assert result.albums == [] and errors_of(result) == {str(lib): "file not found (it may have been moved or deleted)"}
    moved.rename(lib)
    assert scan([lib], index=index).files_cached == first.files_seen


def test_cancel_keeps_what_was_read(lib, index):
    token = CancelToken()

    def cancel_after_five(p: Progress) -> None:
        if p.total is not None and p.done >= 5:
            token.cancel()
        time.sleep(0.11)  # longer than the progress rate limit: one event per file

    with pytest.raises(Cancelled):
        scan([lib], index=index, progress=cancel_after_five, cancel=token)
    assert index.count_files() == 5  # read before the cancel, and saved
    result = scan([lib], index=index)
    assert (result.files_cached, result.files_read) == (5, result.files_seen - 5)
