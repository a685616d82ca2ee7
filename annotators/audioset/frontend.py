"""YAMNet's log-mel front end in numpy (matches the TensorFlow reference `features.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class LogMelConfig:
    sample_rate: int = 16000
    window_s: float = 0.025
    hop_s: float = 0.010
    n_mels: int = 64
    fmin_hz: float = 125.0
    fmax_hz: float = 7500.0
    log_offset: float = 0.001

    @property
    def window(self) -> int:
        return round(self.window_s * self.sample_rate)

    @property
    def hop(self) -> int:
        return round(self.hop_s * self.sample_rate)

    @property
    def n_fft(self) -> int:
        return 1 << int(np.ceil(np.log2(self.window)))


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


@lru_cache(maxsize=4)
def mel_matrix(cfg: LogMelConfig) -> np.ndarray:
    """[n_fft//2+1, n_mels] HTK triangles in mel space, DC bin zeroed (tf.signal.linear_to_mel_weight_matrix)."""
    n_bins = cfg.n_fft // 2 + 1
    freqs = np.linspace(0.0, cfg.sample_rate / 2.0, n_bins)[1:]
    bins_mel = _hz_to_mel(freqs)[:, None]
    edges = np.linspace(_hz_to_mel(cfg.fmin_hz), _hz_to_mel(cfg.fmax_hz), cfg.n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.concatenate([np.zeros((1, cfg.n_mels)), weights]).astype(np.float32)


@lru_cache(maxsize=4)
def _hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)  # periodic


def log_mel_frames(samples: np.ndarray, cfg: LogMelConfig = LogMelConfig()) -> np.ndarray:
    """[frames, n_mels] float32 log-mel of 16 kHz mono samples (no centre padding; may be 0 frames)."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size < cfg.window:
        return np.zeros((0, cfg.n_mels), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, cfg.window)[:: cfg.hop]
    spec = np.abs(np.fft.rfft(frames * _hann(cfg.window), n=cfg.n_fft, axis=1)).astype(np.float32)
    return np.log(spec @ mel_matrix(cfg) + cfg.log_offset).astype(np.float32)


def to_16k(samples: np.ndarray, sample_rate: int, target: int = LogMelConfig.sample_rate) -> np.ndarray:
    """Mono float32 at 16 kHz (soxr when resampling is needed)."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if sample_rate == target or x.size == 0:
        return x
    import soxr

    return soxr.resample(x, sample_rate, target).astype(np.float32)
