"""Hallucination guards: each fired guard leaves a flag with its reason; some also drop the text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from annotators.speech.asr_types import AsrResult
from schemas.common import LabelScore

_WORD_RE = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class GuardConfig:
    no_speech_threshold: float = 0.6  # with a low logprob: Whisper's own "this is silence" test
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    ngram_n: int = 3
    ngram_max_repeats: int = 4  # an n-gram seen more often than this is a decoding loop
    min_speech_score: float = 0.15  # class score under which the segment is taken as not speech
    speech_labels: tuple[str, ...] = ("speech", "singing")
    drop_repetitions: bool = False  # True: a decoding loop empties the text too


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


def check(result: AsrResult, class_scores: Sequence[LabelScore], cfg: GuardConfig) -> GuardVerdict:
    flags: list[str] = list(result.notes)
    drop = False
    if not result.text.strip():
        return GuardVerdict(tuple(flags + ["empty_transcript"]), drop=False)
    nsp, lp = result.no_speech_prob, result.avg_logprob
    if nsp is not None and lp is not None and nsp > cfg.no_speech_threshold and lp < cfg.logprob_threshold:
        flags.append(f"no_speech(p={nsp:.2f},logprob={lp:.2f})")
        drop = True
    score = speech_score(class_scores, cfg.speech_labels)
    if score is not None and score < cfg.min_speech_score:
        flags.append(f"text_over_non_speech(speech_score={score:.2f}<{cfg.min_speech_score:.2f})")
        drop = True
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
