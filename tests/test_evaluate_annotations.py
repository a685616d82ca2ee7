"""Annotation measures of `evaluate` on small hand-built output tables and a hand-written truth.jsonl."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from pipeline.evaluate import evaluate_output, render_table
from schemas.common import LabelScore, segment_id
from schemas.music import MusicRow
from schemas.recordings import RecordingRow
from schemas.sound import SoundEvent, SoundRow
from schemas.speech import SpeechRow, Word
from schemas.tables import to_arrow
from tests.e2e_helpers import cli

TALK, BEEPS, TUNE = "talk.wav", "beeps.wav", "tune.wav"
TALK_TRUTH = {
    "file": f"scenes/{TALK}", "duration": 10.0, "boundaries": [1.0, 4.0, 5.0, 9.0],
    "segments": [{"start": 0.0, "end": 1.0, "kinds": ["silence"], "events": []},
                 {"start": 1.0, "end": 4.0, "kinds": ["speech"], "events": [0]},
                 {"start": 4.0, "end": 5.0, "kinds": ["silence"], "events": []},
                 {"start": 5.0, "end": 9.0, "kinds": ["speech"], "events": [1]},
                 {"start": 9.0, "end": 10.0, "kinds": ["silence"], "events": []}],
    "events": [
        {"start": 1.0, "end": 4.0, "kind": "speech", "label": "ann", "speaker": "ann", "text": "Hello there, Bob!"},
        {"start": 5.0, "end": 9.0, "kind": "speech", "label": "bob", "speaker": "bob",
         "text": "Good morning to you all, my friends."},
    ],
}
BEEPS_TRUTH = {
    "file": f"scenes/{BEEPS}", "duration": 20.0, "boundaries": [2.0, 3.0, 10.0, 11.0],
    "segments": [{"start": 0.0, "end": 20.0, "kinds": ["sound"], "events": [0, 1]}],
    "events": [{"start": 2.0, "end": 3.0, "kind": "sound", "label": "dog_bark", "text": None},
               {"start": 10.0, "end": 11.0, "kind": "sound", "label": "car_horn", "text": None}],
}
TUNE_TRUTH = {
    "file": f"scenes/{TUNE}", "duration": 30.0, "boundaries": [1.0, 29.0],
    "segments": [{"start": 0.0, "end": 30.0, "kinds": ["music"], "events": [0]}],
    "events": [{"start": 1.0, "end": 29.0, "kind": "music", "label": "acoustic_grand_piano|120bpm",
                "instrument": ["acoustic_grand_piano"], "tempo_bpm": 120, "text": None}],
}


def _words(text: str, start: float, end: float, speaker: str | None) -> list[Word]:
    tokens = text.split()
    step = (end - start) / len(tokens)
    return [Word(t, start + i * step, start + (i + 1) * step, 0.9, speaker) for i, t in enumerate(tokens)]


def _speech(rid: str, start: float, end: float, text: str, speaker: str | None = None) -> SpeechRow:
    return SpeechRow(rid, segment_id(rid, start, end), start, end, text, "en", "m",
                     words=_words(text, start, end, speaker), speaker=speaker)


def _write(out: Path, files: dict[str, dict[str, list]], truth: list[dict]) -> Path:
    """files: file name -> table -> rows (recording_id = the file's stem). Returns the truth.jsonl path."""
    tables: dict[str, list] = {}
    for name, rows in files.items():
        rid = Path(name).stem
        tables.setdefault("recordings", []).append(RecordingRow(rid, f"/in/{name}", "ok", 10.0, 16000, 1))
        for table, items in rows.items():
            tables.setdefault(table, []).extend(items)
    for table, rows in tables.items():
        (out / table).mkdir(parents=True, exist_ok=True)
        pq.write_table(to_arrow(table, rows), out / table / "shard-000000.parquet")
    path = out.parent / f"{out.name}_truth.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in truth))
    return path


def _measures(tmp_path: Path, files: dict, truth: list[dict], name: str = "out") -> dict:
    out = tmp_path / name
    return evaluate_output(out, _write(out, files, truth))


def _talk(rows: list[SpeechRow]) -> dict:
    return {TALK: {"speech": rows}}


def _of(result: dict, file: str) -> dict:
    return next(r["measures"] for r in result["recordings"] if r["file"] == file)


# --- WER --------------------------------------------------------------------------------------------------


def test_exact_transcript_scores_zero_wer_and_a_wrong_one_counts_its_errors(tmp_path):
    right = _measures(tmp_path, _talk([_speech("talk", 1.0, 4.0, "hello there bob", "S01"),
                                       _speech("talk", 5.0, 9.0, "Good morning to you all, my friends!", "S02")]),
                      [TALK_TRUTH], "right")
    m = _of(right, TALK)
    assert m["wer"] == 0.0 and m["wer_errors"] == 0 and m["wer_words"] == 10
    # Rows are read in time order whatever their order in the file.
    wrong = _measures(tmp_path, _talk([_speech("talk", 5.0, 9.0, "good morning to you all my fiends", "S02"),
                                       _speech("talk", 1.0, 4.0, "hello bob", "S01")]), [TALK_TRUTH], "wrong")
    m = _of(wrong, TALK)
    assert m["wer_errors"] == 2 and m["wer"] == pytest.approx(0.2)  # "there" deleted, "friends" substituted


def test_corpus_wer_divides_summed_errors_by_summed_words(tmp_path):
    short = {**TALK_TRUTH, "file": "short.wav", "events": [{**TALK_TRUTH["events"][0], "text": "yes"}]}
    res = _measures(tmp_path, {TALK: {"speech": [_speech("talk", 1.0, 4.0, "hello there bob", "S01"),
                                                 _speech("talk", 5.0, 9.0, "good morning to you all my friends", "S02")]},
                               "short.wav": {"speech": [_speech("short", 1.0, 2.0, "no", "S01")]}},
                    [TALK_TRUTH, short])
    assert _of(res, "short.wav")["wer"] == 1.0
    assert res["mean"]["wer"] == pytest.approx(0.5)  # the misleading mean of ratios
    assert res["totals"]["wer"] == pytest.approx(1 / 11)  # 1 error over 10 + 1 words


def test_missing_speech_rows_give_full_wer(tmp_path):
    m = _of(_measures(tmp_path, _talk([]), [TALK_TRUTH]), TALK)
    assert m["wer"] == 1.0 and m["speakers_found"] == 0 and m["speakers_match"] == 0.0
    assert m["word_time_error_s"] is None and m["word_time_events_missed"] == 2


# --- speakers ---------------------------------------------------------------------------------------------


def test_two_speakers_match_and_a_missing_one_lowers_the_count(tmp_path):
    both = _of(_measures(tmp_path, _talk([_speech("talk", 1.0, 4.0, "hello there bob", "S01"),
                                          _speech("talk", 5.0, 9.0, "good morning", "S02")]), [TALK_TRUTH], "a"), TALK)
    assert (both["speakers_found"], both["speakers_truth"], both["speakers_match"]) == (2, 2, 1.0)
    one = _of(_measures(tmp_path, _talk([_speech("talk", 1.0, 4.0, "hello there bob", "S01"),
                                         _speech("talk", 5.0, 9.0, "good morning", "S01")]), [TALK_TRUTH], "b"), TALK)
    assert (one["speakers_found"], one["speakers_match"]) == (1, 0.0)


def test_speakers_are_read_from_words_when_the_row_has_none(tmp_path):
    row = _speech("talk", 1.0, 9.0, "hello there bob good morning", None)
    words = [Word(w.word, w.start_s, w.end_s, w.prob, "S01" if i < 3 else "S02") for i, w in enumerate(row.words)]
    m = _of(_measures(tmp_path, _talk([replace(row, words=words)]), [TALK_TRUTH]), TALK)
    assert m["speakers_found"] == 2 and m["speakers_match"] == 1.0


def test_recording_without_truth_speech_has_no_speech_measures(tmp_path):
    m = _of(_measures(tmp_path, {BEEPS: {"speech": [_speech("beeps", 2.0, 3.0, "woof", "S01")]}}, [BEEPS_TRUTH]), BEEPS)
    assert m["wer"] is None and m["speakers_match"] is None and m["word_time_error_s"] is None
    assert m["speakers_found"] == 1  # a false speaker still shows


# --- word timing ------------------------------------------------------------------------------------------


def test_word_time_error_is_the_median_of_start_and_end_errors(tmp_path):
    exact = _of(_measures(tmp_path, _talk([_speech("talk", 1.0, 4.0, "hello there bob", "S01"),
                                           _speech("talk", 5.0, 9.0, "good morning", "S02")]), [TALK_TRUTH], "a"), TALK)
    assert exact["word_time_error_s"] == pytest.approx(0.0)
    late = _measures(tmp_path, _talk([_speech("talk", 1.4, 4.4, "hello there bob", "S01"),
                                      _speech("talk", 5.0, 8.0, "good morning", "S02")]), [TALK_TRUTH], "b")
    # errors: 0.4, 0.4 (first event), 0.0, 1.0 (second) -> median 0.4
    assert _of(late, TALK)["word_time_error_s"] == pytest.approx(0.4)
    assert sorted(late["recordings"][0]["samples"]["word_time_error_s"]) == pytest.approx([0.0, 0.4, 0.4, 1.0])
    assert late["totals"]["word_time_error_s"] == pytest.approx(0.4)
    m = _of(late, TALK)
    assert m["word_start_error_s"] == pytest.approx(0.2) and m["word_end_error_s"] == pytest.approx(0.7)


# --- sound ------------------------------------------------------------------------------------------------


def _sound(rid: str, events: list[SoundEvent]) -> SoundRow:
    return SoundRow(rid, segment_id(rid, 0.0, 20.0), 0.0, 20.0, "yamnet", events=events)


def test_sound_label_recall_and_onset_error(tmp_path):
    events = [SoundEvent("Dog", 2.2, 2.9, 0.8),  # right label, 0.2 s late
              SoundEvent("Speech", 9.9, 11.0, 0.6, alternatives=[LabelScore("Music", 0.2)])]  # wrong class
    m = _of(_measures(tmp_path, {BEEPS: {"sound": [_sound("beeps", events)]}}, [BEEPS_TRUTH], "a"), BEEPS)
    assert m["sound_label_recall"] == 0.5 and m["sound_named"] == 1 and m["sound_truth_events"] == 2
    assert m["sound_onset_error_s"] == pytest.approx(0.2)
    # The right class among the alternatives (top 3 of the overlapping detections) counts.
    events[1] = SoundEvent("Speech", 10.05, 11.0, 0.6, alternatives=[LabelScore("Vehicle horn, car horn, honking", 0.3)])
    m = _of(_measures(tmp_path, {BEEPS: {"sound": [_sound("beeps", events)]}}, [BEEPS_TRUTH], "b"), BEEPS)
    assert m["sound_label_recall"] == 1.0 and m["sound_onset_error_s"] == pytest.approx(0.125)


def test_no_sound_rows_means_zero_recall(tmp_path):
    m = _of(_measures(tmp_path, {BEEPS: {}}, [BEEPS_TRUTH]), BEEPS)
    assert m["sound_label_recall"] == 0.0 and m["sound_onset_error_s"] is None


# --- music ------------------------------------------------------------------------------------------------


def _music(rid: str, start: float, end: float, tempo: float | None, instruments=(), tags=()) -> MusicRow:
    return MusicRow(rid, segment_id(rid, start, end), start, end, "music", tempo_bpm=tempo,
                    instruments=[LabelScore(i, 0.5) for i in instruments], tags=[LabelScore(t, 0.5) for t in tags])


def test_tempo_error_uses_the_most_overlapping_row_and_instruments_are_named(tmp_path):
    rows = [_music("tune", 0.0, 5.0, 60.0, ["Guitar"]), _music("tune", 5.0, 29.0, 121.0, ["Piano"])]
    m = _of(_measures(tmp_path, {TUNE: {"music": rows}}, [TUNE_TRUTH], "a"), TUNE)
    assert m["tempo_error_pct"] == pytest.approx(100 / 120) and m["tempo_bpm"] == 121.0
    assert m["instrument_named"] == 1.0
    rows = [_music("tune", 1.0, 29.0, 60.0, ["Guitar"], tags=["Jazz"])]
    m = _of(_measures(tmp_path, {TUNE: {"music": rows}}, [TUNE_TRUTH], "b"), TUNE)
    assert m["tempo_error_pct"] == pytest.approx(50.0) and m["tempo_error_octave_pct"] == pytest.approx(0.0)
    assert m["instrument_named"] == 0.0
    rows = [_music("tune", 1.0, 29.0, 119.0, tags=["Piano"])]  # named in the tags only
    assert _of(_measures(tmp_path, {TUNE: {"music": rows}}, [TUNE_TRUTH], "c"), TUNE)["instrument_named"] == 1.0


def test_music_event_without_a_row_is_missed(tmp_path):
    m = _of(_measures(tmp_path, {TUNE: {"music": [_music("tune", 29.5, 30.0, 120.0, ["Piano"])]}}, [TUNE_TRUTH]), TUNE)
    assert m["music_events_missed"] == 1 and m["tempo_error_pct"] is None and m["instrument_named"] == 0.0


# --- output -----------------------------------------------------------------------------------------------


def test_table_and_cli_json_show_the_annotation_measures(tmp_path):
    files = {TALK: {"speech": [_speech("talk", 1.0, 4.0, "hello there bob", "S01")]},
             TUNE: {"music": [_music("tune", 1.0, 29.0, 120.0, ["Piano"])]}}
    out = tmp_path / "out"
    truth = _write(out, files, [TALK_TRUTH, TUNE_TRUTH])
    console = Console(record=True, width=240)
    console.print(render_table(evaluate_output(out, truth)))
    text = console.export_text()
    assert "segmentation vs truth" in text and "annotations vs truth" in text
    assert "1/2 x" in text and "corpus" in text

    proc = cli("evaluate", str(out), "--truth", str(truth), "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["totals"]["wer"] == pytest.approx(7 / 10)  # "good morning to you all my friends" missing
    assert _of(res, TUNE)["tempo_error_pct"] == 0.0 and _of(res, TUNE)["instrument_named"] == 1.0


def test_alternatives_hedge_between_sources_before_synonyms():
    """The sound branch lists each further possible source before more synonyms of one already named, so a
    doubtful label ("Cat" for a bark) does not fill the top 3 with its own synonyms."""
    from annotators.sound.detect import one_name_per_source_first
    from annotators.sound.metrics import TruthEvent, names_truth

    ranked = [("Caterwaul", 0.8), ("Purr", 0.5), ("Growling", 0.3), ("Bark", 0.2)]
    reordered = one_name_per_source_first("Cat", ranked)
    assert [n for n, _ in reordered] == ["Growling", "Caterwaul", "Purr", "Bark"]
    bark = TruthEvent("dog_bark", 1.0, 2.0)
    as_listed = SoundEvent("Cat", 1.0, 2.0, 0.9, alternatives=[LabelScore(n, s) for n, s in ranked])
    hedged = SoundEvent("Cat", 1.0, 2.0, 0.9, alternatives=[LabelScore(n, s) for n, s in reordered])
    assert not names_truth(bark, [as_listed]) and names_truth(bark, [hedged])
