"""openai-whisper adapter: batched mel/encoder/decoder pass over windows of <= 30 s, word alignment per window.

Windows are decoded in batches of `batch_size` in the order given (language detection included, one
language per window). Windows whose decode looks degenerate are re-decoded at the next temperature,
batched, with the sampler seeded from the windows' seeds. Word times come from cross-attention DTW.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from annotators.speech.asr_types import AsrResult, AsrSentence
from annotators.speech.whisper_tokens import split_at_sentence_ends, split_sentences, to_sentences

log = logging.getLogger(__name__)

WHISPER_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class WhisperDecodeConfig:
    language: str | None = None  # None: detect per window
    task: str = "transcribe"
    beam_size: int | None = 1
    best_of: int | None = 5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float = 2.4  # re-decode above this
    logprob_threshold: float = -1.0  # re-decode below this
    no_speech_threshold: float = 0.6  # ...unless the window is probably silence
    batch_size: int = 8  # windows per decode call
    word_timestamps: bool = True
    # False (as WhisperX): decode text only and take every time from word alignment; Whisper's timestamp
    # tokens make it stop early or skip a sentence in a packed window. Needed (True) without word times.
    timestamp_tokens: bool = False
    initial_prompt: str | None = None

    @property
    def without_timestamps(self) -> bool:
        return self.word_timestamps and not self.timestamp_tokens


def needs_retry(avg_logprob: float, no_speech_prob: float, compression: float, cfg) -> bool:
    """Whisper's fallback rule: re-decode a degenerate window hotter, unless it is probably silence."""
    if no_speech_prob > cfg.no_speech_threshold and avg_logprob < cfg.logprob_threshold:
        return False  # silence: a retry would only invent text
    return compression > cfg.compression_ratio_threshold or avg_logprob < cfg.logprob_threshold


def fallback_seed(seeds: Sequence[int], temperature: float) -> int:
    """One seed for a fallback batch, from its windows' seeds and the temperature."""
    return (sum(seeds) * 1_000_003 + int(temperature * 1000)) % (2**31)


def log_mels(audios: Sequence[np.ndarray], n_mels: int, device="cpu"):
    """openai-whisper's log-mel features of each window, padded to 30 s: a [batch, n_mels, 3000] tensor."""
    import torch
    import whisper

    return torch.stack([
        whisper.pad_or_trim(whisper.log_mel_spectrogram(a, n_mels, padding=whisper.audio.N_SAMPLES, device=device), whisper.audio.N_FRAMES)
        for a in audios
    ])


@dataclass
class _Chunk:
    seed: int
    audio: np.ndarray
    decoded: object | None = None  # whisper DecodingResult
    sentences: list[AsrSentence] = field(default_factory=list)
    language_probs: dict | None = None


def _decode(model, mel, options) -> list[tuple[object, dict | None]]:
    """whisper.decode over a batch of mels -> (DecodingResult, language probabilities) per mel.

    Beam search / best-of is made to work for batches > 1, and the language probabilities (which
    DecodingResult leaves out) are kept.
    """
    import inspect

    from whisper.decoding import DecodingTask

    # openai-whisper 20250625 repeats the tokens but not the audio features per beam/sample.
    repeat_features = "audio_features.repeat_interleave" not in inspect.getsource(DecodingTask.run)

    class Task(DecodingTask):
        language_probs: list | None = None

        def _get_audio_features(self, mel):
            features = super()._get_audio_features(mel)
            return features.repeat_interleave(self.n_group, dim=0) if repeat_features else features

        def _detect_language(self, audio_features, tokens):
            one_each = audio_features[:: self.n_group] if repeat_features else audio_features
            languages, self.language_probs = super()._detect_language(one_each, tokens)
            return languages, self.language_probs

    task = Task(model, options)
    results = task.run(mel)
    probs = task.language_probs or [None] * len(results)
    return list(zip(results, probs))


class _EncodedModel:
    """Stands in for the model in whisper.timing.find_alignment so the encoder does not run twice:
    its forward takes encoder output where Whisper.forward takes a mel."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def __call__(self, audio_features, tokens):
        return self._model.decoder(tokens, audio_features)


class WhisperAdapterBase:
    """What both engines share: the model, its ids, the decode config and openai-whisper's tokenizer."""

    sample_rate = WHISPER_SAMPLE_RATE

    def __init__(self, model, model_id: str, config: WhisperDecodeConfig, model_version: str | None = None):
        import whisper.tokenizer

        self.model = model
        self.model_id = model_id
        self.model_version = model_version
        self.config = config
        self.multilingual = bool(model.is_multilingual)
        # English-only checkpoints have no language tokens to detect with.
        self.language = config.language if self.multilingual else "en"
        self.tokenizer = whisper.tokenizer.get_tokenizer(self.multilingual, num_languages=model.num_languages, task=config.task)

    def transcribe_windows(self, audios: Sequence[np.ndarray], seeds: Sequence[int]) -> list[AsrResult]:
        """Windows decoded in batches of `batch_size` in the order given, so the same list of windows always
        meets the same batch neighbours; an empty window gives an empty result."""
        windows = [self.window_type(seed, np.ascontiguousarray(a, dtype=np.float32)) for a, seed in zip(audios, seeds, strict=True)]
        active = [w for w in windows if len(w.audio) > 0]
        for start in range(0, len(active), self.config.batch_size):
            self._decode_batch(active[start : start + self.config.batch_size])
        return [self._result(w) for w in windows]

    # An engine's per-window record (built from seed and audio), one batch's decode, and a window's result.
    window_type: type

    def _decode_batch(self, windows: list) -> None:
        raise NotImplementedError

    def _result(self, window) -> AsrResult:
        raise NotImplementedError


class OpenAIWhisperAdapter(WhisperAdapterBase):
    """Adapter over an openai-whisper model object (see whisper_loader.load_whisper)."""

    window_type = _Chunk

    def __init__(self, model, model_id: str, config: WhisperDecodeConfig, model_version: str | None = None):
        super().__init__(model, model_id, config, model_version)
        self.fp16 = model.device.type == "cuda"

    # -- decoding -------------------------------------------------------------------------------
    def _options(self, temperature: float):
        import whisper

        cfg = self.config
        if temperature > 0:
            greedy_or_beam = {"best_of": cfg.best_of}
        else:  # beam size 1 is greedy decoding, without the beam decoder's overhead
            greedy_or_beam = {"beam_size": cfg.beam_size if cfg.beam_size and cfg.beam_size > 1 else None}
        return whisper.DecodingOptions(
            task=cfg.task,
            language=self.language,
            temperature=temperature,
            without_timestamps=cfg.without_timestamps,
            fp16=self.fp16,
            prompt=cfg.initial_prompt,
            **greedy_or_beam,
        )

    def _needs_retry(self, result) -> bool:
        return needs_retry(result.avg_logprob, result.no_speech_prob, result.compression_ratio, self.config)

    def _encode(self, chunks: Sequence[_Chunk]):
        """One batched encoder pass; decoding, fallbacks and word alignment all reuse its output."""
        import torch

        tic = time.perf_counter()
        mel = log_mels([c.audio for c in chunks], self.model.dims.n_mels, self.model.device)
        with torch.no_grad():
            features = self.model.embed_audio(mel.half() if self.fp16 else mel)
        log.debug("encoded %d chunks in %.2fs", len(chunks), time.perf_counter() - tic)
        return features

    def _decode_batch(self, chunks: list[_Chunk]) -> None:
        import torch

        features = self._encode(chunks)
        pending = list(range(len(chunks)))
        for temperature in self.config.temperatures:
            tic = time.perf_counter()
            if temperature > 0:  # sampling: seeded, so a window's text does not depend on what ran before
                torch.manual_seed(fallback_seed([chunks[i].seed for i in pending], temperature))
            with torch.no_grad():
                results = _decode(self.model, features[pending], self._options(temperature))
            log.debug("decoded %d chunks at T=%.1f in %.2fs", len(pending), temperature, time.perf_counter() - tic)
            for idx, (result, lang_probs) in zip(pending, results):
                chunks[idx].decoded = result
                if lang_probs is not None:
                    chunks[idx].language_probs = lang_probs
            pending = [idx for idx in pending if self._needs_retry(chunks[idx].decoded)]
            if not pending:
                break
        tic = time.perf_counter()
        for chunk, chunk_features in zip(chunks, features):
            chunk.sentences = self._sentences(chunk, chunk_features if self.config.word_timestamps else None)
        log.debug("aligned words of %d chunks in %.2fs", len(chunks), time.perf_counter() - tic)

    # -- turning tokens into sentences and words ------------------------------------------------
    def _sentences(self, chunk: _Chunk, features) -> list[AsrSentence]:
        from whisper.audio import HOP_LENGTH
        from whisper.timing import add_word_timestamps

        duration = len(chunk.audio) / self.sample_rate
        segs = split_sentences(self.tokenizer, list(chunk.decoded.tokens), duration)
        if features is not None and segs:
            # `mel` is handed on to the model's forward; _EncodedModel takes it as encoder output.
            add_word_timestamps(segments=segs, model=_EncodedModel(self.model), tokenizer=self.tokenizer,
                                mel=features, num_frames=len(chunk.audio) // HOP_LENGTH, last_speech_timestamp=0.0)
            if self.config.without_timestamps:
                segs = split_at_sentence_ends(segs)
        return to_sentences(segs, duration)

    # -- one result per window ------------------------------------------------------------------
    def _result(self, chunk: _Chunk) -> AsrResult:
        d = chunk.decoded
        if d is None:
            return AsrResult("", None, None, (), None, None, None)
        lang_prob = (chunk.language_probs or {}).get(d.language)
        return AsrResult(
            text=d.text.strip(),
            language=d.language,
            language_prob=None if lang_prob is None else float(lang_prob),
            sentences=tuple(chunk.sentences),
            avg_logprob=float(d.avg_logprob),
            no_speech_prob=float(d.no_speech_prob),
            compression_ratio=float(d.compression_ratio) if d.text.strip() else None,
            temperature=float(d.temperature),
        )
