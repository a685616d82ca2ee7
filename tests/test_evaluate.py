"""`evaluate`: output tables of a run scored against the corpus truth."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.evaluate import METRICS, evaluate_output, render_table, uri_basename
from schemas.common import segment_id
from schemas.recordings import RecordingRow
from schemas.segments import BoundaryReasons, SegmentRow
from schemas.tables import to_arrow
from segmenters.metrics import ScoredSpan, boundary_f1, match_count, predicted_boundaries, score_segmentation, spans_of
from segmenters.vad import VadSegmenter

SCENE = "s07_events_over_speech"


def _write(out: Path, rid: str, uri: str, segments: list[SegmentRow]) -> None:
    for table, rows in (("recordings", [RecordingRow(rid, uri, "ok", 55.09, 16000, 1, num_segments=len(segments))]),
                        ("segments", segments)):
        (out / table).mkdir(parents=True, exist_ok=True)
        pq.write_table(to_arrow(table, rows), out / table / "shard-00000.parquet")


def _oracle_rows(rid: str, truth: dict, shift_s: float = 0.0) -> list[SegmentRow]:
    """Segments equal to the truth's non-silent segments, optionally shifted."""
    rows = []
    for seg in truth["segments"]:
        if seg["kinds"] == ["silence"]:
            continue
        s, e = seg["start"] + shift_s, seg["end"] + shift_s
        rows.append(SegmentRow(rid, segment_id(rid, s, e), s, e, list(seg["kinds"]), [], BoundaryReasons("event", "event")))
    return rows


def test_uri_basename():
    assert uri_basename("file:///data/a%20b/x.wav") == "x.wav"
    assert uri_basename("s3://bucket/dir/y.flac") == "y.flac"
    assert uri_basename("/abs/path/z.wav") == "z.wav"


def test_oracle_output_scores_perfectly_and_shift_costs_the_tight_tolerance(tmp_path, corpus_dir, truth):
    t = truth[SCENE]
    _write(tmp_path / "exact", "r1", f"file://{corpus_dir}/scenes/{SCENE}.wav", _oracle_rows("r1", t))
    res = evaluate_output(tmp_path / "exact", corpus_dir / "truth.jsonl")
    m = res["recordings"][0]["measures"]
    assert m["boundary_f1@0.5"] == pytest.approx(1.0)
    assert m["routing_f1.speech"] == pytest.approx(1.0) and m["routing_f1.sound"] == pytest.approx(1.0)
    assert m["routing_f1.music"] is None  # no music in this scene
    assert f"{SCENE}.wav" not in res["unmatched_truth"] and "s05_sound_events.wav" in res["unmatched_truth"]

    _write(tmp_path / "late", "r1", f"/somewhere/else/{SCENE}.wav", _oracle_rows("r1", t, shift_s=0.3))
    late = evaluate_output(tmp_path / "late", corpus_dir / "truth.jsonl")["recordings"][0]["measures"]
    assert late["boundary_f1@0.5"] > 0.9
    assert late["boundary_f1@0.2"] < 0.2
    assert 0.8 < late["routing_f1.speech"] < 1.0


def test_real_vad_output_matches_direct_scoring(tmp_path, corpus_dir, truth, scene_audio):
    seg = VadSegmenter()
    out = seg.segment(scene_audio(SCENE), 16000)
    rows = [SegmentRow("r", segment_id("r", s.start_s, s.end_s), s.start_s, s.end_s, list(s.branches), list(s.class_scores),
                       BoundaryReasons(s.start_reason, s.end_reason)) for s in out.segments]
    _write(tmp_path, "r", f"{SCENE}.wav", rows)
    res = evaluate_output(tmp_path, corpus_dir / "truth.jsonl")
    direct = score_segmentation(spans_of(out), truth[SCENE])
    measures = res["recordings"][0]["measures"]
    assert measures["boundary_f1@0.5"] == pytest.approx(direct["boundary_f1@0.5"].f1)
    assert measures["routing_f1.speech"] == pytest.approx(direct["routing_f1"]["speech"].f1)
    assert measures["routing_f1.sound"] == 0.0  # speech-only segmenter routes nothing to sound
    assert res["mean"]["boundary_f1@0.5"] == pytest.approx(measures["boundary_f1@0.5"])
    assert render_table(res).renderables[0].row_count == 2  # segmentation table: the recording and the mean


def test_metrics_are_an_extensible_list(tmp_path, corpus_dir, truth):
    _write(tmp_path, "r1", f"{SCENE}.wav", _oracle_rows("r1", truth[SCENE]))

    def events_per_minute(case):
        return {"events_per_min": 60 * len(case.truth["events"]) / case.truth["duration"]}

    res = evaluate_output(tmp_path, corpus_dir / "truth.jsonl", metrics=[*METRICS, events_per_minute])
    assert res["recordings"][0]["measures"]["events_per_min"] == pytest.approx(60 * 11 / 55.09)


def test_missing_output_is_a_clear_error(tmp_path, corpus_dir):
    with pytest.raises(FileNotFoundError, match="recordings"):
        evaluate_output(tmp_path, corpus_dir / "truth.jsonl")


def test_boundary_matching_is_one_to_one():
    assert match_count([1.0, 1.1], [1.05], 0.5) == 1
    assert match_count([1.0, 2.0, 3.0], [1.4, 2.1, 9.0], 0.5) == 2
    f = boundary_f1([1.0, 5.0], [1.2, 3.0], 0.5)
    assert (f.precision, f.recall, f.hits) == (0.5, 0.5, 1)


def test_predicted_boundaries_rules():
    spans = [ScoredSpan(1.0, 5.0, ("speech",), "speech_onset", "sound_onset"),
             ScoredSpan(5.0, 8.0, ("speech", "sound"), "sound_onset", "pause"),
             ScoredSpan(8.0, 20.0, ("speech",), "pause", "speech_offset"),
             ScoredSpan(20.6, 22.0, ("music",), "music_start", "music_stop")]
    # touching segments share 5.0; the max_s cut at 8.0 claims no event; a silence gap keeps both edges
    assert predicted_boundaries(spans) == [1.0, 5.0, 20.0, 20.6, 22.0]
