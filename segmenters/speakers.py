"""Speaker-change segmentation from diarization (pyannote segmentation-3.0 + GE2E, see
annotators/speech/diarization): segments cut at speaker turns, speech onsets and offsets.

`speaker_change_points()` and `speaker_pieces()` are the plain functions the composite event segmenter
reuses on `SpeakerDiarizer.diarize()` output. Heavy imports happen in `setup()` only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from annotators.base import SpeakerTurn
from annotators.speech.diarization.diarizer import DiarizerParams
from schemas.common import LabelScore
from segmenters.base import Segmentation, Segmenter, SegmenterParams, SegmentSpan
from segmenters.energy import frame_db
from segmenters.registry import register_segmenter
from segmenters.spans import CutPoint, Piece, merge_short, split_long

log = logging.getLogger(__name__)

CHANGE, ONSET, OFFSET, QUIET = "speaker_change", "speech_onset", "speech_offset", "quiet_point"


class SpeakerSegmenterParams(SegmenterParams):
    diarizer: DiarizerParams = Field(default_factory=DiarizerParams)
    change_gap_s: float = Field(0.5, ge=0, description="a different speaker starting within this gap is a "
                                "speaker change (cut mid-gap); a longer gap is an offset then an onset")
    min_s: float = Field(1.0, gt=0, description="shorter segments merge into a neighbour")
    max_s: float = Field(30.0, gt=0, description="longer segments are split at their quietest point")
    merge_gap_s: float = Field(0.5, ge=0, description="a short segment merges only across a gap up to this")
    quiet_hop_s: float = Field(0.05, gt=0, description="energy frame for choosing the quietest cut point")


@dataclass(frozen=True)
class SpeakerPiece:
    start_s: float
    end_s: float
    start_reason: str
    end_reason: str
    speaker: str  # the speaker who starts the piece (others may overlap inside it)


def speaker_pieces(turns: Sequence[SpeakerTurn], change_gap_s: float) -> list[SpeakerPiece]:
    """Turns -> consecutive single-speaker pieces. A turn fully inside another speaker's turn (a
    backchannel, an overlap) stays inside that piece; a turn that outlasts the current one starts a new
    piece at the middle of the overlap, or of the gap when the gap is at most `change_gap_s`."""
    out: list[SpeakerPiece] = []
    cur: list = []  # [start, end, start_reason, speaker]
    for t in sorted(turns, key=lambda t: (t.start_s, t.end_s)):
        if cur and t.start_s > cur[1] + change_gap_s:
            out.append(SpeakerPiece(cur[0], cur[1], cur[2], OFFSET, cur[3]))
            cur = []
        if not cur:
            cur = [t.start_s, t.end_s, ONSET, t.speaker]
        elif t.speaker == cur[3] or t.end_s <= cur[1]:
            cur[1] = max(cur[1], t.end_s)
        else:
            cut = round((t.start_s + cur[1]) / 2, 3)
            out.append(SpeakerPiece(cur[0], cut, cur[2], CHANGE, cur[3]))
            cur = [cut, t.end_s, CHANGE, t.speaker]
    if cur:
        out.append(SpeakerPiece(cur[0], cur[1], cur[2], OFFSET, cur[3]))
    return out


def speaker_change_points(turns: Sequence[SpeakerTurn], change_gap_s: float = 0.5) -> list[float]:
    """Times (s) where one speaker hands over to another: the cut points for an event segmenter."""
    return [p.start_s for p in speaker_pieces(turns, change_gap_s) if p.start_reason == CHANGE]


def _coverage(turns: Sequence[SpeakerTurn], start_s: float, end_s: float) -> float:
    """Share of [start_s, end_s] covered by any turn (overlaps counted once)."""
    spans = sorted((max(t.start_s, start_s), min(t.end_s, end_s)) for t in turns if t.end_s > start_s and t.start_s < end_s)
    covered, reach = 0.0, start_s
    for a, b in spans:
        covered += max(0.0, b - max(a, reach))
        reach = max(reach, b)
    return covered / max(end_s - start_s, 1e-9)


def _quiet_cuts(samples: np.ndarray, sample_rate: int, hop_s: float):
    energy = frame_db(samples, sample_rate, hop_s)

    def cuts_in(start_s: float, end_s: float) -> list[CutPoint]:
        a, b = int(start_s / energy.hop_s), int(end_s / energy.hop_s)
        if b <= a + 1:
            return []
        i = a + int(np.argmin(energy.db[a:b]))
        return [CutPoint((i + 0.5) * energy.hop_s, -float(energy.db[i]), QUIET)]

    return cuts_in


@register_segmenter("speakers")
class SpeakerChangeSegmenter(Segmenter):
    """Speech segments bounded by speaker changes and speech on/offsets, with the recording's turns."""

    Params = SpeakerSegmenterParams
    params: SpeakerSegmenterParams

    def __init__(self, params: SpeakerSegmenterParams | None = None, device: str = "cpu"):
        super().__init__(params, device)
        self._diarizer = None

    @property
    def diarizer(self):
        if self._diarizer is None:
            from annotators.speech.diarization.diarizer import SpeakerDiarizer

            self._diarizer = SpeakerDiarizer(self.params.diarizer, device=self.device)
        return self._diarizer

    def setup(self) -> None:
        self.diarizer.setup()

    def segment(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> Segmentation:
        turns = self.diarizer.diarize(samples, sample_rate, num_speakers=num_speakers)
        return self.from_turns(turns, samples, sample_rate)

    def from_turns(self, turns: list[SpeakerTurn], samples: np.ndarray, sample_rate: int) -> Segmentation:
        p = self.params
        pieces = [Piece(q.start_s, q.end_s, q.start_reason, q.end_reason) for q in speaker_pieces(turns, p.change_gap_s)]
        pieces = merge_short(pieces, p.min_s, p.merge_gap_s, p.max_s)
        cuts_in = _quiet_cuts(np.asarray(samples, dtype=np.float32), sample_rate, p.quiet_hop_s)
        pieces = [q for piece in pieces for q in split_long(piece, p.max_s, p.min_s, cuts_in)]
        segments = [
            SegmentSpan(q.start_s, q.end_s, q.start_reason, q.end_reason,
                        class_scores=(LabelScore("speech", round(_coverage(turns, q.start_s, q.end_s), 4)),),
                        branches=("speech",))
            for q in pieces
        ]
        log.debug("speakers: %d turns -> %d segments", len(turns), len(segments))
        return Segmentation(segments=segments, speaker_turns=list(turns))
