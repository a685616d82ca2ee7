from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from schemas.common import LABEL_SCORE, MODEL_FIELDS, LabelScore


@dataclass(frozen=True)
class MusicRow:
    recording_id: str
    segment_id: str
    start_s: float
    end_s: float
    model_id: str
    model_version: str | None = None
    tempo_bpm: float | None = None
    beats: list[float] = field(default_factory=list)  # recording time
    key: str | None = None  # "C", "F#", ...
    mode: str | None = None  # "major" / "minor"
    loudness_dbfs: float | None = None
    tags: list[LabelScore] = field(default_factory=list)  # instruments, genre, mood
    caption: str = ""


MUSIC = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("segment_id", pa.string(), nullable=False),
        pa.field("start_s", pa.float64(), nullable=False),
        pa.field("end_s", pa.float64(), nullable=False),
        *MODEL_FIELDS,
        pa.field("tempo_bpm", pa.float32()),
        pa.field("beats", pa.list_(pa.float64())),
        pa.field("key", pa.string()),
        pa.field("mode", pa.string()),
        pa.field("loudness_dbfs", pa.float32()),
        pa.field("tags", pa.list_(LABEL_SCORE)),
        pa.field("caption", pa.string()),
    ]
)
