"""How much of each album the models read (``inference.speed``), and the word about ``fast``.

``full`` reads every track with the packs' own excerpts and every test-time view of a cover;
``fast`` hears three tracks spread over the album, one excerpt each, and sees each cover once.
Small on purpose: the desktop app imports it in its window process (which must not load the
suggester, its numpy and its caches, while a run is going).
"""

from __future__ import annotations

from dataclasses import dataclass

from musictagger.progress import Progress, format_duration


@dataclass(frozen=True)
class SpeedProfile:
    """How much of each album the models read (``inference.speed``)."""

    tracks_per_album: int = 0  # audio: at most this many tracks spread over the album (0: every track)
    patches_per_track: int = 0  # audio: excerpts per track, evenly spread (0: the pack's own policy)
    cover_views: bool = True  # covers: the pack's test-time views (mirror, zoom); False: the cover once

    @property
    def tag(self) -> str:
        """Suffix of cache keys, so outputs made with other excerpts or views never mix ("" for the
        packs' own). How many tracks are heard does not change a track's output: not in the tag."""
        if not self.patches_per_track and self.cover_views:
            return ""
        return f"~p{self.patches_per_track}v{int(self.cover_views)}"


SPEEDS = {"full": SpeedProfile(), "fast": SpeedProfile(tracks_per_album=3, patches_per_track=1, cover_views=False)}

#: A thorough run on the CPU expected to last longer than this gets a word about ``fast``: the
#: desktop app offers to switch, the CLI says it once on its terminal.
SLOW_RUN_S = 20 * 60
#: Albums a run has done before its ETA is trusted for that word.
ADVICE_AFTER = 3


def speed_advice(p: Progress, speed: str, device_name: str) -> str | None:
    """The word about ``inference.speed = fast`` when a thorough suggest run on the CPU will take
    long (its ETA after the first albums is over :data:`SLOW_RUN_S`); None otherwise. Every run
    that reads an album (suggest, the apply dry run, the batch) reports the "suggest" stage."""
    if speed != "full" or not device_name.startswith("CPU") or p.stage != "suggest":
        return None
    if not p.total or p.done < min(ADVICE_AFTER, p.total) or p.eta_s is None or p.eta_s < SLOW_RUN_S:
        return None
    fast = SPEEDS["fast"]
    return (
        f"About {format_duration(p.eta_s)} left on this CPU at Thorough. Fast hears {fast.tracks_per_album} "
        "tracks per album, one excerpt each, and each cover once: several times quicker."
    )


def tracks_to_hear(n_tracks: int, limit: int) -> set[int]:
    """Indices of the tracks the audio models decode: all, or ``limit`` spread evenly over the album
    (the middle of each of ``limit`` equal runs of tracks, so an intro or a closing track is not
    favoured)."""
    if limit <= 0 or limit >= n_tracks:
        return set(range(n_tracks))
    return {min(n_tracks - 1, int((k + 0.5) * n_tracks / limit)) for k in range(limit)}
