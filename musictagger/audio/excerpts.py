"""Which parts of a track a model listens to: the excerpt policy.

A tagger never needs a whole track. The policy (see :func:`plan_excerpts`) takes up to ``count``
windows of ``clip_seconds`` each:

* **Long tracks** (all windows fit without overlapping): each window is *centred* on its position,
  a fraction of the duration (default 25 %, 50 %, 75 %), and shifted inwards where it would cross
  the start or the end of the track.
* **Shorter tracks** (the centred windows would overlap): ``min(count, ⌊duration / clip⌋)``
  windows, spread evenly with equal gaps before, between and after them — disjoint by
  construction; a single window is the centre crop.
* **Tracks shorter than one clip**: the whole track, once, **zero-padded at the end**. Zero
  padding, not looping: it is what the published models we import were fed (Choi et al. pad the
  centre crop with zeros), and a loop would invent repetitions and a seam the music never had.

Positions are centres, so ``count=1, positions=(0.5,)`` is exactly the classic centre crop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Windows may touch; this much float slack (seconds) still counts as "not overlapping".
_EPS = 1e-6


def _even_positions(count: int) -> tuple[float, ...]:
    return tuple((k + 1) / (count + 1) for k in range(count))


_DEFAULT_POSITIONS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class ExcerptPolicy:
    """Up to ``count`` windows of ``clip_seconds``, centred at ``positions`` (fractions of the
    duration). With the default positions and another ``count``, the positions become the even
    spread ``(k + 1) / (count + 1)`` — so ``ExcerptPolicy(29.12, count=1)`` is a centre crop."""

    clip_seconds: float
    count: int = 3
    positions: tuple[float, ...] = _DEFAULT_POSITIONS

    def __post_init__(self) -> None:
        if not (self.clip_seconds > 0 and math.isfinite(self.clip_seconds)):
            raise ValueError(f"clip_seconds must be a positive number, not {self.clip_seconds!r}")
        if self.count < 1:
            raise ValueError(f"count must be at least 1, not {self.count!r}")
        positions = tuple(float(p) for p in self.positions)
        if len(positions) != self.count:
            if positions != _DEFAULT_POSITIONS:
                raise ValueError(f"{self.count} excerpts need {self.count} positions, got {len(positions)}")
            positions = _even_positions(self.count)
        if any(not 0.0 <= p <= 1.0 for p in positions):
            raise ValueError(f"positions are fractions of the duration in [0, 1]: {positions}")
        object.__setattr__(self, "positions", positions)

    @classmethod
    def from_spec(cls, input_spec: Mapping[str, Any]) -> ExcerptPolicy:
        """The policy a model pack's manifest ``input`` asks for (``clip_seconds`` and the optional
        ``excerpts: {count, positions}``)."""
        excerpts = input_spec.get("excerpts") or {}
        count = int(excerpts.get("count", 3))
        positions = tuple(excerpts.get("positions", _DEFAULT_POSITIONS))
        return cls(float(input_spec["clip_seconds"]), count, positions)


def plan_excerpts(duration: float, policy: ExcerptPolicy) -> list[tuple[float, float]]:
    """The windows to read from a track of ``duration`` seconds, as ``(start_s, length_s)``.

    ``length_s`` is ``policy.clip_seconds`` except for a track shorter than one clip, which gives
    one window ``(0, duration)`` that the reader zero-pads to the clip length. Windows are returned
    in time order and never overlap (see the module docstring for the rules).
    """
    if not (duration > 0 and math.isfinite(duration)):
        raise ValueError(f"duration must be a positive number of seconds, not {duration!r}")
    clip = policy.clip_seconds
    if duration <= clip + _EPS:
        return [(0.0, min(duration, clip))]

    latest = duration - clip
    starts = sorted(min(max(p * duration - clip / 2, 0.0), latest) for p in policy.positions)
    if all(b - a >= clip - _EPS for a, b in zip(starts, starts[1:])):
        return [(s, clip) for s in starts]

    n = max(1, min(policy.count, int((duration + _EPS) // clip)))
    gap = max(0.0, (duration - n * clip) / (n + 1))
    return [(gap + k * (clip + gap), clip) for k in range(n)]
