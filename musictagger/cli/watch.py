"""The ``watch`` command: watch folders and tag new albums once they are fully copied."""

from __future__ import annotations

import argparse
from pathlib import Path

from musictagger.cli import EXIT_OK
from musictagger.cli.common import config_from_args, fraction, seconds
from musictagger.session import open_session


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="watch folders and tag new albums once they are fully copied")
    p.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
    p.add_argument("--auto-apply", action="store_true", help="write labels at or above --min-confidence (journaled)")
    p.add_argument("--min-confidence", type=fraction, help="auto-apply threshold (default: config [watch])")
    p.add_argument("--quiet-seconds", type=seconds, help="seconds without change before an album is processed")
    p.add_argument(
        "--process-existing",
        action="store_true",
        help="the first time a folder is watched, also process the albums already in it "
        "(default: they are recorded as seen; use `apply --write` to re-tag a library)",
    )
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--models", help="comma-separated pack names or paths")
    p.set_defaults(func=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    import datetime
    import threading

    from musictagger.watch import FolderWatcher

    cfg = config_from_args(args)
    w = cfg.watch
    quiet = args.quiet_seconds if args.quiet_seconds is not None else w.quiet_seconds
    min_conf = args.min_confidence if args.min_confidence is not None else w.auto_apply_min_confidence
    auto = args.auto_apply or w.auto_apply

    def say(line: str) -> None:
        print(f"{datetime.datetime.now():%H:%M:%S} {line}", flush=True)

    with open_session(cfg) as session:
        suggester = session.suggester(models=args.models.split(",") if args.models else None, device=args.device)
        processor = session.album_processor(
            suggester, auto_apply=auto, min_confidence=min_conf, notify=lambda event: say(event.describe())
        )
        mode = f"auto-apply at ≥ {min_conf:.2f}" if auto else "suggest only"
        say(f"watching {', '.join(map(str, args.roots))} ({mode}, quiet {quiet:g} s); Ctrl+C stops")
        watcher = FolderWatcher(
            args.roots,
            processor,
            state=session.watch_state,
            quiet_seconds=quiet,
            process_existing=args.process_existing,
        )
        try:
            with watcher:
                threading.Event().wait()
        except KeyboardInterrupt:
            say("stopped")
    return EXIT_OK
