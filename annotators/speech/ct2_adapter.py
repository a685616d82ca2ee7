"""CTranslate2 adapter (the engine inside faster-whisper / WhisperX): int8 on CPU, float16 on GPU.

Same contract as the openai-whisper adapter: windows of <= 30 s decoded in batches in the order given, a
language detected per window, Whisper's temperature fallback (seeded), word times from cross-attention
alignment. Mel features and the tokenizer are openai-whisper's, so both engines read the audio and the
tokens the same way; only the network runs in CTranslate2.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from annotators.speech.asr_types import AsrResult, AsrSentence
from annotators.speech.whisper_adapter import WhisperAdapterBase, WhisperDecodeConfig, fallback_seed, log_mels, needs_retry
from annotators.speech.whisper_tokens import SECONDS_PER_TIMESTAMP, SENTENCE_END_MARKS, split_at_sentence_ends, split_sentences, to_sentences

log = logging.getLogger(__name__)

MAX_LENGTH = 448  # Whisper's text context
MAX_INITIAL_TIMESTAMP_S = 1.0  # as whisper.transcribe: the first timestamp is within 1 s
ALIGN_MEDIAN_FILTER = 7
PREPEND_PUNCTUATION = "\"'“¿([{-"
APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"


@dataclass
class _Window:
    seed: int
    audio: np.ndarray
    language: str | None = None
    language_prob: float | None = None
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression: float = 0.0
    temperature: float = 0.0
    segs: list[dict] = field(default_factory=list)  # whisper segment dicts (text, tokens, times, words)
    sentences: list[AsrSentence] = field(default_factory=list)


class Ct2WhisperAdapter(WhisperAdapterBase):
    """Adapter over a `ctranslate2.models.Whisper` (see ct2_sources.load_ct2_whisper)."""

    window_type = _Window

    def __init__(self, model, model_id: str, config: WhisperDecodeConfig, model_version: str | None = None):
        super().__init__(model, model_id, config, model_version)
        self.prompt_tokens = self.tokenizer.encode(" " + config.initial_prompt.strip()) if config.initial_prompt else []

    # -- one batch ------------------------------------------------------------------------------
    def _features(self, windows: Sequence[_Window]):
        import ctranslate2

        mels = log_mels([w.audio for w in windows], self.model.n_mels).numpy()
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(mels, dtype=np.float32))

    def _decode_batch(self, windows: list[_Window]) -> None:
        tic = time.perf_counter()
        mels = self._features(windows)
        encoded = self.model.encode(mels, to_cpu=False)
        self._detect_languages(windows, encoded)
        pending = list(range(len(windows)))
        for temperature in self.config.temperatures:
            self._generate([windows[i] for i in pending], encoded, mels, pending, temperature)
            pending = [i for i in pending if needs_retry(windows[i].avg_logprob, windows[i].no_speech_prob, windows[i].compression, self.config)]
            if not pending:
                break
        for w in windows:
            w.segs = split_sentences(self.tokenizer, w.tokens, len(w.audio) / self.sample_rate)
        if self.config.word_timestamps:
            self._align(windows, encoded, mels)
        for w in windows:
            w.sentences = to_sentences(w.segs, len(w.audio) / self.sample_rate)
        log.debug("ctranslate2: %d windows in %.2fs", len(windows), time.perf_counter() - tic)

    def _detect_languages(self, windows: list[_Window], encoded) -> None:
        if self.language is not None:
            for w in windows:
                w.language = self.language
            return
        for w, ranked in zip(windows, self.model.detect_language(encoded)):
            token, prob = ranked[0]
            w.language, w.language_prob = token[2:-2], float(prob)

    def _sot_sequence(self, language: str) -> list[int]:
        t = self.tokenizer
        if not self.multilingual:
            return [t.sot]
        return [t.sot, t.to_language_token(language), t.translate if self.config.task == "translate" else t.transcribe]

    def _prompt(self, language: str) -> list[int]:
        previous = [self.tokenizer.sot_prev, *self.prompt_tokens[-(MAX_LENGTH // 2 - 1) :]] if self.prompt_tokens else []
        no_timestamps = [self.tokenizer.no_timestamps] if self.config.without_timestamps else []
        return previous + self._sot_sequence(language) + no_timestamps

    def _generate(self, windows: list[_Window], encoded, mels, rows: list[int], temperature: float) -> None:
        import ctranslate2
        from whisper.utils import compression_ratio

        cfg = self.config
        if temperature > 0:
            ctranslate2.set_random_seed(fallback_seed([w.seed for w in windows], temperature))
            kwargs = {"beam_size": 1, "num_hypotheses": cfg.best_of or 1, "sampling_topk": 0, "sampling_temperature": temperature}
        else:
            kwargs = {"beam_size": cfg.beam_size or 1}
        features = encoded if len(rows) == encoded.shape[0] else _select(encoded, rows, mels)
        results = self.model.generate(
            features, [self._prompt(w.language or "en") for w in windows], max_length=MAX_LENGTH,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1],
            max_initial_timestamp_index=int(round(MAX_INITIAL_TIMESTAMP_S / SECONDS_PER_TIMESTAMP)), **kwargs,
        )

        for w, res in zip(windows, results):
            best = int(np.argmax(res.scores)) if len(res.scores) > 1 else 0
            tokens = list(res.sequences_ids[best])
            cum_logprob = res.scores[best] * len(tokens)  # scores are length-normalised (penalty 1)
            w.tokens = tokens
            w.avg_logprob = float(cum_logprob / (len(tokens) + 1))
            w.no_speech_prob = float(res.no_speech_prob)
            w.text = self.tokenizer.decode([t for t in tokens if t < self.tokenizer.eot]).strip()
            w.compression = compression_ratio(w.text) if w.text else 0.0
            w.temperature = temperature

    # -- word times -----------------------------------------------------------------------------
    def _align(self, windows: list[_Window], encoded, mels) -> None:
        """Cross-attention alignment, batched per language (the start sequence names the language)."""
        from whisper.audio import HOP_LENGTH

        todo = [i for i, w in enumerate(windows) if any(t < self.tokenizer.eot for t in w.tokens)]
        by_language: dict[str, list[int]] = {}
        for i in todo:
            by_language.setdefault(windows[i].language or "en", []).append(i)
        for language, rows in by_language.items():
            features = encoded if len(rows) == len(windows) else _select(encoded, rows, mels)
            text_tokens = [[t for s in windows[i].segs for t in s["tokens"]] for i in rows]
            frames = [len(windows[i].audio) // HOP_LENGTH for i in rows]  # mel frames of real audio
            results = self.model.align(features, self._sot_sequence(language), text_tokens, frames,
                                       median_filter_width=ALIGN_MEDIAN_FILTER)
            for i, tokens, res in zip(rows, text_tokens, results):
                _attach_words(windows[i].segs, word_timings(self.tokenizer, tokens, res))
                if self.config.without_timestamps:
                    windows[i].segs = split_at_sentence_ends(windows[i].segs)

    def _result(self, w: _Window) -> AsrResult:
        return AsrResult(
            text=w.text,
            language=w.language,
            language_prob=w.language_prob,
            sentences=tuple(w.sentences),
            avg_logprob=w.avg_logprob if w.tokens else None,
            no_speech_prob=w.no_speech_prob if w.tokens else None,
            compression_ratio=w.compression if w.text else None,
            temperature=w.temperature,
        )


def _select(encoded, rows: list[int], mels=None):
    """Rows of a batch of features: encoder output on CPU, or the mels (align/generate re-encode them) on GPU."""
    import ctranslate2

    source = encoded if encoded.device == "cpu" else mels
    return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.asarray(source)[rows]))


def word_timings(tokenizer, text_tokens: list[int], alignment) -> list:
    """CTranslate2's token-to-frame path -> openai-whisper WordTimings, punctuation merged as whisper does."""
    from whisper.audio import TOKENS_PER_SECOND
    from whisper.timing import WordTiming, merge_punctuations

    words, word_tokens = tokenizer.split_to_word_tokens(text_tokens + [tokenizer.eot])
    if len(word_tokens) <= 1 or not alignment.alignments:
        return []
    text_idx = np.array([a[0] for a in alignment.alignments])
    time_idx = np.array([a[1] for a in alignment.alignments])
    bounds = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = time_idx[jumps] / TOKENS_PER_SECOND
    probs = np.asarray(alignment.text_token_probs, dtype=float)
    timings = [
        WordTiming(word, tokens, float(jump_times[a]), float(jump_times[b]), float(np.mean(probs[a:b])) if b > a else 0.0)
        for word, tokens, a, b in zip(words, word_tokens, bounds[:-1], bounds[1:])
    ]
    _truncate_at_sentence_marks(timings)
    merge_punctuations(timings, PREPEND_PUNCTUATION, APPEND_PUNCTUATION)
    return timings


def _truncate_at_sentence_marks(timings: list) -> None:
    """As openai-whisper: a word beside a sentence end is at most twice the median word duration."""
    durations = np.array([t.end - t.start for t in timings])
    durations = durations[durations.nonzero()]
    if not len(durations):
        return
    max_duration = 2 * min(0.7, float(np.median(durations)))
    for i in range(1, len(timings)):
        if timings[i].end - timings[i].start > max_duration:
            if timings[i].word in SENTENCE_END_MARKS:
                timings[i].end = timings[i].start + max_duration
            elif timings[i - 1].word in SENTENCE_END_MARKS:
                timings[i].start = timings[i].end - max_duration


def _attach_words(segs: list[dict], timings: list) -> None:
    """Give each sentence dict the words whose tokens it holds (in order, as whisper does); a sentence then
    spans its words (timestamp tokens are 20 ms steps and often include the pause around it)."""
    k = 0
    for seg in segs:
        seg["words"], taken = [], 0
        while k < len(timings) and taken < len(seg["tokens"]):
            t = timings[k]
            if t.word:
                seg["words"].append({"word": t.word, "start": t.start, "end": t.end, "probability": t.probability})
            taken += len(t.tokens)
            k += 1
        if seg["words"]:
            seg["start"], seg["end"] = seg["words"][0]["start"], seg["words"][-1]["end"]
