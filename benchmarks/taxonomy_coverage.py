"""How much of a real metal-band listing the taxonomy's normaliser understands, and how fast.

    .venv/bin/python benchmarks/taxonomy_coverage.py [CSV] [--column styles] [--top 30]

CSV defaults to ``band_styles/metal_bands_2017.csv`` under ``musictagger.paths.shared_data_dir()``
(one row per band, a comma-separated style string such as "Symphonic power,Gothic"). Every string is
read as a metal band's style (``context="metal"``). Printed:

- bands: the share of style strings that map to at least one metal *subgenre* (a label below
  Metal, not Metal itself); goal >= 97 %;
- components: the share of comma-separated components that map to some label on their own.
  The listing was scraped with commas in odd places ("Post-,Rock", "Death ',N',Roll"); such
  fragments count as unrecognised here although the whole string is understood (they are
  re-joined there), so this figure is a lower bound;
- the most frequent unrecognised components, and the bands with no metal subgenre;
- time per string, uncached and cached.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musictagger.paths import shared_data_dir  # noqa: E402
from musictagger.taxonomy import Taxonomy  # noqa: E402

DEFAULT_RELATIVE = Path("band_styles") / "metal_bands_2017.csv"


def read_styles(path: Path, column: str | None) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if column is None:
            column = next((c for c in ("style", "styles") if c in fields), None)
        if column not in fields:
            raise SystemExit(f"{path}: no column {column!r} (columns: {', '.join(fields)})")
        return [row[column] or "" for row in reader]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, help="band style CSV (default: shared data)")
    parser.add_argument("--column", help="style column (default: 'style' or 'styles')")
    parser.add_argument("--top", type=int, default=30, help="how many unrecognised components to list")
    args = parser.parse_args(argv)

    path = args.csv
    if path is None:
        shared = shared_data_dir()
        if shared is None:
            raise SystemExit("no shared data directory; pass the CSV path")
        path = shared / DEFAULT_RELATIVE
    styles = read_styles(path, args.column)
    taxonomy = Taxonomy.default()

    def is_subgenre(label_id: str) -> bool:
        return "metal" in taxonomy.parents(label_id)

    start = time.perf_counter()
    results = [taxonomy.normalise(s, context="metal") for s in styles]
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for s in styles:
        taxonomy.normalise(s, context="metal")
    warm = time.perf_counter() - start

    unmapped = Counter(s for s, ids in zip(styles, results) if not any(map(is_subgenre, ids)))
    components = [c.strip() for s in styles for c in s.split(",") if c.strip()]
    unrecognised = Counter(c for c in components if not taxonomy.normalise(c, context="metal"))
    labels_used = Counter(label for ids in results for label in ids)

    n = len(styles)
    print(f"file: {path}")
    print(f"bands: {n}, distinct style strings: {len(set(styles))}, labels used: {len(labels_used)}")
    print(
        f"bands mapped to >= 1 metal subgenre: {n - sum(unmapped.values())}/{n} "
        f"= {100 * (1 - sum(unmapped.values()) / n):.2f} %"
    )
    print(
        f"components recognised on their own: {len(components) - sum(unrecognised.values())}/"
        f"{len(components)} = {100 * (1 - sum(unrecognised.values()) / len(components)):.2f} %"
    )
    print(
        f"time per string: {1e6 * cold / n:.1f} µs uncached, {1e6 * warm / n:.2f} µs cached "
        f"(ratio {cold / warm if warm else float('inf'):.0f}x)"
    )
    print(f"\ntop {args.top} unrecognised components:")
    for text, count in unrecognised.most_common(args.top):
        print(f"  {count:5d}  {text!r}")
    print("\nmost frequent style strings without a metal subgenre:")
    for text, count in unmapped.most_common(15):
        labels = ", ".join(taxonomy.to_names(taxonomy.normalise(text, context="metal"))) or "-"
        print(f"  {count:5d}  {text!r} -> {labels}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
