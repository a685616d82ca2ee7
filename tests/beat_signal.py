"""A deterministic test signal for the beat trackers: 12 s of 22.05 kHz clicks at 100 BPM, every fourth one
accented and lower, over quiet noise (the reference outputs in tests/data were computed from it)."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 22050
BPM = 100.0


def click_track(seconds: float = 12.0, seed: int = 0) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    rng = np.random.default_rng(seed)
    y = (0.003 * rng.standard_normal(n)).astype(np.float32)
    t = np.arange(int(0.05 * SAMPLE_RATE)) / SAMPLE_RATE
    period = 60.0 / BPM
    for i, start in enumerate(np.arange(0.5, seconds - 0.1, period)):
        accent = i % 4 == 0
        tone = np.sin(2 * np.pi * (220.0 if accent else 880.0) * t) * np.exp(-t * 60.0) * (0.8 if accent else 0.4)
        a = int(start * SAMPLE_RATE)
        y[a: a + len(t)] += tone[: n - a].astype(np.float32)
    return y
