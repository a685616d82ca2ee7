"""Hallucination guards: each fired guard leaves a flag with its reason; some also drop the text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from annotators.speech.asr_types import AsrResult, AsrWord
from schemas.common import LabelScore

_WORD_RE = re.compile(r"\w+", re.UNICODE)
# Word-anomaly constants as in openai-whisper's transcribe(): unlikely, too short or too long words.
LOW_WORD_PROB = 0.15
SHORT_WORD_S = 0.133
SHORT_WORD_WEIGHT = 15.0
LONG_WORD_S = 2.0


@dataclass(frozen=True)
class GuardConfig:
    no_speech_threshold: float = 0.6  # with a low logprob: Whisper's own "this is silence" test
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    ngram_n: int = 3
    ngram_max_repeats: int = 4  # an n-gram seen more often than this is a decoding loop
    min_speech_score: float = 0.15  # class score under which the segment is taken as not speech
    speech_labels: tuple[str, ...] = ("speech", "singing")
    # ...unless voice activity covers at least this share of the segment (speech under a loud sound event
    # fools the tagger, not VAD); the segmenter stores that share under `activity_label`.
    min_speech_activity: float = 0.5
    activity_label: str = "speech_activity"
    drop_repetitions: bool = False  # True: a decoding loop empties the text too
    silence_dbfs: float = -50.0  # loud frames (95th percentile) below this: there is nothing to hear
    anomaly_words: int = 8  # whisper's word-anomaly test over the first words
    anomaly_score: float = 3.0
    anomaly_no_speech_prob: float = 0.3  # anomalous words drop the text only with this much no-speech


@dataclass(frozen=True)
class GuardVerdict:
    flags: tuple[str, ...]
    drop: bool  # the text (and words) should be emptied


def speech_score(class_scores: Sequence[LabelScore], labels: Sequence[str]) -> float | None:
    """Highest score among speech-like labels; None when the segmenter gave no such label."""
    wanted = {label.lower() for label in labels}
    scores = [s.score for s in class_scores if s.label.lower() in wanted]
    return max(scores) if scores else None


def most_repeated_ngram(text: str, n: int) -> tuple[str, int]:
    words = _WORD_RE.findall(text.lower())
    grams = Counter(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    if not grams:
        return "", 0
    gram, count = grams.most_common(1)[0]
    return gram, count


def word_anomaly(words: Sequence[AsrWord], n: int) -> float:
    """openai-whisper's hallucination score: low-probability, near-zero or over-long words."""
    score = 0.0
    for w in [w for w in words if _WORD_RE.search(w.word)][:n]:
        duration = w.end_s - w.start_s
        score += float(w.prob < LOW_WORD_PROB)
        score += max(0.0, SHORT_WORD_S - duration) * SHORT_WORD_WEIGHT + max(0.0, duration - LONG_WORD_S)
    return score


def _is_anomalous(words: Sequence[AsrWord], cfg: GuardConfig) -> tuple[bool, float]:
    counted = [w for w in words if _WORD_RE.search(w.word)][: cfg.anomaly_words]
    if not counted:
        return False, 0.0
    score = word_anomaly(counted, cfg.anomaly_words)
    return score >= cfg.anomaly_score or score + 0.01 >= len(counted), score


def check(
    result: AsrResult, class_scores: Sequence[LabelScore], cfg: GuardConfig, level_dbfs: float | None = None
) -> GuardVerdict:
    """`level_dbfs`: loud-frame level of the segment audio (see loud_level_dbfs)."""
    flags: list[str] = list(result.notes)
    drop = False
    if not result.text.strip():
        return GuardVerdict(tuple(flags + ["empty_transcript"]), drop=False)
    if level_dbfs is not None and level_dbfs < cfg.silence_dbfs:
        flags.append(f"text_over_silence(level={level_dbfs:.1f}dBFS<{cfg.silence_dbfs:.1f})")
        drop = True
    nsp, lp = result.no_speech_prob, result.avg_logprob
    if nsp is not None and lp is not None and nsp > cfg.no_speech_threshold and lp < cfg.logprob_threshold:
        flags.append(f"no_speech(p={nsp:.2f},logprob={lp:.2f})")
        drop = True
    score = speech_score(class_scores, cfg.speech_labels)
    activity = speech_score(class_scores, (cfg.activity_label,))
    if score is not None and score < cfg.min_speech_score:
        if activity is not None and activity >= cfg.min_speech_activity:
            flags.append(f"low_speech_score(speech_score={score:.2f},voice_activity={activity:.2f})")
        else:
            flags.append(f"text_over_non_speech(speech_score={score:.2f}<{cfg.min_speech_score:.2f})")
            drop = True
    anomalous, anomaly = _is_anomalous(result.words, cfg)
    if anomalous:
        flags.append(f"anomalous_words(score={anomaly:.2f})")
        drop = drop or (nsp is not None and nsp > cfg.anomaly_no_speech_prob)
    cr = result.compression_ratio
    if cr is not None and cr > cfg.compression_ratio_threshold:
        flags.append(f"compression_ratio({cr:.2f}>{cfg.compression_ratio_threshold:.2f})")
        drop = drop or cfg.drop_repetitions
    gram, count = most_repeated_ngram(result.text, cfg.ngram_n)
    if count > cfg.ngram_max_repeats:
        flags.append(f"repeated_ngram('{gram}'x{count})")
        drop = drop or cfg.drop_repetitions
    if lp is not None and lp < cfg.logprob_threshold and not drop:
        flags.append(f"low_logprob({lp:.2f}<{cfg.logprob_threshold:.2f})")
    if drop:
        flags.append("text_dropped")
    return GuardVerdict(tuple(flags), drop)


def loud_level_dbfs(audio, sample_rate: int, frame_s: float = 0.025, percentile: float = 95.0) -> float | None:
    """Level of the loud frames of `audio` in dBFS (a robust "is anything there" measure)."""
    import numpy as np

    frame = max(1, int(frame_s * sample_rate))
    n = len(audio) // frame
    if n == 0:
        return None
    power = (np.asarray(audio[: n * frame], dtype=np.float64).reshape(n, frame) ** 2).mean(axis=1)
    return float(10 * np.log10(np.percentile(power, percentile) + 1e-12))
