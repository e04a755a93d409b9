"""The ``musictagger`` command line: a thin shell over the core.

Exit codes (a public contract for scripts): 0 success; 1 the command ran but some files failed
(a summary is printed; ``--json`` still carries every per-file error); 2 usage error or a fatal
error (bad config, unknown run, nothing to undo…); 130 interrupted.

Commands, flags and ``--json`` shapes are public contracts: extend them, never rename them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from musictagger import __version__
from musictagger.errors import MusictaggerError

EXIT_OK, EXIT_FILES_FAILED, EXIT_FATAL, EXIT_INTERRUPTED = 0, 1, 2, 130


# Characters never sent raw to a terminal: C0/C1 controls (escape sequences, NUL, newlines inside
# a value), bidirectional overrides (which can disguise a name), and the lone surrogates that stand
# for the bytes of a file name that is not valid UTF-8.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# In JSON, json.dumps escapes C0 itself; these are escaped as well (still valid JSON, and a lone
# surrogate escape reads back, in Python, as the same undecodable file name).
_UNSAFE_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def shown(value: Any) -> str:
    """``value`` (a path, a tag value, a message) as it may be printed on a terminal: control
    characters are shown as escapes (``\\x1b``, ``\\x00``, ``\\n``) and a byte of a file name that is
    not UTF-8 as ``\\xNN``: a tag or a name can never drive the terminal."""
    return _UNSAFE.sub(_escape, str(value))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def emit_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    sys.stdout.write(_UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
    sys.stdout.write("\n")


def err(msg: str) -> None:
    print(f"musictagger: {shown(msg)}", file=sys.stderr)


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

    # One module per group of commands, each with its add_parsers; this order is the order of --help.
    from musictagger.cli import config, journal, library, models, suggest, training, watch

    for commands in (library, journal, config, suggest, watch, models, training):
        commands.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a stray undecodable character never ends a command
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_FATAL
    try:
        from musictagger import session

        for line in session.start().messages():
            err(line)
        return args.func(args)
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except MusictaggerError as exc:
        err(str(exc))
        return EXIT_FATAL
    except BrokenPipeError:  # `musictagger scan … | head`
        return EXIT_OK
