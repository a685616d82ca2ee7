"""Fundamental frequency of speech: YIN (de Cheveigné & Kawahara 2002) with its own aperiodicity as the
voicing decision, vectorised over frames.

pYIN (librosa.pyin) gives nearly the same statistics but its Viterbi pass over 2 x 368 pitch states costs
~0.11 s per audio second on one core: a third of the speech branch's CPU beside Whisper. Here a frame is
voiced where its cumulative mean normalised difference dips below `threshold` at a period in range, and F0
is the first such dip (the YIN rule that avoids octave-too-low errors), refined by parabolic interpolation.
Without pYIN's pitch HMM a few frames jump an octave; a voiced frame further than `max_jump_octaves` from
the median of the voiced frames around it is taken as such an error and left unvoiced.
"""

from __future__ import annotations

import warnings

import numpy as np


def yin_track(audio: np.ndarray, sr: int, fmin: float, fmax: float, frame_length: int, hop_length: int,
              threshold: float = 0.2, median_frames: int = 15, max_jump_octaves: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(f0 in Hz, NaN where unvoiced; voiced flags) per frame, frames centred on i * hop_length."""
    audio = np.asarray(audio, dtype=np.float64)
    win = frame_length // 2
    min_period = max(1, int(np.floor(sr / fmax)))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - win - 1)
    padded = np.pad(audio, frame_length // 2)
    n_frames = 1 + (len(padded) - frame_length) // hop_length
    if n_frames <= 0 or max_period <= min_period + 1:
        return np.full(max(n_frames, 0), np.nan), np.zeros(max(n_frames, 0), bool)
    idx = np.arange(frame_length)[None, :] + hop_length * np.arange(n_frames)[:, None]
    frames = padded[idx]
    cmnd = _cmnd(frames, frame_length, win, max_period)[:, min_period : max_period + 1]
    # First dip below the threshold that is a local minimum (YIN's absolute threshold step).
    below = cmnd < threshold
    local_min = np.zeros_like(below)
    local_min[:, 1:-1] = (cmnd[:, 1:-1] <= cmnd[:, :-2]) & (cmnd[:, 1:-1] <= cmnd[:, 2:])
    candidate = below & local_min
    voiced = candidate.any(axis=1)
    lag = np.argmax(candidate, axis=1)
    rows = np.arange(n_frames)
    # Parabolic interpolation around the chosen lag (interior lags only).
    inner = (lag > 0) & (lag < cmnd.shape[1] - 1)
    left = cmnd[rows, np.clip(lag - 1, 0, None)]
    mid = cmnd[rows, lag]
    right = cmnd[rows, np.clip(lag + 1, None, cmnd.shape[1] - 1)]
    denom = left - 2 * mid + right
    shift = np.where(inner & (np.abs(denom) > 1e-12), 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    period = min_period + lag + np.clip(shift, -1, 1)
    f0 = np.where(voiced, sr / period, np.nan)
    voiced &= ~_octave_jumps(f0, median_frames, max_jump_octaves)
    return np.where(voiced, f0, np.nan), voiced


def _octave_jumps(f0: np.ndarray, width: int, max_octaves: float) -> np.ndarray:
    """Frames whose F0 is more than `max_octaves` from the median of the voiced frames within `width`."""
    log_f0 = np.log2(f0)
    half = width // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(log_f0, half, constant_values=np.nan), 2 * half + 1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows (silence): no reference, no jump
        local = np.nanmedian(windows, axis=1)
    return np.isfinite(log_f0) & np.isfinite(local) & (np.abs(log_f0 - local) > max_octaves)


def _cmnd(frames: np.ndarray, frame_length: int, win: int, max_period: int) -> np.ndarray:
    """Cumulative mean normalised difference d'(tau) for tau = 0..max_period, per frame (as librosa.yin)."""
    n_fft = 2 * frame_length
    a = np.fft.rfft(frames, n_fft, axis=1)
    b = np.fft.rfft(frames[:, win:0:-1], n_fft, axis=1)
    acf = np.fft.irfft(a * b, n_fft, axis=1)[:, win : win + max_period + 1]
    energy = np.cumsum(frames**2, axis=1)
    energy = energy[:, win : win + max_period + 1] - energy[:, : max_period + 1]
    diff = energy[:, :1] + energy - 2 * acf
    diff[:, 0] = 0.0
    cumulative = np.cumsum(diff[:, 1:], axis=1) / np.arange(1, max_period + 1)
    out = np.ones_like(diff)  # 1 = aperiodic; so is a silent frame (no difference at any lag)
    out[:, 1:] = np.where(cumulative > 1e-10, diff[:, 1:] / np.maximum(cumulative, 1e-10), 1.0)
    return out
