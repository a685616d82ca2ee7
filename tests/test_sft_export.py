"""The sft table as Parquet (loads with `datasets`) and as MOSS-Audio JSONL (round-trips)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

import schemas
from merge.export_jsonl import (
    export_jsonl,
    from_conversation,
    parse_audio,
    read_jsonl,
    read_sft_parquet,
    to_conversation,
)
from merge.merger import merge_recordings
from merge.sft import SFT_TASKS
from merge.testing import example_outputs, outputs_from_truth
from merge.config import MergeConfig


@pytest.fixture(scope="module")
def sft_rows(truth):
    outs = [outputs_from_truth(rec) for rec in truth.values()] + [example_outputs()]
    results = merge_recordings(outs, MergeConfig(sft_tasks=tuple(SFT_TASKS)))
    rows = [r for _, rows in results for r in rows]
    assert len(rows) > 50
    return rows


def test_parquet_loads_with_datasets(sft_rows, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    folder = tmp_path / "sft"
    folder.mkdir()
    half = len(sft_rows) // 2
    for i, part in enumerate((sft_rows[:half], sft_rows[half:])):
        pq.write_table(schemas.to_arrow("sft", part), folder / f"shard-{i:05d}.parquet")
    import datasets

    ds = datasets.load_dataset(
        "parquet", data_files=str(folder / "*.parquet"), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert ds.num_rows == len(sft_rows)
    assert {"recording_id", "example_id", "task", "prompt", "response", "audio_uri", "audio_start_s",
            "audio_end_s", "sources"} <= set(ds.column_names)
    first = ds[0]
    assert first["example_id"] == sft_rows[0].example_id and first["sources"] == sft_rows[0].sources
    assert read_sft_parquet(folder) == sft_rows  # the folder reads back to the same rows


@pytest.mark.parametrize("audio", ["uri", "dict"])
def test_jsonl_round_trip(sft_rows, tmp_path, audio):
    path = tmp_path / "train.jsonl"
    assert export_jsonl(sft_rows, path, audio=audio) == len(sft_rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    obj = json.loads(lines[0])
    roles = [(t["role"], t["message_type"]) for t in obj["conversation"]]
    assert roles == [("user", "audio"), ("user", "text"), ("assistant", "text")]
    content = obj["conversation"][0]["content"]
    if audio == "uri":
        assert content.startswith(sft_rows[0].audio_uri + "#t=")
    else:
        assert set(content) == {"path", "start_s", "end_s"}
    assert read_jsonl(path) == sft_rows


def test_jsonl_from_parquet_folder(sft_rows, tmp_path):
    pq.write_table(schemas.to_arrow("sft", sft_rows), tmp_path / "part.parquet")
    n = export_jsonl(tmp_path / "part.parquet", tmp_path / "out.jsonl")
    assert n == len(sft_rows) and read_jsonl(tmp_path / "out.jsonl") == sft_rows


def test_audio_fragment_parsing():
    assert parse_audio("s3://b/a#1.wav#t=7.203,8.593") == ("s3://b/a#1.wav", 7.203, 8.593)
    row = example_outputs()
    [(_, rows)] = merge_recordings([row], MergeConfig(sft_tasks=("time_qa",)))
    conv = to_conversation(rows[0], meta=False)
    assert "meta" not in conv
    back = from_conversation(conv)
    assert (back.prompt, back.response, back.audio_start_s) == (rows[0].prompt, rows[0].response, rows[0].audio_start_s)
