"""Journal commands: ``runs`` (the journaled write runs) and ``undo``."""

from __future__ import annotations

import argparse

from musictagger.cli import EXIT_FILES_FAILED, EXIT_OK, emit_json, shown
from musictagger.cli.common import config_from_args, non_negative_int, print_error_summary, progress_bar
from musictagger.session import open_session


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list journaled write runs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=non_negative_int, default=50)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("undo", help="undo a write run (default: the last one)")
    p.add_argument("run_id", nargs="?", type=int, metavar="RUN_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_undo)


def cmd_runs(args: argparse.Namespace) -> int:
    with open_session() as session:
        runs = session.journal.runs(limit=args.limit)
    if args.json:
        emit_json(
            {
                "runs": [
                    {
                        "id": r.id,
                        "started": r.started,
                        "files": r.files,
                        "kind": r.kind,
                        "status": r.status,
                        "finished": r.finished,
                        "undone_by": r.undone_by,
                    }
                    for r in runs
                ]
            }
        )
        return EXIT_OK
    if not runs:
        print("no runs yet")
    for r in runs:
        note = f"  (undone by run {r.undone_by})" if r.undone_by else ""
        print(f"{r.id:>5}  {r.started[:19].replace('T', ' ')}  {r.kind:<12} {r.files:>6} files  {r.status}{note}")
    return EXIT_OK


def cmd_undo(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    with open_session(cfg) as session, progress_bar(args) as bar:
        result = session.journal.undo(args.run_id, config=cfg.tags, progress=bar)
    errors = [o.problem for o in result.outcomes if o.problem is not None]
    if args.json:
        emit_json(
            {
                "run_id": result.run_id,
                "undone_run": journal_undone_run(result.run_id, args.run_id),
                "files": [
                    {"path": o.path, "ok": o.ok, "changed": o.changed, "skipped": o.skipped, "message": o.message}
                    for o in result.outcomes
                ],
            }
        )
    else:
        for o in result.outcomes:
            if o.ok and o.changed:
                print(f"restored {shown(o.path)}")
            for note in [o.message] if o.ok and o.message else []:
                print(f"  note: {shown(note)}")
        print(f"\nundo run {result.run_id}: {result.changed_count} files restored")
    print_error_summary(errors)
    return EXIT_FILES_FAILED if errors else EXIT_OK


def journal_undone_run(undo_run_id: int | None, asked: int | None) -> int | None:
    """The run an undo run reverted (what was asked, or what "the last run" resolved to)."""
    if asked is not None or undo_run_id is None:
        return asked
    with open_session() as session:
        return session.journal.run(undo_run_id).undoes_run
