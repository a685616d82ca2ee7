"""Fast checks of the ASR stage's pieces on synthetic signals: no model is loaded here."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from annotators.base import SegmentAudio, SpeakerTurn
from annotators.speech.asr_types import AsrResult, AsrSentence, AsrWord
from annotators.speech.chunking import ChunkRule, chunk_bounds
from annotators.speech.guards import GuardConfig, check, loud_level_dbfs, most_repeated_ngram
from annotators.speech.paralinguistics import ParalinguisticParams, count_syllables, describe, measure
from annotators.speech.row_builder import build_row, timestamped_text
from annotators.speech.speakers import dominant_speaker, speaker_at
from schemas.common import LabelScore
from schemas.speech import SPEECH

SR = 16000
RNG = np.random.default_rng(0)


def _words(spec: list[tuple[str, float, float, float]]) -> tuple[AsrWord, ...]:
    return tuple(AsrWord(w, s, e, p) for w, s, e, p in spec)


def _result(text: str, words=(), nsp=0.01, lp=-0.2, cr=1.2) -> AsrResult:
    sentence = AsrSentence(text, words[0].start_s if words else 0.0, words[-1].end_s if words else 0.0, words)
    return AsrResult(text, "en", 0.99, (sentence,) if text else (), lp, nsp, cr)


def test_chunks_cut_at_the_quiet_gap_and_stay_under_the_window():
    # 70 s of noise with near-silent gaps at 27 s and 55 s: the cuts land in the gaps.
    audio = RNG.normal(0, 0.1, 70 * SR).astype(np.float32)
    for gap in (27.0, 55.0):
        audio[int(gap * SR) : int((gap + 0.3) * SR)] *= 0.001
    bounds = chunk_bounds(audio, SR, ChunkRule())
    assert bounds[0][0] == 0 and bounds[-1][1] == len(audio)
    assert all(b[1] == nxt[0] for b, nxt in zip(bounds, bounds[1:]))
    assert all((hi - lo) <= 30 * SR for lo, hi in bounds)
    cuts = [hi / SR for _, hi in bounds[:-1]]
    assert len(cuts) == 2 and 27.0 <= cuts[0] <= 27.3 and 55.0 <= cuts[1] <= 55.3


def test_short_audio_is_one_chunk():
    assert chunk_bounds(np.zeros(SR * 5, np.float32), SR) == [(0, SR * 5)]
    assert chunk_bounds(np.zeros(0, np.float32), SR) == [(0, 0)]


def test_repeated_ngram_and_compression_are_flagged_not_dropped_by_default():
    text = "thank you so much " * 8
    gram, count = most_repeated_ngram(text, 3)
    assert count >= 7 and gram in {"thank you so", "you so much", "so much thank", "much thank you"}
    verdict = check(_result(text, cr=3.1), (), GuardConfig())
    assert not verdict.drop
    assert any(f.startswith("repeated_ngram") for f in verdict.flags)
    assert any(f.startswith("compression_ratio(3.10") for f in verdict.flags)
    assert check(_result(text, cr=3.1), (), GuardConfig(drop_repetitions=True)).drop


def test_no_speech_and_non_speech_class_drop_text_with_a_reason():
    words = _words([("hello", 0.2, 0.5, 0.9), ("there", 0.5, 0.9, 0.9)])
    silent = check(_result("hello there", words, nsp=0.9, lp=-1.5), (), GuardConfig())
    assert silent.drop and any(f.startswith("no_speech(p=0.90") for f in silent.flags)
    music = check(_result("hello there", words), [LabelScore("speech", 0.03), LabelScore("music", 0.9)], GuardConfig())
    assert music.drop and any("speech_score=0.03" in f for f in music.flags)
    clean = check(_result("hello there", words), [LabelScore("speech", 0.95)], GuardConfig(), level_dbfs=-25.0)
    assert not clean.drop and clean.flags == ()


def test_word_anomaly_and_silence_level():
    # Whisper's typical hallucination on silence: one stretched unlikely word, then zero-length words.
    words = _words([("Thank", 0.0, 2.04, 0.05), ("you.", 2.04, 2.04, 0.97)])
    verdict = check(_result("Thank you.", words, nsp=0.8, lp=-0.9), (), GuardConfig())
    assert verdict.drop and any(f.startswith("anomalous_words") for f in verdict.flags)
    quiet = RNG.normal(0, 10 ** (-65 / 20), SR).astype(np.float32)
    assert loud_level_dbfs(quiet, SR) < -60
    fine_words = _words([("Thank", 0.1, 0.4, 0.9), ("you.", 0.4, 0.7, 0.97)])
    assert check(_result("Thank you.", fine_words), (), GuardConfig(), level_dbfs=loud_level_dbfs(quiet, SR)).drop


def test_speaker_per_word_by_overlap_and_dominant_speaker():
    turns = [SpeakerTurn(10.0, 12.0, "S01"), SpeakerTurn(12.0, 15.0, "S02")]
    assert speaker_at(10.5, 10.9, turns, 0.5) == "S01"
    assert speaker_at(11.8, 12.6, turns, 0.5) == "S02"  # more of the word is in S02's turn
    assert speaker_at(15.2, 15.4, turns, 0.5) == "S02"  # just outside: the nearest turn
    assert speaker_at(20.0, 20.5, turns, 0.5) is None
    assert dominant_speaker([(10, 11, "S01"), (12, 14.5, "S02"), (14.5, 14.6, None)]) == "S02"


def test_row_in_recording_time_with_moss_timestamps_and_speakers():
    words = _words([("Hi", 0.1, 0.4, 0.9), ("there.", 0.4, 0.9, 0.9), ("Bye", 1.5, 1.8, 0.8), ("now.", 1.8, 2.2, 0.9)])
    res = AsrResult("Hi there. Bye now.", "en", 0.98,
                    (AsrSentence("Hi there.", 0.1, 0.9, words[:2]), AsrSentence("Bye now.", 1.5, 2.2, words[2:])),
                    -0.2, 0.01, 1.1)
    audio = (0.05 * np.sin(2 * np.pi * 150 * np.arange(int(2.5 * SR)) / SR)).astype(np.float32)
    seg = SegmentAudio("rec", "rec:1", 100.0, 102.5, audio,
                       speaker_turns=[SpeakerTurn(99.0, 101.2, "S02"), SpeakerTurn(101.2, 103.0, "S01")])
    from annotators.speech.asr import WhisperParams

    row = build_row(seg, audio, SR, res, check(res, (), GuardConfig()), WhisperParams(), "m", "v")
    assert row.timestamped_text == "[100.10]Hi there.[100.90][101.50]Bye now.[102.20]"
    assert [w.start_s for w in row.words] == pytest.approx([100.1, 100.4, 101.5, 101.8])
    assert [w.speaker for w in row.words] == ["S02", "S02", "S01", "S01"]
    assert row.speakers == ["S02", "S01"] and row.speaker == "S02"  # S02 has 0.8 s of words, S01 0.7 s
    table = pa.Table.from_pylist([dataclasses.asdict(row)], schema=SPEECH)
    assert table.num_rows == 1 and table.column("caption")[0]["age"].as_py() is None


def test_timestamped_text_clips_to_segment():
    seg = SegmentAudio("r", "r:1", 5.0, 7.0, np.zeros(2 * SR, np.float32))
    assert timestamped_text([AsrSentence("a", -0.5, 2.5)], seg) == "[5.00]a[7.00]"


def test_paralinguistics_on_a_synthetic_voice():
    # A 120 Hz harmonic "voice" at a known level in faint noise, with word times 4 words/s.
    t = np.arange(4 * SR) / SR
    voice = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 6))
    voice = voice / np.sqrt(np.mean(voice**2)) * 10 ** (-12 / 20)
    audio = (voice + RNG.normal(0, 10 ** (-60 / 20), len(t))).astype(np.float32)
    audio[: SR // 2] = RNG.normal(0, 10 ** (-60 / 20), SR // 2)  # a silent lead-in gives the noise floor
    words = [(0.5 + 0.25 * i, 0.5 + 0.25 * i + 0.2, "banana") for i in range(14)]
    p = ParalinguisticParams()
    m = measure(audio, SR, words, p)
    assert m.pitch_mean_hz == pytest.approx(120, rel=0.05)
    assert m.volume_dbfs == pytest.approx(-12, abs=1.0)
    assert m.snr_db > 30
    assert m.speaking_rate_wps == pytest.approx(14 / 3.45, rel=0.01)
    assert m.speaking_rate_sps == pytest.approx(3 * 14 / 3.45, rel=0.01)
    assert m.pause_ratio == 0.0  # 50 ms gaps are no pauses
    cap = describe(m, p)
    assert (cap.gender, cap.volume, cap.clarity, cap.speed) == ("male", "loud", "clear", "fast")
    assert cap.age is None and cap.emotion is None and cap.accent is None and cap.personality is None


def test_ambiguous_pitch_gives_no_gender_and_no_words_no_rate():
    p = ParalinguisticParams()
    t = np.arange(2 * SR) / SR
    audio = (0.1 * np.sin(2 * np.pi * 160 * t)).astype(np.float32)
    m = measure(audio, SR, [], p)
    assert m.pitch_mean_hz == pytest.approx(160, rel=0.05)
    assert m.speaking_rate_wps is None and m.pause_ratio is None
    cap = describe(m, p)
    assert cap.gender is None and cap.speed is None and cap.fluency is None and cap.pitch is not None


def test_syllables():
    assert [count_syllables(w) for w in ("cat", "banana", "The", "queue", "42", "今日は")] == [1, 3, 1, 1, 0, 3]


def test_params_are_validated_with_names():
    from annotators.registry import ANNOTATORS

    cls = ANNOTATORS.get("whisper")
    assert cls.branch == "speech"
    assert cls.Params.model_validate({"model": "pkg:whisper-tiny.en", "beam_size": 5}).beam_size == 5
    with pytest.raises(ValidationError, match="beam_sise"):
        cls.Params.model_validate({"beam_sise": 5})
    with pytest.raises(ValidationError):
        cls.Params.model_validate({"paralinguistics": {"fmin": 50}})
