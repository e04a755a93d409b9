"""Audio for the taggers: excerpts of a track, decoded to mono float32 at a model's sample rate.

Only the windows a model listens to are decoded (seek, then decode the window), never the whole
file — a 30 s window of a 4-minute track costs about a tenth of a full decode. The excerpt policy
(:func:`plan_excerpts`): up to ``count`` windows of ``clip_seconds``, centred at ``positions``
(default 3 at 25/50/75 % of the duration); fewer, evenly spread and never overlapping, when the
track is short; and a track shorter than one clip is read whole and zero-padded at the end (as the
published models we import were fed — no looping, which would invent a seam).

This package needs numpy, soundfile, PyAV and soxr only — no torch, so the library scanner and the
GUI can use it without loading the ML stack.
"""

from musictagger.audio.decode import read_duration, read_excerpts
from musictagger.audio.excerpts import ExcerptPolicy, plan_excerpts
from musictagger.errors import AudioError

__all__ = ["AudioError", "ExcerptPolicy", "plan_excerpts", "read_duration", "read_excerpts"]
