"""The ``models`` commands: list, inspect and import model packs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from musictagger.cli import EXIT_OK, emit_json


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, inspect and import model packs")
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)
    q = msub.add_parser("list", help="list installed packs")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_models_list)
    q = msub.add_parser("info", help="show a pack's manifest summary and model card")
    q.add_argument("name")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_models_info)
    q = msub.add_parser("import-choi2016", help="import the published Choi et al. 2016 Keras CRNN (.h5)")
    q.add_argument("file", type=Path, metavar="FILE.h5")
    q.add_argument("--name", default="choi2016-msd")
    q.set_defaults(func=cmd_models_import_choi2016)


def cmd_models_list(args: argparse.Namespace) -> int:
    from musictagger.ml.packs import find_packs_with_problems

    packs, problems = find_packs_with_problems()
    if args.json:
        emit_json(
            {
                "packs": [
                    {
                        "name": p.name,
                        "kind": p.kind,
                        "version": p.version,
                        "bundled": p.bundled,
                        "labels": list(p.labels),
                        "path": str(p.path),
                    }
                    for p in packs
                ],
                "problems": [str(e) for e in problems],
            }
        )
    else:
        if not packs:
            print("no model packs installed")
        for p in packs:
            where = "bundled" if p.bundled else "user"
            print(f"{p.name:<24} {p.kind:<6} {p.version:<8} {where:<8} {len(p.labels)} labels  {p.path}")
        for e in problems:
            print(f"  problem: {e}", file=sys.stderr)
    return EXIT_OK


def cmd_models_info(args: argparse.Namespace) -> int:
    from musictagger.ml.packs import find_pack

    p = find_pack(args.name)
    if args.json:
        emit_json({"name": p.name, "path": str(p.path), "bundled": p.bundled, "manifest": p.manifest.to_dict()})
        return EXIT_OK
    m = p.manifest
    print(f"{p.name} {p.version} ({p.kind}, {'bundled' if p.bundled else 'user'})  {p.path}")
    print(f"  architecture: {p.architecture.get('name')}  labels: {len(p.labels)}  licence: {m.license}")
    for ref in m.backbones:
        print(f"  backbone: {ref.name} (sha256 {ref.sha256[:12]}…)")
    if m.description:
        print(f"  {m.description}")
    print()
    print(p.model_card())
    return EXIT_OK


def cmd_models_import_choi2016(args: argparse.Namespace) -> int:
    from musictagger.ml.choi2016 import import_choi2016

    pack = import_choi2016(args.file, name=args.name)
    print(f"imported {pack.name} {pack.version} into {pack.path}")
    mapped = sum(1 for t in pack.labels if pack.label_map.get(t))
    print(f"{len(pack.labels)} tags, {mapped} mapped to taxonomy labels")
    return EXIT_OK
