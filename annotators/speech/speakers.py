"""Speaker per word from diarization turns (recording time), and the dominant speaker of a segment."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from annotators.base import SpeakerTurn


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def speaker_at(start_s: float, end_s: float, turns: Sequence[SpeakerTurn], max_gap_s: float) -> str | None:
    """Speaker of the turn overlapping [start_s, end_s] most; else the nearest turn within max_gap_s."""
    best, best_overlap = None, 0.0
    for turn in turns:
        ov = _overlap(start_s, end_s, turn.start_s, turn.end_s)
        if ov > best_overlap:
            best, best_overlap = turn.speaker, ov
    if best is not None:
        return best
    mid = 0.5 * (start_s + end_s)
    near = [(min(abs(mid - t.start_s), abs(mid - t.end_s)), t.speaker) for t in turns]
    near = [n for n in near if n[0] <= max_gap_s]
    return min(near)[1] if near else None


def dominant_speaker(spans: Sequence[tuple[float, float, str | None]]) -> str | None:
    """Speaker with the most time over (start, end, speaker) spans."""
    total: dict[str, float] = defaultdict(float)
    for start, end, speaker in spans:
        if speaker is not None:
            total[speaker] += max(end - start, 1e-3)
    return max(total, key=total.__getitem__) if total else None


def in_order(labels: Sequence[str | None]) -> list[str]:
    """Distinct labels in order of first appearance."""
    return list(dict.fromkeys(label for label in labels if label is not None))
