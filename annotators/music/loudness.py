"""Level measures: RMS dBFS, BS.1770-style integrated loudness (LUFS), loudness range, and words for them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SILENCE_DB = -120.0
LUFS_OFFSET = -0.691  # BS.1770: the K-weighting gain at 1 kHz
SHELF_GAIN_DB, SHELF_HZ, SHELF_Q = 4.0, 1500.0, 1 / np.sqrt(2)
HIGHPASS_HZ, HIGHPASS_Q = 38.0, 0.5


@dataclass(frozen=True)
class LoudnessConfig:
    block_s: float = 0.4  # momentary loudness blocks ...
    overlap: float = 0.75  # ... overlapping by this much
    absolute_gate_lufs: float = -70.0
    relative_gate_lu: float = -10.0  # integrated loudness gate
    range_gate_lu: float = -20.0  # loudness-range gate (EBU Tech 3342)
    range_percentiles: tuple[float, float] = (10.0, 95.0)


@dataclass(frozen=True)
class Loudness:
    rms_dbfs: float
    lufs: float | None  # None: every block below the absolute gate (silence)
    range_db: float | None


def _shelf(sr: int) -> tuple[np.ndarray, np.ndarray]:
    a = 10 ** (SHELF_GAIN_DB / 40)
    w0 = 2 * np.pi * SHELF_HZ / sr
    cw, sa = np.cos(w0), 2 * np.sqrt(a) * np.sin(w0) / (2 * SHELF_Q)
    b = [a * ((a + 1) + (a - 1) * cw + sa), -2 * a * ((a - 1) + (a + 1) * cw), a * ((a + 1) + (a - 1) * cw - sa)]
    den = [(a + 1) - (a - 1) * cw + sa, 2 * ((a - 1) - (a + 1) * cw), (a + 1) - (a - 1) * cw - sa]
    return np.array(b) / den[0], np.array(den) / den[0]


def _highpass(sr: int) -> tuple[np.ndarray, np.ndarray]:
    w0 = 2 * np.pi * HIGHPASS_HZ / sr
    alpha, cw = np.sin(w0) / (2 * HIGHPASS_Q), np.cos(w0)
    b = np.array([(1 + cw) / 2, -(1 + cw), (1 + cw) / 2])
    den = np.array([1 + alpha, -2 * cw, 1 - alpha])
    return b / den[0], den / den[0]


def k_weighted(y: np.ndarray, sr: int) -> np.ndarray:
    from scipy.signal import lfilter

    return lfilter(*_highpass(sr), lfilter(*_shelf(sr), y.astype(np.float64)))


def block_loudness(y: np.ndarray, sr: int, cfg: LoudnessConfig) -> np.ndarray:
    """Momentary loudness (LUFS) of overlapping blocks; a short input is one block."""
    z = np.square(k_weighted(y, sr))
    size = max(1, int(cfg.block_s * sr))
    step = max(1, int(size * (1 - cfg.overlap)))
    if z.size <= size:
        means = np.array([z.mean()]) if z.size else np.zeros(0)
    else:
        csum = np.concatenate([[0.0], np.cumsum(z)])
        starts = np.arange(0, z.size - size + 1, step)
        means = (csum[starts + size] - csum[starts]) / size
    return LUFS_OFFSET + 10 * np.log10(np.maximum(means, 1e-20))


def measure_loudness(y: np.ndarray, sr: int, cfg: LoudnessConfig = LoudnessConfig()) -> Loudness:
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    rms_db = max(SILENCE_DB, float(20 * np.log10(rms + 1e-12)))
    blocks = block_loudness(y, sr, cfg)
    loud = blocks[blocks > cfg.absolute_gate_lufs]
    if loud.size == 0:
        return Loudness(round(rms_db, 2), None, None)
    power = 10 ** ((loud - LUFS_OFFSET) / 10)
    relative_gate = LUFS_OFFSET + 10 * np.log10(power.mean()) + cfg.relative_gate_lu
    gated = power[loud > relative_gate]
    lufs = LUFS_OFFSET + 10 * np.log10(gated.mean())
    in_range = loud[loud > lufs + cfg.range_gate_lu]
    lo, hi = np.percentile(in_range, cfg.range_percentiles)
    return Loudness(round(rms_db, 2), round(float(lufs), 2), round(float(hi - lo), 2))


LOUDNESS_WORDS = ((-14.0, "very loud"), (-20.0, "loud"), (-28.0, "moderately loud"), (-36.0, "soft"))
DYNAMICS_WORDS = ((4.0, "steady"), (10.0, "moderately dynamic"))


def loudness_word(lufs: float | None) -> str | None:
    if lufs is None:
        return None
    return next((w for limit, w in LOUDNESS_WORDS if lufs >= limit), "very soft")


def dynamics_word(range_db: float | None) -> str | None:
    if range_db is None:
        return None
    return next((w for limit, w in DYNAMICS_WORDS if range_db < limit), "highly dynamic")
