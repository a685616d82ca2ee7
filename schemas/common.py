"""Types shared by several tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

Branch = Literal["speech", "music", "sound"]
BRANCHES: tuple[Branch, ...] = ("speech", "music", "sound")


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float


LABEL_SCORE = pa.struct([("label", pa.string()), ("score", pa.float32())])

# Key columns of every branch table: which segment of which recording, in recording seconds.
SEGMENT_KEY_FIELDS = [
    pa.field("recording_id", pa.string(), nullable=False),
    pa.field("segment_id", pa.string(), nullable=False),
    pa.field("start_s", pa.float64(), nullable=False),
    pa.field("end_s", pa.float64(), nullable=False),
]

# Columns every annotation row carries so that any row can be traced to the model that made it.
MODEL_FIELDS = [
    pa.field("model_id", pa.string(), nullable=False),
    pa.field("model_version", pa.string()),
]


def segment_id(recording_id: str, start_s: float, end_s: float) -> str:
    """Stable id of a span: the recording id and the span in whole milliseconds."""
    return f"{recording_id}:{round(start_s * 1000):08d}-{round(end_s * 1000):08d}"
