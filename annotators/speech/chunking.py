"""Split audio longer than Whisper's 30 s window at the quietest moment near the limit, never blind."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChunkRule:
    max_s: float = 30.0  # Whisper's window
    search_s: float = 8.0  # look this far back from max_s for the quietest frame
    frame_s: float = 0.1
    min_last_s: float = 0.3  # a shorter tail is merged into the previous chunk's window if it fits


def _quietest_cut(audio: np.ndarray, lo: int, hi: int, frame: int) -> int:
    """Sample index of the lowest-energy frame centre within [lo, hi)."""
    n_frames = max(1, (hi - lo) // frame)
    frames = audio[lo : lo + n_frames * frame].reshape(n_frames, frame)
    energy = (frames.astype(np.float64) ** 2).mean(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def chunk_bounds(audio: np.ndarray, sample_rate: int, rule: ChunkRule = ChunkRule()) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering `audio`, each at most rule.max_s long."""
    n = len(audio)
    max_n = int(rule.max_s * sample_rate)
    frame = max(1, int(rule.frame_s * sample_rate))
    bounds: list[tuple[int, int]] = []
    start = 0
    while n - start > max_n:
        lo = start + max_n - int(rule.search_s * sample_rate)
        cut = _quietest_cut(audio, max(lo, start + frame), start + max_n, frame)
        bounds.append((start, cut))
        start = cut
    if n - start < rule.min_last_s * sample_rate and bounds and n - bounds[-1][0] <= max_n:
        bounds[-1] = (bounds[-1][0], n)
    else:
        bounds.append((start, n))
    return bounds
