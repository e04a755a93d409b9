"""Where model packs are found: bundled with musictagger, the user's own, or any folder named.

* **Bundled** packs ship with musictagger. In a source checkout or editable install they live in
  ``<repo>/models``; an installed wheel carries them as data files in
  ``<sys.prefix>/share/musictagger/models`` (see :func:`bundled_models_dir`).
* **User** packs (trained with "learn from my library", or downloaded by hand) live in
  ``musictagger.paths.app_dirs().models``.
* Any folder can be named explicitly (a pack folder, or a folder of packs).

Bundled and user packs may share a name; both are listed (``ModelPack.bundled`` tells them
apart) and :func:`find_pack` prefers the user's, then the highest version.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from musictagger.errors import PackError
from musictagger.ml.packs.manifest import SEMVER_RE
from musictagger.ml.packs.store import MANIFEST_FILE, ModelPack, load_pack


def bundled_models_dir() -> Path | None:
    """The folder of packs that ship with musictagger, or None if there is none.

    1. ``<repo>/models`` when running from a checkout or editable install (recognised by the
       ``pyproject.toml`` beside it, so an unrelated ``site-packages/models`` is never taken);
    2. ``<sys.prefix>/share/musictagger/models``, where a wheel installs its bundled packs as
       data files.
    """
    repo = Path(__file__).resolve().parents[3]
    candidates = []
    if (repo / "pyproject.toml").is_file():
        candidates.append(repo / "models")
    candidates.append(Path(sys.prefix) / "share" / "musictagger" / "models")
    return next((c for c in candidates if c.is_dir()), None)


def _user_models_dir() -> Path:
    from musictagger.paths import app_dirs

    return app_dirs().models


def _candidate_folders(root: Path) -> list[Path]:
    """``root`` itself if it is a pack, else its visible sub-folders (each supposed to be a pack)."""
    if (root / MANIFEST_FILE).is_file():
        return [root]
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def find_packs_with_problems(
    *, include_bundled: bool = True, include_user: bool = True, extra: Sequence[Path] = ()
) -> tuple[list[ModelPack], list[PackError]]:
    """All packs found, user packs first, and a :class:`PackError` for each folder that is not a valid pack.

    ``extra`` entries may be pack folders or folders of packs. A folder reachable twice is listed once.
    """
    # (folder, bundled, named explicitly: a missing explicit folder is a problem, a missing default one is not)
    roots: list[tuple[Path, bool, bool]] = []
    if include_user:
        roots.append((_user_models_dir(), False, False))
    if include_bundled and (bundled := bundled_models_dir()) is not None:
        roots.append((bundled, True, False))
    roots.extend((Path(p).expanduser(), False, True) for p in extra)

    packs: list[ModelPack] = []
    problems: list[PackError] = []
    seen: set[Path] = set()
    for root, is_bundled, explicit in roots:
        if not root.is_dir():
            if explicit:
                problems.append(PackError(f"{root}: no such folder"))
            continue
        for folder in _candidate_folders(root):
            key = folder.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                packs.append(load_pack(folder, bundled=is_bundled))
            except PackError as exc:
                exc.folder = folder  # which folder was refused
                problems.append(exc)
    return packs, problems


def find_packs(
    *, include_bundled: bool = True, include_user: bool = True, extra: Sequence[Path] = ()
) -> list[ModelPack]:
    """All valid packs found (see :func:`find_packs_with_problems` for the ones that were skipped)."""
    return find_packs_with_problems(include_bundled=include_bundled, include_user=include_user, extra=extra)[0]


def _version_key(version: str) -> tuple:
    m = SEMVER_RE.match(version)
    if not m:
        return (-1,)
    major, minor, patch, pre = m.groups()
    return (int(major), int(minor), int(patch), pre is None)


def find_pack(name_or_path: str) -> ModelPack:
    """The pack at a path, or the pack with that name: the user's before a bundled one, then the highest version.

    Anything with a path separator, or starting with "~" or ".", is a path (``./covers-v1`` for a
    folder in the current directory); anything else is a pack name.
    """
    if any(sep and sep in name_or_path for sep in (os.sep, os.altsep)) or name_or_path.startswith(("~", ".")):
        return load_pack(Path(name_or_path))
    packs, problems = find_packs_with_problems()
    matching = [p for p in packs if p.name == name_or_path]
    if matching:
        return max(matching, key=lambda p: (not p.bundled, _version_key(p.version)))
    known = ", ".join(sorted({p.name for p in packs})) or "none"
    message = f"no model pack named {name_or_path!r} (available: {known})"
    if problems:
        message += f"; {len(problems)} folder(s) could not be loaded: " + "; ".join(str(p) for p in problems)
    raise PackError(message)
