"""Pure pieces of the sound branch on small synthetic inputs: hysteresis, folding, metrics, captions."""

from __future__ import annotations

import numpy as np

from annotators.sound.caption import sound_caption
from annotators.sound.detect import DetectConfig, class_spans, event_label, fold_spans
from annotators.sound.metrics import TruthEvent, ranked_labels, score_sound
from annotators.sound.refine import RefineConfig, band_spectrum, count_bursts, refine_span
from schemas.common import LabelScore
from schemas.sound import SoundEvent

NAMES = ["Animal", "Dog", "Bark", "Telephone", "Alarm", "Rain", "Speech"]


def _scores(rows: dict[str, list[float]], t: int) -> np.ndarray:
    out = np.zeros((t, len(NAMES)), dtype=np.float32)
    for name, track in rows.items():
        out[: len(track), NAMES.index(name)] = track
    return out


def test_hysteresis_needs_onset_and_extends_to_offset():
    scores = _scores({"Rain": [0.0, 0.2, 0.35, 0.2, 0.16, 0.05, 0.2, 0.0]}, 8)
    spans = class_spans(scores, [NAMES.index("Rain")], DetectConfig(onset_threshold=0.3, offset_threshold=0.15))
    assert [(s.first, s.last) for s in spans] == [(1, 4)]  # 6 never reaches the onset threshold
    assert class_spans(scores, [], DetectConfig()) == []


def test_gap_merge_and_folding_of_one_source():
    scores = _scores({
        "Animal": [0.9, 0.9, 0.9, 0.0, 0.0, 0.0],
        "Dog": [0.5, 0.7, 0.0, 0.6, 0.0, 0.0],  # one-frame gap: still one Dog span
        "Bark": [0.0, 0.32, 0.32, 0.0, 0.0, 0.0],
        "Telephone": [0.0, 0.0, 0.0, 0.0, 0.9, 0.9],
    }, 6)
    cfg = DetectConfig()
    candidates = [NAMES.index(n) for n in ("Animal", "Dog", "Bark", "Telephone")]
    events = fold_spans(class_spans(scores, candidates, cfg), NAMES, cfg)
    assert len(events) == 2
    label, score = event_label(events[0], NAMES)
    assert label == "Dog" and score == np.float32(0.7)  # the specific class, not the broad parent
    assert (events[0].first, events[0].last) == (0, 3)
    assert event_label(events[1], NAMES)[0] == "Telephone"


def test_at_equal_peaks_the_class_that_lasts_names_the_event():
    # the int8 tagger ties often: a two-patch flash at the event's edge must not outvote the class over all of it
    scores = _scores({
        "Telephone": [0.0, 0.95, 0.7, 0.7, 0.7, 0.7, 0.7, 0.0],
        "Dog": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.95, 0.95],
    }, 8)
    cfg = DetectConfig(fold_overlap=0.0)
    candidates = [NAMES.index(n) for n in ("Dog", "Telephone")]
    events = fold_spans(class_spans(scores, candidates, cfg), NAMES, cfg)
    assert len(events) == 1 and event_label(events[0], NAMES) == ("Telephone", np.float32(0.95))


def test_refine_finds_onset_of_a_tone_in_noise():
    sr = 16000
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(sr * 4) * 0.002).astype(np.float32)
    t = np.arange(int(0.6 * sr)) / sr
    onset = 1.73
    x[int(onset * sr): int(onset * sr) + t.size] += 0.1 * np.sin(2 * np.pi * 1500 * t).astype(np.float32)
    spec = band_spectrum(x, RefineConfig())
    start, end, env = refine_span(spec, 1.44, 2.88, 0.0, 4.0, RefineConfig())  # coarse 0.96 s patch grid
    assert abs(start - onset) < 0.03 and abs(end - (onset + 0.6)) < 0.05
    assert count_bursts(env, start, end, RefineConfig()) == 1


def test_bursts_count_repetitions():
    sr = 16000
    x = np.zeros(sr * 3, dtype=np.float32) + 1e-4
    t = np.arange(int(0.3 * sr)) / sr
    for at in (0.5, 1.3):
        x[int(at * sr): int(at * sr) + t.size] += 0.1 * np.sin(2 * np.pi * 800 * t).astype(np.float32)
    spec = band_spectrum(x, RefineConfig())
    start, end, env = refine_span(spec, 0.3, 1.9, 0.0, 3.0, RefineConfig())
    assert count_bursts(env, start, end, RefineConfig()) == 2


def _ev(label, start, end, score, alts=()):
    return SoundEvent(label, start, end, score, alternatives=[LabelScore(a, s) for a, s in alts])


def test_metrics_label_recall_and_onsets():
    truth = [TruthEvent("dog_bark", 1.0, 2.0), TruthEvent("phone_ring", 3.0, 4.0), TruthEvent("cow", 6.0, 7.0)]
    detected = [
        _ev("Animal", 1.1, 1.9, 0.9, [("Dog", 0.5)]),
        _ev("Alarm", 3.2, 4.0, 0.8, [("Telephone", 0.7)]),
        _ev("Rain", 8.0, 9.0, 0.5),
    ]
    s = score_sound(truth, detected)
    assert s.label_recall == 2 / 3 and s.n_matched == 2
    assert abs(s.median_onset_error_s - 0.15) < 1e-9
    assert s.false_alarm_rate == 1 / 3
    assert ranked_labels(detected[:2]) == ["Animal", "Alarm", "Dog", "Telephone"]


def test_caption_is_time_ordered_and_counts_repeats():
    events = [
        SoundEvent("Telephone bell ringing", 7.2, 9.9, 0.9, count=2),
        SoundEvent("Dog", 4.77, 5.7, 0.7),
        SoundEvent("Roaring cats (lions, tigers)", 12.0, 13.0, 0.4),
        SoundEvent("Applause", 20.0, 23.0, 0.5, count=3),
    ]
    cap = sound_caption(events + [SoundEvent("Dog", 30.0, 31.0, 0.06)])
    assert cap == ("a dog barks, 4.8-5.7 s; a phone rings twice, 7.2-9.9 s; a roaring cats sound, 12.0-13.0 s; "
                   "applause, 20.0-23.0 s; a sound (possibly dog), 30.0-31.0 s")
    assert sound_caption([]) == ""


def test_masked_spans_find_a_rise_under_speech_only():
    from annotators.sound.masked import MaskedConfig, masked_spans

    t = 12
    scores = _scores({"Speech": [0.99] * 8 + [0.0] * 4, "Dog": [1e-6] * t, "Rain": [1e-6] * t}, t)
    scores[3:5, NAMES.index("Dog")] = 0.03  # logit -3.5: far above its own level, far below 0.3
    scores[9:11, NAMES.index("Rain")] = 0.03  # the same rise outside speech: left to the normal path
    cfg = MaskedConfig(enabled=True)
    spans = masked_spans(scores, [NAMES.index("Dog"), NAMES.index("Rain")], [NAMES.index("Speech")], cfg)
    assert [(NAMES[s.cls], s.first, s.last, s.weak) for s in spans] == [("Dog", 3, 4, True)]
    assert masked_spans(scores, [NAMES.index("Dog")], [NAMES.index("Speech")], MaskedConfig()) == []
