"""Suggesting commands: ``suggest`` (what the models say) and ``apply`` (the diff, and with ``--write`` the
resumable re-tagging of the roots)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from musictagger.cli import EXIT_FILES_FAILED, EXIT_OK, emit_json, err, shown
from musictagger.cli.common import (
    config_from_args,
    fraction,
    non_negative_int,
    positive_int,
    print_diff,
    print_error_summary,
    progress_bar,
)
from musictagger.session import Session, open_session


def add_parsers(sub: argparse._SubParsersAction) -> None:
    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
        p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
        p.add_argument("--models", help="comma-separated pack names or paths (default: config [inference] packs)")
        p.add_argument("--min-confidence", type=fraction, help="hide suggestions below this confidence (0..1)")
        p.add_argument("--top-k", type=positive_int, help="at most this many suggestions per album")
        p.add_argument("--no-cache", action="store_true", help="ignore cached model outputs")
        p.add_argument(
            "--speed",
            choices=("full", "fast"),
            help="full: every track, every excerpt and cover view; fast: 3 tracks per album, 1 excerpt each, "
            "each cover once (default: config [inference] speed)",
        )

    p = sub.add_parser("suggest", help="suggest subgenres for the albums under ROOT")
    run_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("apply", help="show (and with --write, write) suggested genres")
    run_options(p)
    p.add_argument("--mode", choices=("merge", "replace"))
    p.add_argument("--field", choices=("genre", "style"))
    p.add_argument("--max-genres", type=non_negative_int)
    p.add_argument("--write", action="store_true", help="write the tags (journaled; undo with `musictagger undo`)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_apply)


def _prepare(args: argparse.Namespace, session: Session):
    """The run's config (flags over the config file), the scanned roots and the suggester."""
    from musictagger.library import scan

    cfg = session.config
    inf = cfg.inference
    if args.min_confidence is not None:
        inf.min_confidence = args.min_confidence
    if args.top_k is not None:
        inf.top_k = args.top_k
    if getattr(args, "speed", None) is not None:
        inf.speed = args.speed
    for key in ("mode", "field", "max_genres"):
        if getattr(args, key, None) is not None:
            setattr(cfg.tags, key, getattr(args, key))
    problems: list[str] = []
    suggester = session.suggester(
        models=args.models.split(",") if args.models else None,
        device=args.device,
        use_cache=not args.no_cache,
        problems=problems,
    )
    for problem in problems:
        err(f"model pack not used: {problem}")
    args.pack_problems = problems
    with progress_bar(args) as bar:
        scanned = scan(args.roots, index=session.index, config=cfg, progress=bar)
    if args.command == "suggest":  # pictures in folders without audio are judged on their own
        from musictagger.library import cover_only_albums

        used = {os.path.dirname(t.path) for a in scanned.albums for t in a.tracks}
        used |= {a.folder for a in scanned.albums} | {
            os.path.dirname(a.cover_path) for a in scanned.albums if a.cover_path
        }
        scanned.albums.extend(cover_only_albums(args.roots, used))
    return cfg, scanned, suggester


def _speed_advice(suggester):
    """The bar's word about ``--speed fast`` when a thorough run on the CPU will take long."""
    from musictagger.pipeline.speed import speed_advice

    def advice(p):
        text = speed_advice(p, suggester.config.inference.speed, suggester.device_name)
        return f"{text} Try --speed fast." if text else None

    return advice


def _run(args, suggester, albums):
    with progress_bar(args, _speed_advice(suggester)) as bar:
        return list(suggester.run(albums, progress=bar))


def _is_cover_item(r) -> bool:
    return r.key.startswith("image\x1f")


def _result_json(r) -> dict:
    extra = {"kind": "cover", "cover": r.key.split("\x1f", 1)[1]} if _is_cover_item(r) else {"kind": "album"}
    return {
        **extra,
        "folder": r.folder,
        "album": r.album,
        "album_artist": r.album_artist,
        "suggestions": [s.to_json() for s in r.suggestions],
        "scores": {
            "cover": {_name(k): round(v, 4) for k, v in sorted(r.cover_scores.items())},
            "audio": {_name(k): round(v, 4) for k, v in sorted(r.audio_scores.items())},
            # "library" / "artist": only where learnt packs or the artist prior spoke
            **{
                kind: {_name(k): round(v, 4) for k, v in sorted(scores.items())}
                for kind, scores in (("library", r.library_scores), ("artist", r.artist_scores))
                if scores
            },
        },
        "cached": r.cached,
        "errors": [e.to_json() for e in r.errors],
    }


def _name(label_id: str) -> str:
    from musictagger.taxonomy import Taxonomy

    tax = Taxonomy.default()
    return tax.name(label_id) if label_id in tax else label_id


def _explain(s) -> str:
    parts = []
    if s.cover is not None:
        parts.append(f"cover {s.cover:.2f}")
    if s.audio is not None:
        parts.append(f"audio {s.audio:.2f}")
    return ", ".join(parts)


def cmd_suggest(args: argparse.Namespace) -> int:
    with open_session(config_from_args(args)) as session:
        cfg, scanned, suggester = _prepare(args, session)
        results = _run(args, suggester, scanned.albums)
    errors = scanned.errors + [e for r in results for e in r.errors]
    if args.json:
        emit_json(
            {
                "device": suggester.device_name,
                "packs": [p.to_json() for p in suggester.pack_infos],
                "albums": [_result_json(r) for r in results],
                "errors": [e.to_json() for e in errors],
                "problems": list(args.pack_problems),
            }
        )
    else:
        for r in results:
            if _is_cover_item(r):
                print(f"cover {shown(r.key.split(chr(31), 1)[1])}")
            else:
                print(shown(f"{r.album_artist or 'Unknown artist'} — {r.album or Path(r.folder).name}"))
            visible = [s for s in r.suggestions if not s.implied]
            if not visible:
                print("    (no suggestion above threshold)")
            for s in visible:
                print(f"    {s.name:<28} {s.confidence:5.2f}   ({_explain(s)})")
        packs = ", ".join(f"{p.name} {p.version}" for p in suggester.pack_infos)
        print(f"\n{len(results)} albums · device: {suggester.device_name} · packs: {packs}")
    print_error_summary(errors)
    return EXIT_FILES_FAILED if errors else EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    """Without --write: the diff (a dry run). With --write: a resumable batch through the journal.

    Both honour the review made in the desktop app (the library index's reviews): tags the user
    rejected are not written, tags accepted or added by hand are, whatever their confidence."""
    from musictagger.pipeline.apply import review_changes
    from musictagger.pipeline.review import ReviewPolicy, ReviewStore, review_for
    from musictagger.watch.retag import run_batch

    with open_session(config_from_args(args)) as session:
        cfg, scanned, suggester = _prepare(args, session)
        t = cfg.tags
        policy = ReviewPolicy.from_config(cfg)
        reviews = ReviewStore(session.index).load([a.key for a in scanned.albums], policy)
        errors = list(scanned.errors)
        by_key = {a.key: a for a in scanned.albums}
        summary = None
        with progress_bar(args, _speed_advice(suggester)) as bar:
            if args.write:
                summary = run_batch(
                    scanned.albums,
                    args.roots,
                    suggester,
                    session.journal,
                    session.watch_state,
                    cfg,
                    progress=bar,
                    reviews=reviews,
                )
                result = summary.run
                assert result is not None  # run_batch always ends with its journal run
                errors += summary.errors
                ReviewStore(session.index).save(list(summary.reviews.values()))  # the app shows them Applied
            else:

                def changes():
                    for r in suggester.run(scanned.albums, progress=bar):
                        errors.extend(r.errors)
                        review = review_for(r, policy, suggester.pack_infos, reviews.get(r.key))
                        yield from review_changes(by_key[r.key], review, t)

                result = session.journal.apply(changes(), kind="apply", config=t, dry_run=True)
                errors += [o.problem for o in result.outcomes if o.problem is not None]
    if args.json:
        emit_json(
            {
                "run_id": result.run_id,
                "written": bool(args.write),
                "device": suggester.device_name,
                "packs": [p.to_json() for p in suggester.pack_infos],
                "summary": summary.to_json() if summary else None,
                "files": [
                    {
                        "path": o.path,
                        "ok": o.ok,
                        "changed": o.changed,
                        "old": o.old.get(t.field, []),
                        "new": o.new.get(t.field, []),
                        "message": o.message,
                    }
                    for o in result.outcomes
                ],
                "errors": [e.to_json() for e in errors],
            }
        )
    else:
        print_diff(result.outcomes, t.field)
        changed = sum(1 for o in result.outcomes if o.ok and o.changed)
        if summary is not None:
            resumed = " (resumed an interrupted batch)" if summary.resumed else ""
            print(
                f"\n{summary.albums_tagged} albums tagged, {summary.albums_skipped} skipped, "
                f"{summary.albums_failed} failed, {summary.files_changed} files changed "
                f"in {summary.elapsed_s:.1f} s{resumed}"
            )
            if result.run_id is not None:
                print(f"run {result.run_id} (undo with: musictagger undo {result.run_id})")
        else:
            print(f"\n{changed} files would change. Nothing was written: add --write to write (undoable).")
    print_error_summary(errors)
    return EXIT_FILES_FAILED if errors else EXIT_OK
