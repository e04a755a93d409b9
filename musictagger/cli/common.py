"""Helpers shared by the CLI commands: config, progress, per-file error summaries."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from musictagger.cli.progressbar import ProgressBar
from musictagger.config import Config, load_config


def config_from_args(args: argparse.Namespace) -> Config:
    warnings: list[str] = []
    cfg = load_config(getattr(args, "config", None), warnings)
    for w in warnings:
        print(f"musictagger: config: {w}", file=sys.stderr)
    return cfg


@contextmanager
def progress_bar(args: argparse.Namespace) -> Iterator[ProgressBar]:
    bar = ProgressBar(enabled=False if getattr(args, "no_progress", False) else None)
    try:
        yield bar
    finally:
        bar.close()


def print_error_summary(errors: Sequence[tuple[str, str]], what: str = "files") -> None:
    """Per-file errors, at most 20 listed, then a count line, on stderr."""
    if not errors:
        return
    print(f"\n{len(errors)} {what} failed:", file=sys.stderr)
    for path, message in errors[:20]:
        print(f"  {path}: {message}", file=sys.stderr)
    if len(errors) > 20:
        print(f"  … and {len(errors) - 20} more (use --json for the full list)", file=sys.stderr)


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
            print(f"{prefix}{o.path}\n    {field}: {old}  →  {new}")
        elif o.ok and show_unchanged:
            print(f"unchanged {o.path}")
