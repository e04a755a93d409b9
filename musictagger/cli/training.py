"""CLI commands for training: ``train``, ``evaluate``, ``learn``.

Registered by :func:`musictagger.cli.build_parser` like every command module. Like every command, they
print for a person by default and a stable JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from musictagger.cli import EXIT_FILES_FAILED, EXIT_OK, emit_json
from musictagger.cli.common import print_error_summary, progress_bar
from musictagger.training.data import DatasetError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a cover or audio model pack from tagged music, a CSV, or a teacher model")
    p.add_argument("kind", choices=("cover", "audio"))
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-folder", type=Path, metavar="DIR", help="albums under DIR, labelled by their genre tags")
    src.add_argument(
        "--from-csv", type=Path, metavar="FILE", help="CSV with columns path, labels (';'-separated), artist"
    )
    src.add_argument("--teacher", metavar="PACK", help="distil from this audio pack's predictions (with --audio)")
    p.add_argument("--audio", type=Path, nargs="+", metavar="DIR", help="unlabelled audio folders for --teacher")
    p.add_argument(
        "--teacher-labels",
        choices=("taxonomy", "own"),
        default="taxonomy",
        help="map the teacher's tags into the taxonomy (default) or keep its own tags",
    )
    p.add_argument("--name", required=True, help="the pack's name (folder name under --out)")
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--split",
        choices=("artist", "random"),
        default="artist",
        help="validation split: by artist (default; no artist on both sides) or at random by item "
        "(artists leak: only to compare with figures published that way)",
    )
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--out", type=Path, help="folder for the pack (default: the user model folder)")
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="measure a pack on labelled data; writes JSON and an HTML report")
    p.add_argument("pack", metavar="PACK", help="pack name or folder")
    p.add_argument("data", type=Path, metavar="DATA", help="a music folder (its genre tags are the truth) or a CSV")
    p.add_argument("--out", type=Path, help="folder for evaluation.json and evaluation.html")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("learn", help="train your own cover/audio packs from your tagged albums")
    p.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
    p.add_argument("--kinds", default="cover,audio", help="comma list: cover, audio (default both)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_learn)


def _figures(metrics: dict) -> str:
    keys = (
        "macro_ap",
        "macro_auc",
        "top1",
        "top5",
        "broad_balanced_accuracy",
        "broad_accuracy",
        "metal_vs_hiphop_balanced_accuracy",
        "metal_vs_hiphop_auc",
        "metal_vs_hiphop_accuracy",
        "teacher_top5_overlap",
        "teacher_mean_abs_diff",
    )
    return ", ".join(f"{k} {metrics[k]:.3f}" for k in keys if isinstance(metrics.get(k), float))


def cmd_train(args: argparse.Namespace) -> int:
    from musictagger.paths import app_dirs
    from musictagger.training import TeacherSource, train_pack

    if args.teacher:
        from musictagger.ml.packs import find_pack

        if not args.audio:
            raise DatasetError("--teacher needs --audio DIR…")
        if args.kind != "audio":
            raise DatasetError("distillation (--teacher) trains audio packs only")
        dataset = TeacherSource(
            find_pack(args.teacher), roots=tuple(str(a) for a in args.audio), label_mode=args.teacher_labels
        )
    else:
        dataset = args.from_folder or args.from_csv
    from musictagger.training.trainer import TrainOptions

    out = args.out or app_dirs().ensure().models
    with progress_bar(args) as bar:
        report = train_pack(
            args.kind,
            dataset,
            out_dir=out,
            name=args.name,
            version=args.version,
            epochs=args.epochs,
            seed=args.seed,
            device=args.device,
            progress=bar,
            resume=not args.no_resume,
            options=TrainOptions(split=args.split),
        )
    if args.json:
        emit_json(report.to_json())
    else:
        d = report.data
        print(f"{report.name} {report.version} → {report.pack_path}")
        split = (
            "split by artist"
            if d.get("split", "artist") == "artist"
            else f"split at random: {d['shared_artists']} artists on both sides"
        )
        print(
            f"  {d['items']} items ({d['train_items']} train / {d['val_items']} validation, {split}), "
            f"{d['skipped']} skipped without a usable label, {d['unreadable']} unreadable"
        )
        print(
            f"  {len(report.labels)} labels; {report.epochs_run} epochs (best {report.best_epoch}) on "
            f"{report.device} in {report.elapsed_s:.0f} s"
        )
        print(f"  validation: {_figures(report.metrics)}")
    print_error_summary(report.errors)
    return EXIT_FILES_FAILED if report.errors else EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from musictagger.training import evaluate

    with progress_bar(args) as bar:
        report = evaluate(args.pack, args.data, out_dir=args.out, device=args.device, progress=bar)
    if args.json:
        emit_json(report.to_json())
    else:
        fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"{report.pack} on {report.data}: {report.items} items")
        print(
            f"  macro AP {fmt(report.macro_ap)}, macro ROC-AUC {fmt(report.macro_auc)}, "
            f"top-1 {fmt(report.top1)}, top-5 {fmt(report.top5)}"
        )
        for lab in report.labels:
            print(
                f"  {lab:24} n={report.label_counts[lab]:<5} AP {fmt(report.per_label_ap[lab])}  "
                f"AUC {fmt(report.per_label_auc[lab])}"
            )
        if report.html_path:
            print(f"report: {report.html_path}")
    print_error_summary(report.errors)
    return EXIT_FILES_FAILED if report.errors else EXIT_OK


def cmd_learn(args: argparse.Namespace) -> int:
    from musictagger.training import learn

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in ("cover", "audio")]
    if bad:
        raise DatasetError(f"unknown kind(s) {', '.join(bad)} (cover, audio)")
    with progress_bar(args) as bar:
        report = learn(args.roots, kinds=kinds, device=args.device, progress=bar)
    if args.json:
        emit_json(report.to_json())
    else:
        print(report.summary())
    return EXIT_OK if report.trained else EXIT_FILES_FAILED
