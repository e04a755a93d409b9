"""Training, evaluation and "learn from my library": turning tagged music into model packs.

* :func:`train_pack` trains a cover (``cover_cnn``) or audio (``crnn``) pack from a music folder
  (its own genre tags are the labels), a CSV of file → labels, or a teacher model's soft labels
  over unlabelled audio (distillation). Artist-disjoint validation, class-weighted multi-label
  BCE, augmentation, early stopping on validation macro-AP, per-label threshold calibration,
  resumable safetensors checkpoints, and a pack with a model card as output.
* :func:`evaluate` measures a pack on labelled data and writes JSON + a self-contained HTML page.
* :func:`learn` trains the user's own packs from their tagged albums (a linear head on the bundled
  backbone when the library is small).

Nothing here imports torch at module import time; it is imported when a function runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from musictagger.training.data import Dataset, DatasetError, Item, TeacherSource, from_csv, from_folder
from musictagger.training.report import TrainReport
from musictagger.training.split import artist_split

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.ml.packs import ModelPack
    from musictagger.progress import CancelToken, ProgressCallback
    from musictagger.training.evaluation import EvalReport
    from musictagger.training.learning import LearnReport
    from musictagger.training.trainer import TrainOptions

__all__ = [
    "Dataset",
    "DatasetError",
    "Item",
    "TeacherSource",
    "TrainReport",
    "artist_split",
    "evaluate",
    "from_csv",
    "from_folder",
    "learn",
    "train_pack",
]


def train_pack(
    kind: str,
    dataset: Dataset | TeacherSource | str | Path,
    *,
    out_dir: str | Path,
    name: str,
    version: str = "1.0.0",
    epochs: int = 30,
    seed: int = 0,
    device: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    resume: bool = True,
    options: TrainOptions | None = None,
    init_from: ModelPack | None = None,
) -> TrainReport:
    """Train a ``kind`` ("cover" | "audio") pack from ``dataset`` and save it as ``out_dir/name``.

    ``dataset``: a :class:`Dataset`, a :class:`TeacherSource` (distillation), a ``.csv`` file or
    a music folder. A checkpoint in ``out_dir/.name.training`` lets an interrupted (or cancelled)
    run resume where it stopped, with the same result; it is removed once the pack is written.
    ``init_from`` starts from another pack's weights where names and shapes fit (fine-tuning).
    """
    from musictagger.training.trainer import train

    return train(
        kind,
        dataset,
        out_dir=Path(out_dir),
        name=name,
        version=version,
        epochs=epochs,
        seed=seed,
        device=device,
        progress=progress,
        cancel=cancel,
        resume=resume,
        options=options,
        init_from=init_from,
    )


def evaluate(
    pack: ModelPack | str | Path,
    data: Dataset | str | Path,
    *,
    out_dir: str | Path | None = None,
    device: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    **kwargs: Any,
) -> EvalReport:
    """Measure ``pack`` on labelled ``data``; with ``out_dir``, write ``evaluation.json`` and
    ``evaluation.html`` there. See :mod:`musictagger.training.evaluation`."""
    from musictagger.training.evaluation import evaluate as _evaluate

    return _evaluate(pack, data, out_dir=out_dir, device=device, progress=progress, cancel=cancel, **kwargs)


def learn(roots, *, kinds=("cover", "audio"), progress=None, cancel=None, **kwargs: Any) -> LearnReport:
    """Train the user's packs ("my-library-cover", "my-library-audio") from their tagged albums.
    See :mod:`musictagger.training.learning`."""
    from musictagger.training.learning import learn as _learn

    return _learn(roots, kinds=kinds, progress=progress, cancel=cancel, **kwargs)
