"""Transcribe segments through an ASR adapter: each recording's segments packed into windows, in time order.

Windows are decoded per recording (or all together with `across_recordings`), each with a seed made from
its recording id and index, so a recording's transcripts depend on the recording alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from annotators.base import SegmentAudio
from annotators.speech.asr_types import AsrAdapter, AsrResult
from annotators.speech.packing import PackRule, pack, unpack


def model_audio(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Finite mono float32 in [-1, 1] at the model's rate."""
    audio = np.nan_to_num(np.asarray(samples, dtype=np.float32).reshape(-1))
    if rate != target and len(audio):
        import soxr

        audio = soxr.resample(audio, rate, target).astype(np.float32)
    return np.clip(audio, -1.0, 1.0)


def _context(samples: np.ndarray | None, rate: int, target: int) -> np.ndarray | None:
    return None if samples is None or not len(samples) else model_audio(samples, rate, target)


def window_seed(recording_id: str, window: int) -> int:
    return zlib.crc32(f"{recording_id}:{window}".encode())


def transcribe_segments(adapter: AsrAdapter, segs: Sequence[SegmentAudio], audios: Sequence[np.ndarray],
                        rule: PackRule = PackRule(), across_recordings: bool = False) -> list[AsrResult]:
    """One AsrResult per segment (segment time): each recording's segments packed into windows in time order."""
    by_recording: dict[str, list[int]] = {}
    for i, seg in enumerate(segs):
        by_recording.setdefault(seg.recording_id, []).append(i)
    plans = []
    for rec, idx in sorted(by_recording.items()):
        idx.sort(key=lambda i: (segs[i].start_s, segs[i].end_s))
        windows = pack([audios[i] for i in idx], [segs[i].start_s for i in idx], adapter.sample_rate, rule,
                       before=[_context(segs[i].context_before, segs[i].sample_rate, adapter.sample_rate) for i in idx],
                       after=[_context(segs[i].context_after, segs[i].sample_rate, adapter.sample_rate) for i in idx])
        plans.append((idx, windows, [window_seed(rec, k) for k in range(len(windows))]))
    if across_recordings:
        flat = adapter.transcribe_windows([w.audio for _, ws, _ in plans for w in ws], [s for *_, ss in plans for s in ss])
        window_results, start = [], 0
        for _, ws, _ in plans:
            window_results.append(flat[start : start + len(ws)])
            start += len(ws)
    else:
        window_results = [adapter.transcribe_windows([w.audio for w in ws], seeds) for _, ws, seeds in plans]
    results: list[AsrResult | None] = [None] * len(segs)
    for (idx, windows, _), res in zip(plans, window_results):
        for i, r in zip(idx, unpack(windows, res, len(idx))):
            results[i] = r
    return results  # type: ignore[return-value]


def transcribe_audios(adapter: AsrAdapter, audios: Sequence[np.ndarray], rule: PackRule = PackRule()) -> list[AsrResult]:
    """One AsrResult per waveform, each taken as a recording of its own (no packing across them); their
    windows share decode batches. For benchmarks and direct use on loose clips."""
    segs = [SegmentAudio(f"audio{i}", f"audio{i}", 0.0, len(a) / adapter.sample_rate, a, adapter.sample_rate) for i, a in enumerate(audios)]
    return transcribe_segments(adapter, segs, [np.asarray(a, np.float32) for a in audios], rule, across_recordings=True)
