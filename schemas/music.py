from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from schemas.common import LABEL_SCORE, LabelScore, MODEL_FIELDS, SEGMENT_KEY_FIELDS


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
    tempo_confidence: float | None = None  # 0..1, strength of the beat periodicity
    meter: str | None = None  # "4/4", "3/4"; None when the accents do not say
    key_confidence: float | None = None  # correlation with the best key profile
    loudness_lufs: float | None = None  # BS.1770-style integrated loudness (K-weighted, gated)
    dynamic_range_db: float | None = None  # spread of short-term loudness (95th - 10th percentile)
    spectral_centroid_hz: float | None = None
    brightness: str | None = None  # "dark", "warm", "balanced", "bright"
    instruments: list[LabelScore] = field(default_factory=list)
    genres: list[LabelScore] = field(default_factory=list)
    vocals: bool | None = None  # singing detected in the segment
    vocals_score: float | None = None
    downbeats: list[float] = field(default_factory=list)  # recording time; empty where no meter was measured
    tempo_method: str | None = None  # "agreed" (BeatNet and the onset tempogram), "beatnet", "onset"; None: unknown


MUSIC = pa.schema(
    [
        *SEGMENT_KEY_FIELDS,
        *MODEL_FIELDS,
        pa.field("tempo_bpm", pa.float32()),
        pa.field("beats", pa.list_(pa.float64())),
        pa.field("key", pa.string()),
        pa.field("mode", pa.string()),
        pa.field("loudness_dbfs", pa.float32()),
        pa.field("tags", pa.list_(LABEL_SCORE)),
        pa.field("caption", pa.string()),
        pa.field("tempo_confidence", pa.float32()),
        pa.field("meter", pa.string()),
        pa.field("key_confidence", pa.float32()),
        pa.field("loudness_lufs", pa.float32()),
        pa.field("dynamic_range_db", pa.float32()),
        pa.field("spectral_centroid_hz", pa.float32()),
        pa.field("brightness", pa.string()),
        pa.field("instruments", pa.list_(LABEL_SCORE)),
        pa.field("genres", pa.list_(LABEL_SCORE)),
        pa.field("vocals", pa.bool_()),
        pa.field("vocals_score", pa.float32()),
        pa.field("downbeats", pa.list_(pa.float64())),
        pa.field("tempo_method", pa.string()),
    ]
)
