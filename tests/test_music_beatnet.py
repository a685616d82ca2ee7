"""BeatNet in numpy/torch against BeatNet 1.1.3 + madmom themselves, and the tempo the music row states.

`tests/data/beatnet_reference.npz` holds what BeatNet's own offline mode (madmom features, its CRNN,
madmom's DBNDownBeatTrackingProcessor) gave for `tests/beat_signal.click_track()`: every 5th feature
frame, the activations and the beats. Those packages cannot be installed beside this project (madmom's
wheel does not import on Python 3.11 without a distribution named madmom); the reference was made once in
a separate environment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotators.music.bar_tracker import BarTrackerConfig, track
from annotators.music.beatnet import BeatNetRhythm
from annotators.music.beatnet_features import features
from annotators.music.rhythm import Rhythm
from annotators.music.tempo_agreement import AgreementConfig, combine
from tests.beat_signal import click_track

REFERENCE = np.load(Path(__file__).with_name("data") / "beatnet_reference.npz")
AGREE = AgreementConfig()


def _weights_or_skip():
    from annotators.music.beatnet_model import resolve_weights

    try:
        return resolve_weights("1")
    except FileNotFoundError as e:
        pytest.skip(str(e))


def test_features_equal_madmoms():
    ours = features(click_track())
    ref = REFERENCE["feats"]
    assert ours.shape[1] == 272 and len(ours[::5]) == len(ref)
    assert np.abs(ours[::5] - ref).max() < 1e-5


def test_bar_tracker_places_madmoms_beats():
    # BeatNet decodes with beats_per_bar (2, 3, 4)
    got = track(REFERENCE["acts"], BarTrackerConfig(beats_per_bar=(2, 3, 4)))
    ref = REFERENCE["beats"]
    assert len(got.beats_s) == len(ref)
    assert np.allclose(got.beats_s, ref[:, 0]) and np.array_equal(got.beat_numbers, ref[:, 1].astype(int))


def test_network_gives_beatnets_activations():
    _weights_or_skip()
    from annotators.music.beatnet_model import BeatActivations

    net = BeatActivations("1")
    y = click_track()
    first = net(features(y))
    assert np.abs(first - REFERENCE["acts"]).max() < 1e-4
    assert np.array_equal(net(features(y)), first)  # no state carried from one call to the next


def test_missing_weights_are_a_config_error(tmp_path, monkeypatch):
    from annotators.music.annotator import MusicParams

    monkeypatch.setenv("MOSS_BEATNET_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="fetch_models.py"):
        MusicParams(beat_tracker="agreement")
    assert MusicParams(beat_tracker="onset").beat_tracker == "onset"


def _net(bpm, confidence=0.8):
    return BeatNetRhythm(bpm, confidence, [0.0, 0.5, 1.0], [0.0], "4/4")


def test_a_tempo_is_stated_where_the_trackers_agree_or_beatnet_alone_is_sure():
    onset = Rhythm(120.3, 0.6, [0.01, 0.51], "3/4", method="onset")
    agreed = combine(onset, _net(120.0), AGREE)
    assert (agreed.tempo_bpm, agreed.method, agreed.meter, agreed.downbeats_s) == (120.0, "agreed", "4/4", [0.0])
    assert combine(onset, _net(90.0), AGREE).tempo_bpm is None  # they disagree: unknown
    unknown = Rhythm(None, 0.1, [], None)
    assert combine(unknown, _net(100.0), AGREE).method == "beatnet"
    assert combine(unknown, _net(100.0, confidence=0.3), AGREE).tempo_bpm is None
    assert combine(onset, None, AGREE).method == "onset"  # too short for BeatNet


def test_tempo_under_speech_where_the_tempogram_has_none(scene_audio, truth):
    """The s03 piano (120 BPM) under s07's speech 6 dB louder: the onset tempogram gives up, BeatNet does not."""
    _weights_or_skip()
    from annotators.base import SegmentAudio
    from annotators.music.annotator import MusicAnnotator, MusicParams

    piano = scene_audio("s03_piano_120bpm")[3 * 16000: 28 * 16000]
    speech = scene_audio("s07_events_over_speech")[1 * 16000: 26 * 16000]

    def rms(a):
        return float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))

    mix = (piano + speech * (rms(piano) / rms(speech)) * 10 ** (6 / 20)).astype(np.float32)
    mix /= max(1.0, float(np.abs(mix).max()))
    seg = SegmentAudio("mix", "mix:0", 0.0, len(mix) / 16000, mix)
    onset_only = MusicAnnotator(MusicParams(beat_tracker="onset")).annotate([seg])[0]
    both = MusicAnnotator(MusicParams()).annotate([seg])[0]
    assert onset_only.tempo_bpm is None
    assert both.tempo_method == "beatnet" and abs(both.tempo_bpm - 120.0) <= 0.04 * 120.0
