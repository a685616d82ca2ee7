"""The README's main job on the bundled example, through the command line, on real models and real Ray."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.summary import read_table
from pipeline.wer import corpus_wer
from schemas import TABLES
from tests.e2e_helpers import REPO, cli, snapshot, write_config

pytestmark = pytest.mark.slow
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    out = tmp / "out"
    cfg = write_config(tmp, **{"output.path": str(out), "output.shard_size": 2})
    result = cli("run", str(cfg))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return cfg, out, result


def example_truth() -> dict[str, dict]:
    lines = (EXAMPLES / "truth.jsonl").read_text().splitlines()
    return {json.loads(line)["file"].split("/")[-1]: json.loads(line) for line in lines if line.strip()}


def test_every_input_file_has_a_recordings_row(example_run):
    _, out, _ = example_run
    rec = read_table(out, "recordings").to_pandas()
    inputs = sorted(p for p in (EXAMPLES / "audio").rglob("*") if p.is_file())
    assert sorted(rec.uri) == sorted(str(p) for p in inputs)
    assert set(rec.status) == {"ok"}, rec[["uri", "status", "error"]]
    assert rec.recording_id.is_unique


def test_every_table_loads_in_pyarrow_pandas_and_duckdb(example_run):
    _, out, _ = example_run
    for table, spec in TABLES.items():
        files = sorted((out / table).glob("*.parquet"))
        assert files, table
        for f in files:
            assert pq.read_schema(f).equals(spec.schema, check_metadata=False), f
        n = len(pd.read_parquet(out / table))
        assert duckdb.sql(f"select count(*) from '{out}/{table}/*.parquet'").fetchall()[0][0] == n
    for table in ("segments", "speech", "captions"):
        assert read_table(out, table).num_rows > 0, table


def test_speech_transcript_matches_known_words(example_run):
    _, out, _ = example_run
    truth = example_truth()
    speech = read_table(out, "speech").to_pandas().sort_values("start_s")
    rec = read_table(out, "recordings").to_pandas().set_index("recording_id")
    pairs = []
    for name, t in truth.items():
        ref = " ".join(e["text"] for e in t["events"] if e["kind"] == "speech")
        if not ref:
            continue
        rid = rec.index[rec.uri.str.endswith("/" + name)][0]
        hyp = " ".join(speech[speech.recording_id == rid].text)
        pairs.append((ref, hyp))
    assert pairs
    assert corpus_wer(pairs) <= 0.20


def test_captions_keep_time_ordered_timeline(example_run):
    _, out, _ = example_run
    caps = read_table(out, "captions").to_pandas()
    rec = read_table(out, "recordings").to_pandas()
    assert sorted(caps.recording_id) == sorted(rec[rec.status == "ok"].recording_id)
    for timeline in caps.timeline:
        starts = [e["start_s"] for e in timeline]
        assert starts == sorted(starts)


def test_run_report(example_run):
    _, out, result = example_run
    report = json.loads((out / "run.json").read_text())
    assert report["stats"]["recordings"]["ok"] == len(read_table(out, "recordings"))
    assert report["stats"]["models"]["speech"]["model_id"]
    assert report["versions"]["torch"]
    assert "realtime" in result.stderr or "audio per wall second" in result.stderr


def test_rerun_does_no_work_and_changes_no_file(example_run):
    cfg, out, _ = example_run
    before = snapshot(out)
    result = cli("run", str(cfg))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "already done" in result.stderr
    assert snapshot(out) == before


def test_deleting_one_done_marker_redoes_only_that_shard(example_run):
    cfg, out, _ = example_run
    shards = sorted(p.name for p in (out / "_done").iterdir())
    assert len(shards) >= 2
    victim = shards[0]
    before = snapshot(out)
    (out / "_done" / victim).unlink()
    result = cli("run", str(cfg))
    assert result.returncode == 0, result.stderr[-3000:]
    after = snapshot(out)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed, "the shard was not redone"
    assert all(victim in k or k in ("run.json", "_lock") for k in changed), changed  # run bookkeeping besides the shard
    for table in TABLES:  # same rows as before, no duplicates
        assert pq.read_table(out / table / f"{victim}.parquet").num_rows == pd.read_parquet(out / table / f"{victim}.parquet").shape[0]
    assert read_table(out, "recordings").to_pandas().recording_id.is_unique


def test_a_changed_model_is_planned_as_a_redo_of_its_branch_and_the_merge(example_run, tmp_path):
    cfg, out, _ = example_run
    before = snapshot(out)
    other = write_config(tmp_path, **{"output.path": str(out), "output.shard_size": 2,
                                      "branches.speech.params.model": "pkg:whisper-tiny.en"})
    result = cli("run", str(other), "--dry-run", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    shards = len(list((out / "_done").iterdir()))
    assert f"speech, merge: {shards} shard(s) (speech changed)" in " ".join(result.stderr.split())
    assert snapshot(out) == before  # a dry run changes nothing


def test_validate_names_a_misspelled_key(tmp_path):
    cfg = write_config(tmp_path, **{"segmentation.segmentr": "event"})
    result = cli("validate", str(cfg), timeout=120)
    assert result.returncode != 0
    assert "segmentation.segmentr" in result.stderr


def test_validate_accepts_the_repository_config():
    result = cli("validate", str(REPO / "pipeline.yaml"), timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_second_run_with_other_batching_and_timing_writes_identical_speech_and_captions(example_run, tmp_path):
    """Speech output must not depend on which segments or recordings happened to share a batch."""
    _, out, _ = example_run
    other = tmp_path / "out"
    changes = {"output.path": str(other), "output.shard_size": 4, "runtime.max_in_flight": 1,
               "branches.speech.batch_size": 1, "branches.speech.num_actors": 1}
    result = cli("run", str(write_config(tmp_path, **changes)))
    assert result.returncode == 0, result.stderr[-4000:]
    for table, key in (("speech", "segment_id"), ("captions", "recording_id")):
        first = read_table(out, table).to_pandas().sort_values(key).reset_index(drop=True)
        second = read_table(other, table).to_pandas().sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(first, second)


def test_another_shard_size_is_refused_since_the_shards_would_hold_other_recordings(example_run, tmp_path):
    _, out, _ = example_run
    before = snapshot(out)
    other = write_config(tmp_path, **{"output.path": str(out), "output.shard_size": 3})
    result = cli("run", str(other), timeout=120)
    assert result.returncode == 2
    assert "output.shard_size=2, now 3" in " ".join(result.stderr.split())
    assert snapshot(out) == before
