"""The suggestion pipeline: scan → extract (cover, excerpts) → infer → fuse → review → write.

Qt-free and torch-free at import; :class:`~musictagger.pipeline.engine.Suggester` loads torch when
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


def select_packs(spec: str = "both", names: Sequence[str] | None = None) -> list[ModelPack]:
    """The packs a run uses.

    ``names`` (``--models a,b`` or paths) wins; otherwise ``spec`` from the config: "bundled",
    "user", "both" (user packs shadow a bundled pack of the same name and kind), or a comma list.
    """
    from musictagger.ml.packs import find_pack, find_packs

    if names:
        return [find_pack(n) for n in names]
    spec = (spec or "both").strip()
    if spec not in ("bundled", "user", "both"):
        return [find_pack(n.strip()) for n in spec.split(",") if n.strip()]
    packs = find_packs(include_bundled=spec in ("bundled", "both"), include_user=spec in ("user", "both"))
    chosen: dict[tuple[str, str], ModelPack] = {}
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
