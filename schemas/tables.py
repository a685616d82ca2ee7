"""The table registry: one explicit schema per output table, and record -> Arrow conversion."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from schemas.captions import CAPTIONS, CaptionRow
from schemas.errors import ERRORS, ErrorRow
from schemas.music import MUSIC, MusicRow
from schemas.recordings import RECORDINGS, RecordingRow
from schemas.segments import SEGMENTS, SegmentRow
from schemas.sft import SFT, SftRow
from schemas.sound import SOUND, SoundRow
from schemas.speech import SPEECH, SpeechRow

# Bump on any change of a column's name, type or meaning; stored in every file's metadata.
SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class TableSpec:
    name: str
    record: type
    schema: pa.Schema


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("recordings", RecordingRow, RECORDINGS),
        TableSpec("segments", SegmentRow, SEGMENTS),
        TableSpec("speech", SpeechRow, SPEECH),
        TableSpec("music", MusicRow, MUSIC),
        TableSpec("sound", SoundRow, SOUND),
        TableSpec("captions", CaptionRow, CAPTIONS),
        TableSpec("sft", SftRow, SFT),
        TableSpec("errors", ErrorRow, ERRORS),
    )
}


def to_arrow(table: str, records: Sequence[object]) -> pa.Table:
    """Records of one table -> an Arrow table with that table's explicit schema (never inferred)."""
    spec = TABLES[table]
    for record in records:
        if not isinstance(record, spec.record):
            raise TypeError(f"table {table!r} takes {spec.record.__name__}, got {type(record).__name__}")
    rows = [dataclasses.asdict(r) for r in records]
    schema = spec.schema.with_metadata({"schema_version": SCHEMA_VERSION, "table": table})
    return pa.Table.from_pylist(rows, schema=schema)
