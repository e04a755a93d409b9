"""Library commands: ``scan``, ``tags``, ``set-genres`` (reading and writing the files' tags)."""

from __future__ import annotations

import argparse
from pathlib import Path

from musictagger.cli import EXIT_FATAL, EXIT_FILES_FAILED, EXIT_OK, emit_json, err, shown
from musictagger.cli.common import (
    config_from_args,
    non_negative_int,
    print_diff,
    print_error_summary,
    print_warning_summary,
    progress_bar,
    split_genre_arg,
)
from musictagger.session import open_session


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="scan folders and list albums, covers and genres")
    p.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("tags", help="show the tags we read from files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tags)

    p = sub.add_parser("set-genres", help="write genres to files (journaled, undoable)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--genres", required=True, help='genres separated by ";", e.g. "Black Metal;Folk Metal"')
    p.add_argument("--mode", choices=("merge", "replace"), help="merge (keep existing, default) or replace")
    p.add_argument("--field", choices=("genre", "style"), help="target field (default from config: genre)")
    p.add_argument("--max-genres", type=non_negative_int, help="cap on the number of genres (0 = no cap)")
    p.add_argument(
        "--id3-version",
        choices=("keep", "2.3", "2.4"),
        help="ID3 version for MP3/WAV/AIFF/TTA/DSF: keep each file's (default) or convert to 2.3/2.4",
    )
    p.add_argument("--keep-mtime", action="store_true", default=None, help="keep modification times")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_set_genres)


# ---------------------------------------------------------------- scan
def cmd_scan(args: argparse.Namespace) -> int:
    from musictagger.library import album_to_json, scan

    with open_session(config_from_args(args)) as session, progress_bar(args) as bar:
        result = scan(args.roots, index=session.index, config=session.config, progress=bar)
    errors, warnings = result.errors, result.warnings
    if args.json:
        emit_json(
            {
                "albums": [album_to_json(a) for a in result.albums],
                "errors": [e.to_json() for e in errors],
                "warnings": [w.to_json() for w in warnings],
            }
        )
    else:
        for album in result.albums:
            year = f" ({album.year})" if album.year else ""
            genres = "; ".join(album.genres) or "no genre"
            print(shown(f"{album.artist or 'Unknown artist'} — {album.album or Path(album.folder).name}{year}"))
            print(f"    {len(album.tracks)} tracks · cover: {album.cover_source} · {shown(genres)}")
            print(f"    {shown(album.folder)}")
        print(
            f"\n{len(result.albums)} albums, {result.files_seen} files "
            f"({result.files_read} read, {result.files_cached} unchanged) in {result.elapsed_s:.1f} s"
        )
    print_warning_summary(warnings)
    print_error_summary(errors)
    return EXIT_FILES_FAILED if errors else EXIT_OK


# ---------------------------------------------------------------- tags
def _tags_to_json(t) -> dict:
    import dataclasses

    d = dataclasses.asdict(t)
    d["pictures"] = [
        {"type": p.type, "mime": p.mime, "description": p.description, "bytes": len(p.data)} for p in t.pictures
    ]
    return d


def cmd_tags(args: argparse.Namespace) -> int:
    from musictagger.errors import FileError, FileProblem
    from musictagger.tags import read_tags

    cfg = config_from_args(args)
    out, errors = [], []
    for path in args.files:
        try:
            out.append(read_tags(path, cfg.tags))
        except FileError as exc:
            errors.append(exc.problem())
    warnings = [FileProblem(t.path, problem) for t in out for problem in t.problems]
    if args.json:
        emit_json({"files": [_tags_to_json(t) for t in out], "errors": [e.to_json() for e in errors]})
    else:
        for t in out:
            print(shown(t.path))
            rows = [
                ("format", f"{t.format} ({t.codec})" + (f", ID3v{t.id3_version}" if t.id3_version else "")),
                ("duration", f"{t.duration:.1f} s" if t.duration else None),
                ("title", t.title),
                ("artist", t.artist),
                ("album artist", t.album_artist),
                ("album", t.album),
                ("track", _n_of(t.track, t.track_total)),
                ("disc", _n_of(t.disc, t.disc_total)),
                ("year", t.year),
                ("genres", " | ".join(t.genres) if t.genres else None),
                ("styles", " | ".join(t.styles) if t.styles else None),
                ("pictures", ", ".join(f"{p.mime} type {p.type} {len(p.data)} B" for p in t.pictures) or None),
            ] + sorted(t.custom.items())
            for k, v in rows:
                if v not in (None, ""):
                    print(f"  {shown(k):<14} {shown(v)}")
    print_warning_summary(warnings)
    print_error_summary(errors)
    return EXIT_FILES_FAILED if errors else EXIT_OK


def _n_of(n, total) -> str | None:
    if n is None:
        return None
    return f"{n}/{total}" if total else str(n)


# ---------------------------------------------------------------- set-genres
def cmd_set_genres(args: argparse.Namespace) -> int:
    import os

    from musictagger.config import validate
    from musictagger.journal import FileChange, GenreEdit

    cfg = config_from_args(args)
    t = cfg.tags
    for key in ("mode", "field", "max_genres", "id3_version", "keep_mtime"):
        value = getattr(args, key)
        if value is not None:
            setattr(t, key, value)
    validate(cfg)
    genres = split_genre_arg(args.genres)
    if not genres and t.mode == "merge":
        err("--genres is empty: nothing to add (use --mode replace to clear the field)")
        return EXIT_FATAL

    # Planned by the journal from each file as it is just before its write (nothing read here
    # can go stale): a genre another program adds meanwhile is kept.
    edit = GenreEdit(t.field, tuple(genres), t.mode, t.max_genres)
    changes = [FileChange(os.path.abspath(path), edit=edit) for path in args.files]
    with open_session(cfg) as session, progress_bar(args) as bar:
        result = session.journal.apply(
            changes,
            kind="set-genres",
            config=t,
            dry_run=args.dry_run,
            progress=bar,
            meta={"genres": genres, "mode": t.mode, "field": t.field},
        )
    errors = [o.problem for o in result.outcomes if o.problem is not None]
    if args.json:
        emit_json(
            {
                "run_id": result.run_id,
                "dry_run": args.dry_run,
                "files": [
                    {"path": o.path, "ok": o.ok, "changed": o.changed, "old": o.old, "new": o.new, "message": o.message}
                    for o in result.outcomes
                ],
                "errors": [e.to_json() for e in errors],
            }
        )
    else:
        print_diff(result.outcomes, t.field, verb="would change" if args.dry_run else "changed", show_unchanged=True)
        if args.dry_run:
            print("\ndry run: nothing was written")
        elif result.run_id is not None:
            print(
                f"\nrun {result.run_id}: {result.changed_count} files changed (undo with: musictagger undo {result.run_id})"
            )
    print_error_summary(errors)
    return EXIT_FILES_FAILED if errors else EXIT_OK
