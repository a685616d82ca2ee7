from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass(frozen=True)
class SftRow:
    recording_id: str
    example_id: str
    task: str  # "captioning", "timestamped_asr", "time_qa", ...
    prompt: str
    response: str
    audio_uri: str
    audio_start_s: float
    audio_end_s: float
    sources: list[str] = field(default_factory=list)  # event keys / segment ids the example was built from


SFT = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("task", pa.string(), nullable=False),
        pa.field("prompt", pa.string()),
        pa.field("response", pa.string()),
        pa.field("audio_uri", pa.string()),
        pa.field("audio_start_s", pa.float64()),
        pa.field("audio_end_s", pa.float64()),
        pa.field("sources", pa.list_(pa.string())),
    ]
)
