from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from schemas.common import MODEL_FIELDS, SEGMENT_KEY_FIELDS


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
class SpeechCaption:
    """MOSS speech-caption fields; only those a measure supports are filled, the rest stay None."""

    gender: str | None = None
    age: str | None = None
    pitch: str | None = None
    speed: str | None = None
    volume: str | None = None
    clarity: str | None = None
    fluency: str | None = None
    accent: str | None = None
    texture: str | None = None
    emotion: str | None = None
    tone: str | None = None
    personality: str | None = None
    summary: str | None = None


SPEECH_CAPTION = pa.struct(
    [
        (name, pa.string())
        for name in (
            "gender", "age", "pitch", "speed", "volume", "clarity", "fluency",
            "accent", "texture", "emotion", "tone", "personality", "summary",
        )
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
    # Paralinguistic measures (annotators/speech/paralinguistics.py); None where not measurable.
    pitch_mean_hz: float | None = None
    pitch_range_hz: float | None = None  # 5th..95th percentile of F0
    speaking_rate_wps: float | None = None  # words per second over the spoken span
    speaking_rate_sps: float | None = None  # syllables per second
    volume_dbfs: float | None = None  # active level of the speech
    pause_ratio: float | None = None  # share of the spoken span in pauses between words
    snr_db: float | None = None
    caption: SpeechCaption | None = None


SPEECH = pa.schema(
    [
        *SEGMENT_KEY_FIELDS,
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
        pa.field("pitch_mean_hz", pa.float32()),
        pa.field("pitch_range_hz", pa.float32()),
        pa.field("speaking_rate_wps", pa.float32()),
        pa.field("speaking_rate_sps", pa.float32()),
        pa.field("volume_dbfs", pa.float32()),
        pa.field("pause_ratio", pa.float32()),
        pa.field("snr_db", pa.float32()),
        pa.field("caption", SPEECH_CAPTION),
    ]
)
