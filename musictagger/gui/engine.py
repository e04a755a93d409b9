"""The model engine shared by suggest runs, the folder watcher and batch re-tagging.

It is built on first use, in a worker thread: building it imports torch (through
:class:`~musictagger.pipeline.engine.Suggester.load`), which is why :meth:`Engine.get` is only
ever called from background tasks, never from the GUI thread.

One :class:`Suggester` serves the whole app (the models are loaded once), but a Suggester is not
thread-safe. So whoever runs it — a Suggest task, the watcher's worker, a batch — holds
:meth:`Engine.exclusive` for as long as it does; the others wait their turn.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from musictagger.progress import Cancelled, CancelToken, Progress, ProgressCallback

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config
    from musictagger.ml.packs import ModelPack
    from musictagger.pipeline.engine import Suggester
    from musictagger.pipeline.types import PackInfo


@dataclass(frozen=True)
class EngineInfo:
    """What the status bar and the About dialog show about the loaded models."""

    device_name: str
    packs: tuple[PackInfo, ...]
    model_packs: tuple[ModelPack, ...]

    @property
    def packs_text(self) -> str:
        return ", ".join(f"{p.name} {p.version} ({p.kind})" for p in self.packs) or "no packs"


class Engine:
    """Holds one :class:`Suggester`; :meth:`reset` drops it when the settings that shape it change."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._lock = threading.Lock()  # guards building the suggester
        self._run_lock = threading.Lock()  # held while a suggester runs (see exclusive())
        self._suggester: Suggester | None = None
        self.info: EngineInfo | None = None

    @contextlib.contextmanager
    def exclusive(
        self, *, cancel: CancelToken | None = None, progress: ProgressCallback | None = None
    ) -> Iterator[None]:
        """Hold the right to run the models (a suggester from :meth:`get`) for the ``with`` body.

        The lock is per engine, not per suggester: after :meth:`reset` an old suggester still in
        use and the new one are serialised too, so two models never compete for memory and cores.
        Waiting reports a "waiting" progress and stops with :class:`Cancelled` when ``cancel`` is
        set, so Stop (or stopping the watcher) never blocks behind a long run.
        """
        if not self._run_lock.acquire(blocking=False):
            if progress is not None:
                progress(Progress("wait", 0, None, "waiting for the models to be free"))
            while not self._run_lock.acquire(timeout=0.1):
                if cancel is not None and cancel.cancelled:
                    raise Cancelled()
        try:
            yield
        finally:
            self._run_lock.release()

    def reset(self, config: Config) -> None:
        with self._lock:
            self._config = config
            self._suggester = None
            self.info = None

    def get(self) -> Suggester:
        """The loaded suggester (selecting packs, importing torch and loading weights the first time)."""
        with self._lock:
            if self._suggester is None:
                from musictagger.pipeline import select_packs
                from musictagger.pipeline.cache import ResultCache
                from musictagger.pipeline.engine import Suggester

                packs = select_packs(self._config.inference.packs)
                suggester = Suggester(packs, self._config, cache=ResultCache())
                suggester.load()
                self._suggester = suggester
                self.info = EngineInfo(suggester.device_name, tuple(suggester.pack_infos), tuple(packs))
            return self._suggester
