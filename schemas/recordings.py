from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

RecordingStatus = Literal["ok", "error", "empty"]


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float


SPAN = pa.struct([("start_s", pa.float64()), ("end_s", pa.float64())])


@dataclass(frozen=True)
class RecordingRow:
    recording_id: str
    uri: str
    status: RecordingStatus
    duration_s: float | None = None
    sample_rate: int | None = None  # of the source file, before resampling
    channels: int | None = None
    codec: str | None = None  # e.g. "pcm_s16le", "mp3", "flac"
    container: str | None = None  # e.g. "wav", "mp3", "ogg"
    bytes: int | None = None
    num_segments: int = 0
    silences: list[Span] = field(default_factory=list)  # long silences: no segment, reported here
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


RECORDINGS = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("uri", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("duration_s", pa.float64()),
        pa.field("sample_rate", pa.int32()),
        pa.field("channels", pa.int16()),
        pa.field("codec", pa.string()),
        pa.field("container", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("num_segments", pa.int32(), nullable=False),
        pa.field("silences", pa.list_(SPAN)),
        pa.field("warnings", pa.list_(pa.string())),
        pa.field("error", pa.string()),
    ]
)
