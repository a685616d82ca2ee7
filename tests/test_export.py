"""Exports of a real run (bundled example: speech, music, sound; WAV and MP3 sources), each read back with its
own library's reader: lhotse's CutSet.from_file, webdataset's WebDataset, datasets' load_from_disk; the NeMo
manifest is checked against the keys and semantics NeMo's ASR manifest reader uses (nemo_toolkit itself is
too heavy to install here)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf

from pipeline.export.records import SAMPLE_RATE, iter_recordings
from pipeline.summary import read_table
from tests.e2e_helpers import cli, copy_examples, write_config

pytestmark = pytest.mark.slow
FILES = ("ex1_two_speakers.wav", "ex4_speech_music_door.mp3")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    inputs = copy_examples(tmp / "in", FILES)
    cfg = write_config(tmp, **{"input.path": str(inputs), "output.path": str(tmp / "out")})
    result = cli("run", str(cfg))
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "out"


def _export(out, fmt, to, *extra):
    result = cli("export", str(out), "--format", fmt, "--to", str(to), *extra, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


def _segments(out):
    return read_table(out, "segments").to_pandas().set_index("segment_id")


def test_lhotse_cuts_load_with_their_audio_and_supervisions(finished, tmp_path):
    from lhotse import CutSet, RecordingSet, SupervisionSet

    info = _export(finished, "lhotse", tmp_path)
    cuts = CutSet.from_file(tmp_path / "cuts.jsonl.gz")
    segments = _segments(finished)
    assert sorted(c.id for c in cuts) == sorted(segments.index)
    assert len(RecordingSet.from_file(tmp_path / "recordings.jsonl.gz")) == len(FILES)
    sups = SupervisionSet.from_file(tmp_path / "supervisions.jsonl.gz")
    speech = read_table(finished, "speech").to_pandas()
    assert len(sups) == info["supervisions"] == int((speech.text.str.strip() != "").sum()) > 0
    with_words = [s for s in sups if s.alignment]
    assert with_words and all(s.start <= w.start and w.end <= s.end + 0.05 for s in with_words for w in s.alignment["word"])
    for cut in cuts:
        assert cut.start == pytest.approx(segments.loc[cut.id, "start_s"])
        assert set(cut.custom["branches"]) == set(segments.loc[cut.id, "branches"])
        audio = cut.load_audio()  # lhotse reads the original file, WAV and MP3
        assert audio.shape[-1] == pytest.approx(cut.num_samples, abs=cut.sampling_rate * 0.05)
        for sup in cut.supervisions:
            assert 0 <= sup.start and sup.end <= cut.duration + 1e-6


def test_webdataset_shards_hold_audio_and_annotations(finished, tmp_path):
    import webdataset as wds

    info = _export(finished, "webdataset", tmp_path, "--samples-per-shard", "3")
    segments = _segments(finished)
    assert len(info["shards"]) == -(-len(segments) // 3)  # shards of the set size
    seen = {}
    for sample in wds.WebDataset(info["shards"], shardshuffle=False):  # raw members: bytes per extension
        meta = json.loads(sample["json"])
        samples, rate = sf.read(io.BytesIO(sample["flac"]), dtype="float32")
        seen[meta["segment_id"]] = (len(samples), rate, meta)
    assert sorted(seen) == sorted(segments.index)
    for seg_id, (n, rate, meta) in seen.items():
        assert rate == SAMPLE_RATE
        span = segments.loc[seg_id, "end_s"] - segments.loc[seg_id, "start_s"]
        assert n == pytest.approx(span * SAMPLE_RATE, abs=2)
        assert meta["caption"] and set(meta["branches"]) == set(segments.loc[seg_id, "branches"])
        assert ("speech" in meta["branches"]) == (meta["speech"] is not None)


def test_nemo_manifest_lines_are_nemo_asr_entries(finished, tmp_path):
    info = _export(finished, "nemo", tmp_path)
    lines = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    speech = read_table(finished, "speech").to_pandas()
    assert len(lines) == info["segments"] == int((speech.text.str.strip() != "").sum())
    for entry in lines:
        assert {"audio_filepath", "offset", "duration", "text", "lang", "speaker"} <= set(entry)
        assert entry["text"] and entry["duration"] > 0
        total = sf.info(entry["audio_filepath"]).duration  # the file NeMo opens, cut at offset + duration
        assert entry["offset"] + entry["duration"] <= total + 0.05


def test_hf_dataset_loads_with_decodable_audio(finished, tmp_path):
    import datasets

    _export(finished, "hf", tmp_path / "ds")
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    segments = _segments(finished)
    assert sorted(ds["segment_id"]) == sorted(segments.index)
    assert isinstance(ds.features["audio"], datasets.Audio)
    row = ds[0]
    audio = row["audio"]
    samples = np.asarray(audio["array"] if isinstance(audio, dict) else audio.get_all_samples().data).reshape(-1)
    span = row["end_s"] - row["start_s"]
    assert samples.size == pytest.approx(span * SAMPLE_RATE, abs=2)


def test_records_follow_the_tables(finished):
    recs = list(iter_recordings(finished))
    assert len(recs) == len(FILES)
    assert sum(len(r.segments) for r in recs) == len(_segments(finished))
