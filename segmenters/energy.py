"""Frame energy (numpy only) and the quiet stretches it implies: the shared notion of "silence"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DB_FLOOR = -120.0  # dBFS given to digital zeros, so log() stays finite
BLOCK_FRAMES = 1 << 16  # frames converted to float64 at once: bounds memory on long recordings


@dataclass(frozen=True)
class EnergyFrames:
    db: np.ndarray  # RMS level per frame, dBFS
    hop_s: float

    def times(self) -> np.ndarray:
        """Centre time of every frame."""
        return (np.arange(len(self.db)) + 0.5) * self.hop_s

    def index(self, t: float) -> int:
        return int(np.clip(t / self.hop_s, 0, max(len(self.db) - 1, 0)))


@dataclass(frozen=True)
class SilenceRule:
    hop_s: float = 0.02
    floor_percentile: float = 5.0  # the room tone of the recording
    margin_db: float = 10.0  # a frame this far above the room tone is not silent
    max_silence_db: float = -35.0  # never call anything louder than this silent
    min_silence_db: float = -75.0  # always call anything quieter than this silent


def frame_db(samples: np.ndarray, sample_rate: int, hop_s: float) -> EnergyFrames:
    hop = max(1, round(hop_s * sample_rate))
    n = len(samples) // hop
    if n == 0:
        return EnergyFrames(np.zeros(0, dtype=np.float32), hop / sample_rate)
    frames = samples[: n * hop].reshape(n, hop)  # a view; float64 only a block at a time (2 h would be 1.8 GB)
    rms = np.empty(n)
    for a in range(0, n, BLOCK_FRAMES):
        block = frames[a : a + BLOCK_FRAMES].astype(np.float64)
        rms[a : a + BLOCK_FRAMES] = np.sqrt(np.mean(block**2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 10 ** (DB_FLOOR / 20)))
    return EnergyFrames(db.astype(np.float32), hop / sample_rate)


def silence_threshold_db(energy: EnergyFrames, rule: SilenceRule) -> float:
    if len(energy.db) == 0:
        return rule.min_silence_db
    floor = float(np.percentile(energy.db, rule.floor_percentile))
    return float(np.clip(floor + rule.margin_db, rule.min_silence_db, rule.max_silence_db))


def quiet_mask(energy: EnergyFrames, rule: SilenceRule) -> np.ndarray:
    return energy.db < silence_threshold_db(energy, rule)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of a boolean array."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def quiet_spans(energy: EnergyFrames, rule: SilenceRule, min_s: float) -> list[tuple[float, float]]:
    """Stretches of at least `min_s` where every frame is quiet."""
    mask = quiet_mask(energy, rule)
    out = []
    for a, b in runs(mask):
        if (b - a) * energy.hop_s >= min_s:
            out.append((a * energy.hop_s, b * energy.hop_s))
    return out
