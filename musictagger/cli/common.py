"""Helpers shared by the CLI commands: config, progress, per-file error summaries."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from musictagger.cli import shown
from musictagger.cli.progressbar import ProgressBar
from musictagger.config import Config, load_config
from musictagger.errors import FileProblem
from musictagger.progress import Progress


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (a usage error, with the option's name, otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more, got 0")
    return value


def fraction(text: str) -> float:
    """argparse type: a number between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0.0 <= value <= 86400.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400 seconds, got {text}")
    return value


def config_from_args(args: argparse.Namespace) -> Config:
    warnings: list[str] = []
    cfg = load_config(getattr(args, "config", None), warnings)
    for w in warnings:
        print(f"musictagger: config: {shown(w)}", file=sys.stderr)
    return cfg


@contextmanager
def progress_bar(
    args: argparse.Namespace, advice: Callable[[Progress], str | None] | None = None
) -> Iterator[ProgressBar]:
    bar = ProgressBar(enabled=False if getattr(args, "no_progress", False) else None, advice=advice)
    try:
        yield bar
    finally:
        bar.close()


def print_error_summary(errors: Sequence[FileProblem], what: str = "files") -> None:
    """Per-file errors, at most 20 listed, then a count line, on stderr."""
    if not errors:
        return
    print(f"\n{len(errors)} {what} failed:", file=sys.stderr)
    for problem in errors[:20]:
        print(f"  {shown(problem.path)}: {shown(problem.message)}", file=sys.stderr)
    if len(errors) > 20:
        print(f"  … and {len(errors) - 20} more (use --json for the full list)", file=sys.stderr)


def print_warning_summary(warnings: Sequence[FileProblem]) -> None:
    """Per-file notes that did not fail anything (a corrupt picture ignored…), on stderr."""
    if not warnings:
        return
    print(f"\n{len(warnings)} note{'s' if len(warnings) > 1 else ''}:", file=sys.stderr)
    for problem in warnings[:20]:
        print(f"  {shown(problem.path)}: {shown(problem.message)}", file=sys.stderr)
    if len(warnings) > 20:
        print(f"  … and {len(warnings) - 20} more (use --json for the full list)", file=sys.stderr)


def split_genre_arg(value: str) -> list[str]:
    """``--genres "Black Metal;Folk Metal"``: split on ';' only, so names like AC/DC stay whole."""
    seen: set[str] = set()
    out: list[str] = []
    for part in value.split(";"):
        part = part.strip()
        if part and part.casefold() not in seen:
            seen.add(part.casefold())
            out.append(part)
    return out


def print_diff(outcomes, field: str, *, verb: str = "", show_unchanged: bool = False) -> None:
    """``path`` then ``field: old → new`` for every changed file of a run (or dry run)."""
    prefix = f"{verb} " if verb else ""
    for o in outcomes:
        if o.ok and o.changed:
            old = " | ".join(o.old.get(field, [])) or "∅"
            new = " | ".join(o.new.get(field, [])) or "∅"
            print(f"{prefix}{shown(o.path)}\n    {field}: {shown(old)}  →  {shown(new)}")
        elif o.ok and show_unchanged:
            print(f"unchanged {shown(o.path)}")
