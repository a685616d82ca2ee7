"""The table registry: one explicit schema per output table, and record -> Arrow conversion."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
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


def from_arrow(table: str, data: pa.Table) -> list:
    """An Arrow table of one output table -> its records again (nested records rebuilt from their types):
    what a partial redo reads back of the stages it keeps."""
    record = TABLES[table].record
    return [_build(record, row) for row in data.to_pylist()]


@functools.lru_cache(maxsize=None)
def _field_types(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _build(tp, value):
    if value is None:
        return None
    if dataclasses.is_dataclass(tp):
        hints = _field_types(tp)
        return tp(**{f.name: _build(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value})
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _build(inner[0], value) if len(inner) == 1 else value
    if origin in (list, tuple):
        items = [_build(args[0], v) for v in value] if args else list(value)
        return items if origin is list else tuple(items)
    return value
