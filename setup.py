"""Only what pyproject.toml cannot say (the rest of the build is there).

The bundled model packs (``models/``) and the desktop resources (``resources/``: icon, desktop
entry, AppStream metainfo, style sheet) are installed as data files under
``<prefix>/share/musictagger/models`` and ``<prefix>/share/musictagger/resources``, where
``musictagger.ml.packs.bundled_models_dir`` and ``musictagger.gui.resources.resources_dir`` look
when not running from a checkout. Each folder keeps its sub-folders (pyproject's
``[tool.setuptools.data-files]`` would flatten them), and a pack added under ``models/`` ships
without editing any list.
"""

from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def data_tree(folder: str) -> list[tuple[str, list[str]]]:
    """``(target folder, [files])`` for ``folder`` and each sub-folder, hidden files left out."""
    entries = []
    root = HERE / folder
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir())] if root.is_dir() else []
    for d in folders:
        rel = d.relative_to(HERE)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        files = sorted(
            f.relative_to(HERE).as_posix() for f in d.iterdir() if f.is_file() and not f.name.startswith(".")
        )
        if files:
            entries.append((f"share/musictagger/{rel.as_posix()}", files))
    return entries


setup(data_files=data_tree("models") + data_tree("resources"))
