"""What an ASR model adapter returns, and the adapter protocol the Whisper stage talks to.

Times here are seconds from the start of the audio handed to the adapter (segment time); the stage
shifts them to recording time. Each engine (openai-whisper, CTranslate2) is one adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class AsrWord:
    word: str
    start_s: float
    end_s: float
    prob: float
    spaced: bool = True  # the token text began with a space (joining words back keeps "www.a.org" whole)


@dataclass(frozen=True)
class AsrSentence:
    """One Whisper segment (a sentence or clause between two timestamp tokens)."""

    text: str
    start_s: float
    end_s: float
    words: tuple[AsrWord, ...] = ()


@dataclass(frozen=True)
class AsrResult:
    text: str
    language: str | None
    language_prob: float | None
    sentences: tuple[AsrSentence, ...]
    avg_logprob: float | None
    no_speech_prob: float | None
    compression_ratio: float | None
    temperature: float | None = None
    notes: tuple[str, ...] = field(default=())  # adapter-side facts worth a flag, e.g. "chunked(n=2)"

    @property
    def words(self) -> list[AsrWord]:
        return [w for s in self.sentences for w in s.words]


class AsrAdapter(Protocol):
    """Owns one loaded model; returns exactly one AsrResult per window (<= 30 s of audio), in order.

    `seeds` (one per window) make sampling at a fallback temperature repeatable: a window decodes the same
    whatever else runs in the process. Windows are decoded in batches in the order given, so the same list
    of windows always meets the same batch neighbours."""

    sample_rate: int
    model_id: str
    model_version: str | None

    def transcribe_windows(self, audios: Sequence[np.ndarray], seeds: Sequence[int]) -> list[AsrResult]: ...
