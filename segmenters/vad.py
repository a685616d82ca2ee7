"""Speech activity with silero-vad (packaged weights): speech regions, pauses, and a speech-only segmenter.

`speech_regions()` is the plain function the composite event segmenter reuses; `VadSegmenter` turns the
regions into speech segments with the shared min/max length rules (long regions split at the largest pause).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from schemas.common import LabelScore
from schemas.recordings import Span
from segmenters.base import Segmentation, Segmenter, SegmenterParams, SegmentSpan
from segmenters.energy import SilenceRule, frame_db, quiet_spans
from segmenters.registry import register_segmenter
from segmenters.spans import CutPoint, Piece, merge_short, split_long

log = logging.getLogger(__name__)

VAD_RATE = 16000
FRAME_SAMPLES = 512  # silero's fixed window at 16 kHz
ONSET, OFFSET, PAUSE = "speech_onset", "speech_offset", "pause"

Backend = Literal["sequence", "onnx", "jit"]


class VadParams(SegmenterParams):
    threshold: float = Field(0.5, gt=0, lt=1, description="speech probability that starts speech")
    neg_threshold: float | None = Field(None, description="probability below which speech ends (default threshold-0.15)")
    min_speech_s: float = Field(0.25, ge=0, description="shorter speech regions are dropped")
    min_pause_s: float = Field(0.1, ge=0, description="shorter pauses stay inside one speech region")
    speech_pad_s: float = Field(0.03, ge=0, description="padding added on each side of a region")
    backend: Backend = Field("sequence", description="sequence: batched ONNX (fast); onnx / jit: streaming")
    min_s: float = Field(1.0, gt=0, description="shorter segments merge into a neighbour")
    max_s: float = Field(30.0, gt=0, description="longer segments are split at their largest pause")
    merge_gap_s: float = Field(1.0, ge=0, description="a short segment merges only across a gap up to this")
    min_silence_s: float = Field(1.0, gt=0, description="quiet stretches this long are reported as silences")


@dataclass(frozen=True)
class SpeechFrames:
    """Per-frame speech probability (silero's 32 ms frames at 16 kHz)."""

    probs: np.ndarray
    hop_s: float

    def mean(self, start_s: float, end_s: float) -> float:
        a, b = int(start_s / self.hop_s), max(int(np.ceil(end_s / self.hop_s)), int(start_s / self.hop_s) + 1)
        part = self.probs[a:b]
        return float(part.mean()) if len(part) else 0.0


@functools.lru_cache(maxsize=4)
def load_model(backend: Backend = "sequence"):
    """Silero's packaged weights (no download). Cached per process: setup() of every user shares it."""
    from silero_vad import load_silero_vad

    if backend == "sequence":
        return load_silero_vad(sequence=True)
    return load_silero_vad(onnx=backend == "onnx")


def _to_vad_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The batched model takes 16 kHz only; other rates (8 kHz telephone audio) are resampled."""
    if sample_rate == VAD_RATE:
        return np.ascontiguousarray(samples, dtype=np.float32)
    import soxr

    return soxr.resample(samples.astype(np.float32), sample_rate, VAD_RATE).astype(np.float32)


def speech_frames(samples: np.ndarray, sample_rate: int, backend: Backend = "sequence") -> SpeechFrames:
    x = _to_vad_rate(samples, sample_rate)
    hop_s = FRAME_SAMPLES / VAD_RATE
    if len(x) == 0:
        return SpeechFrames(np.zeros(0, dtype=np.float32), hop_s)
    model = load_model(backend)
    if backend == "sequence":
        probs = model.audio_forward(x, sampling_rate=VAD_RATE)
    else:
        import torch

        probs = model.audio_forward(torch.from_numpy(x), VAD_RATE).numpy().reshape(-1)
    return SpeechFrames(np.asarray(probs, dtype=np.float32), hop_s)


def regions_from_frames(frames: SpeechFrames, duration_s: float, params: VadParams) -> list[tuple[float, float]]:
    """Silero's own hysteresis state machine over precomputed probabilities."""
    from silero_vad.utils_vad import get_speech_timestamps_from_probs

    sr = VAD_RATE
    stamps = get_speech_timestamps_from_probs(
        frames.probs.tolist(),
        sampling_rate=sr,
        threshold=params.threshold,
        neg_threshold=params.neg_threshold,
        min_speech_duration_ms=round(params.min_speech_s * 1000),
        min_silence_duration_ms=round(params.min_pause_s * 1000),
        speech_pad_ms=round(params.speech_pad_s * 1000),
        audio_length_samples=round(duration_s * sr),
    )
    return [(s["start"] / sr, s["end"] / sr) for s in stamps]


def speech_regions(samples: np.ndarray, sample_rate: int, params: VadParams | None = None) -> list[tuple[float, float]]:
    """Speech regions (start_s, end_s) of a whole recording, in recording time."""
    params = params or VadParams()
    frames = speech_frames(samples, sample_rate, params.backend)
    return regions_from_frames(frames, len(samples) / sample_rate, params)


def pause_cuts(frames: SpeechFrames, start_s: float, end_s: float, params: VadParams) -> list[CutPoint]:
    """Pauses inside [start_s, end_s]: the middle of each run of non-speech frames, scored by its length."""
    neg = params.neg_threshold if params.neg_threshold is not None else max(params.threshold - 0.15, 0.01)
    a, b = int(start_s / frames.hop_s), int(end_s / frames.hop_s)
    quiet = frames.probs[a:b] < neg
    edges = np.flatnonzero(np.diff(np.r_[0, quiet.astype(np.int8), 0]))
    cuts = []
    for r0, r1 in zip(edges[::2], edges[1::2]):
        mid = (a + (r0 + r1) / 2) * frames.hop_s
        cuts.append(CutPoint(mid, (r1 - r0) * frames.hop_s, PAUSE))
    return cuts


def _silences(samples: np.ndarray, sample_rate: int, speech: list[Piece], min_s: float) -> list[Span]:
    energy = frame_db(samples, sample_rate, SilenceRule.hop_s)
    out = []
    for s, e in quiet_spans(energy, SilenceRule(), min_s):
        if not any(p.start_s < e and s < p.end_s for p in speech):
            out.append(Span(s, e))
    return out


@register_segmenter("vad")
class VadSegmenter(Segmenter):
    """Speech-only segmentation: one segment per speech region (length rules applied), routed to speech."""

    Params = VadParams
    params: VadParams

    def setup(self) -> None:
        load_model(self.params.backend)

    def segment(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> Segmentation:
        p = self.params
        frames = speech_frames(samples, sample_rate, p.backend)
        regions = regions_from_frames(frames, len(samples) / sample_rate, p)
        pieces = [Piece(s, e, ONSET, OFFSET) for s, e in regions]
        pieces = merge_short(pieces, p.min_s, p.merge_gap_s, p.max_s)
        pieces = [q for piece in pieces for q in split_long(piece, p.max_s, p.min_s, lambda s, e: pause_cuts(frames, s, e, p))]
        segments = [
            SegmentSpan(
                q.start_s,
                q.end_s,
                q.start_reason,
                q.end_reason,
                class_scores=(LabelScore("speech", round(frames.mean(q.start_s, q.end_s), 4)),),
                branches=("speech",),
            )
            for q in pieces
        ]
        log.debug("vad: %d speech regions -> %d segments", len(regions), len(segments))
        return Segmentation(segments=segments, silences=_silences(samples, sample_rate, pieces, p.min_silence_s))
