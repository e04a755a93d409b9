"""musictagger: multi-label subgenre tags for a local music library, from covers and audio.

The core (tags, library, journal, taxonomy, audio, ml, pipeline, watch) imports neither Qt nor
torch at module import; torch is loaded lazily where inference or training happens and
``musictagger.gui`` is the only Qt code.
"""

import os

__version__ = "0.1.0"
APP_NAME = "musictagger"

#: How long torch's OpenMP threads (GNU libgomp, read when torch loads) spin at a barrier before
#: they sleep. libgomp's default, 300,000 spins, is ruinous on a busy machine: a thread whose core
#: another program holds gets little time (the app's model process runs at a low priority), and
#: its sibling spins at the barrier instead of leaving its core to it. Measured on 2 cores with one
#: CPU-bound program beside (musicnn + EfficientNet-Lite0, niced like the app's model process):
#: 0.31 → 2.09 batches/s; idle 4.96 → 5.00 (no loss); at normal priority 1.94 → 2.18.
#: A value already in the environment wins.
OPENMP_SPIN_COUNT = "10000"
os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT)
