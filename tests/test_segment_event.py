"""The composite event segmenter on real corpus scenes: boundaries at event changes, routing, length rules."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.event import EventParams, EventSegmenter
from segmenters.metrics import score_segmentation, spans_of
from segmenters.registry import SEGMENTERS

SCENES = ("s03_piano_120bpm", "s05_sound_events", "s07_events_over_speech", "s16_podcast_long")
BOUNDARY_F1_MIN = 0.80
ROUTING_F1_MIN = 0.85


@pytest.fixture(scope="module")
def no_diarization():
    seg = EventSegmenter(EventParams(diarize=False))
    seg.setup()
    return seg


@pytest.fixture(scope="module")
def segmented(no_diarization, scene_audio):
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = no_diarization.segment(scene_audio(name), 16000)
        return cache[name]

    return get


def test_registered_and_params_checked():
    assert SEGMENTERS.get("event") is EventSegmenter
    with pytest.raises(ValueError):
        EventParams(min_s=-1)
    with pytest.raises(ValueError):
        EventParams(unknown=1)
    assert EventParams(fusion={"speech_gap_s": 0.3}).fusion.speech_gap_s == 0.3


def test_isolated_sounds(segmented, truth):
    out = segmented("s05_sound_events")
    assert all(s.branches == ("sound",) for s in out.segments)
    assert all("sound_onset" in s.start_reason and "sound_offset" in s.end_reason for s in out.segments)
    events = truth["s05_sound_events"]["events"]
    starts = np.array([s.start_s for s in out.segments])
    found = sum(np.min(np.abs(starts - e["start"])) < 0.5 for e in events)
    assert found >= len(events) - 2
    # 1.5-2 s of room noise between events: reported as silences, never segments
    assert len(out.silences) >= 12
    for sil in out.silences:
        assert not any(s.start_s < sil.end_s and sil.start_s < s.end_s for s in out.segments)


def test_music_with_silence_around(segmented):
    out = segmented("s03_piano_120bpm")
    assert all(s.branches == ("music",) for s in out.segments)
    assert out.segments[0].start_s == pytest.approx(3.0, abs=0.3)
    assert out.segments[-1].end_s == pytest.approx(35.11, abs=0.5)
    assert out.segments[0].start_reason == "music_start"
    # the 32 s piece is longer than max_s: split at its quietest point, not blind at 30 s
    assert len(out.segments) == 2 and out.segments[0].end_reason == "quiet_point"
    assert all(s.end_s - s.start_s <= 30.0 for s in out.segments)
    assert out.silences[0].start_s == pytest.approx(0.0) and out.silences[-1].end_s > 39.5
    music = {ls.label: ls.score for ls in out.segments[0].class_scores}
    assert music["music"] > 0.8 and music["speech"] < 0.1


def test_sound_over_speech_routes_to_both(segmented, truth):
    out = segmented("s07_events_over_speech")
    phone = [s for s in out.segments if s.start_s < 8.0 and s.end_s > 8.0]
    assert len(phone) == 1 and set(phone[0].branches) == {"speech", "sound"}
    assert abs(phone[0].start_s - 7.0) < 0.5 and "sound_onset" in phone[0].start_reason
    plain = [s for s in out.segments if s.start_s < 25.0 < s.end_s]
    assert plain[0].branches == ("speech",)
    tail = out.segments[-1]  # applause outlasting the last sentence
    assert tail.branches == ("sound",) and tail.end_s == pytest.approx(53.278, abs=0.5)


def test_length_rules(segmented):
    p = EventParams()
    for name in SCENES:
        segs = segmented(name).segments
        for i, s in enumerate(segs):
            assert s.end_s - s.start_s <= p.max_s + 1e-6
            assert s.start_reason and s.end_reason
            if i:
                assert s.start_s >= segs[i - 1].end_s - 1e-6  # ordered, no overlap
            if s.end_s - s.start_s < p.min_s:  # short pieces only where no neighbour is close
                gaps = [s.start_s - segs[i - 1].end_s if i else np.inf, segs[i + 1].start_s - s.end_s if i + 1 < len(segs) else np.inf]
                assert min(gaps) > p.merge_gap_s


def test_short_max_splits_speech_at_pauses(no_diarization, scene_audio):
    seg = EventSegmenter(EventParams(diarize=False, max_s=8.0))
    seg._tagger, seg._ready = no_diarization._tagger, True
    out = seg.segment(scene_audio("s07_events_over_speech"), 16000)
    assert all(s.end_s - s.start_s <= 8.0 + 1e-6 for s in out.segments)
    assert any(s.start_reason == "pause" for s in out.segments)


@pytest.mark.slow
def test_corpus_scores_meet_the_targets(segmented, truth):
    boundary, routing = [], {"speech": [], "music": [], "sound": []}
    for name in SCENES:
        scores = score_segmentation(spans_of(segmented(name)), truth[name])
        boundary.append(scores["boundary_f1@0.5"].f1)
        for kind, f in scores["routing_f1"].items():
            if f is not None:
                routing[kind].append(f.f1)
    assert np.mean(boundary) >= BOUNDARY_F1_MIN, boundary
    for kind, values in routing.items():
        assert np.mean(values) >= ROUTING_F1_MIN, (kind, values)


@pytest.mark.slow
def test_diarization_fills_speaker_turns(scene_audio):
    seg = EventSegmenter(EventParams(diarize=True))
    seg.setup()
    out = seg.segment(scene_audio("s16_podcast_long"), 16000)
    speakers = {t.speaker for t in out.speaker_turns}
    assert speakers == {"S01", "S02", "S03"}
    # no turn in the jingle or the interlude: only speech regions are diarized
    assert not any(t.start_s < 12.0 or 70.0 < t.start_s < 87.0 for t in out.speaker_turns)
    assert sum(s.branches == ("music",) for s in out.segments) >= 2


@pytest.mark.parametrize("n", [0, 1, 800, 16000 * 5])
def test_empty_short_and_silent_inputs(no_diarization, n):
    out = no_diarization.segment(np.zeros(n, dtype=np.float32), 16000)
    assert out.segments == []
    for sil in out.silences:  # digital silence of 5 s: one silence, inside the recording
        assert 0.0 <= sil.start_s < sil.end_s <= n / 16000 + 1e-9


def test_other_sample_rates_keep_recording_time(no_diarization, corpus_dir):
    import soundfile as sf

    x, sr = sf.read(str(corpus_dir / "bad_inputs" / "hires_48k_24bit.wav"), dtype="float32", always_2d=True)
    out = no_diarization.segment(x.mean(axis=1), sr)  # 48 kHz in, times in seconds out
    kinds = [(s.branches, round(s.start_s, 1)) for s in out.segments]
    assert [k for k, _ in kinds] == [("speech",), ("music",), ("sound",)], kinds
    assert abs(out.segments[1].start_s - 3.87) < 0.5 and abs(out.segments[2].start_s - 8.17) < 0.5


def _looped(clip: np.ndarray, n: int, fade: int = 800) -> np.ndarray:
    ramp = np.ones(len(clip), dtype=np.float32)
    ramp[:fade], ramp[-fade:] = np.linspace(0, 1, fade), np.linspace(1, 0, fade)
    out = np.zeros(n + len(clip), dtype=np.float32)
    for s in range(0, n, len(clip) - fade):
        out[s : s + len(clip)] += clip * ramp
    return out[:n]


def test_background_bed_under_speech(no_diarization, scene_audio, truth):
    """A helicopter bed (looped from s05) under the whole of s07, 10 dB below the speech: every stretch
    routes to sound too, and the phone ringing over both still cuts."""
    from segmenters.metrics import complete_truth

    x = scene_audio("s07_events_over_speech").copy()
    heli = scene_audio("s05_sound_events")[int(62.4 * 16000) : int(64.7 * 16000)]
    bed = _looped(heli, len(x))
    speech = x[16000 : 16000 * 30]
    bed *= np.sqrt(np.mean(speech**2)) * 10 ** (-10 / 20) / np.sqrt(np.mean(bed**2))
    t = truth["s07_events_over_speech"]
    events = t["events"] + [{"start": 0.0, "end": t["duration"], "kind": "sound", "label": "helicopter"}]
    bed_truth = complete_truth({"events": events, "duration": t["duration"]})
    out = no_diarization.segment(x + bed, 16000)
    scores = score_segmentation(spans_of(out), bed_truth)
    assert scores["routing_f1"]["sound"].f1 > 0.9
    assert scores["routing_f1"]["speech"].f1 > 0.95
    # the ring still gets its own segment (its onset is found less precisely through the bed)
    assert any(abs(s.start_s - 7.0) < 0.75 and "sound_onset" in s.start_reason for s in out.segments)
