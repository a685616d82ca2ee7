"""Composite event segmenter (first version: speech from silero-vad, other activity from energy).

Being replaced by the full fusion of class profile, VAD, speaker turns and acoustic change.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from schemas.common import LabelScore
from schemas.recordings import Span
from segmenters.base import Segmentation, Segmenter, SegmenterParams, SegmentSpan
from segmenters.energy import SilenceRule, frame_db, quiet_mask, runs
from segmenters.registry import register_segmenter
from segmenters.spans import Piece, merge_short
from segmenters.vad import VadParams, load_model, speech_frames, regions_from_frames


class EventParams(SegmenterParams):
    min_s: float = Field(1.0, gt=0)
    max_s: float = Field(30.0, gt=0)
    min_silence_s: float = Field(1.0, gt=0)
    merge_gap_s: float = Field(0.5, ge=0)
    vad: VadParams = VadParams()


@register_segmenter("event")
class EventSegmenter(Segmenter):
    Params = EventParams
    params: EventParams

    def setup(self) -> None:
        load_model(self.params.vad.backend)

    def segment(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> Segmentation:
        p = self.params
        duration = len(samples) / sample_rate
        frames = speech_frames(samples, sample_rate, p.vad.backend)
        speech = regions_from_frames(frames, duration, p.vad)
        energy = frame_db(samples, sample_rate, SilenceRule.hop_s)
        active = ~quiet_mask(energy, SilenceRule())
        pieces: list[tuple[Piece, str]] = [(Piece(s, e, "speech_onset", "speech_offset"), "speech") for s, e in speech]
        for a, b in runs(active):
            s, e = a * energy.hop_s, b * energy.hop_s
            if not any(ps.start_s < e and s < ps.end_s for ps, _ in pieces):
                pieces.append((Piece(s, e, "sound_onset", "sound_offset"), "sound"))
        merged = merge_short([q for q, _ in pieces], p.min_s, p.merge_gap_s, p.max_s)
        segments = [self._span(q, speech) for q in merged]
        silences = [Span(a * energy.hop_s, b * energy.hop_s) for a, b in runs(~active) if (b - a) * energy.hop_s >= p.min_silence_s]
        return Segmentation(segments=segments, silences=silences)

    @staticmethod
    def _span(q: Piece, speech: list[tuple[float, float]]) -> SegmentSpan:
        overlap = sum(max(0.0, min(e, q.end_s) - max(s, q.start_s)) for s, e in speech)
        share = overlap / max(q.duration_s, 1e-9)
        branch = "speech" if share >= 0.5 else "sound"
        return SegmentSpan(q.start_s, q.end_s, q.start_reason, q.end_reason, (LabelScore("speech", round(share, 3)),), (branch,))
