"""The model engine shared by suggest runs: built on first use, in a worker thread.

Building it imports torch (through :class:`~musictagger.pipeline.engine.Suggester.load`), which
is why :meth:`Engine.get` is only ever called from :class:`~musictagger.gui.tasks.SuggestTask`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config
    from musictagger.ml.packs import ModelPack
    from musictagger.pipeline.engine import Suggester
    from musictagger.pipeline.types import PackInfo


@dataclass(frozen=True)
class EngineInfo:
    """What the status bar and the About dialog show about the loaded models."""

    device_name: str
    packs: tuple["PackInfo", ...]
    model_packs: tuple["ModelPack", ...]

    @property
    def packs_text(self) -> str:
        return ", ".join(f"{p.name} {p.version} ({p.kind})" for p in self.packs) or "no packs"


class Engine:
    """Holds one :class:`Suggester`; :meth:`reset` drops it when the settings that shape it change."""

    def __init__(self, config: "Config") -> None:
        self._config = config
        self._lock = threading.Lock()
        self._suggester: "Suggester | None" = None
        self.info: EngineInfo | None = None

    def reset(self, config: "Config") -> None:
        with self._lock:
            self._config = config
            self._suggester = None
            self.info = None

    def get(self) -> "Suggester":
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
