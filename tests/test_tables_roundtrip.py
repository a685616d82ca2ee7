"""Records -> Arrow -> records: what a partial redo reads back must equal what was written."""

from __future__ import annotations

import dataclasses

import pyarrow.parquet as pq

from schemas import TABLES, from_arrow, to_arrow
from schemas.captions import CaptionLink, CaptionRow, TimelineEvent
from schemas.common import LabelScore
from schemas.errors import ErrorRow
from schemas.music import MusicRow
from schemas.recordings import RecordingRow, Span
from schemas.segments import BoundaryReasons, SegmentRow
from schemas.sft import SftRow
from schemas.sound import SoundEvent, SoundRow
from schemas.speech import SpeechCaption, SpeechRow, Word

ROWS = {
    "recordings": [RecordingRow("r", "/a.wav", "ok", 3.5, 44100, 2, "pcm_s16le", "wav", 1234, 2, [Span(1.0, 2.0)], ["w"]),
                   RecordingRow("e", "/b.wav", "error", error="decode: x")],
    "segments": [SegmentRow("r", "r:1", 0.0, 1.5, ["speech", "music"], [LabelScore("Speech", 0.9)], BoundaryReasons("vad_on", "turn"))],
    "speech": [SpeechRow("r", "r:1", 0.0, 1.5, "hi there", "en", "m", None, 0.9, [Word("hi", 0.1, 0.3, 0.8, "S01")], "S01",
                         ["S01"], -0.2, 0.01, 1.2, ["flag"], "[0.10]hi there[0.50]", caption=SpeechCaption(gender="female"))],
    "music": [MusicRow("r", "r:1", 0.0, 1.5, "m", "1", 120.0, [0.5, 1.0], "C", "major", -20.0, [LabelScore("Piano", 0.7)])],
    "sound": [SoundRow("r", "r:1", 0.0, 1.5, "m", None, [SoundEvent("Dog", 0.2, 0.9, 0.6, False, -30.0, 2, [LabelScore("Bark", 0.5)])], "a dog")],
    "captions": [CaptionRow("r", "text", "0.00 - 1.50: a dog", [TimelineEvent(0.0, 1.5, "sound", "a dog", "r:1")], 1, ["m"],
                            links=[CaptionLink("a dog", ["sound/r:1#e0"], ["r:1"])])],
    "sft": [SftRow("r", "r-0", "captioning", "Describe.", "A dog.", "/a.wav", 0.0, 1.5, ["r:1"])],
    "errors": [ErrorRow("e", "/b.wav", "decode", "DecodeError", "x"), ErrorRow("r", "/a.wav", "annotate:music", "E", "y", "r:1")],
}


def test_every_table_reads_back_to_equal_records(tmp_path):
    assert set(ROWS) == set(TABLES)
    for table, rows in ROWS.items():
        path = tmp_path / f"{table}.parquet"
        pq.write_table(to_arrow(table, rows), path)
        back = from_arrow(table, pq.read_table(path))
        assert [type(r) for r in back] == [type(r) for r in rows]
        assert _canonical(back) == _canonical(rows), table  # float32 columns hold ~7 digits


def _canonical(value):
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, _canonical(dataclasses.asdict(value)), [type(getattr(value, f.name)).__name__ for f in dataclasses.fields(value)])
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value
