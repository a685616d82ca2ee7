from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class ErrorRow:
    recording_id: str
    uri: str
    stage: str  # "decode", "segment", "annotate:speech", "merge", "write", ...
    error_type: str
    message: str
    segment_id: str | None = None


ERRORS = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("uri", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("error_type", pa.string(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
        pa.field("segment_id", pa.string()),
    ]
)
