"""Window packing on real corpus speech with the packaged Whisper base: joins, non-speech, engines, sources."""

from __future__ import annotations

import numpy as np
import pytest

from annotators.base import SegmentAudio
from pipeline.wer import normalize_text, wer
from schemas.common import LabelScore

SR = 16000
SPEECH = (LabelScore("speech", 0.97), LabelScore("speech_activity", 1.0))
# s16: four sentences of one reader, with ~0.7 s pauses between them (truth events 23.59 - 43.30).
STRETCH = (23.59, 43.30)


def _seg(rec: str, samples: np.ndarray, start: float, end: float, scores=SPEECH) -> SegmentAudio:
    a, b = int(start * SR), int(end * SR)
    return SegmentAudio(rec, f"{rec}:{start:.3f}", start, end, samples[a:b], SR, scores,
                        context_before=samples[max(0, a - SR // 2) : a], context_after=samples[b : b + SR // 2])


def _annotator(**params):
    from annotators.registry import ANNOTATORS

    cls = ANNOTATORS.get("whisper")
    ann = cls(cls.Params.model_validate({"model": "pkg:whisper-base", **params}), "cpu")
    ann.setup()
    return ann


@pytest.fixture(scope="module")
def ct2():
    return _annotator()


@pytest.fixture(scope="module")
def s16(scene_audio):
    return scene_audio("s16_podcast_long")


@pytest.fixture(scope="module")
def reference(ct2, s16):
    """The stretch as one segment: its words and their times are what the packed joins must give back."""
    (row,) = ct2.annotate([_seg("s16", s16, *STRETCH)])
    assert len(row.words) > 40
    return row


def _near_word_edge_cut(words, lo: float, hi: float) -> float:
    """30 ms after the end of a word inside (lo, hi) whose next word starts at least 60 ms later."""
    for a, b in zip(words, words[1:]):
        if lo < a.end_s and b.start_s < hi and b.start_s - a.end_s >= 0.06:
            return round(a.end_s + 0.03, 3)
    pytest.skip("no inter-word gap of 60 ms in the sentence")


def _words_between(row, lo: float, hi: float) -> list[str]:
    return [w for word in row.words if lo <= (word.start_s + word.end_s) / 2 < hi for w in normalize_text(word.word)]


@pytest.mark.slow
def test_joins_mid_pause_and_near_word_edges_keep_every_word_in_its_segment(ct2, s16, reference):
    sentence_3 = (34.37, 39.92)
    edge = _near_word_edge_cut(reference.words, *sentence_3)
    # Join 1: a pause cut out (30.10 -> 30.80, one pad in the window). Join 2: mid-pause, contiguous.
    # Join 3: contiguous, 30 ms after a word inside a sentence.
    spans = [(23.59, 30.10), (30.80, 34.02), (34.02, edge), (edge, 43.30)]
    rows = ct2.annotate([_seg("s16", s16, a, b) for a, b in spans])
    for (a, b), row in zip(spans, rows):
        assert all(a <= w.start_s <= w.end_s <= b for w in row.words), (a, b, row.words)
        expected = _words_between(reference, a, b)
        got = [w for word in row.words for w in normalize_text(word.word)]
        assert wer(" ".join(expected), " ".join(got)) <= 0.1, (a, b, expected, got)
    # At each join: the last word before it and the first after it are the reference's, on the right side.
    for (a, b), row in zip(spans, rows):
        expected = _words_between(reference, a, b)
        got = [w for word in row.words for w in normalize_text(word.word)]
        assert got[0] == expected[0] and got[-1] == expected[-1], (a, b, expected, got)
    everything = [w for row in rows for word in row.words for w in normalize_text(word.word)]
    assert len(everything) == len(_words_between(reference, *STRETCH))  # none lost, none twice


@pytest.mark.slow
def test_text_heard_over_music_in_a_shared_window_is_dropped(ct2, s16, scene_audio):
    piano = scene_audio("s03_piano_120bpm")[16 * SR : 26 * SR]
    speech = s16[int(23.59 * SR) : int(30.10 * SR)]
    recording = np.concatenate([speech, np.zeros(SR // 2, np.float32), piano]).astype(np.float32)
    music_scores = (LabelScore("speech", 0.02), LabelScore("music", 0.95), LabelScore("speech_activity", 0.0))
    speech_row, music_row = ct2.annotate([_seg("mix", recording, 0.0, 6.51),
                                          _seg("mix", recording, 7.01, 17.0, music_scores)])
    assert music_row.text == "" and music_row.words == []
    assert wer("And Mr John Dashwood had then leisure to consider how much there might be prudently in his power "
               "to do for them", speech_row.text) <= 0.15, speech_row.text


@pytest.mark.slow
def test_both_engines_give_the_same_words_from_the_same_packaged_weights(s16, reference):
    openai = _annotator(engine="openai-whisper")
    (row,) = openai.annotate([_seg("s16", s16, *STRETCH)])
    assert wer(reference.text, row.text) <= 0.1, (reference.text, row.text)
    import difflib

    a, b = [w.word for w in reference.words], [w.word for w in row.words]
    pairs = [(reference.words[m.a + k], row.words[m.b + k]) for m in difflib.SequenceMatcher(None, a, b).get_matching_blocks() for k in range(m.size)]
    assert len(pairs) >= 0.9 * len(a)
    assert np.mean([abs(x.start_s - y.start_s) <= 0.2 for x, y in pairs]) >= 0.9
    assert "ctranslate2" in reference.model_version and "int8" in reference.model_version
    assert "ctranslate2" not in (row.model_version or "")


@pytest.mark.slow
def test_an_openai_checkpoint_is_converted_for_ctranslate2(tmp_path, monkeypatch, s16):
    """A local .pt (written here from the packaged tiny.en) loads in the CTranslate2 engine and transcribes."""
    import dataclasses

    import torch

    from annotators.speech import ct2_sources
    from annotators.speech.ct2_format import parse_ct2
    from annotators.speech.whisper_loader import load_whisper

    model = load_whisper("pkg:whisper-tiny.en")
    checkpoint = tmp_path / "tiny-en-test.pt"
    torch.save({"dims": dataclasses.asdict(model.dims), "model_state_dict": model.state_dict()}, checkpoint)
    monkeypatch.setattr(ct2_sources, "CACHE_DIR", tmp_path / "cache")
    folder = ct2_sources.converted_checkpoint(checkpoint)
    original = parse_ct2(ct2_sources.packaged_files("whisper-tiny.en")["model.bin"]).variables
    converted = parse_ct2((folder / "model.bin").read_bytes()).variables
    assert set(converted) == set(original)
    for name in ("encoder/layer_0/self_attention/linear_0/weight", "decoder/layer_3/attention/linear_1/bias"):
        np.testing.assert_allclose(converted[name].astype(np.float32), original[name].astype(np.float32), atol=1e-3)
    ann = _annotator(model=str(checkpoint))
    (row,) = ann.annotate([_seg("s16", s16, 23.59, 30.10)])
    assert wer("And Mr John Dashwood had then leisure to consider how much there might be prudently in his power "
               "to do for them", row.text) <= 0.2, row.text
    assert ct2_sources.converted_checkpoint(checkpoint) == folder  # converted once
