"""The models, shared by suggest runs, the folder watcher and batch re-tagging.

They are loaded on first use, in the core process (:class:`~musictagger.gui.worker.CoreProcess`:
torch is imported there, never in the window's process). :meth:`ModelsLoader.get` waits for that, which
is why it is only ever called from background tasks, never from the GUI thread.

One set of models serves the whole app, and runs one job at a time. So whoever runs them — a
Suggest task, the watcher, a batch — holds :meth:`ModelsLoader.exclusive` for as long as it does; the
others wait their turn.
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
    from musictagger.gui.worker import CoreProcess, RemoteSuggester
    from musictagger.pipeline.types import PackInfo


@dataclass(frozen=True)
class ModelsInfo:
    """What the status bar and the About dialog show about the loaded models."""

    device_name: str
    packs: tuple[PackInfo, ...]
    cards: tuple[tuple[str, str], ...] = ()  # (pack name and version, model card in Markdown)

    @property
    def packs_text(self) -> str:
        return ", ".join(f"{p.name} {p.version} ({p.kind})" for p in self.packs) or "no packs"


class ModelsLoader:
    """Holds one :class:`RemoteSuggester`; :meth:`reset` drops it when the settings that shape it change."""

    def __init__(self, config: Config, core: CoreProcess) -> None:
        self._config = config
        self.core = core
        self._lock = threading.Lock()  # guards loading the models
        self._run_lock = threading.Lock()  # held while the models run (see exclusive())
        self._suggester: RemoteSuggester | None = None
        self.info: ModelsInfo | None = None

    @contextlib.contextmanager
    def exclusive(
        self, *, cancel: CancelToken | None = None, progress: ProgressCallback | None = None
    ) -> Iterator[None]:
        """Hold the right to run the models for the ``with`` body.

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
        """New settings (or new packs): the next :meth:`get` loads the models again."""
        with self._lock:
            self._config = config
            self._suggester = None
            self.info = None

    def get(self, cancel: CancelToken | None = None) -> RemoteSuggester:
        """The loaded models (the packs selected and loaded in the core process the first time,
        and again after that process was restarted)."""
        with self._lock:
            if self._suggester is None or not self._suggester.alive:
                from musictagger.gui.worker import RemoteSuggester

                suggester = RemoteSuggester(self.core, self._config)
                suggester.load(cancel)
                self._suggester = suggester
                self.info = ModelsInfo(suggester.device_name, tuple(suggester.pack_infos), suggester.cards)
            return self._suggester
