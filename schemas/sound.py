from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from schemas.common import LABEL_SCORE, LabelScore, MODEL_FIELDS, SEGMENT_KEY_FIELDS


@dataclass(frozen=True)
class SoundEvent:
    label: str
    start_s: float  # recording time
    end_s: float
    score: float
    background: bool = False  # a long steady bed under the segment rather than a distinct event
    loudness_dbfs: float | None = None  # RMS level of the segment audio over the event's span
    count: int = 1  # separate bursts inside the span (a phone ringing twice: 2)
    alternatives: list[LabelScore] = field(default_factory=list)  # other classes of the same source, by score
    # `label` is what is stated: the tagger's class, or an AudioSet ancestor when the class was uncertain.
    # Unstated events (too uncertain, or inside music) stay here for re-thresholding; captions skip them.
    stated: bool = True
    source_label: str | None = None  # the tagger's class the event was detected as
    source_score: float | None = None  # its score (`score` is the evidence for `label`)


SOUND_EVENT = pa.struct(
    [
        ("label", pa.string()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("score", pa.float32()),
        ("background", pa.bool_()),
        ("loudness_dbfs", pa.float32()),
        ("count", pa.int32()),
        ("alternatives", pa.list_(LABEL_SCORE)),
        ("stated", pa.bool_()),
        ("source_label", pa.string()),
        ("source_score", pa.float32()),
    ]
)


@dataclass(frozen=True)
class SoundRow:
    recording_id: str
    segment_id: str
    start_s: float
    end_s: float
    model_id: str
    model_version: str | None = None
    events: list[SoundEvent] = field(default_factory=list)
    caption: str = ""


SOUND = pa.schema(
    [
        *SEGMENT_KEY_FIELDS,
        *MODEL_FIELDS,
        pa.field("events", pa.list_(SOUND_EVENT)),
        pa.field("caption", pa.string()),
    ]
)
