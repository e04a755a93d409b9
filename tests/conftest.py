"""Shared test set-up. Keep generic: helpers live in their own modules (media.py, ...)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Make tests/ importable as a plain folder so any test can `from media import make_track`.
TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty MUSICTAGGER_HOME for code that touches the app's folders."""
    home = tmp_path / "home"
    monkeypatch.setenv("MUSICTAGGER_HOME", str(home))
    return home
