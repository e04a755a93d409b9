"""The suggestion pipeline: scan → extract (cover, excerpts) → infer → fuse → review → write.

Qt-free and torch-free at import; :class:`~musictagger.pipeline.suggester.Suggester` loads torch when
it first runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from musictagger.errors import MusictaggerError
from musictagger.pipeline.types import AlbumSuggestions, PackInfo, Suggestion

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.ml.packs import ModelPack

__all__ = ["AlbumSuggestions", "PackInfo", "Suggestion", "select_packs"]


def select_packs(
    spec: str = "both", names: Sequence[str] | None = None, *, problems: list[str] | None = None
) -> list[ModelPack]:
    """The packs a run uses.

    ``names`` (``--models a,b`` or paths) wins; otherwise ``spec`` from the config: "bundled",
    "user", "both" (user packs shadow a bundled pack of the same name and kind), or a comma list.
    Bundled packs a newer one replaced (manifest ``"default": false``, e.g. covers-v1) run only
    when named.

    Pack folders that were refused (tampered, incomplete, not a pack…) are not silent: one line
    each is appended to ``problems``, including when a refused user pack of a requested name
    leaves the bundled pack of that name to be used instead.
    """
    from musictagger.ml.packs import find_pack, find_packs_with_problems

    problems = problems if problems is not None else []
    if names or (spec or "both").strip() not in ("bundled", "user", "both"):
        wanted = [n.strip() for n in (names or spec.split(",")) if n.strip()]
        found = [find_pack(n) for n in wanted]
        _, refused = find_packs_with_problems()
        for exc in refused:
            folder = exc.folder
            used = next((p for p in found if folder is not None and folder.name == p.name), None)
            if used is not None and used.bundled:
                problems.append(f"{exc} (the bundled {used.name} is used instead)")
            else:
                problems.append(str(exc))
        return found
    spec = spec.strip()
    packs, refused = find_packs_with_problems(
        include_bundled=spec in ("bundled", "both"), include_user=spec in ("user", "both")
    )
    problems.extend(str(exc) for exc in refused)
    chosen: dict[tuple[str, str], ModelPack] = {}
    packs = [p for p in packs if p.manifest.default or not p.bundled]
    for p in packs:  # user packs win over bundled ones of the same name
        k = (p.name, p.kind)
        if k not in chosen or (chosen[k].bundled and not p.bundled):
            chosen[k] = p
    if not chosen:
        raise MusictaggerError(
            "no model packs found: the bundled models/ folder is missing and no user packs exist "
            "(train one with `musictagger learn`, or import one with `musictagger models import-choi2016`)"
        )
    return list(chosen.values())
