"""The folder watcher, with real files and real timing (kept short: quiet periods of 0.4 s)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from media import make_cover, make_track

from musictagger.watch import FolderWatcher, WatchState, folder_signature

QUIET = 0.4


class Recorder:
    """A ``process`` callable that remembers what it got and marks it done, like the real one."""

    def __init__(self, state: WatchState):
        self.state = state
        self.calls: list[tuple[str, float, dict[str, int]]] = []

    def __call__(self, folder: str) -> None:
        sizes = {p.name: p.stat().st_size for p in Path(folder).iterdir() if p.is_file()}
        sig = folder_signature(folder)
        if sig:
            self.state.mark_done(sig, folder)
        # Recorded last: a test that acts once it sees the call (renames the folder, say) must not
        # race the signature being taken and marked done.
        self.calls.append((folder, time.monotonic(), sizes))

    def folders(self) -> list[str]:
        return [c[0] for c in self.calls]


def wait_for(cond, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture
def state(app_home):
    s = WatchState()
    yield s
    s.close()


@pytest.fixture
def template(tmp_path) -> Path:
    """A real 3-second FLAC to copy from."""
    d = tmp_path / "template"
    d.mkdir()
    return make_track(d, "flac", seconds=3.0, title="Tpl", album="Tpl")


def test_slow_copy_is_processed_once_after_it_is_stable(tmp_path, state, template):
    root = tmp_path / "incoming"
    root.mkdir()
    rec = Recorder(state)
    data = template.read_bytes()
    with FolderWatcher([root], rec, state=state, quiet_seconds=QUIET):
        album = root / "Slow Album"
        album.mkdir()
        target = album / "01 Song.flac"
        chunk = len(data) // 8 + 1
        with open(target, "wb") as fh:  # ~2.4 s of growing file, gaps longer than QUIET/2
            for i in range(0, len(data), chunk):
                fh.write(data[i : i + chunk])
                fh.flush()
                time.sleep(0.3)
        copy_done = time.monotonic()
        assert wait_for(lambda: len(rec.calls) >= 1)
        time.sleep(3 * QUIET)
    assert rec.folders() == [str(album)]
    folder, when, sizes = rec.calls[0]
    assert when >= copy_done
    assert sizes["01 Song.flac"] == len(data)  # never seen half-copied


def test_a_burst_of_albums_is_each_processed_exactly_once(tmp_path, state, template):
    root = tmp_path / "incoming"
    root.mkdir()
    rec = Recorder(state)
    with FolderWatcher([root], rec, state=state, quiet_seconds=QUIET, max_queue=4):
        for i in range(15):
            d = root / f"Album {i:02d}"
            d.mkdir()
            for t in range(3):
                shutil.copy(template, d / f"{t:02d}.flac")
        assert wait_for(lambda: len(rec.calls) >= 15)
        time.sleep(3 * QUIET)
    assert sorted(rec.folders()) == sorted(str(root / f"Album {i:02d}") for i in range(15))


def test_renamed_album_folder_is_not_processed_again(tmp_path, state, template):
    root = tmp_path / "incoming"
    (root / "Old Name").mkdir(parents=True)
    shutil.copy(template, root / "Old Name" / "01.flac")
    rec = Recorder(state)
    with FolderWatcher([root], rec, state=state, quiet_seconds=QUIET, process_existing=True) as w:
        assert wait_for(lambda: len(rec.calls) == 1)
        (root / "Old Name").rename(root / "New Name")
        time.sleep(4 * QUIET)
        assert wait_for(w.idle)
    assert rec.folders() == [str(root / "Old Name")]


def test_restart_catches_up_with_changes_made_while_stopped(tmp_path, state, template):
    root = tmp_path / "music"
    (root / "Seen").mkdir(parents=True)
    shutil.copy(template, root / "Seen" / "01.flac")
    rec = Recorder(state)
    with FolderWatcher([root], rec, state=state, quiet_seconds=QUIET, process_existing=True):
        assert wait_for(lambda: len(rec.calls) == 1)
    # While the watcher is not running: a new album arrives, the old one is untouched.
    (root / "New").mkdir()
    shutil.copy(template, root / "New" / "01.flac")
    rec2 = Recorder(state)
    with FolderWatcher([root], rec2, state=state, quiet_seconds=QUIET) as w:
        assert wait_for(lambda: len(rec2.calls) == 1)
        time.sleep(3 * QUIET)
        assert w.idle()
    assert rec2.folders() == [str(root / "New")]


def test_first_watch_records_a_baseline_instead_of_retagging_the_library(tmp_path, state, template):
    root = tmp_path / "library"
    for name in ("Old A", "Old B"):
        (root / name).mkdir(parents=True)
        shutil.copy(template, root / name / "01.flac")
    rec = Recorder(state)
    with FolderWatcher([root], rec, state=state, quiet_seconds=QUIET) as w:
        time.sleep(3 * QUIET)
        assert rec.calls == []  # existing albums are the baseline
        (root / "Arrived").mkdir()
        shutil.copy(template, root / "Arrived" / "01.flac")
        assert wait_for(lambda: len(rec.calls) == 1)
        time.sleep(2 * QUIET)
        assert wait_for(w.idle)
    assert rec.folders() == [str(root / "Arrived")]
    # Changed while stopped: an old album gets a new track → processed at the next start.
    shutil.copy(template, root / "Old A" / "02.flac")
    rec2 = Recorder(state)
    with FolderWatcher([root], rec2, state=state, quiet_seconds=QUIET):
        assert wait_for(lambda: len(rec2.calls) == 1)
        time.sleep(2 * QUIET)
    assert rec2.folders() == [str(root / "Old A")]


def test_album_copied_in_while_watching_starts_is_new_not_baseline(tmp_path, state, template):
    """Between asking to watch and the watch being armed (the app loads its models) an album is
    copied in: no event reaches the watcher, so its catch-up must not take it for the baseline."""
    root = tmp_path / "library"
    (root / "Old").mkdir(parents=True)
    shutil.copy(template, root / "Old" / "01.flac")
    staging = tmp_path / "staging" / "Copied"
    staging.mkdir(parents=True)
    shutil.copy2(template, staging / "01.flac")
    time.sleep(0.05)  # well past the file system's timestamp tick: "Old" is older than the request
    asked = time.time()
    time.sleep(0.05)
    shutil.copytree(staging, root / "Copied")  # keeps the files' old mtimes, as a copy does
    rec = Recorder(state)
    with FolderWatcher([root], rec, state=state, quiet_seconds=QUIET, baseline_before=asked) as w:
        assert w.started.is_set()
        assert wait_for(lambda: len(rec.calls) == 1)
        time.sleep(2 * QUIET)
        assert wait_for(w.idle)
    assert rec.folders() == [str(root / "Copied")]


def test_watched_folder_that_disappears_and_comes_back(tmp_path, state, template):
    root = tmp_path / "usb"
    root.mkdir()
    rec = Recorder(state)
    with FolderWatcher([root], rec, state=state, quiet_seconds=QUIET, rewatch_every=0.3):
        shutil.rmtree(root)
        time.sleep(1.0)
        (root / "Back").mkdir(parents=True)
        shutil.copy(template, root / "Back" / "01.flac")
        assert wait_for(lambda: len(rec.calls) == 1)
    assert rec.folders() == [str(root / "Back")]


def test_auto_apply_tags_once_and_our_write_does_not_retrigger(tmp_path, app_home, state):
    from tinypacks import make_cover_pack

    from musictagger.config import Config
    from musictagger.journal import Journal
    from musictagger.library import Index
    from musictagger.ml.packs import find_pack
    from musictagger.pipeline.suggester import Suggester
    from musictagger.tags import read_tags
    from musictagger.watch.service import AlbumProcessor

    make_cover_pack(app_home / "data" / "models", {"black-metal": 3.0, "jazz": -3.0})
    cfg = Config()
    cfg.inference.device = "cpu"
    suggester = Suggester([find_pack("tiny-cover")], cfg)
    root = tmp_path / "incoming"
    root.mkdir()
    events = []
    calls = []
    with Index() as index, Journal() as journal:
        processor = AlbumProcessor(
            cfg, suggester, index, journal, state, auto_apply=True, min_confidence=0.8, notify=events.append
        )

        def process(folder):
            calls.append(folder)
            processor(folder)

        with FolderWatcher([root], process, state=state, quiet_seconds=QUIET) as w:
            album = tmp_path / "staging" / "Album"
            album.mkdir(parents=True)
            make_track(album, "flac", title="One", album="Album", genres=["Metal"], cover=make_cover())
            make_track(album, "mp3", title="Two", track=2, album="Album", genres=[])
            shutil.move(str(album), root / "Album")  # a move into the watched folder
            assert wait_for(lambda: len(events) >= 1)
            time.sleep(4 * QUIET)  # our own write's events come and go
            assert wait_for(w.idle)
        runs = journal.runs()
    assert calls == [str(root / "Album")]
    assert [r.kind for r in runs] == ["watch"]
    assert read_tags(root / "Album" / "01 One.flac").genres == ["Metal", "Black Metal"]
    assert read_tags(root / "Album" / "02 Two.mp3").genres == ["Black Metal"]
    assert "wrote Black Metal" in events[0].describe()
    run_id = runs[0].id
    assert f"musictagger undo {run_id}" in events[0].describe()  # the CLI's wording by default
    gui_text = events[0].describe(undo_hint="undo: Edit ▸ History of Runs, run {run}")
    assert "musictagger undo" not in gui_text and f"History of Runs, run {run_id}" in gui_text
