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
class CaptionLink:
    """One statement of the caption and the events (and their branch rows) it was traced to."""

    statement: str
    event_keys: list[str] = field(default_factory=list)  # "speech/<segment_id>", "sound/<segment_id>#e<i>", ...
    segment_ids: list[str] = field(default_factory=list)


CAPTION_LINK = pa.struct(
    [
        ("statement", pa.string()),
        ("event_keys", pa.list_(pa.string())),
        ("segment_ids", pa.list_(pa.string())),
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
    merger: str = "template"  # or "llm:<model>" when a rewrite passed the faithfulness check
    faithful: bool = True  # every event stated with its span, nothing unsupported
    faithfulness_issues: list[str] = field(default_factory=list)
    links: list[CaptionLink] = field(default_factory=list)  # statement -> events it came from
    llm_note: str | None = None  # why an LLM rewrite was not used (failed, or rejected with its issues)


CAPTIONS = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("caption", pa.string()),
        pa.field("timeline_text", pa.string()),
        pa.field("timeline", pa.list_(TIMELINE_EVENT)),
        pa.field("num_events", pa.int32(), nullable=False),
        pa.field("model_ids", pa.list_(pa.string())),
        pa.field("merger", pa.string()),
        pa.field("faithful", pa.bool_()),
        pa.field("faithfulness_issues", pa.list_(pa.string())),
        pa.field("links", pa.list_(CAPTION_LINK)),
        pa.field("llm_note", pa.string()),
    ]
)
