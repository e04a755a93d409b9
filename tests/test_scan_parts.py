"""The scan's parts on real folders and a real SQLite file: the walk, the index, the grouping.

The end-to-end scan over real audio files is in test_scan.py.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from musictagger.errors import IndexDatabaseError
from musictagger.library import Album, Index, Track, album_to_json
from musictagger.library import index as index_module
from musictagger.library.albums import album_root, group_albums
from musictagger.library.index import FileRecord
from musictagger.library.walk import best_folder_image, walk_library
from musictagger.tags.types import TrackTags

EXTS = frozenset({".mp3", ".flac", ".ogg"})


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def found_paths(listing) -> set[str]:
    return {f.path for f in listing.files}


# -- walk ------------------------------------------------------------------------------------


def test_walk_finds_audio_by_extension_and_skips_hidden_and_temp_files(tmp_path):
    a = touch(tmp_path / "A" / "01.MP3")
    b = touch(tmp_path / "A" / "sub" / "02.flac")
    touch(tmp_path / "A" / "notes.txt")
    touch(tmp_path / ".hidden" / "03.mp3")
    touch(tmp_path / "A" / ".04.mp3")
    touch(tmp_path / "A" / ".05.flac.musictagger-abc123.tmp")

    listing = walk_library([tmp_path], EXTS)
    assert found_paths(listing) == {str(a), str(b)}
    assert listing.errors == []

    shown = walk_library([tmp_path], EXTS, skip_hidden=False)
    assert found_paths(shown) == {str(a), str(b), str(tmp_path / ".hidden" / "03.mp3"), str(tmp_path / "A" / ".04.mp3")}
    # our own temp file is never a track, hidden files shown or not
    assert not any("musictagger-" in p for p in found_paths(shown))


def test_walk_records_stat_of_each_file(tmp_path):
    f = touch(tmp_path / "x.ogg", b"12345")
    os.utime(f, ns=(1_000_000_000, 1_234_567_890_123))
    (found,) = walk_library([tmp_path], EXTS).files
    assert (found.size, found.mtime_ns) == (5, 1_234_567_890_123)
    assert found.ctime_ns == os.stat(f).st_ctime_ns


def test_walk_lists_cover_images_any_case(tmp_path):
    touch(tmp_path / "A" / "Folder.JPG")
    touch(tmp_path / "A" / "AlbumArt_{X}_Large.jpg")
    touch(tmp_path / "A" / "back.jpg")
    touch(tmp_path / "B" / "x.mp3")
    listing = walk_library([tmp_path], EXTS)
    assert sorted(listing.images[str(tmp_path / "A")]) == ["AlbumArt_{X}_Large.jpg", "Folder.JPG"]
    assert listing.images[str(tmp_path / "B")] == []


def test_best_folder_image_prefers_name_then_size(tmp_path):
    jpeg = b"\xff\xd8\xff\xe0"  # only the first bytes are looked at: they must be an image's
    touch(tmp_path / "front.png", b"\x89PNG\r\n\x1a\n" + b"x" * 10)
    touch(tmp_path / "Folder.JPG", jpeg + b"x" * 5)
    touch(tmp_path / "AlbumArtSmall.jpg", jpeg + b"x" * 50)
    touch(tmp_path / "AlbumArt_{X}_Large.jpg", jpeg + b"x" * 500)
    names = os.listdir(tmp_path)
    assert best_folder_image(str(tmp_path), names) == str(tmp_path / "Folder.JPG")
    names.remove("Folder.JPG")
    assert best_folder_image(str(tmp_path), names) == str(tmp_path / "front.png")
    names.remove("front.png")
    assert best_folder_image(str(tmp_path), names) == str(tmp_path / "AlbumArt_{X}_Large.jpg")
    touch(tmp_path / "cover.jpeg", b"")  # an empty image is no cover
    assert best_folder_image(str(tmp_path), names + ["cover.jpeg"]) == str(tmp_path / "AlbumArt_{X}_Large.jpg")


@pytest.mark.timeout(20)
def test_walk_survives_symlink_loops(tmp_path):
    f = touch(tmp_path / "lib" / "A" / "01.mp3")
    os.symlink(tmp_path / "lib", tmp_path / "lib" / "A" / "loop")  # lib/A/loop -> lib
    os.symlink("self", tmp_path / "lib" / "self")  # a link to itself
    listing = walk_library([tmp_path / "lib"], EXTS)
    assert found_paths(listing) == {str(f)}


def test_walk_follows_linked_folders_once_under_real_path(tmp_path):
    outside = touch(tmp_path / "elsewhere" / "B" / "02.flac")
    real = touch(tmp_path / "lib" / "A" / "01.mp3")
    os.symlink(tmp_path / "elsewhere", tmp_path / "lib" / "linked")
    os.symlink(tmp_path / "lib" / "A", tmp_path / "lib" / "0-alias-of-A")  # also reached for real

    listing = walk_library([tmp_path / "lib"], EXTS)
    assert found_paths(listing) == {str(real), str(tmp_path / "lib" / "linked" / "B" / "02.flac")}

    no_links = walk_library([tmp_path / "lib"], EXTS, follow_symlinks=False)
    assert found_paths(no_links) == {str(real)}
    # overlapping roots walk each folder once
    both = walk_library([tmp_path / "elsewhere", tmp_path / "elsewhere" / "B"], EXTS)
    assert found_paths(both) == {str(outside)}


def test_walk_reports_broken_links(tmp_path):
    touch(tmp_path / "ok.mp3")
    os.symlink(tmp_path / "gone.flac", tmp_path / "dead.flac")
    os.symlink(tmp_path / "gone-folder", tmp_path / "dead-folder")
    os.symlink(tmp_path / "gone.txt", tmp_path / "dead.txt")  # not audio: not our concern
    listing = walk_library([tmp_path], EXTS)
    assert found_paths(listing) == {str(tmp_path / "ok.mp3")}
    errors = {e.path: e.message for e in listing.errors}
    assert set(errors) == {str(tmp_path / "dead.flac"), str(tmp_path / "dead-folder")}
    assert all(m.startswith("broken symbolic link") for m in errors.values())
    assert "gone.flac" in errors[str(tmp_path / "dead.flac")]


def test_walk_reports_missing_root_and_unreadable_folder(tmp_path):
    touch(tmp_path / "lib" / "ok.mp3")
    locked = tmp_path / "lib" / "locked"
    touch(locked / "x.mp3")
    listing = walk_library([tmp_path / "nope", tmp_path / "lib"], EXTS)
    assert listing.errors[0].path == str(tmp_path / "nope")
    assert "not found" in listing.errors[0].message
    assert str(tmp_path / "nope") in listing.unreadable

    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    locked.chmod(0)
    try:
        listing = walk_library([tmp_path / "lib"], EXTS)
    finally:
        locked.chmod(0o755)
    assert found_paths(listing) == {str(tmp_path / "lib" / "ok.mp3")}
    assert [(e.path, e.message) for e in listing.errors] == [(str(locked), "cannot read folder: permission denied")]
    assert listing.unreadable == [str(locked)]


def test_walk_unicode_long_and_undecodable_names(tmp_path):
    deep = tmp_path
    for i in range(12):
        deep = deep / f"Ünïcødé ファイル 폴더 {i:02d} {'x' * 60}"
    long_name = "Sigur Rós – Ágætis byrjun " + "é" * 100 + ".flac"  # ~250 bytes in UTF-8
    f = touch(deep / long_name)
    assert len(str(f)) > 1000
    bad = os.path.join(os.fsencode(tmp_path), b"caf\xe9.mp3")  # Latin-1, not UTF-8
    with open(bad, "wb") as fh:
        fh.write(b"x")
    listing = walk_library([tmp_path], EXTS)
    assert found_paths(listing) == {str(f)}
    (err,) = listing.errors
    assert "not valid UTF-8" in err.message


# -- index -----------------------------------------------------------------------------------


def record(path: str, **kw) -> FileRecord:
    tags = TrackTags(path=path, format="flac", duration=1.5, title="T", genres=["Black Metal"])
    rec = FileRecord.from_tags(tags, kw.pop("size", 10), kw.pop("mtime_ns", 1), kw.pop("ctime_ns", 2))
    for k, v in kw.items():
        setattr(rec, k, v)
    return rec


def test_index_is_wal_versioned_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICTAGGER_HOME", str(tmp_path / "home"))
    with Index() as idx:
        assert idx.path == tmp_path / "home" / "data" / "index.sqlite3"
        assert idx.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert idx.user_version == len(index_module.MIGRATIONS)
        idx.put_files([record("/m/a/1.flac"), record("/m/ab/2.flac"), record("/m/a/sub/3.flac")])
        idx.put_files([FileRecord("/m/a/bad.mp3", 3, 4, 5, error="empty file (0 bytes)")])

    with Index() as idx:
        rows = idx.load_files(["/m/a"])
        # /m/ab is not below /m/a even though the string starts with it
        assert set(rows) == {"/m/a/1.flac", "/m/a/sub/3.flac", "/m/a/bad.mp3"}
        tags = rows["/m/a/1.flac"].track_tags()
        assert (tags.title, tags.genres, tags.duration, tags.format) == ("T", ["Black Metal"], 1.5, "flac")
        assert rows["/m/a/bad.mp3"].error == "empty file (0 bytes)"
        assert rows["/m/a/bad.mp3"].tags() == {}
        assert set(idx.load_files(["/m/a", "/m/ab"])) == set(rows) | {"/m/ab/2.flac"}
        assert set(idx.load_files(["/m/a/1.flac"])) == {"/m/a/1.flac"}  # a root may be a file
        assert idx.delete_files(["/m/a/1.flac", "/m/nothing"]) == 1
        assert idx.count_files() == 3


def test_index_transaction_rolls_back_and_nests(tmp_path):
    with Index(tmp_path / "i.db") as idx:
        with pytest.raises(RuntimeError):
            with idx.transaction():
                idx.put_files([record("/a/1.flac")])  # nested: joins the outer transaction
                raise RuntimeError("boom")
        assert idx.count_files() == 0
        with idx.transaction():
            idx.put_files([record("/a/1.flac")])
            idx.put_files([record("/a/2.flac")])
        assert idx.count_files() == 2


def test_index_migration_hook_adds_a_table_and_keeps_rows(tmp_path, monkeypatch):
    db = tmp_path / "i.db"
    with Index(db) as idx:
        idx.put_files([record("/a/1.flac")])
        v1 = idx.user_version

    def add_table(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE later_table (key TEXT PRIMARY KEY, value BLOB)")

    monkeypatch.setattr(index_module, "MIGRATIONS", [*index_module.MIGRATIONS, add_table])
    with Index(db) as idx:
        assert idx.user_version == v1 + 1
        idx.conn.execute("INSERT INTO later_table VALUES ('k', x'00')")
        assert idx.count_files() == 1
    with Index(db) as idx:  # not applied twice
        assert idx.conn.execute("SELECT COUNT(*) FROM later_table").fetchone()[0] == 1


def test_model_cache_and_watch_tables_made_outside_the_migrations_are_adopted(tmp_path, monkeypatch):
    """An index from before migration 3: schema 2, the model cache (without its embedding column)
    and the watch tables created by their stores. Opening it keeps their rows and adds the column."""
    from musictagger.pipeline.cache import ResultCache
    from musictagger.watch.state import WatchState

    db = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(index_module, "MIGRATIONS", index_module.MIGRATIONS[:2])
        with Index(db) as idx:
            idx.put_files([record("/a/1.flac")])
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE model_cache (input_key TEXT NOT NULL, pack_key TEXT NOT NULL, probs BLOB NOT NULL,"
        " PRIMARY KEY (input_key, pack_key)) WITHOUT ROWID;"
        "CREATE TABLE watch_done (signature TEXT PRIMARY KEY, folder TEXT NOT NULL, processed_at REAL NOT NULL,"
        " run_id INTEGER) WITHOUT ROWID;"
        "INSERT INTO model_cache VALUES ('track:/a/1.flac|1|2', 'p@1#x', x'0000803f');"
        "INSERT INTO watch_done VALUES ('sig', '/a', 1.0, NULL);"
        "PRAGMA user_version = 2;"
    )
    conn.close()
    cache = ResultCache(db)
    assert cache.get("track:/a/1.flac|1|2", "p@1#x", 1) == [1.0]
    state = WatchState(db)
    assert state.is_done("sig") and not state.root_known("/a")
    with Index(db) as idx:
        assert idx.user_version == len(index_module.MIGRATIONS) == 3
        assert idx.count_files() == 1
        columns = {row[1] for row in idx.conn.execute("PRAGMA table_info(model_cache)")}
        assert "embedding" in columns
        tables = {row[0] for row in idx.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"files", "reviews", "model_cache", "watch_done", "watch_roots", "batch_albums", "batches"} <= tables


def test_index_refuses_newer_or_foreign_databases(tmp_path):
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(IndexDatabaseError, match="newer musictagger"):
        Index(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(IndexDatabaseError, match="not a usable library index"):
        Index(junk)


# -- grouping --------------------------------------------------------------------------------


def t(path: str, album: str | None, artist: str | None = "Artist", **kw) -> Track:
    return Track(path=path, format="flac", album=album, artist=artist, **kw)


def test_album_root_strips_disc_parts():
    assert album_root("/m/X/CD1") == "/m/X"
    assert album_root("/m/X/disc 02") == "/m/X"
    assert album_root("/m/X/Disk_3 - Live") == "/m/X"
    assert album_root("/m/Mellon Collie (Disc 1)") == "/m/Mellon Collie"
    assert album_root("/m/Mellon Collie [CD2]") == "/m/Mellon Collie"
    assert album_root("/m/Mellon Collie - CD 3") == "/m/Mellon Collie"
    assert album_root("/m/CDs of 1999") == "/m/CDs of 1999"
    assert album_root("/m/Discography") == "/m/Discography"


def test_multi_disc_subfolders_make_one_album(tmp_path):
    tracks = [
        t("/m/X/CD1/01.flac", "Double", album_artist="Band", disc=1, track=1),
        t("/m/X/CD1/02.flac", "Double", album_artist="Band", disc=1, track=2),
        t("/m/X/CD2/01.flac", "double", album_artist="BAND", disc=2, track=1),
        # no album artist at all, but one artist throughout: still one album
        t("/m/Y/Disc 1/01.flac", "Solo", artist="Singer", disc=1, track=1),
        t("/m/Y/Disc 2/01.flac", "Solo", artist="singer", disc=2, track=1),
    ]
    albums = group_albums(tracks, {})
    assert [(a.album, a.album_artist, a.folder, len(a.tracks)) for a in albums] == [
        ("Double", "Band", "/m/X", 3),
        ("Solo", "Singer", "/m/Y", 2),
    ]
    assert [x.path for x in albums[0].tracks] == ["/m/X/CD1/01.flac", "/m/X/CD1/02.flac", "/m/X/CD2/01.flac"]


def test_compilation_in_one_folder_stays_one_album():
    tracks = [t(f"/m/Comp/{i:02d}.mp3", "Hits 2001", artist=f"Band {i}", track=i) for i in range(1, 6)]
    (album,) = group_albums(tracks, {})
    assert album.album_artist is None
    assert album.artist == "Various Artists"
    assert [x.track for x in album.tracks] == [1, 2, 3, 4, 5]


def test_grouping_keeps_copies_and_different_artists_apart():
    tracks = [
        t("/m/mp3/A/01.mp3", "Same", album_artist="A"),
        t("/m/flac/A/01.flac", "Same", album_artist="A"),
        # one flat folder, two albums with the same title by different album artists
        t("/m/flat/1.mp3", "Greatest Hits", album_artist="Abba"),
        t("/m/flat/2.mp3", "Greatest Hits", album_artist="Queen"),
        t("/m/flat/3.mp3", "Greatest Hits", album_artist="Queen"),
        # no album title: the folder is the album
        t("/m/loose/a.mp3", None, artist="X"),
        t("/m/loose/b.mp3", "", artist="Y"),
    ]
    albums = group_albums(tracks, {})
    summary = sorted((a.folder, a.album, a.album_artist, len(a.tracks)) for a in albums)
    assert summary == [
        ("/m/flac/A", "Same", "A", 1),
        ("/m/flat", "Greatest Hits", "Abba", 1),
        ("/m/flat", "Greatest Hits", "Queen", 2),
        ("/m/loose", None, None, 2),
        ("/m/mp3/A", "Same", "A", 1),
    ]


def test_albums_sorted_and_described():
    tracks = [
        t("/m/2/01.flac", "Later", artist="B", year=2005, genres=["Doom Metal"]),
        t("/m/1/01.flac", "Zeta", artist="b", year=1999, genres=["Heavy Metal", "doom metal"]),
        t("/m/1/02.flac", "Zeta", artist="B", year=1999, genres=["Doom Metal"]),
        t("/m/1/03.flac", "Zeta", artist="B", year=2010, genres=["Heavy Metal", "Stoner"]),
        t("/m/0/01.flac", "Alpha", artist="Aaa", year=2020),
    ]
    albums = group_albums(tracks, {})
    assert [(a.artist, a.year, a.album) for a in albums] == [
        ("Aaa", 2020, "Alpha"),
        ("b", 1999, "Zeta"),
        ("B", 2005, "Later"),
    ]
    zeta = albums[1]
    assert zeta.genres == ["Heavy Metal", "doom metal", "Stoner"]  # by frequency, first spelling
    assert album_to_json(zeta) == {
        "folder": "/m/1",
        "album": "Zeta",
        "album_artist": "b",
        "year": 1999,
        "cover_source": "none",
        "tracks": [
            {"path": "/m/1/01.flac", "format": "flac", "duration": None, "genres": ["Heavy Metal", "doom metal"]},
            {"path": "/m/1/02.flac", "format": "flac", "duration": None, "genres": ["Doom Metal"]},
            {"path": "/m/1/03.flac", "format": "flac", "duration": None, "genres": ["Heavy Metal", "Stoner"]},
        ],
    }


def test_folder_covers_from_disc_parent_never_from_mixed_folders(tmp_path):
    m = str(tmp_path)
    png, jpeg = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"
    touch(tmp_path / "X" / "cover.png", png)
    touch(tmp_path / "flat" / "cover.jpg", jpeg)
    touch(tmp_path / "E" / "folder.jpg", jpeg)
    tracks = [
        t(f"{m}/X/CD1/01.flac", "Double", album_artist="Band"),
        t(f"{m}/X/CD2/01.flac", "Double", album_artist="Band"),
        t(f"{m}/flat/1.mp3", "One", album_artist="Abba"),
        t(f"{m}/flat/2.mp3", "Two", album_artist="Abba"),
        t(f"{m}/E/1.mp3", "Emb", album_artist="C", has_embedded_cover=True),
    ]
    images = {f"{m}/X/CD1": [], f"{m}/X/CD2": [], f"{m}/flat": ["cover.jpg"], f"{m}/E": ["folder.jpg"]}
    by_album: dict[str, Album] = {a.album: a for a in group_albums(tracks, images)}
    # the walk did not list X (as if CD1 and CD2 were roots): looked up on demand
    assert (by_album["Double"].cover_source, by_album["Double"].cover_path) == ("folder", f"{m}/X/cover.png")
    assert (by_album["One"].cover_source, by_album["One"].cover_path) == ("none", None)
    assert (by_album["Emb"].cover_source, by_album["Emb"].cover_path) == ("embedded", f"{m}/E/folder.jpg")
