"""The import contracts of `make lint` (pyproject.toml, [tool.importlinter]) hold on this tree and
catch a deliberate violation: Qt in the core, torch outside inference and training, a lower layer
importing a higher one. Each case checks a copy of the package, so the checkout is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter is a dev dependency (pip install -e '.[dev]')")

REPO = Path(__file__).resolve().parent.parent


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = (
        [str(exe)]
        if exe.is_file()
        else [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [*cmd, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lint")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "musictagger", root / "musictagger", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_contracts_hold_on_this_tree(tree: Path) -> None:
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "culprit"),
    [
        (
            "library/images.py",
            "import PySide6",
            "PySide6 only in musictagger.gui",
            "musictagger.library.images -> PySide6",
        ),
        ("tags/genres.py", "import torch", "torch only in", "musictagger.tags.genres -> torch"),
        ("journal/store.py", "import musictagger.cli", "Layers:", "musictagger.journal.store -> musictagger.cli"),
    ],
    ids=["qt-in-library", "torch-in-tags", "journal-imports-cli"],
)
def test_a_deliberate_violation_fails(tree: Path, module: str, line: str, contract: str, culprit: str) -> None:
    path = tree / "musictagger" / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{line}  # deliberate violation\n", encoding="utf-8")
    try:
        result = _lint_imports(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken and culprit in broken, result.stdout
