"""The ``musictagger`` command line: a thin shell over the core.

Exit codes (a public contract for scripts): 0 success; 1 the command ran but some files failed
(a summary is printed; ``--json`` still carries every per-file error); 2 usage error or a fatal
error (bad config, unknown run, nothing to undo…); 130 interrupted.

Commands, flags and ``--json`` shapes are public contracts: extend them, never rename them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from musictagger import __version__
from musictagger.errors import MusictaggerError

EXIT_OK, EXIT_FILES_FAILED, EXIT_FATAL, EXIT_INTERRUPTED = 0, 1, 2, 130


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def err(msg: str) -> None:
    print(f"musictagger: {msg}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="musictagger",
        description="Suggest and write subgenre tags for a local music library, offline.",
        epilog="Set MUSICTAGGER_HOME=DIR to keep all config, data, cache and journal under DIR.",
    )
    p.add_argument("--version", action="version", version=f"musictagger {__version__}")
    p.add_argument("--config", type=Path, help="config file (default: the app's config.toml)")
    p.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    from musictagger.cli import commands_core, commands_models
    from musictagger.training import cli as commands_training

    commands_core.add_parsers(sub)
    commands_models.add_parsers(sub)
    commands_training.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_FATAL
    try:
        return args.func(args)
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except MusictaggerError as exc:
        err(str(exc))
        return EXIT_FATAL
    except BrokenPipeError:  # `musictagger scan … | head`
        return EXIT_OK
