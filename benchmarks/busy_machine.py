"""Model throughput on a busy machine: the OpenMP spin count's effect, idle and with a program beside.

    .venv/bin/python benchmarks/busy_machine.py [--seconds 6] [--nice 10]

The app's model process runs at a low priority (``gui/worker_main.NICENESS``) so the window stays
responsive. torch's OpenMP threads (GNU libgomp) then meet a trap on a busy machine: at each
parallel region's barrier the thread whose core another program holds gets little time, while its
sibling *spins* — libgomp's default is 300,000 spins — instead of sleeping and leaving its core to
it. ``musictagger`` sets ``GOMP_SPINCOUNT`` (``musictagger.OPENMP_SPIN_COUNT``) unless the
environment already does. This script measures, each in a fresh interpreter at ``--nice``, musicnn
on six 3-s patches plus EfficientNet-Lite0 on four covers (random weights: what is measured is the
arithmetic), for libgomp's default and for ours, idle and beside one CPU-bound process; it prints
batches per second and the ratio busy ÷ idle (1.0: the busy machine costs nothing; on 2 cores one
program beside should cost at most about half).

Measured (2-core VM, nice 10): libgomp's default idle 4.96, busy 0.31 batches/s (0.06×); ours
(10,000 spins) idle 5.00, busy 2.09 (0.42×). At nice 0 beside the same program: 1.94 → 2.18.
In the app: the learn-then-suggest GUI test beside one busy process took 40 s, now 7 s (5 s idle).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from _common import ROOT

PROBE = """
import time, torch
from musictagger.ml.efficientnet_lite import EfficientNetLite
from musictagger.ml.musicnn import Musicnn
torch.manual_seed(0)
audio, covers = Musicnn().eval(), EfficientNetLite("efficientnet-lite0").eval()
x, im = torch.randn(6, 187, 96), torch.randn(4, 3, 224, 224)
with torch.inference_mode():
    for _ in range(2):
        audio(x), covers(im)
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < {seconds}:
        audio(x), covers(im)
        n += 1
print(n / (time.perf_counter() - start))
"""

LIBGOMP_DEFAULT = "300000"


def measure(spin: str, busy: bool, seconds: float, nice: int) -> float:
    env = {**os.environ, "GOMP_SPINCOUNT": spin, "PYTHONPATH": str(ROOT)}
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        out = subprocess.run(
            ["nice", "-n", str(nice), sys.executable, "-c", PROBE.format(seconds=seconds)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1])
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--nice", type=int, default=10)
    args = ap.parse_args()
    from musictagger import OPENMP_SPIN_COUNT

    print(f"{os.cpu_count()} CPU cores; each probe at nice {args.nice}, {args.seconds:.0f} s")
    for name, spin in (("libgomp default", LIBGOMP_DEFAULT), ("musictagger", OPENMP_SPIN_COUNT)):
        idle = measure(spin, False, args.seconds, args.nice)
        busy = measure(spin, True, args.seconds, args.nice)
        print(
            f"{name:16} GOMP_SPINCOUNT={spin:>6}: idle {idle:5.2f}, busy {busy:5.2f} batches/s => busy/idle {busy / idle:.2f}"
        )


if __name__ == "__main__":
    main()
