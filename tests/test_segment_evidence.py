"""Each evidence source alone, on real corpus audio: class profile, acoustic change/activity, overlap, speakers."""

from __future__ import annotations

import numpy as np
import pytest

from annotators.base import SpeakerTurn
from segmenters.acoustic import ActivityRule, AcousticParams, acoustic_evidence, band_activity
from segmenters.class_profile import COARSE_CLASSES, NUM_AUDIOSET, SILENCE_INDEX, check_class_names, class_profile, coarse_index, load_tagger
from segmenters.energy import runs
from segmenters.overlap import OverlapParams, filled_dips
from segmenters.speaker_change import _merged, change_points


@pytest.fixture(scope="module")
def tagger():
    return load_tagger()


def test_coarse_mapping_covers_every_class_once_but_silence():
    index = coarse_index()
    assert set(index) == set(COARSE_CLASSES)
    seen = np.concatenate(list(index.values()))
    assert len(seen) == len(set(seen.tolist())) == NUM_AUDIOSET - 1
    assert SILENCE_INDEX not in set(seen.tolist())


def test_class_map_check(tagger):
    check_class_names(list(tagger.class_names))
    with pytest.raises(ValueError, match="521"):
        check_class_names(["Speech"] * 10)
    wrong = list(tagger.class_names)
    wrong[132] = "Dog"
    with pytest.raises(ValueError, match="not YAMNet"):
        check_class_names(wrong)


def _mean_over(profile, name, spans):
    vals = [profile.coarse_of(name)[profile.window(s, e)].mean() for s, e in spans]
    return float(np.mean(vals))


def test_class_profile_separates_kinds(tagger, scene_audio, truth):
    piano = class_profile(scene_audio("s03_piano_120bpm"), 16000, tagger)
    assert piano.patch_s == pytest.approx(0.96)
    assert np.all(np.diff(piano.starts_s) == pytest.approx(0.48))
    assert _mean_over(piano, "music", [(4, 34)]) > 0.8
    assert _mean_over(piano, "speech", [(4, 34)]) < 0.1
    assert piano.silence[piano.window(0.0, 2.0)].mean() > 0.7  # the 3 s lead-in is silent

    sounds = class_profile(scene_audio("s05_sound_events"), 16000, tagger)
    events = {e["label"]: (e["start"], e["end"]) for e in truth["s05_sound_events"]["events"]}
    assert _mean_over(sounds, "animal", [events["cow"], events["rooster_crow"]]) > 0.5
    assert _mean_over(sounds, "object_sound", [events["phone_ring"], events["vacuum_cleaner"]]) > 0.5
    labels = [ls.label for ls in sounds.scores_for(*events["vacuum_cleaner"])]
    assert labels[: len(COARSE_CLASSES)] == list(COARSE_CLASSES) and "audioset:Vacuum cleaner" in labels


def test_acoustic_onsets_and_activity_find_isolated_events(scene_audio, truth):
    ev = acoustic_evidence(scene_audio("s05_sound_events"), 16000, AcousticParams())
    events = truth["s05_sound_events"]["events"]
    onsets_hit = sum(np.any(np.abs(ev.peaks_s - e["start"]) < 0.2) for e in events)
    assert onsets_hit >= 0.8 * len(events)
    active = band_activity(ev, ActivityRule())
    t = ev.times()
    inside = np.zeros(len(t), dtype=bool)
    for e in events:
        inside |= (t >= e["start"]) & (t <= e["end"])
    assert active[inside].mean() > 0.8  # events are heard (the bell's faint tail included)
    assert active[~inside].mean() < 0.1  # room noise is not


def test_filled_dips_find_phone_over_speech_not_plain_speech(scene_audio):
    x = scene_audio("s07_events_over_speech")
    ev = acoustic_evidence(x, 16000, AcousticParams())
    t = ev.times()
    speech = (t >= 1.0) & (t <= 30.9)
    filled = filled_dips(ev, speech, OverlapParams())
    phone = (t >= 7.2) & (t <= 9.8)
    assert filled[phone].mean() > 0.6
    plain = (t >= 20.0) & (t <= 30.0)  # the same voice with nothing over it
    assert filled[plain].mean() < 0.05
    assert not filled[~speech].any()


def test_speaker_change_points_and_speech_spans():
    turns = [SpeakerTurn(0.0, 5.0, "S01"), SpeakerTurn(5.2, 9.0, "S02"), SpeakerTurn(9.1, 9.4, "S01"),
             SpeakerTurn(12.0, 15.0, "S01")]
    # the 0.3 s blip is no turn; the 3 s gap before S01 returns is an offset/onset, not a change
    assert change_points(turns, min_turn_s=1.0, change_gap_s=0.5) == [pytest.approx(5.1)]
    assert _merged([(1.0, 2.0), (2.3, 3.0), (10.0, 11.0)], pad_s=0.25, duration_s=10.5) == [(0.75, 3.25), (9.75, 10.5)]


def test_runs_helper():
    assert runs(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]


def test_tagging_only_active_stretches_gives_the_same_patches(tagger, scene_audio):
    x = scene_audio("s05_sound_events")[: 16000 * 20]
    full = class_profile(x, 16000, tagger)
    part = class_profile(x, 16000, tagger, active=[(1.0, 3.2), (11.5, 17.6)])
    assert part.fine.shape == full.fine.shape
    np.testing.assert_allclose(part.starts_s, full.starts_s)
    touched = part.fine[:, SILENCE_INDEX] < 1.0
    assert 5 < touched.sum() < len(touched)
    np.testing.assert_allclose(part.fine[touched], full.fine[touched], atol=1e-6)
    idle = ~touched & (part.starts_s > 5.0) & (part.starts_s < 9.0)
    assert idle.any() and np.all(part.coarse[idle] == 0)  # never tagged: taken as silence
