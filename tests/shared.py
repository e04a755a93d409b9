"""The shared data (``../shared/data`` beside the checkout, or ``MUSICTAGGER_SHARED_DATA``): a test
that needs a file from it skips when it is absent, and says which folder or file is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from musictagger.paths import shared_data_candidates, shared_data_dir


def shared_path(relative: str) -> Path:
    """``relative`` (a file or folder) inside the shared data, or a skip naming what is missing."""
    root = shared_data_dir()
    if root is None:
        looked = " or ".join(str(c) for c in shared_data_candidates())
        pytest.skip(f"needs {relative} from the shared data folder, and there is none ({looked} not found)")
    path = root / relative
    if not path.exists():
        pytest.skip(f"needs {path} (missing from the shared data folder)")
    return path
