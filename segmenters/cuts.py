"""Where a long piece may be cut: speech pauses (VAD), else the quietest points; never inside a short sound.

Also inserts cuts at given times (speaker changes), moved to the nearest pause when one is close.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from segmenters.energy import runs
from segmenters.fusion import Masks, frames
from segmenters.spans import CutPoint, Piece
from segmenters.vad import PAUSE, SpeechFrames, VadParams, pause_cuts

QUIET = "quiet_point"


def _protected(masks: Masks, max_event_s: float) -> np.ndarray:
    """Frames of sound runs shorter than max_event_s: a cut there would split a detected sound event."""
    out = np.zeros(len(masks.sound), dtype=bool)
    limit = frames(max_event_s, masks.hop_s)
    for a, b in runs(masks.sound):
        if b - a <= limit:
            out[a:b] = True
    return out


def quiet_cuts(level_db: np.ndarray, masks: Masks, start_s: float, end_s: float, window_s: float) -> list[CutPoint]:
    """Local minima of the level (one per `window_s`), scored so that quieter is better; scores stay below
    zero so that any real pause (scored by its length) wins."""
    hop = masks.hop_s
    a, b = frames(start_s, hop), min(frames(end_s, hop), len(level_db))
    w = max(1, frames(window_s, hop))
    out = []
    for i in range(a, b, w):
        j = i + int(np.argmin(level_db[i : min(i + w, b)]))
        out.append(CutPoint(j * hop, -1.0 + float(np.tanh(-level_db[j] / 100.0)) * 0.5, QUIET))
    return out


class CutFinder:
    """Cut candidates inside a span, for `split_long`."""

    def __init__(self, masks: Masks, speech: SpeechFrames, vad: VadParams, level_db: np.ndarray,
                 max_event_s: float, quiet_window_s: float):
        self.masks, self.speech, self.vad, self.level_db = masks, speech, vad, level_db
        self.protected = _protected(masks, max_event_s)
        self.quiet_window_s = quiet_window_s

    def __call__(self, start_s: float, end_s: float) -> list[CutPoint]:
        cuts = [c for c in pause_cuts(self.speech, start_s, end_s, self.vad) if self._at(self.masks.speech, c)]
        cuts += [c for c in quiet_cuts(self.level_db, self.masks, start_s, end_s, self.quiet_window_s)
                 if not self._at(self.masks.speech, c)]
        return [c for c in cuts if not self._at(self.protected, c)]

    def _at(self, mask: np.ndarray, cut: CutPoint) -> bool:
        return bool(mask[min(frames(cut.time_s, self.masks.hop_s), len(mask) - 1)])


def insert_cuts(pieces: list[Piece], times: list[float], reason: str, min_side_s: float,
                snap: CutFinder | None = None, snap_s: float = 0.0) -> list[Piece]:
    """Cut pieces at `times` (e.g. speaker changes) where both sides keep at least `min_side_s`;
    each time first moves to the longest pause within `snap_s`."""
    out = list(pieces)
    for t in times:
        if snap is not None and snap_s > 0:
            pauses = [c for c in snap(t - snap_s, t + snap_s) if c.reason == PAUSE]
            if pauses:
                t = max(pauses, key=lambda c: c.score).time_s
        for i, q in enumerate(out):
            if q.start_s + min_side_s <= t <= q.end_s - min_side_s:
                out[i : i + 1] = [replace(q, end_s=t, end_reason=reason), replace(q, start_s=t, start_reason=reason)]
                break
    return out
