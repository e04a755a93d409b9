"""Where config, data (index, journal), cache and user models live.

``MUSICTAGGER_HOME=DIR`` puts everything under DIR (tests and scripts use it); otherwise the
platform's usual locations via platformdirs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from musictagger import APP_NAME


@dataclass(frozen=True)
class AppDirs:
    config: Path
    data: Path
    cache: Path
    models: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def index_db(self) -> Path:
        return self.data / "index.sqlite3"

    @property
    def journal_db(self) -> Path:
        return self.data / "journal.sqlite3"

    def ensure(self) -> AppDirs:
        for p in (self.config, self.data, self.cache, self.models):
            p.mkdir(parents=True, exist_ok=True)
        return self


def app_dirs() -> AppDirs:
    home = os.environ.get("MUSICTAGGER_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return AppDirs(root / "config", root / "data", root / "cache", root / "data" / "models")
    import platformdirs

    data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return AppDirs(
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data=data,
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        models=data / "models",
    )


def shared_data_candidates() -> list[Path]:
    """Where :func:`shared_data_dir` looks, in order: ``MUSICTAGGER_SHARED_DATA``, then
    ``../shared/data`` beside the checkout."""
    env = os.environ.get("MUSICTAGGER_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    return candidates


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the checkout, or ``MUSICTAGGER_SHARED_DATA``; None if absent."""
    return next((c for c in shared_data_candidates() if c.is_dir()), None)
