from __future__ import annotations

import json

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.writer import STATE_FILE, OutputConflictError, done_shards, prepare_output, read_markers, shard_stages, write_shard
from schemas import TABLES, to_arrow
from schemas.common import LabelScore
from schemas.recordings import RecordingRow, Span
from schemas.segments import BoundaryReasons, SegmentRow


def rows():
    rec = RecordingRow("r1", "/a/r1.wav", "ok", 12.5, 16000, 1, "pcm_s16le", "wav", 400044, 1, [Span(5.0, 9.0)])
    seg = SegmentRow("r1", "r1:00000000-00004000", 0.0, 4.0, ["speech", "sound"], [LabelScore("speech", 0.9)], BoundaryReasons("start", "speech_offset"))
    return {"recordings": [rec], "segments": [seg]}


def test_every_table_written_with_its_schema_then_marker(tmp_path):
    write_shard(tmp_path, "shard-000000", rows(), {"recordings": 1})
    for table, spec in TABLES.items():
        t = pq.read_table(tmp_path / table / "shard-000000.parquet")
        assert t.schema.equals(spec.schema, check_metadata=False), table
        assert t.schema.metadata[b"schema_version"] == b"1"
    assert done_shards(tmp_path) == {"shard-000000"}
    df = duckdb.sql(f"select branches, class_scores from '{tmp_path}/segments/*.parquet'").df()
    assert list(df.branches[0]) == ["speech", "sound"]
    rec = pd.read_parquet(tmp_path / "recordings")
    assert rec.silences[0][0] == {"start_s": 5.0, "end_s": 9.0}


def test_to_arrow_refuses_a_record_of_another_table():
    with pytest.raises(TypeError, match="recordings"):
        to_arrow("recordings", rows()["segments"])


STAGES = {"segments": "s1", "speech": "a1", "merge": "m1"}


def test_a_changed_config_is_planned_not_refused_and_overwrite_clears(tmp_path):
    assert prepare_output(tmp_path, STAGES, "aaa", overwrite=False) is None  # a new output
    write_shard(tmp_path, "shard-000000", rows(), {"stages": STAGES})
    changed = {**STAGES, "speech": "a2"}
    assert prepare_output(tmp_path, changed, "bbb", overwrite=False) == STAGES  # what it holds, for the plan
    assert shard_stages(read_markers(tmp_path), STAGES) == {"shard-000000": STAGES}
    prepare_output(tmp_path, changed, "bbb", overwrite=True)
    assert done_shards(tmp_path) == set()
    assert not (tmp_path / "recordings").exists()


def test_an_output_from_before_stage_fingerprints_is_kept_only_for_the_same_config(tmp_path):
    (tmp_path / STATE_FILE).write_text(json.dumps({"fingerprint": "aaa"}))
    write_shard(tmp_path, "shard-000000", rows(), {})  # a marker without stages
    assert prepare_output(tmp_path, STAGES, "aaa", overwrite=False) == STAGES
    assert shard_stages(read_markers(tmp_path), STAGES) == {"shard-000000": STAGES}
    with pytest.raises(OutputConflictError, match="--overwrite"):
        prepare_output(tmp_path, STAGES, "bbb", overwrite=False)


def test_a_partial_write_touches_only_its_tables(tmp_path):
    write_shard(tmp_path, "shard-000000", rows(), {})
    before = {p.parent.name: p.stat().st_mtime_ns for p in tmp_path.glob("*/shard-000000.parquet")}
    write_shard(tmp_path, "shard-000000", rows(), {}, tables={"music", "errors"})
    after = {p.parent.name: p.stat().st_mtime_ns for p in tmp_path.glob("*/shard-000000.parquet")}
    assert {t for t in before if before[t] != after[t]} == {"music", "errors"}


def test_temp_files_of_a_killed_run_are_removed(tmp_path):
    (tmp_path / "speech").mkdir()
    stale = tmp_path / "speech" / ".shard-000000.parquet.123.tmp"
    stale.write_bytes(b"partial")
    prepare_output(tmp_path, STAGES, "aaa", overwrite=False)
    assert not stale.exists()
