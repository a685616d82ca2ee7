"""Turn one AsrResult into one SpeechRow: recording-time words, speakers, guards, paralinguistics."""

from __future__ import annotations

import dataclasses

import numpy as np

from annotators.base import SegmentAudio
from annotators.speech.asr_types import AsrResult, AsrSentence
from annotators.speech.guards import GuardVerdict
from annotators.speech.paralinguistics import describe, measure
from annotators.speech.speakers import dominant_speaker, in_order, speaker_at
from schemas.speech import SpeechRow, Word


def timestamped_text(sentences: list[AsrSentence] | tuple[AsrSentence, ...], seg: SegmentAudio) -> str:
    """MOSS form: [0.00]first sentence[2.31][2.31]next sentence[4.02], in recording seconds."""

    def at(t: float) -> float:
        return min(max(seg.start_s + t, seg.start_s), seg.end_s)

    return "".join(f"[{at(s.start_s):.2f}]{s.text}[{at(s.end_s):.2f}]" for s in sentences if s.text)


def _recording_words(seg: SegmentAudio, res: AsrResult, max_gap_s: float) -> list[Word]:
    """Words shifted to recording time, clipped to the segment, kept monotonic, with speakers."""
    words: list[Word] = []
    last_start = seg.start_s
    for w in res.words:
        start = min(max(seg.start_s + w.start_s, last_start), seg.end_s)
        end = min(max(seg.start_s + w.end_s, start), seg.end_s)
        speaker = speaker_at(start, end, seg.speaker_turns, max_gap_s)
        words.append(Word(word=w.word, start_s=start, end_s=end, prob=w.prob, speaker=speaker))
        last_start = start
    return words


def _speakers(seg: SegmentAudio, words: list[Word]) -> tuple[str | None, list[str]]:
    if words:
        return dominant_speaker([(w.start_s, w.end_s, w.speaker) for w in words]), in_order(w.speaker for w in words)
    spans = [(max(t.start_s, seg.start_s), min(t.end_s, seg.end_s), t.speaker) for t in seg.speaker_turns]
    spans = [s for s in spans if s[1] > s[0]]
    return dominant_speaker(spans), in_order(s[2] for s in spans)


def _paralinguistics(audio: np.ndarray, sr: int, seg: SegmentAudio, words: list[Word], params) -> dict:
    if not params.enabled or not words:  # no recognised words: nothing says this is a voice
        return {}
    rel = [(w.start_s - seg.start_s, w.end_s - seg.start_s, w.word) for w in words]
    m = measure(audio, sr, rel, params)
    return {**dataclasses.asdict(m), "caption": describe(m, params)}


def build_row(seg: SegmentAudio, audio: np.ndarray, sr: int, res: AsrResult, verdict: GuardVerdict, params,
              model_id: str, model_version: str | None) -> SpeechRow:
    words = [] if verdict.drop else _recording_words(seg, res, params.speaker_max_gap_s)
    speaker, speakers = _speakers(seg, words)
    heard = bool(res.text.strip()) and not verdict.drop  # a language detected on silence means nothing
    return SpeechRow(
        recording_id=seg.recording_id,
        segment_id=seg.segment_id,
        start_s=seg.start_s,
        end_s=seg.end_s,
        text="" if verdict.drop else res.text,
        language=res.language if heard else None,
        model_id=model_id,
        model_version=model_version,
        language_prob=res.language_prob if heard else None,
        words=words,
        speaker=speaker,
        speakers=speakers,
        asr_confidence=res.avg_logprob,
        no_speech_prob=res.no_speech_prob,
        compression_ratio=res.compression_ratio,
        flags=list(verdict.flags),
        timestamped_text="" if verdict.drop else timestamped_text(res.sentences, seg),
        **_paralinguistics(audio, sr, seg, words, params.paralinguistics),
    )
