"""The ``config`` command: the configuration in effect, its documented defaults, where it lives."""

from __future__ import annotations

import argparse

from musictagger.cli import EXIT_OK
from musictagger.cli.common import config_from_args


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show the configuration")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--defaults", action="store_true", help="print every key with its default, documented")
    g.add_argument("--path", action="store_true", help="print where the config file lives")
    p.set_defaults(func=cmd_config)


def cmd_config(args: argparse.Namespace) -> int:
    from musictagger.config import default_config_text
    from musictagger.paths import app_dirs

    if args.defaults:
        print(default_config_text())
    elif args.path:
        print(args.config or app_dirs().config_file)
    else:
        import tomli_w

        print(tomli_w.dumps(config_from_args(args).to_dict()))
    return EXIT_OK
