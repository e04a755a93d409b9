"""The session (musictagger.session): the stores the shells work with, opened on first use and
closed together; the suggester and the watcher's album processor built over them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from media import make_cover, make_track

from musictagger.config import Config
from musictagger.session import open_session


def test_a_session_opens_only_what_is_used(app_home: Path) -> None:
    with open_session() as session:
        assert session.journal.runs() == []
    data = app_home / "data"
    assert (data / "journal.sqlite3").is_file()
    assert not (data / "index.sqlite3").exists()  # the index was never asked for


def test_closing_a_session_closes_its_stores(app_home: Path) -> None:
    session = open_session()
    index, state = session.index, session.watch_state
    assert session.index is index  # one of each per session
    session.close()
    with pytest.raises(sqlite3.ProgrammingError):
        index.conn.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        state.is_done("x")
    session.close()  # idempotent
    assert open_session().index is not index  # a new session opens its own


def test_the_suggester_and_the_album_processor_work_over_the_session(tmp_path: Path, app_home: Path) -> None:
    from tinypacks import make_cover_pack

    from musictagger.tags import read_tags
    from musictagger.watch import folder_signature

    make_cover_pack(app_home / "data" / "models", {"black-metal": 3.0, "jazz": -3.0})
    cfg = Config()
    cfg.inference.device = "cpu"
    album = tmp_path / "Album"
    album.mkdir()
    track = make_track(album, "flac", title="One", album="Album", genres=[], cover=make_cover())
    problems: list[str] = []
    events = []
    with open_session(cfg) as session:
        suggester = session.suggester(models=["tiny-cover"], problems=problems)
        processor = session.album_processor(suggester, auto_apply=True, min_confidence=0.8, notify=events.append)
        processor(str(album))
        runs = session.journal.runs()
        assert session.watch_state.is_done(folder_signature(album) or "")
    assert problems == []
    assert [e.labels for e in events] == [["Black Metal"]]
    assert [r.kind for r in runs] == ["watch"]
    assert read_tags(track).genres == ["Black Metal"]
