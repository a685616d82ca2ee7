"""BeatNet's input features, in numpy: the log-filtered magnitude spectrogram and its positive difference.

BeatNet (Heydari et al., ISMIR 2021) computes them with madmom's processors (`LOG_SPECT` in its package:
22.05 kHz audio, 64 ms Hann frames every 20 ms centred on the hop, a triangular filterbank of 24 bands per
octave from 30 Hz to 17 kHz with unit-area filters, log10(1 + x), and the half-wave-rectified difference to
the frame `diff_frames` back, stacked). The network's weights were trained on exactly those numbers, so
this module reproduces madmom's steps one by one (including its 705-bin frequency grid of a 1411-sample
frame); `tests/test_music_beatnet.py` checks the result against a stored slice of madmom's output.
"""

from __future__ import annotations

import functools

import numpy as np

SAMPLE_RATE = 22050
FRAME = int(0.064 * SAMPLE_RATE)  # 1411 samples
HOP = int(0.020 * SAMPLE_RATE)  # 441 samples: 50 frames per second
FPS = SAMPLE_RATE / HOP
BANDS_PER_OCTAVE = 24
FMIN, FMAX, FREF = 30.0, 17000.0, 440.0
DIFF_RATIO = 0.5


def frames(y: np.ndarray) -> np.ndarray:
    """madmom's FramedSignal: frame i centred on sample i*HOP, zero outside the signal, ceil(n / HOP) frames."""
    n = len(y)
    count = int(np.ceil(n / HOP))
    pad = FRAME // 2
    padded = np.concatenate([np.zeros(pad, y.dtype), y, np.zeros(FRAME, y.dtype)])
    starts = np.arange(count) * HOP  # = i*HOP - FRAME//2 in the unpadded signal
    idx = starts[:, None] + np.arange(FRAME)[None, :]
    return padded[idx]


def log_frequencies() -> np.ndarray:
    left = np.floor(np.log2(FMIN / FREF) * BANDS_PER_OCTAVE)
    right = np.ceil(np.log2(FMAX / FREF) * BANDS_PER_OCTAVE)
    freqs = FREF * 2.0 ** (np.arange(left, right) / BANDS_PER_OCTAVE)
    freqs = freqs[np.searchsorted(freqs, FMIN):]
    return freqs[: np.searchsorted(freqs, FMAX, "right")]


def _nearest_bins(freqs: np.ndarray, bin_freqs: np.ndarray) -> np.ndarray:
    idx = np.clip(bin_freqs.searchsorted(freqs), 1, len(bin_freqs) - 1)
    left, right = bin_freqs[idx - 1], bin_freqs[idx]
    idx = idx - (freqs - left < right - freqs)
    return np.unique(idx)


@functools.lru_cache(maxsize=1)
def filterbank() -> np.ndarray:
    """[bins, bands] triangular filters (start, centre, stop on consecutive unique bins), each of unit area."""
    num_bins = FRAME >> 1
    bin_freqs = np.fft.fftfreq(num_bins * 2, 1.0 / SAMPLE_RATE)[:num_bins]
    bins = _nearest_bins(log_frequencies(), bin_freqs)
    bands = []
    for start, centre, stop in zip(bins[:-2], bins[1:-1], bins[2:], strict=True):
        start, centre, stop = int(start), int(centre), int(stop)
        if stop - start < 2:
            centre, stop = start, start + 1
        data = np.zeros(stop - start, np.float64)
        data[: centre - start] = np.linspace(0, 1, centre - start, endpoint=False)
        data[centre - start:] = np.linspace(1, 0, stop - centre, endpoint=False)
        data /= data.sum()
        column = np.zeros(num_bins, np.float32)
        column[start:stop] = data
        bands.append(column)
    return np.stack(bands, axis=1)


def diff_frames() -> int:
    window = np.hanning(FRAME)
    sample = int(np.argmax(window > DIFF_RATIO * window.max()))
    return max(1, int(round((len(window) / 2 - sample) / HOP)))


def features(y: np.ndarray) -> np.ndarray:
    """[frames, 2 * bands] float32 features of 22.05 kHz mono audio (50 frames per second)."""
    y = np.asarray(y, np.float32)
    if y.size == 0:
        return np.zeros((0, 2 * filterbank().shape[1]), np.float32)
    spec = np.abs(np.fft.fft(frames(y) * np.hanning(FRAME).astype(np.float32), axis=1)[:, : FRAME >> 1])
    filtered = spec.astype(np.float32) @ filterbank()
    logspec = np.log10(filtered + 1.0).astype(np.float32)
    k = diff_frames()
    diff = np.zeros_like(logspec)
    diff[k:] = logspec[k:] - logspec[:-k]
    return np.hstack([logspec, np.maximum(diff, 0.0)]).astype(np.float32)
