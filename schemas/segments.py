from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from schemas.common import LABEL_SCORE, Branch, LabelScore


@dataclass(frozen=True)
class BoundaryReasons:
    """Why each end of a segment is where it is, e.g. "speech_onset", "speaker_change+music_stop"."""

    start: str
    end: str


@dataclass(frozen=True)
class SegmentRow:
    recording_id: str
    segment_id: str
    start_s: float
    end_s: float
    branches: list[Branch]
    class_scores: list[LabelScore] = field(default_factory=list)
    boundary_reasons: BoundaryReasons = BoundaryReasons("start", "end")


SEGMENTS = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("segment_id", pa.string(), nullable=False),
        pa.field("start_s", pa.float64(), nullable=False),
        pa.field("end_s", pa.float64(), nullable=False),
        pa.field("branches", pa.list_(pa.string())),
        pa.field("class_scores", pa.list_(LABEL_SCORE)),
        pa.field("boundary_reasons", pa.struct([("start", pa.string()), ("end", pa.string())])),
    ]
)
