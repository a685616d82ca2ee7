from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from schemas.common import MODEL_FIELDS


@dataclass(frozen=True)
class Word:
    word: str
    start_s: float  # recording time
    end_s: float
    prob: float
    speaker: str | None = None


WORD = pa.struct(
    [
        ("word", pa.string()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("prob", pa.float32()),
        ("speaker", pa.string()),
    ]
)


@dataclass(frozen=True)
class SpeechRow:
    recording_id: str
    segment_id: str
    start_s: float
    end_s: float
    text: str
    language: str | None
    model_id: str
    model_version: str | None = None
    language_prob: float | None = None
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None  # dominant speaker label ("S01", ...) within the recording
    speakers: list[str] = field(default_factory=list)
    asr_confidence: float | None = None  # mean token log-probability
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    flags: list[str] = field(default_factory=list)  # hallucination guards that fired, with reason
    timestamped_text: str = ""  # MOSS form: [0.00]text[2.31]


SPEECH = pa.schema(
    [
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("segment_id", pa.string(), nullable=False),
        pa.field("start_s", pa.float64(), nullable=False),
        pa.field("end_s", pa.float64(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("language", pa.string()),
        *MODEL_FIELDS,
        pa.field("language_prob", pa.float32()),
        pa.field("words", pa.list_(WORD)),
        pa.field("speaker", pa.string()),
        pa.field("speakers", pa.list_(pa.string())),
        pa.field("asr_confidence", pa.float32()),
        pa.field("no_speech_prob", pa.float32()),
        pa.field("compression_ratio", pa.float32()),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("timestamped_text", pa.string()),
    ]
)
