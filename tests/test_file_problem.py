"""FileProblem, the one per-file problem type, and the ``--json`` shape scripts rely on: every
"errors"/"warnings" entry of scan, tags, set-genres, suggest and apply is exactly
``{"path": …, "message": …}``, keys in that order, printed as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from media import make_cover, make_track
from tinypacks import make_cover_pack

from musictagger.errors import FileProblem, TagReadError
from musictagger.journal import FileOutcome


def cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    from musictagger.cli import main

    code = main(["--no-progress", *map(str, argv)])
    return code, capsys.readouterr().out


def entry_text(path: str, message: str, indent: int) -> str:
    """One entry as ``emit_json`` (indent 2) has always printed it, at a list nesting of ``indent``."""
    pad = " " * indent
    return f'{pad}{{\n{pad}  "path": {json.dumps(path, ensure_ascii=False)},\n{pad}  "message": {json.dumps(message, ensure_ascii=False)}\n{pad}}}'


def assert_problem_entries(out: str, entries: list[dict], indent: int) -> None:
    assert entries, "expected at least one problem"
    for entry in entries:
        assert list(entry) == ["path", "message"] and all(isinstance(v, str) for v in entry.values()), entry
        assert entry_text(entry["path"], entry["message"], indent) in out


def test_file_problem_is_the_path_and_a_message() -> None:
    problem = FileProblem("/music/x.mp3", "permission denied")
    assert problem.to_json() == {"path": "/music/x.mp3", "message": "permission denied"}
    assert list(problem.to_json()) == ["path", "message"]
    assert str(problem) == "/music/x.mp3: permission denied"
    path, message = problem  # the (path, message) tuple it replaced still unpacks
    assert (path, message) == ("/music/x.mp3", "permission denied")
    assert TagReadError(Path("/music/x.mp3"), "permission denied").problem() == problem
    assert FileOutcome("/music/x.mp3", False, "permission denied").problem == problem
    assert FileOutcome("/music/x.mp3", True, "a note").problem is None
    with pytest.raises(TypeError):
        json.dumps(problem)  # never printed by accident in another shape: to_json() says which


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    album = root / "Band - Album"
    album.mkdir(parents=True)
    make_track(album, "flac", title="One", artist="Band", album="Album", genres=["Rock"], cover=make_cover())
    (album / "broken.mp3").write_bytes(b"\x00garbage" * 100)
    (album / "cover.jpg").write_bytes(b"not a picture at all")
    return root


def test_every_json_problem_list_keeps_its_shape(library: Path, app_home: Path, capsys) -> None:
    broken = next(library.rglob("broken.mp3"))

    code, out = cli(capsys, "scan", library, "--json")
    data = json.loads(out)
    assert code == 1 and [Path(e["path"]).name for e in data["errors"]] == ["broken.mp3"]
    assert_problem_entries(out, data["errors"], 4)
    assert [Path(w["path"]).name for w in data["warnings"]] == ["cover.jpg"]
    assert_problem_entries(out, data["warnings"], 4)

    code, out = cli(capsys, "tags", broken, "--json")
    data = json.loads(out)
    assert code == 1 and data["errors"] == [{"path": str(broken), "message": data["errors"][0]["message"]}]
    assert_problem_entries(out, data["errors"], 4)

    code, out = cli(capsys, "set-genres", broken, "--genres", "Jazz", "--dry-run", "--json")
    data = json.loads(out)
    assert code == 1 and [e["path"] for e in data["errors"]] == [str(broken)]
    assert_problem_entries(out, data["errors"], 4)

    make_cover_pack(app_home / "data" / "models", {"black-metal": 3.0, "jazz": -3.0})
    code, out = cli(capsys, "suggest", library, "--json", "--device", "cpu", "--models", "tiny-cover")
    data = json.loads(out)
    assert code == 1 and [Path(e["path"]).name for e in data["errors"]] == ["broken.mp3"]
    assert_problem_entries(out, data["errors"], 4)

    code, out = cli(capsys, "apply", library, "--json", "--device", "cpu", "--models", "tiny-cover")
    data = json.loads(out)
    assert code == 1 and [Path(e["path"]).name for e in data["errors"]] == ["broken.mp3"]
    assert_problem_entries(out, data["errors"], 4)


def test_file_problem_of_an_exception() -> None:
    assert FileProblem.of(TagReadError("/music/x.mp3", "not an MP3"), "/elsewhere") == FileProblem(
        "/music/x.mp3", "not an MP3"
    )
    assert FileProblem.of(ValueError("bad value"), Path("/music/y.flac")) == FileProblem("/music/y.flac", "bad value")


def test_evaluate_reports_unreadable_inputs_as_file_problems(tmp_path: Path, app_home: Path) -> None:
    from musictagger.training import evaluate

    pack = make_cover_pack(tmp_path / "packs", {"black-metal": 3.0, "jazz": -3.0})
    (tmp_path / "good.jpg").write_bytes(make_cover())
    (tmp_path / "bad.jpg").write_bytes(b"not a picture")
    csv = tmp_path / "data.csv"
    csv.write_text(f"path,labels,artist\n{tmp_path / 'good.jpg'},Black Metal,A\n{tmp_path / 'bad.jpg'},Jazz,B\n")
    report = evaluate(pack, csv, device="cpu")
    assert report.errors == [FileProblem(str(tmp_path / "bad.jpg"), "not an image format we can read")]
    assert report.to_json()["errors"] == [e.to_json() for e in report.errors]  # the JSON shape is unchanged
