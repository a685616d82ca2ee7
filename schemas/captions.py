from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass(frozen=True)
class TimelineEvent:
    start_s: float
    end_s: float
    branch: str  # speech / music / sound
    text: str  # "a dog barks", "S01 says: ..."
    source_segment_id: str  # the branch row it came from


TIMELINE_EVENT = pa.struct(
    [
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("branch", pa.string()),
        ("text", pa.string()),
        ("source_segment_id", pa.string()),
    ]
)


@dataclass(frozen=True)
class CaptionRow:
    recording_id: str
    caption: str  # unified, time-ordered prose
    timeline_text: str  # one event per line: "12.40 - 15.80: a dog barks twice"
    timeline: list[TimelineEvent] = field(default_factory=list)
    num_events: int = 0
    model_ids: list[str] = field(default_factory=list)  # every branch model whose rows were used
    merger: str = "template"


CAPTIONS = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("caption", pa.string()),
        pa.field("timeline_text", pa.string()),
        pa.field("timeline", pa.list_(TIMELINE_EVENT)),
        pa.field("num_events", pa.int32(), nullable=False),
        pa.field("model_ids", pa.list_(pa.string())),
        pa.field("merger", pa.string()),
    ]
)
